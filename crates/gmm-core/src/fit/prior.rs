//! The prior of a fit (`prior`), from its data: the column means and the
//! covariance matrix (unbiased, as R's `var`) of the rows the fit weighs,
//! with the weights it gives them, all ranks' rows together.

use ndarray::Array2;

use crate::data::DataView;
use crate::estep::RowPolicy;
use crate::family::prior::Prior;
use crate::pass::stats_from_responsibilities;
use crate::stats::{Layout, SecondMoment};
use crate::summary::DataSummary;

pub(super) fn data_prior(
    g: usize,
    data: DataView<'_>,
    policy: RowPolicy,
    chunk_rows: usize,
    summary: &DataSummary,
) -> Option<Prior> {
    let (mean, covariance, n) = data_moments(data, policy, chunk_rows, summary)?;
    let rows = summary.n_positive as f64;
    Some(Prior::new(g, mean, covariance, rows, n / rows))
}

/// The column means and the covariance matrix (unbiased, as R's `var`) of
/// the rows a fit weighs, with their weights, all ranks' rows together;
/// and the rows' total weight. `None` if the covariance is not finite.
pub(super) fn data_moments(
    data: DataView<'_>,
    policy: RowPolicy,
    chunk_rows: usize,
    summary: &DataSummary,
) -> Option<(Vec<f64>, Array2<f64>, f64)> {
    let d = data.n_features();
    let layout = Layout {
        k: 1,
        d,
        second: SecondMoment::Full,
    };
    let stats = stats_from_responsibilities(
        data,
        layout,
        &summary.col_mean,
        policy,
        chunk_rows,
        summary,
        |_, _, out| out.fill(1.0),
    )?;
    // Weighted moments; the covariance as over `rows - 1` rows, so that
    // unit weights give R's `var` and the weights' scale changes nothing.
    let n = stats.n[0];
    let rows = summary.n_positive as f64;
    let unbiased = if rows > 1.0 { rows / (rows - 1.0) } else { 1.0 };
    let covariance = Array2::from_shape_fn((d, d), |(i, j)| {
        (stats.s2[i * d + j] - stats.s1[i] * stats.s1[j] / n) / n * unbiased
    });
    if covariance.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let mean = (0..d)
        .map(|j| summary.col_mean[j] + stats.s1[j] / n)
        .collect();
    Some((mean, covariance, n))
}
