//! Starting parameters of a restart. Every random choice draws from a stream
//! seeded by `(seed, restart, purpose[, chunk])`, never by thread scheduling.

mod context;
mod hc;
mod kmeans;
mod labeled;
pub(super) mod lloyd;
mod random;
pub(crate) mod rows;

use ndarray::{Array1, Array2};

use crate::covariance::Covariances;
use crate::estep::RowPolicy;
use crate::model::GaussianMixture;
use crate::params::{FitParams, InitMethod};

pub(crate) use context::InitContext;
use context::{STREAM_PARAMS, STREAM_ROWS, rng_for};
use hc::{HcFailure, hc_start};
use kmeans::{assignment_model, kmeans_plusplus_seeds};
use labeled::{class_stats, labeled_start, random_labeled_rows};
use lloyd::lloyd;
use random::{distinct_random_rows, random_params, random_responsibilities};

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
            centers.extend(rows.iter().flat_map(|&i| ctx.data.row_vec(i)));
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
        InitMethod::Hc => match hc_start(ctx, restart) {
            Ok(start) => start,
            Err(HcFailure::Degenerate(component)) => return Err(component),
            Err(HcFailure::Stopped) => (
                broad_start(ctx, restart),
                "broad start (hc stopped)".to_string(),
            ),
        },
    };
    let model = if semi
        && matches!(
            method,
            InitMethod::Random | InitMethod::RandomParams | InitMethod::Hc
        ) {
        // Random and hc starts keep their spread; the class components
        // move onto their classes.
        let mut means = model.means().clone();
        for (i, v) in anchors.iter().enumerate() {
            means[(i / d, i % d)] = *v;
        }
        GaussianMixture::new(model.weights().clone(), means, model.covariances().clone())
            .map_err(|_| 0usize)?
            .in_family(model.covariance_type())
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
    let picked: Vec<Vec<f64>> = rows.iter().map(|&r| ctx.data.row_vec(r)).collect();
    let means = Array2::from_shape_fn((k, d), |(c, j)| {
        picked.get(c).map_or(ctx.summary.col_mean[j], |x| x[j])
    });
    let var: Vec<f64> = ctx
        .summary
        .col_var
        .iter()
        .map(|v| v.max(f64::MIN_POSITIVE.sqrt()) + ctx.params.reg_covar)
        .collect();
    let dense = vec![Array2::from_diag(&Array1::from(var)); k];
    let weights = Array1::from_elem(k, 1.0 / k as f64);
    // One diagonal matrix for every component is a member of every family
    // (EII's spherical storage keeps their equal means of the diagonal).
    let cov = Covariances::from_dense(
        ctx.params.covariance_type,
        &dense,
        weights.as_slice().expect("contiguous"),
    );
    GaussianMixture::new(weights, means, cov)
        .expect("diagonal positive covariances")
        .in_family(ctx.params.covariance_type)
}

/// A user-given model as a start, converted to the fit's covariance type.
pub(crate) fn warm_start(
    model: &GaussianMixture,
    params: &FitParams,
) -> Result<GaussianMixture, usize> {
    if model.covariance_type() == params.covariance_type {
        return Ok(model.clone());
    }
    if let Some(noise) = model.noise() {
        return warm_start(&model.without_noise(), params).map(|m| m.with_noise(Some(noise)));
    }
    let d = model.n_features();
    let dense: Vec<Array2<f64>> = (0..model.n_components())
        .map(|c| model.covariances().dense(c, d))
        .collect();
    let cov = crate::family::from_dense(
        params.covariance_type,
        &dense,
        model.weights().as_slice().expect("contiguous"),
    );
    GaussianMixture::new(model.weights().clone(), model.means().clone(), cov)
        .map(|m| m.in_family(params.covariance_type))
        .map_err(|_| 0)
}
