//! k-means starts: greedy k-means++ seeding on a sample of the rows, Lloyd
//! iterations, and parameters from the hard assignment of every row to its
//! nearest center.

use std::borrow::Cow;

use rand::RngExt;
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;

use crate::chunks::chunked;
use crate::init::context::{InitContext, STREAM_SAMPLE, STREAM_SEEDING, rng_for};
use crate::model::GaussianMixture;
use crate::mstep::m_step;
use crate::nearest::nearest_center_stats;
use crate::stats::{Layout, SecondMoment, SufficientStats};
use crate::values::Values;

/// Rows per parallel task of k-means++ seeding.
const SEEDING_ROWS: usize = 4096;

/// Squared Euclidean distance in four independent sums, which the compiler
/// keeps in vector registers.
pub(super) fn squared_distance(x: &[f64], c: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let mut xs = x.chunks_exact(4);
    let mut cs = c.chunks_exact(4);
    for (a, b) in (&mut xs).zip(&mut cs) {
        for l in 0..4 {
            let t = a[l] - b[l];
            acc[l] += t * t;
        }
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (a, b) in xs.remainder().iter().zip(cs.remainder()) {
        let t = a - b;
        s += t * t;
    }
    s
}

/// The nearest center and the squared distance to it.
pub(super) fn nearest(centers: &[f64], x: &[f64]) -> (usize, f64) {
    let d = x.len();
    let mut best = (0, f64::INFINITY);
    for (c, mu) in centers.chunks_exact(d).enumerate() {
        let dist = squared_distance(x, mu);
        if dist < best.1 {
            best = (c, dist);
        }
    }
    best
}

/// Parameters from the hard assignment of every row to `centers`.
pub(super) fn assignment_model(
    ctx: &InitContext<'_>,
    centers: &[f64],
) -> Result<GaussianMixture, usize> {
    let k = ctx.params.n_components;
    let d = ctx.data.n_features();
    let layout = Layout {
        k,
        d,
        second: SecondMoment::for_covariance(ctx.params.covariance_type),
    };
    let stats = assignment_stats(ctx, centers, layout)?;
    m_step(
        centers,
        &stats,
        ctx.params.covariance_type,
        ctx.params.reg_covar,
        ctx.summary.n_eps(),
        ctx.summary.prior.as_ref(),
    )
}

pub(super) fn assignment_stats(
    ctx: &InitContext<'_>,
    centers: &[f64],
    layout: Layout,
) -> Result<SufficientStats, usize> {
    nearest_center_stats(
        ctx.data,
        layout,
        centers,
        ctx.policy,
        ctx.params.chunk_rows,
        ctx.summary,
    )
    .ok_or(0)
}

/// Rows for k-means++ seeding: all rows with positive weight when there are
/// at most `init_sample_rows` of them, else a uniform sample of row indices.
/// `only_unlabeled` keeps rows without a class. Returns values (borrowed
/// when every row is kept) and weights.
pub(super) fn seeding_sample<'a>(
    ctx: &InitContext<'a>,
    restart: usize,
    only_unlabeled: bool,
) -> (Cow<'a, [f64]>, Vec<f64>) {
    let data = ctx.data;
    let n = data.n_rows();
    let m = ctx.params.init_sample_rows;
    let keep = |i: usize| {
        let w = ctx.policy.effective_weight(data.weight(i), data.label(i));
        (w > 0.0 && !(only_unlabeled && data.label(i).is_some())).then_some(w)
    };
    // (Rows with missing entries are copied below, filled.)
    if n <= m && data.fill.is_none() {
        let w: Option<Vec<f64>> = (0..n).map(keep).collect();
        if let Some(w) = w {
            return match data.values() {
                Values::F64(x) => (Cow::Borrowed(x), w),
                x => (Cow::Owned(x.to_vec()), w),
            };
        }
    }
    let indices: Vec<usize> = if n <= m {
        (0..n).collect()
    } else {
        let mut rng = rng_for(ctx.params.seed, &[restart as u64, STREAM_SAMPLE]);
        select_rows(n, m, &mut rng)
    };
    let mut x = Vec::new();
    let mut w = Vec::new();
    for i in indices {
        if let Some(wi) = keep(i) {
            data.extend_row_into(i, &mut x);
            w.push(wi);
        }
    }
    (Cow::Owned(x), w)
}

/// `m` of the rows `0..n` (`m <= n`), uniformly, in row order: selection
/// sampling (Knuth's algorithm S) keeps each row in turn with probability
/// (still wanted) / (still left), in one pass without a set (Floyd's
/// algorithm with a BTreeSet took 7 % of a 1M x 2 fit).
pub(super) fn select_rows(n: usize, m: usize, rng: &mut Xoshiro256PlusPlus) -> Vec<usize> {
    let mut chosen = Vec::with_capacity(m);
    for i in 0..n {
        let wanted = m - chosen.len();
        if wanted == 0 {
            break;
        }
        if rng.random_range(0..n - i) < wanted {
            chosen.push(i);
        }
    }
    chosen
}

/// Index drawn with probability proportional to `weights`, given their total.
fn draw_weighted(rng: &mut Xoshiro256PlusPlus, weights: &[f64], total: f64) -> usize {
    let target = rng.random::<f64>() * total;
    let mut acc = 0.0;
    let mut last_positive = 0;
    for (i, &w) in weights.iter().enumerate() {
        if w > 0.0 {
            acc += w;
            last_positive = i;
            if acc > target {
                return i;
            }
        }
    }
    last_positive
}

/// Greedy k-means++ (as scikit-learn: `2 + ln k` candidates per center, the
/// one that lowers the potential most wins) on a sample of the rows,
/// continuing from the `fixed` centers if any.
pub(super) fn kmeans_plusplus_seeds(
    ctx: &InitContext<'_>,
    restart: usize,
    fixed: &[f64],
) -> Result<Vec<f64>, usize> {
    let (x, w) = seeding_sample(ctx, restart, !fixed.is_empty());
    let d = ctx.data.n_features();
    let k = ctx.params.n_components;
    let mut rng = rng_for(ctx.params.seed, &[restart as u64, STREAM_SEEDING]);
    Ok(kmeans_plusplus(&x, &w, d, k, fixed, &mut rng))
}

pub(super) fn kmeans_plusplus(
    x: &[f64],
    w: &[f64],
    d: usize,
    k: usize,
    fixed: &[f64],
    rng: &mut Xoshiro256PlusPlus,
) -> Vec<f64> {
    let n = w.len();
    let mut centers = fixed.to_vec();
    if n == 0 {
        // Nothing to seed from: repeat the last fixed center (or the origin).
        while centers.len() < k * d {
            let last = if centers.is_empty() {
                vec![0.0; d]
            } else {
                centers[centers.len() - d..].to_vec()
            };
            centers.extend(last);
        }
        return centers;
    }
    if centers.is_empty() {
        let total: f64 = w.iter().sum();
        let first = draw_weighted(rng, w, total);
        centers.extend_from_slice(&x[first * d..(first + 1) * d]);
    }
    let mut closest: Vec<f64> = (0..n)
        .map(|i| nearest(&centers, &x[i * d..(i + 1) * d]).1)
        .collect();
    let n_trials = 2 + (k as f64).ln() as usize;
    let mut weighted: Vec<f64> = closest.iter().zip(w).map(|(c, w)| c * w).collect();
    // The best candidate's distances so far, and the current candidate's.
    let mut best_closest = vec![0.0; n];
    let mut trial = vec![0.0; n];
    while centers.len() < k * d {
        let potential: f64 = weighted.iter().sum();
        let mut best: Option<(f64, usize)> = None;
        for _ in 0..n_trials {
            let cand = if potential > 0.0 {
                draw_weighted(rng, &weighted, potential)
            } else {
                let total: f64 = w.iter().sum();
                draw_weighted(rng, w, total)
            };
            let cx = &x[cand * d..(cand + 1) * d];
            // Each row on its own: the same values for any number of threads.
            trial
                .par_chunks_mut(SEEDING_ROWS)
                .zip(closest.par_chunks(SEEDING_ROWS))
                .zip(x.par_chunks(SEEDING_ROWS * d))
                .for_each(|((t, c), xs)| {
                    for ((t, &c), xi) in t.iter_mut().zip(c).zip(xs.chunks_exact(d)) {
                        *t = c.min(squared_distance(xi, cx));
                    }
                });
            let pot: f64 = trial.iter().zip(w).map(|(c, w)| c * w).sum();
            if best.is_none_or(|b| pot < b.0) {
                best = Some((pot, cand));
                std::mem::swap(&mut best_closest, &mut trial);
            }
        }
        let (_, cand) = best.expect("at least two trials");
        centers.extend_from_slice(&x[cand * d..(cand + 1) * d]);
        std::mem::swap(&mut closest, &mut best_closest);
        for ((v, c), w) in weighted.iter_mut().zip(&closest).zip(w) {
            *v = c * w;
        }
    }
    centers
}

/// The `m` rows (with positive weight) farthest from their nearest center;
/// ties go to the lower row index.
pub(super) fn farthest_rows(ctx: &InitContext<'_>, centers: &[f64], m: usize) -> Vec<usize> {
    let data = ctx.data;
    let policy = ctx.policy;
    let merge = |mut a: Vec<(f64, usize)>, b: Vec<(f64, usize)>| {
        a.extend(b);
        a.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
        a.truncate(m);
        a
    };
    let top = chunked(
        data.n_rows(),
        ctx.params.chunk_rows,
        Vec::new,
        |acc: &mut Vec<(f64, usize)>, _c, start, end| {
            let mut row = Vec::new();
            let mut local: Vec<(f64, usize)> = (start..end)
                .filter(|&i| policy.effective_weight(data.weight(i), data.label(i)) > 0.0)
                .map(|i| (nearest(centers, data.row_f64(i, &mut row)).1, i))
                .collect();
            local.append(acc);
            local.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
            local.truncate(m);
            *acc = local;
        },
        merge,
    );
    top.into_iter().map(|(_, i)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selected_rows_are_m_distinct_rows_in_order_each_as_likely() {
        let (n, m) = (50, 20);
        let mut count = [0usize; 50];
        for s in 0..2000 {
            let rows = select_rows(n, m, &mut rng_for(s, &[]));
            assert_eq!(rows.len(), m);
            assert!(rows.windows(2).all(|w| w[0] < w[1]) && rows[m - 1] < n);
            rows.iter().for_each(|&r| count[r] += 1);
        }
        // Each row is kept with probability 0.4: 800 of 2000 draws, give
        // or take 4.5 standard deviations (22).
        assert!(count.iter().all(|&c| (700..=900).contains(&c)), "{count:?}");
        assert_eq!(select_rows(5, 5, &mut rng_for(0, &[])), [0, 1, 2, 3, 4]);
    }

    #[test]
    fn kmeans_plusplus_picks_separated_points() {
        // Two tight groups far apart: the seeds land one in each.
        let x = [0.0, 0.0, 0.1, 0.0, 0.0, 0.1, 10.0, 10.0, 10.1, 10.0];
        let w = [1.0; 5];
        for s in 0..10 {
            let c = kmeans_plusplus(&x, &w, 2, 2, &[], &mut rng_for(s, &[]));
            assert!((c[0] < 5.0) != (c[2] < 5.0), "{c:?}");
        }
    }
}
