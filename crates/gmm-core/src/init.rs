//! Starting parameters of a restart. Every random choice draws from a stream
//! seeded by `(seed, restart, purpose[, chunk])`, never by thread scheduling.

use ndarray::{Array1, Array2};
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::chunks::chunked;
use crate::covariance::Covariances;
use crate::data::DataView;
use crate::estep::RowPolicy;
use crate::model::GaussianMixture;
use crate::mstep::{N_EPS, m_step};
use crate::params::{FitParams, InitMethod};
use crate::pass::stats_from_responsibilities;
use crate::stats::{Layout, SecondMoment, SufficientStats};
use crate::summary::DataSummary;

/// A random stream for one purpose of one restart.
pub(crate) fn rng_for(seed: u64, parts: &[u64]) -> Xoshiro256PlusPlus {
    let mut h = splitmix64(seed ^ 0x005e_ed0f_6a75_5353);
    for &p in parts {
        h = splitmix64(h ^ splitmix64(p.wrapping_add(0x9e37_79b9_7f4a_7c15)));
    }
    Xoshiro256PlusPlus::seed_from_u64(h)
}

/// A hash of (seed, row): which rows a sample keeps, independent of where
/// the row is read.
pub(crate) fn row_hash(seed: u64, row: u64) -> u64 {
    splitmix64(splitmix64(seed ^ 0x0005_a3b1_e0f0_0d5e) ^ row)
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

// Purposes of the random streams.
const STREAM_SAMPLE: u64 = 1;
const STREAM_SEEDING: u64 = 2;
const STREAM_RESP: u64 = 3;
const STREAM_PARAMS: u64 = 4;
const STREAM_ROWS: u64 = 5;

/// What every initialization reads.
pub(crate) struct InitContext<'a> {
    pub data: DataView<'a>,
    pub policy: RowPolicy,
    pub summary: &'a DataSummary,
    pub params: &'a FitParams,
}

/// A restart's starting point and how it was obtained.
pub(crate) struct Start {
    pub model: GaussianMixture,
    pub description: String,
}

/// Starting parameters of `restart`, or the index of a component whose
/// starting covariance is not positive definite.
pub(crate) fn initialize(
    ctx: &InitContext<'_>,
    method: InitMethod,
    restart: usize,
) -> Result<Start, usize> {
    let seed = ctx.params.seed;
    let r = restart as u64;
    let k = ctx.params.n_components;
    let d = ctx.data.n_features();
    // In semi-supervised fits component c must start on class c, since the
    // labeled rows of class c are tied to component c: center-based starts
    // put their first centers on the classes (the class means for restart 0,
    // random labeled rows after), the others are matched to the classes.
    let semi = ctx.data.n_classes() > 0 && ctx.policy != RowPolicy::Unsupervised;
    let anchors = if semi && method != InitMethod::Labeled {
        class_anchors(ctx, restart)?
    } else {
        Vec::new()
    };
    let (model, description) = match method {
        InitMethod::KMeans => {
            let seeds = kmeans_plusplus_seeds(ctx, restart, &anchors)?;
            let (centers, iters) = lloyd(ctx, seeds);
            (
                assignment_model(ctx, &centers)?,
                format!("kmeans ({iters} Lloyd iterations)"),
            )
        }
        InitMethod::KMeansPlusPlus => {
            let seeds = kmeans_plusplus_seeds(ctx, restart, &anchors)?;
            (assignment_model(ctx, &seeds)?, "kmeans++".to_string())
        }
        InitMethod::RandomFromData => {
            let have = anchors.len() / d;
            let rows = distinct_random_rows(ctx, &mut rng_for(seed, &[r, STREAM_ROWS]), k - have);
            let mut centers = anchors.clone();
            centers.extend(rows.iter().flat_map(|&i| ctx.data.row(i).iter().copied()));
            (
                assignment_model(ctx, &centers)?,
                "random-from-data".to_string(),
            )
        }
        InitMethod::Random => (random_responsibilities(ctx, restart)?, "random".to_string()),
        InitMethod::RandomParams => (
            random_params(ctx, &mut rng_for(seed, &[r, STREAM_PARAMS]))?,
            "random-params".to_string(),
        ),
        InitMethod::Labeled => labeled_start(ctx, restart)?,
    };
    let model = if semi && matches!(method, InitMethod::Random | InitMethod::RandomParams) {
        // Random starts keep their spread; the class components move onto
        // their classes.
        let mut means = model.means().clone();
        for (i, v) in anchors.iter().enumerate() {
            means[(i / d, i % d)] = *v;
        }
        GaussianMixture::new(model.weights().clone(), means, model.covariances().clone())
            .map_err(|_| 0usize)?
    } else {
        model
    };
    Ok(Start { model, description })
}

/// Centers for the classes: their means for restart 0, a random labeled row
/// of each class for later restarts.
fn class_anchors(ctx: &InitContext<'_>, restart: usize) -> Result<Vec<f64>, usize> {
    Ok(if restart == 0 {
        class_stats(ctx)?.means
    } else {
        random_labeled_rows(ctx, restart)
    })
}

/// A start that cannot fail: components at distinct random rows, each with
/// the data's variances (plus `reg_covar`) and an equal weight. Used when a
/// restart's own initialization degenerates and the policy says to go on.
pub(crate) fn broad_start(ctx: &InitContext<'_>, restart: usize) -> GaussianMixture {
    let k = ctx.params.n_components;
    let d = ctx.data.n_features();
    let mut rng = rng_for(ctx.params.seed, &[restart as u64, STREAM_ROWS, 1]);
    let rows = distinct_random_rows(ctx, &mut rng, k);
    let means = Array2::from_shape_fn((k, d), |(c, j)| {
        rows.get(c)
            .map_or(ctx.summary.col_mean[j], |&r| ctx.data.row(r)[j])
    });
    let var: Vec<f64> = ctx
        .summary
        .col_var
        .iter()
        .map(|v| v.max(f64::MIN_POSITIVE.sqrt()) + ctx.params.reg_covar)
        .collect();
    let dense = vec![Array2::from_diag(&Array1::from(var)); k];
    let weights = Array1::from_elem(k, 1.0 / k as f64);
    let cov = Covariances::from_dense(
        ctx.params.covariance_type,
        &dense,
        weights.as_slice().expect("contiguous"),
    );
    GaussianMixture::new(weights, means, cov).expect("diagonal positive covariances")
}

/// A user-given model as a start, converted to the fit's covariance type.
pub(crate) fn warm_start(
    model: &GaussianMixture,
    params: &FitParams,
) -> Result<GaussianMixture, usize> {
    if model.covariance_type() == params.covariance_type {
        return Ok(model.clone());
    }
    let d = model.n_features();
    let dense: Vec<Array2<f64>> = (0..model.n_components())
        .map(|c| model.covariances().dense(c, d))
        .collect();
    let cov = Covariances::from_dense(
        params.covariance_type,
        &dense,
        model.weights().as_slice().expect("contiguous"),
    );
    GaussianMixture::new(model.weights().clone(), model.means().clone(), cov).map_err(|_| 0)
}

fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// The nearest center and the squared distance to it.
fn nearest(centers: &[f64], x: &[f64]) -> (usize, f64) {
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

/// Fills one-hot responsibilities: labeled rows go to their class when the
/// policy clamps them, other rows to their nearest center.
fn hard_assignment(
    ctx: &InitContext<'_>,
    centers: &[f64],
    k: usize,
) -> impl Fn(usize, usize, &mut [f64]) + Sync + Send {
    let data = ctx.data;
    let clamp = matches!(ctx.policy, RowPolicy::Clamped { .. });
    let centers = centers.to_vec();
    move |start, end, out: &mut [f64]| {
        out.fill(0.0);
        for (i, row) in (start..end).zip(out.chunks_exact_mut(k)) {
            let c = match data.label(i) {
                Some(c) if clamp => c as usize,
                _ => nearest(&centers, data.row(i)).0,
            };
            row[c] = 1.0;
        }
    }
}

/// Parameters from the hard assignment of every row to `centers`.
fn assignment_model(ctx: &InitContext<'_>, centers: &[f64]) -> Result<GaussianMixture, usize> {
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
    )
}

fn assignment_stats(
    ctx: &InitContext<'_>,
    centers: &[f64],
    layout: Layout,
) -> Result<SufficientStats, usize> {
    stats_from_responsibilities(
        ctx.data,
        layout,
        centers,
        ctx.policy,
        ctx.params.chunk_rows,
        ctx.summary,
        hard_assignment(ctx, centers, layout.k),
    )
    .ok_or(0)
}

/// Rows for k-means++ seeding: all rows with positive weight when there are
/// at most `init_sample_rows` of them, else a uniform sample of row indices.
/// `only_unlabeled` keeps rows without a class. Returns values and weights.
fn seeding_sample(
    ctx: &InitContext<'_>,
    restart: usize,
    only_unlabeled: bool,
) -> (Vec<f64>, Vec<f64>) {
    let data = ctx.data;
    let n = data.n_rows();
    let m = ctx.params.init_sample_rows;
    let keep = |i: usize| {
        let w = ctx.policy.effective_weight(data.weight(i), data.label(i));
        (w > 0.0 && !(only_unlabeled && data.label(i).is_some())).then_some(w)
    };
    let indices: Vec<usize> = if n <= m {
        (0..n).collect()
    } else {
        // Floyd's algorithm: m distinct indices, then in row order.
        let mut rng = rng_for(ctx.params.seed, &[restart as u64, STREAM_SAMPLE]);
        let mut chosen = std::collections::BTreeSet::new();
        for j in n - m..n {
            let t = rng.random_range(0..=j);
            if !chosen.insert(t) {
                chosen.insert(j);
            }
        }
        chosen.into_iter().collect()
    };
    let mut x = Vec::new();
    let mut w = Vec::new();
    for i in indices {
        if let Some(wi) = keep(i) {
            x.extend_from_slice(data.row(i));
            w.push(wi);
        }
    }
    (x, w)
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
fn kmeans_plusplus_seeds(
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

pub(crate) fn kmeans_plusplus(
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
    while centers.len() < k * d {
        let potential: f64 = weighted.iter().sum();
        let mut best: Option<(f64, usize, Vec<f64>)> = None;
        for _ in 0..n_trials {
            let cand = if potential > 0.0 {
                draw_weighted(rng, &weighted, potential)
            } else {
                let total: f64 = w.iter().sum();
                draw_weighted(rng, w, total)
            };
            let cx = &x[cand * d..(cand + 1) * d];
            let new_closest: Vec<f64> = (0..n)
                .map(|i| closest[i].min(squared_distance(&x[i * d..(i + 1) * d], cx)))
                .collect();
            let pot: f64 = new_closest.iter().zip(w).map(|(c, w)| c * w).sum();
            if best.as_ref().is_none_or(|b| pot < b.0) {
                best = Some((pot, cand, new_closest));
            }
        }
        let (_, cand, new_closest) = best.expect("at least two trials");
        centers.extend_from_slice(&x[cand * d..(cand + 1) * d]);
        closest = new_closest;
        weighted = closest.iter().zip(w).map(|(c, w)| c * w).collect();
    }
    centers
}

/// Lloyd iterations from `centers` on all rows (labeled rows clamped to their
/// class when the policy says so) until the centers move less than
/// `1e-4` times the mean column variance, as scikit-learn's `tol`.
fn lloyd(ctx: &InitContext<'_>, mut centers: Vec<f64>) -> (Vec<f64>, usize) {
    let d = ctx.data.n_features();
    let k = ctx.params.n_components;
    let layout = Layout {
        k,
        d,
        second: SecondMoment::Diag,
    };
    let mut iterations = 0;
    for _ in 0..ctx.params.kmeans_max_iter {
        let Some(stats) = stats_from_responsibilities(
            ctx.data,
            layout,
            &centers,
            ctx.policy,
            ctx.params.chunk_rows,
            ctx.summary,
            hard_assignment(ctx, &centers, k),
        ) else {
            break;
        };
        iterations += 1;
        // Tolerance from the data's variance (the second moments around the
        // centers, pooled).
        let total_weight: f64 = stats.n.iter().sum();
        let variance =
            stats.s2.iter().sum::<f64>() / (total_weight * d as f64).max(f64::MIN_POSITIVE);
        let tol = 1e-4 * variance;
        let mut shift = 0.0;
        let mut empty = Vec::new();
        for c in 0..k {
            if stats.n[c] > 0.0 {
                for j in 0..d {
                    let delta = stats.s1[c * d + j] / stats.n[c];
                    centers[c * d + j] += delta;
                    shift += delta * delta;
                }
            } else {
                empty.push(c);
            }
        }
        if !empty.is_empty() {
            // Move empty clusters onto the rows farthest from their centers.
            let far = farthest_rows(ctx, &centers, empty.len());
            for (&c, &row) in empty.iter().zip(&far) {
                centers[c * d..(c + 1) * d].copy_from_slice(ctx.data.row(row));
            }
            continue;
        }
        if shift <= tol {
            break;
        }
    }
    (centers, iterations)
}

/// The `m` rows (with positive weight) farthest from their nearest center;
/// ties go to the lower row index.
fn farthest_rows(ctx: &InitContext<'_>, centers: &[f64], m: usize) -> Vec<usize> {
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
            let mut local: Vec<(f64, usize)> = (start..end)
                .filter(|&i| policy.effective_weight(data.weight(i), data.label(i)) > 0.0)
                .map(|i| (nearest(centers, data.row(i)).1, i))
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

/// `k` distinct rows with positive weight, uniformly at random.
fn distinct_random_rows(
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

/// scikit-learn's `random`: uniform random responsibilities normalized per row.
fn random_responsibilities(
    ctx: &InitContext<'_>,
    restart: usize,
) -> Result<GaussianMixture, usize> {
    let k = ctx.params.n_components;
    let d = ctx.data.n_features();
    let centers: Vec<f64> = (0..k)
        .flat_map(|_| ctx.summary.col_mean.iter().copied())
        .collect();
    let layout = Layout {
        k,
        d,
        second: SecondMoment::for_covariance(ctx.params.covariance_type),
    };
    let seed = ctx.params.seed;
    let chunk_rows = ctx.params.chunk_rows;
    let data = ctx.data;
    let clamp = matches!(ctx.policy, RowPolicy::Clamped { .. });
    let stats = stats_from_responsibilities(
        data,
        layout,
        &centers,
        ctx.policy,
        chunk_rows,
        ctx.summary,
        move |start, end, out| {
            let mut rng = rng_for(
                seed,
                &[restart as u64, STREAM_RESP, (start / chunk_rows) as u64],
            );
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
        },
    )
    .ok_or(0usize)?;
    m_step(
        &centers,
        &stats,
        ctx.params.covariance_type,
        ctx.params.reg_covar,
    )
}

/// The tutorial's start: random weights, means from N(0, 1), covariances
/// `A A^T` (plus `reg_covar`) with `A` standard normal.
fn random_params(
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
    let cov = Covariances::from_dense(
        ctx.params.covariance_type,
        &dense,
        weights.as_slice().expect("contiguous"),
    );
    GaussianMixture::new(weights, means, cov).map_err(|_| 0)
}

/// Per-class weights, means and biased covariances of the labeled rows.
struct ClassStats {
    n: Vec<f64>,
    means: Vec<f64>,
    covs: Vec<Array2<f64>>,
    pooled: Array2<f64>,
}

fn class_stats(ctx: &InitContext<'_>) -> Result<ClassStats, usize> {
    let data = ctx.data;
    let classes = data.n_classes();
    let d = data.n_features();
    let centers: Vec<f64> = (0..classes)
        .flat_map(|_| ctx.summary.col_mean.iter().copied())
        .collect();
    let layout = Layout {
        k: classes,
        d,
        second: SecondMoment::Full,
    };
    // Labeled rows with their plain weights, whatever the fit's policy.
    let stats = stats_from_responsibilities(
        data,
        layout,
        &centers,
        RowPolicy::Unsupervised,
        ctx.params.chunk_rows,
        ctx.summary,
        move |start, end, out: &mut [f64]| {
            out.fill(0.0);
            for (i, row) in (start..end).zip(out.chunks_exact_mut(classes)) {
                if let Some(c) = data.label(i) {
                    row[c as usize] = 1.0;
                }
            }
        },
    )
    .ok_or(0usize)?;
    let mut means = vec![0.0; classes * d];
    let mut covs = Vec::with_capacity(classes);
    let mut pooled = Array2::zeros((d, d));
    let total: f64 = stats.n.iter().sum();
    for c in 0..classes {
        let n = stats.n[c] + N_EPS;
        let delta: Vec<f64> = (0..d).map(|j| stats.s1[c * d + j] / n).collect();
        for j in 0..d {
            means[c * d + j] = centers[c * d + j] + delta[j];
        }
        let s2 = &stats.s2[c * d * d..(c + 1) * d * d];
        let cov = Array2::from_shape_fn((d, d), |(i, j)| s2[i * d + j] / n - delta[i] * delta[j]);
        pooled.scaled_add(n / total.max(f64::MIN_POSITIVE), &cov);
        covs.push(cov);
    }
    Ok(ClassStats {
        n: stats.n,
        means,
        covs,
        pooled,
    })
}

/// The semi-supervised starts, by restart: 0 learns each class's parameters
/// from its labeled rows (the tutorial); 1 uses the class means with the
/// pooled within-class covariance; 2 runs k-means seeded at the class means;
/// later restarts run k-means seeded at a random labeled row of each class.
/// Components beyond the classes are seeded by k-means++ on the unlabeled
/// rows, away from the class means.
fn labeled_start(
    ctx: &InitContext<'_>,
    restart: usize,
) -> Result<(GaussianMixture, String), usize> {
    let k = ctx.params.n_components;
    let d = ctx.data.n_features();
    let reg = ctx.params.reg_covar;
    let classes = ctx.data.n_classes();
    let cs = class_stats(ctx)?;
    let with_reg = |m: &Array2<f64>| {
        let mut m = m.clone();
        m.diag_mut().iter_mut().for_each(|v| *v += reg);
        m
    };
    match restart {
        0 | 1 => {
            let centers = kmeans_plusplus_seeds(ctx, restart, &cs.means)?;
            let mut covs: Vec<Array2<f64>> = if restart == 0 {
                cs.covs.iter().map(with_reg).collect()
            } else {
                vec![with_reg(&cs.pooled); classes]
            };
            let mut weights: Vec<f64> = cs.n.clone();
            let mut means = cs.means.clone();
            if k > classes {
                // Free components: from the unlabeled rows nearest to them;
                // all weights from the assignment of every row.
                let layout = Layout {
                    k,
                    d,
                    second: SecondMoment::Full,
                };
                let stats = assignment_stats(ctx, &centers, layout)?;
                weights = stats.n.clone();
                for c in classes..k {
                    let n = stats.n[c] + N_EPS;
                    let delta: Vec<f64> = (0..d).map(|j| stats.s1[c * d + j] / n).collect();
                    means.extend((0..d).map(|j| centers[c * d + j] + delta[j]));
                    let s2 = &stats.s2[c * d * d..(c + 1) * d * d];
                    covs.push(with_reg(&Array2::from_shape_fn((d, d), |(i, j)| {
                        s2[i * d + j] / n - delta[i] * delta[j]
                    })));
                }
            }
            // A class whose covariance is singular (too few labeled rows)
            // falls back on the pooled covariance.
            for cov in covs.iter_mut().take(classes) {
                if crate::linalg::cholesky_lower(cov.view()).is_none() {
                    *cov = with_reg(&cs.pooled);
                }
            }
            let weights: Vec<f64> = weights.iter().map(|w| w + N_EPS).collect();
            let total: f64 = weights.iter().sum();
            let weights = Array1::from_iter(weights.iter().map(|w| w / total));
            let cov = Covariances::from_dense(
                ctx.params.covariance_type,
                &covs,
                weights.as_slice().expect("contiguous"),
            );
            let model = GaussianMixture::new(
                weights,
                Array2::from_shape_vec((k, d), means).expect("k x d"),
                cov,
            )
            .map_err(|_| 0usize)?;
            let what = if restart == 0 {
                "class covariances"
            } else {
                "pooled covariance"
            };
            Ok((model, format!("labeled: class means, {what}")))
        }
        _ => {
            let (seed_means, what) = if restart == 2 {
                (
                    cs.means.clone(),
                    "k-means seeded at the class means".to_string(),
                )
            } else {
                (
                    random_labeled_rows(ctx, restart),
                    "k-means seeded at random labeled rows".to_string(),
                )
            };
            let seeds = kmeans_plusplus_seeds(ctx, restart, &seed_means)?;
            let (centers, iters) = lloyd(ctx, seeds);
            Ok((
                assignment_model(ctx, &centers)?,
                format!("labeled: {what} ({iters} Lloyd iterations)"),
            ))
        }
    }
}

/// One random labeled row per class, as centers.
fn random_labeled_rows(ctx: &InitContext<'_>, restart: usize) -> Vec<f64> {
    let data = ctx.data;
    let classes = data.n_classes();
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); classes];
    for i in 0..data.n_rows() {
        if let Some(c) = data.label(i)
            && data.weight(i) > 0.0
        {
            rows[c as usize].push(i);
        }
    }
    let mut rng = rng_for(ctx.params.seed, &[restart as u64, STREAM_ROWS]);
    let mut centers = Vec::with_capacity(classes * data.n_features());
    for class_rows in &rows {
        if class_rows.is_empty() {
            centers.extend_from_slice(&ctx.summary.col_mean);
        } else {
            let i = class_rows[rng.random_range(0..class_rows.len())];
            centers.extend_from_slice(data.row(i));
        }
    }
    centers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_differ_by_restart_and_repeat_by_seed() {
        let a: u64 = rng_for(7, &[0, 1]).random();
        let b: u64 = rng_for(7, &[1, 1]).random();
        let c: u64 = rng_for(7, &[0, 1]).random();
        assert_ne!(a, b);
        assert_eq!(a, c);
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
