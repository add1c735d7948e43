//! The prior of a fit (`prior`), from its data: the column means and the
//! covariance matrix (over `n - 1`, as R's `var`) of every row with
//! positive weight, all ranks' rows together.

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
    chunk_rows: usize,
    summary: &DataSummary,
) -> Option<Prior> {
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
        RowPolicy::Unsupervised,
        chunk_rows,
        summary,
        |_, _, out| out.fill(1.0),
    )?;
    let n = stats.n[0];
    let divisor = if n > 1.0 { n - 1.0 } else { n };
    let covariance = Array2::from_shape_fn((d, d), |(i, j)| {
        (stats.s2[i * d + j] - stats.s1[i] * stats.s1[j] / n) / divisor
    });
    let mean = (0..d)
        .map(|j| summary.col_mean[j] + stats.s1[j] / n)
        .collect();
    Some(Prior::new(g, mean, covariance, summary.n_positive as f64))
}
