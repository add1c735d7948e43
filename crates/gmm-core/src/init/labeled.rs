//! Semi-supervised starts: parameters learned from the labeled rows, and
//! k-means seeded at the classes.

use ndarray::{Array1, Array2};
use rand::RngExt;

use crate::estep::RowPolicy;
use crate::init::context::{InitContext, STREAM_ROWS, rng_for};
use crate::init::kmeans::{assignment_model, assignment_stats, kmeans_plusplus_seeds};
use crate::init::lloyd::lloyd;
use crate::model::GaussianMixture;
use crate::pass::stats_from_responsibilities;
use crate::stats::{Layout, SecondMoment};

/// Per-class weights, means and biased covariances of the labeled rows.
pub(super) struct ClassStats {
    pub n: Vec<f64>,
    pub means: Vec<f64>,
    pub covs: Vec<Array2<f64>>,
    pub pooled: Array2<f64>,
}

pub(super) fn class_stats(ctx: &InitContext<'_>) -> Result<ClassStats, usize> {
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
        let n = stats.n[c] + ctx.summary.n_eps();
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
pub(super) fn labeled_start(
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
                    let n = stats.n[c] + ctx.summary.n_eps();
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
            let weights: Vec<f64> = weights.iter().map(|w| w + ctx.summary.n_eps()).collect();
            let total: f64 = weights.iter().sum();
            let weights = Array1::from_iter(weights.iter().map(|w| w / total));
            let cov = crate::family::from_dense(
                ctx.params.covariance_type,
                &covs,
                weights.as_slice().expect("contiguous"),
            );
            let model = GaussianMixture::new(
                weights,
                Array2::from_shape_vec((k, d), means).expect("k x d"),
                cov,
            )
            .map_err(|_| 0usize)?
            .in_family(ctx.params.covariance_type);
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
pub(super) fn random_labeled_rows(ctx: &InitContext<'_>, restart: usize) -> Vec<f64> {
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
            data.extend_row_into(i, &mut centers);
        }
    }
    centers
}
