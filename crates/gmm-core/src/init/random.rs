//! Random starts: random rows as centers, random responsibilities, random
//! parameters.

use ndarray::{Array1, Array2};
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::data::DataView;
use crate::estep::RowPolicy;
use crate::init::context::{InitContext, STREAM_RESP, rng_for};
use crate::model::GaussianMixture;
use crate::mstep::m_step;
use crate::pass::stats_from_responsibilities;
use crate::stats::{Layout, SecondMoment};

/// `k` distinct rows with positive weight, uniformly at random.
pub(super) fn distinct_random_rows(
    ctx: &InitContext<'_>,
    rng: &mut Xoshiro256PlusPlus,
    k: usize,
) -> Vec<usize> {
    let data = ctx.data;
    let n = data.n_rows();
    let positive = |i: usize| ctx.policy.effective_weight(data.weight(i), data.label(i)) > 0.0;
    let mut chosen = Vec::with_capacity(k);
    let mut tries = 0;
    while chosen.len() < k && tries < 64 * k {
        tries += 1;
        let i = rng.random_range(0..n);
        if positive(i) && !chosen.contains(&i) {
            chosen.push(i);
        }
    }
    if chosen.len() < k {
        // Positive rows are rare: draw from an explicit list of them.
        let pool: Vec<usize> = (0..n)
            .filter(|&i| positive(i) && !chosen.contains(&i))
            .collect();
        let mut pool = pool;
        while chosen.len() < k && !pool.is_empty() {
            let j = rng.random_range(0..pool.len());
            chosen.push(pool.swap_remove(j));
        }
    }
    chosen
}

/// The fit's M-step from responsibilities that `resp` gives the rows of
/// `data` (block by block: rows `start..end` into `out`, K per row), with
/// their weights under `policy`: statistics about the data's column means,
/// then the family's M-step (with the fit's prior, if any).
pub(super) fn model_from_responsibilities<F>(
    ctx: &InitContext<'_>,
    data: DataView<'_>,
    policy: RowPolicy,
    resp: F,
) -> Result<GaussianMixture, usize>
where
    F: Fn(usize, usize, &mut [f64]) + Sync + Send,
{
    let k = ctx.params.n_components;
    let centers: Vec<f64> = (0..k)
        .flat_map(|_| ctx.summary.col_mean.iter().copied())
        .collect();
    let layout = Layout {
        k,
        d: data.n_features(),
        second: SecondMoment::for_covariance(ctx.params.covariance_type),
    };
    let stats = stats_from_responsibilities(
        data,
        layout,
        &centers,
        policy,
        ctx.params.chunk_rows,
        ctx.summary,
        resp,
    )
    .ok_or(0usize)?;
    m_step(
        &centers,
        &stats,
        ctx.params.covariance_type,
        ctx.params.reg_covar,
        ctx.summary.n_eps(),
        ctx.summary.prior.as_ref(),
    )
}

/// scikit-learn's `random`: uniform random responsibilities normalized per row.
pub(super) fn random_responsibilities(
    ctx: &InitContext<'_>,
    restart: usize,
) -> Result<GaussianMixture, usize> {
    let k = ctx.params.n_components;
    let seed = ctx.params.seed;
    let data = ctx.data;
    let clamp = matches!(ctx.policy, RowPolicy::Clamped { .. });
    model_from_responsibilities(ctx, data, ctx.policy, move |start, end, out| {
        // One stream per block of rows (the pass asks block by block):
        // seeded by the chunk, every block of a chunk drew the same
        // responsibilities, repeating every 64 rows.
        let mut rng = rng_for(seed, &[restart as u64, STREAM_RESP, start as u64]);
        for (i, row) in (start..end).zip(out.chunks_exact_mut(k)) {
            let mut sum = 0.0;
            for r in row.iter_mut() {
                *r = rng.random::<f64>();
                sum += *r;
            }
            row.iter_mut().for_each(|r| *r /= sum);
            if let (true, Some(c)) = (clamp, data.label(i)) {
                row.fill(0.0);
                row[c as usize] = 1.0;
            }
        }
    })
}

/// The tutorial's start: random weights, means from N(0, 1), covariances
/// `A A^T` (plus `reg_covar`) with `A` standard normal.
pub(super) fn random_params(
    ctx: &InitContext<'_>,
    rng: &mut Xoshiro256PlusPlus,
) -> Result<GaussianMixture, usize> {
    let k = ctx.params.n_components;
    let d = ctx.data.n_features();
    let raw: Vec<f64> = (0..k)
        .map(|_| rng.random::<f64>() + f64::MIN_POSITIVE)
        .collect();
    let total: f64 = raw.iter().sum();
    let weights = Array1::from_iter(raw.iter().map(|w| w / total));
    let means = Array2::from_shape_fn((k, d), |_| StandardNormal.sample(rng));
    let dense: Vec<Array2<f64>> = (0..k)
        .map(|_| {
            let a = Array2::from_shape_fn((d, d), |_| StandardNormal.sample(rng));
            let mut c = a.dot(&a.t());
            c.diag_mut()
                .iter_mut()
                .for_each(|v| *v += ctx.params.reg_covar);
            c
        })
        .collect();
    let cov = crate::family::from_dense(
        ctx.params.covariance_type,
        &dense,
        weights.as_slice().expect("contiguous"),
    );
    GaussianMixture::new(weights, means, cov)
        .map(|m| m.in_family(ctx.params.covariance_type))
        .map_err(|_| 0)
}
