//! `hc`, mclust's default start: model-based hierarchical agglomeration
//! ([`crate::hierarchy`]) of a sample of the rows, cut at K clusters, and
//! the family's M-step from that partition of the sample (mclust's
//! `mstep` on `hclass(hc(X[subset, ]), G)`); EM then runs on every row.
//!
//! The sample: `hc_rows` rows (2,000 by default, mclust's
//! `mclust.options("subset")`), drawn uniformly from the rows with
//! positive weight, or all of them when there are no more. Agglomeration
//! holds the cost of every pair of rows (`8 m^2 / 2` bytes: 16 MB at 2,000
//! rows) and costs about `m^2` determinants of `d x d` matrices, so it
//! cannot take every row of a large table; 2,000 rows place K <= 9
//! clusters as mclust's own users have them placed.
//!
//! Restart 0 agglomerates the sample (all rows when they fit, exactly
//! mclust's start); later restarts draw their own samples, of half the
//! rows when all of them fit, so that restarts differ. One agglomeration
//! serves every K: `gmm select` cuts the same merges for each cell,
//! remembered by the sample's values (`CACHE`).

use std::sync::{Arc, Mutex};

use crate::data::Dataset;
use crate::estep::RowPolicy;
use crate::hash::Fingerprint;
use crate::hierarchy::{HcModel, Merges, agglomerate, quantile_classes, svd_transform};
use crate::init::context::{InitContext, STREAM_HC, rng_for};
use crate::init::kmeans::select_rows;
use crate::init::random::model_from_responsibilities;
use crate::model::GaussianMixture;

/// What the start reports when it could not run to the end.
pub(super) enum HcFailure {
    /// The partition's component has no covariance in the family.
    Degenerate(usize),
    /// The fit was interrupted (or ran out of time) while agglomerating.
    Stopped,
}

/// Agglomerations of recent samples, by a fingerprint of the sample's
/// values and the agglomeration: a model selection asks for the same
/// sample once per cell.
static CACHE: Mutex<Vec<(u64, Arc<Merges>)>> = Mutex::new(Vec::new());
/// Agglomerations remembered (the oldest is forgotten first).
const CACHED: usize = 32;

fn cached_agglomeration(
    z: &[f64],
    q: usize,
    model: HcModel,
    stop: &dyn Fn() -> bool,
) -> Option<Arc<Merges>> {
    let mut f = Fingerprint::new();
    f.write_u64(q as u64);
    f.write_bytes(model.as_str().as_bytes());
    for v in z {
        f.write_u64(v.to_bits());
    }
    let key = f.finish();
    let lookup = |key| {
        let cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, m)| m.clone())
    };
    if let Some(m) = lookup(key) {
        return Some(m);
    }
    let merges = Arc::new(agglomerate(z, q, model, stop)?);
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if cache.len() >= CACHED {
        cache.remove(0);
    }
    cache.push((key, merges.clone()));
    Some(merges)
}

/// The `hc` start of `restart`, with its description.
pub(super) fn hc_start(
    ctx: &InitContext<'_>,
    restart: usize,
) -> Result<(GaussianMixture, String), HcFailure> {
    let data = ctx.data;
    let k = ctx.params.n_components;
    let d = data.n_features();
    let eligible: Vec<usize> = (0..data.n_rows())
        .filter(|&i| ctx.policy.effective_weight(data.weight(i), data.label(i)) > 0.0)
        .collect();
    let n = eligible.len();
    let m = if restart == 0 {
        n.min(ctx.params.hc_rows)
    } else {
        n.min(ctx.params.hc_rows).min(n.div_ceil(2).max(k + 1))
    };
    let rows: Vec<usize> = if m == n {
        eligible
    } else {
        let mut rng = rng_for(ctx.params.seed, &[restart as u64, STREAM_HC]);
        select_rows(n, m, &mut rng)
            .into_iter()
            .map(|i| eligible[i])
            .collect()
    };
    if rows.len() < k {
        return Err(HcFailure::Degenerate(rows.len()));
    }
    let mut x = Vec::with_capacity(rows.len() * d);
    for &i in &rows {
        data.extend_row_into(i, &mut x);
    }
    let (partition, how) = if d == 1 {
        (quantile_classes(&x, k), "quantiles".to_string())
    } else {
        let (z, q) = svd_transform(&x, d);
        let model = if rows.len() > d {
            HcModel::Vvv
        } else {
            HcModel::Eii
        };
        let stop = || ctx.interrupted();
        let merges = cached_agglomeration(&z, q, model, &stop).ok_or(HcFailure::Stopped)?;
        (
            merges.partition(k),
            format!("{} agglomeration", model.as_str()),
        )
    };
    let model = partition_model(ctx, &rows, x, &partition).map_err(HcFailure::Degenerate)?;
    Ok((model, format!("hc ({how} of {} rows)", rows.len())))
}

/// The family's M-step from a hard partition of the sampled rows (their
/// weights kept).
fn partition_model(
    ctx: &InitContext<'_>,
    rows: &[usize],
    x: Vec<f64>,
    partition: &[usize],
) -> Result<GaussianMixture, usize> {
    let k = ctx.params.n_components;
    let d = ctx.data.n_features();
    // The rows' weights as the fit gives them (labeled and unlabeled rows
    // alike under semi-supervision), so that the start's counts are in the
    // units of the fit's own M-steps (and of a prior's).
    let data = ctx.data;
    let w = rows
        .iter()
        .map(|&i| ctx.policy.effective_weight(data.weight(i), data.label(i)))
        .collect();
    let sample = Dataset::from_row_major(x, d)
        .and_then(|s| s.with_weights(w))
        .map_err(|_| 0usize)?;
    model_from_responsibilities(
        ctx,
        sample.view(),
        RowPolicy::Unsupervised,
        |start, end, out| {
            for (row, c) in out.chunks_exact_mut(k).zip(&partition[start..end]) {
                row.fill(0.0);
                row[*c] = 1.0;
            }
        },
    )
}
