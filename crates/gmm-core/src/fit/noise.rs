//! The noise component of a fit (`noise`): its volume, from the rows as
//! mclust's `hypvol` computes it unless given, and each start's noise
//! weight.

use ndarray::Array2;

use crate::chunks::{OrderedSums, chunked};
use crate::collective;
use crate::data::DataView;
use crate::error::{GmmError, Result};
use crate::estep::{EStep, RowPolicy};
use crate::kernel::BLOCK;
use crate::noise::Noise;
use crate::params::{DegeneratePolicy, FitParams};
use crate::pass::EmPassOutput;
use crate::prepared::Prepared;
use crate::report::Ending;
use crate::state::RestartSnapshot;
use crate::summary::DataSummary;

use super::degenerate::{Remedy, Reseeding, remedy};

/// The share of the rows' weight a start gives the noise at least, so that
/// EM can grow it (a weight of 0 stays 0), and at most: a start that calls
/// most rows noise is not one of clusters.
const START_SHARE: (f64, f64) = (0.01, 0.5);

/// A principal components' box below this share of the bounding box's
/// volume: the rows are flat (up to rounding) along some direction.
const FLAT: f64 = 1e-10;

/// How a fit's starts get their noise component.
pub(super) struct NoiseStart {
    volume: f64,
    /// The initial noise set's share of the rows' weight, when the rows
    /// have a set.
    set_share: Option<f64>,
}

/// How the starts of a fit with a noise component get it (none without
/// `noise`): its volume ([`fit_volume`]), and the initial noise set's
/// share of the rows' weight when the rows have a set
/// ([`initial_noise_share`]).
pub(super) fn noise_start(
    p: &FitParams,
    data: DataView<'_>,
    policy: RowPolicy,
    summary: &DataSummary,
) -> Result<Option<NoiseStart>> {
    if data.initial_noise().is_some() && !p.noise {
        return Err(GmmError::InitialNoise {
            reason: "the set starts a noise component, and this fit has none; ask for the noise component, or leave the set out".into(),
        });
    }
    let Some(volume) = fit_volume(p, data, policy, summary)? else {
        return Ok(None);
    };
    let set_share = initial_noise_share(data, policy, summary, p.chunk_rows)?;
    Ok(Some(NoiseStart { volume, set_share }))
}

/// The initial noise set's share of the rows' effective weight (none
/// without a set), summed in chunk order over all ranks. Fails when a
/// labeled row of a semi-supervised fit is in the set, or when the set
/// holds no weight or all of it.
fn initial_noise_share(
    data: DataView<'_>,
    policy: RowPolicy,
    summary: &DataSummary,
    chunk_rows: usize,
) -> Result<Option<f64>> {
    if data.initial_noise().is_none() {
        return Ok(None);
    }
    let fail = |reason: String| GmmError::InitialNoise { reason };
    // Labels count (semi-supervised EM keeps their rows in their class, and
    // both modes start each class from its labeled rows) unless ignored.
    let labels_count = policy != RowPolicy::Unsupervised;
    // One pass: the set's weight, and its first labeled row.
    let first_chunk = data.row_offset() / chunk_rows;
    let (sums, labeled) = chunked(
        data.n_rows(),
        chunk_rows,
        || (OrderedSums::new(1), None),
        |(sums, labeled), c, start, end| {
            let mut w = 0.0;
            for i in (start..end).filter(|&i| data.in_initial_noise(i)) {
                let label = data.label(i);
                if labels_count && label.is_some() && labeled.is_none_or(|l: usize| i < l) {
                    *labeled = Some(i);
                }
                w += policy.effective_weight(data.weight(i), label);
            }
            sums.push(first_chunk + c, &[w]);
        },
        |a, b| {
            let first = match (a.1, b.1) {
                (Some(x), Some(y)) => Some(x.min(y)),
                (x, y) => x.or(y),
            };
            (a.0.merge(b.0), first)
        },
    );
    let local = match labeled {
        Some(i) => Err(fail(format!(
            "the row at index {} (counting from 0) is labeled and in the set, but a labeled row belongs to its class; take it out of the set, or leave its label out",
            i + data.row_offset()
        ))),
        None => Ok(()),
    };
    match data.partition() {
        None => local?,
        Some(p) => collective::agree(p.comm, local)?,
    }
    let sums = match data.partition() {
        None => sums,
        Some(p) => sums.gathered(p.comm),
    };
    let share = sums.finish()[0] / summary.total_weight;
    if !(share > 0.0) {
        return Err(fail(
            "the set holds no row with weight, and a noise component cannot start from nothing; put some rows in it".into(),
        ));
    }
    if share >= 1.0 - 1e-12 {
        return Err(fail(
            "every row with weight is in the set, which leaves no row for the clusters to start from; take the clusters' rows out of it".into(),
        ));
    }
    Ok(Some(share))
}

/// The volume of a fit's noise component: none without `noise`, the given
/// one, or that of the rows ([`data_volume`]).
fn fit_volume(
    p: &FitParams,
    data: DataView<'_>,
    policy: RowPolicy,
    summary: &DataSummary,
) -> Result<Option<f64>> {
    if !p.noise {
        return Ok(None);
    }
    if data.missing_values() {
        return Err(GmmError::InvalidParam {
            name: "noise",
            reason: crate::model::NOISE_AND_MISSING.into(),
        });
    }
    if let Some(v) = p.noise_volume {
        return Ok(Some(v));
    }
    let (mean, covariance, _) = super::prior::data_moments(data, policy, p.chunk_rows, summary)
        .ok_or(GmmError::InvalidParam {
            name: "noise_volume",
            reason: "the data's covariance, which orients the noise's region, is not finite".into(),
        })?;
    data_volume(data, policy, &mean, &covariance, p.chunk_rows).map(Some)
}

/// mclust's `hypvol(X)`: the smaller of the volumes of the rows' bounding
/// box and of their box along the principal components of `covariance`
/// (about `mean`), over the rows with positive weight, all ranks' rows
/// together. Fails when the rows span no volume (a constant column, or
/// collinear columns: a principal box below [`FLAT`] of the bounding
/// box's volume) or one out of range of `f64`.
fn data_volume(
    data: DataView<'_>,
    policy: RowPolicy,
    mean: &[f64],
    covariance: &Array2<f64>,
    chunk_rows: usize,
) -> Result<f64> {
    let d = data.n_features();
    let fail = |reason: String| GmmError::InvalidParam {
        name: "noise",
        reason,
    };
    let (_, axes) = crate::linalg::symmetric_eigen(covariance.view())
        .ok_or_else(|| fail("the data's principal components could not be computed".into()))?;
    // Per column, then per principal axis: the smallest and largest value.
    let bounds = chunked(
        data.n_rows(),
        chunk_rows,
        || vec![(f64::INFINITY, f64::NEG_INFINITY); 2 * d],
        |acc, _, start, end| {
            let mut row = Vec::with_capacity(d);
            for i in start..end {
                if !(policy.effective_weight(data.weight(i), data.label(i)) > 0.0) {
                    continue;
                }
                row.clear();
                data.row(i).extend_into(&mut row);
                for j in 0..d {
                    let (lo, hi) = &mut acc[j];
                    *lo = lo.min(row[j]);
                    *hi = hi.max(row[j]);
                    let score: f64 = (0..d).map(|c| (row[c] - mean[c]) * axes[(c, j)]).sum();
                    let (lo, hi) = &mut acc[d + j];
                    *lo = lo.min(score);
                    *hi = hi.max(score);
                }
            }
        },
        |mut a, b| {
            for (x, y) in a.iter_mut().zip(b) {
                *x = (x.0.min(y.0), x.1.max(y.1));
            }
            a
        },
    );
    let bounds = match data.partition() {
        None => bounds,
        Some(p) => {
            let flat: Vec<f64> = bounds.iter().flat_map(|&(lo, hi)| [lo, hi]).collect();
            let all = collective::gather(p.comm, &flat, |v, w| w.f64s(v), |r| r.f64s());
            (0..2 * d)
                .map(|j| {
                    all.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |b, v| {
                        (b.0.min(v[2 * j]), b.1.max(v[2 * j + 1]))
                    })
                })
                .collect()
        }
    };
    let log_volume = |b: &[(f64, f64)]| b.iter().map(|(lo, hi)| (hi - lo).ln()).sum::<f64>();
    let (boxed, principal) = (log_volume(&bounds[..d]), log_volume(&bounds[d..]));
    let width = |b: &(f64, f64)| b.1 - b.0;
    if let Some(j) = bounds[..d].iter().position(|b| !(width(b) > 0.0)) {
        return Err(fail(format!(
            "feature column {} takes one value, so the rows span no volume for the noise's uniform density; leave the column out, or give the noise's volume",
            j + 1
        )));
    }
    if principal < boxed + FLAT.ln() {
        return Err(fail(
            "the rows lie in a flat region (collinear columns, or fewer distinct rows than columns): their box along the principal components has no volume for the noise's uniform density; leave out a column that the others determine, or give the noise's volume".into(),
        ));
    }
    let volume = boxed.min(principal).exp();
    if !(volume.is_finite() && volume > 0.0) {
        return Err(fail(format!(
            "the rows' volume (e^{:.1}) is out of the range of numbers gmm computes with (collinear or far-spread columns); rescale the columns, or give the volume",
            boxed.min(principal)
        )));
    }
    Ok(volume)
}

/// Each start's noise component (none without `noise`): a warm start from
/// a model with one keeps its weight; any other start's weight is the
/// initial noise set's share of the rows' weight when the rows have a set
/// (mclust's start), or else the share of the rows' weight that the
/// start's mixture explains less well than the noise's uniform density
/// `1 / volume` (rows it would call noise), kept within [`START_SHARE`].
/// Labeled rows clamped to their class are never noise. One pass over the
/// rows for all starts, none with a set.
pub(super) fn with_noise(
    states: Vec<RestartSnapshot>,
    noise: Option<&NoiseStart>,
    data: DataView<'_>,
    policy: RowPolicy,
    summary: &DataSummary,
    p: &FitParams,
) -> Vec<RestartSnapshot> {
    let chunk_rows = p.chunk_rows;
    let Some(&NoiseStart { volume, set_share }) = noise else {
        return states;
    };
    // The starts without a noise component, which get their share here
    // (from the set, when there is one).
    let prepared: Vec<Prepared> = states
        .iter()
        .filter(|s| s.model.noise().is_none() && set_share.is_none())
        .map(|s| Prepared::new(&s.model))
        .collect();
    // Every rank holds the same starts, so all skip the pass or none.
    let shares = if prepared.is_empty() {
        Vec::new()
    } else {
        let threshold = -volume.ln();
        let clamps = matches!(policy, RowPolicy::Clamped { .. });
        let first_chunk = data.row_offset() / chunk_rows;
        let sums = chunked(
            data.n_rows(),
            chunk_rows,
            || (OrderedSums::new(prepared.len()), EStep::default()),
            |(sums, estep), c, start, end| {
                let mut part = vec![0.0; prepared.len()];
                let mut b0 = start;
                while b0 < end {
                    let b1 = (b0 + BLOCK).min(end);
                    estep.load(data, b0, b1, policy);
                    for (m, model) in prepared.iter().enumerate() {
                        estep.run(model, data, b0, policy);
                        for i in 0..b1 - b0 {
                            let unlabeled = !clamps || data.label(b0 + i).is_none();
                            if estep.ew[i] > 0.0 && unlabeled && estep.log_norm[i] < threshold {
                                part[m] += estep.ew[i];
                            }
                        }
                    }
                    b0 = b1;
                }
                sums.push(first_chunk + c, &part);
            },
            |a, b| (a.0.merge(b.0), a.1),
        )
        .0;
        let sums = match data.partition() {
            None => sums,
            Some(p) => sums.gathered(p.comm),
        };
        sums.finish()
    };
    let mut shares = shares.into_iter();
    states
        .into_iter()
        .map(|s| {
            let weight = match (s.model.noise(), set_share) {
                (Some(noise), _) => noise.weight,
                (None, Some(share)) => share,
                (None, None) => {
                    let share = shares.next().expect("one share per start without noise");
                    (share / summary.total_weight).clamp(START_SHARE.0, START_SHARE.1)
                }
            };
            let model = s.model.with_noise(Some(Noise { weight, volume }));
            RestartSnapshot { model, ..s }
        })
        .collect()
}

/// After an M-step from `out`, the pass of `prep` (with `n_eps` added to
/// each component's count): the noise, if `prep` has one, takes its share
/// of the responsibilities, the Gaussians' weights (from their own,
/// summing to 1) scaled to leave it. A noise that takes every row (to
/// rounding) leaves no Gaussian to fit: the restart fails as a degenerate
/// one does under `policy` (an error, or the restart dropped).
pub(super) fn after_m_step(
    state: &mut RestartSnapshot,
    prep: &Prepared,
    out: &EmPassOutput,
    n_eps: f64,
    policy: DegeneratePolicy,
) -> Result<()> {
    let (Some(noise), Some(stats)) = (prep.noise, &out.stats) else {
        return Ok(());
    };
    let gaussians = stats.n.iter().sum::<f64>() + stats.n.len() as f64 * n_eps;
    let weight = crate::noise::share(out.noise_total, gaussians);
    let volume = noise.volume;
    if weight < 1.0 - 1e-12 {
        state.model = state
            .model
            .clone()
            .with_noise(Some(Noise { weight, volume }));
        return Ok(());
    }
    let error = GmmError::NoiseTookEveryRow {
        restart: state.report.restart,
        iteration: state.report.n_iter,
        volume,
    };
    match remedy(policy, Reseeding::Impossible, error) {
        Remedy::Drop(note) => {
            state.done = true;
            state.report.ending = Ending::Dropped;
            state.report.note = Some(note);
            Ok(())
        }
        Remedy::Fail(error) => Err(error),
        Remedy::Reseed => unreachable!("re-seeding is impossible here"),
    }
}
