//! The last pass of k-means starts: every row to its nearest center
//! (labeled rows to their class when the policy clamps them), and the
//! statistics of that hard assignment, from which the start's parameters
//! come. Distances come from the E-step's diagonal kernel with unit
//! precisions (`-1/2 |x - c|^2`, four or eight rows per SIMD register); the
//! statistics of the assigned center only are added per row when the layout
//! is diagonal, through the scatter kernel otherwise. Sums are exact across
//! chunks, as in every pass: the same bits for any number of threads.
//! (Lloyd's iterations before it keep bounds per row: [`crate::init`].)

use crate::covariance::CovarianceType;
use crate::data::DataView;
use crate::estep::{EStep, RowPolicy};
use crate::kernel::{self, BLOCK};
use crate::pass::StatsPass;
use crate::prepared::Prepared;
use crate::stats::{Layout, SecondMoment, SufficientStats};
use crate::summary::DataSummary;

/// The centers as a model whose log-density is `-1/2 |x - c_k|^2`.
pub(crate) fn distance_model(centers: &[f64], k: usize, d: usize) -> Prepared {
    Prepared {
        k,
        d,
        covariance_type: CovarianceType::Diag,
        means: centers.to_vec(),
        precision: vec![1.0; k * d],
        log_const: vec![0.0; k],
        log_weights: vec![0.0; k],
        noise: None,
    }
}

/// The component row `i` of the loaded block goes to: its class if
/// clamped, else the nearest center (the first of equals).
fn assigned(rows: &EStep, k: usize, class: Option<u32>, i: usize) -> usize {
    match class {
        Some(c) => c as usize,
        None => {
            let mut best = (0, f64::NEG_INFINITY);
            for c in 0..k {
                let v = rows.lp[c * BLOCK + i];
                if v > best.1 {
                    best = (c, v);
                }
            }
            best.0
        }
    }
}

/// Statistics, around `centers` (`K x d`), of every row assigned to its
/// nearest center (labeled rows to their class under a clamping policy),
/// weighted by the policy's effective weights. `None` if the exact sums
/// overflowed.
pub(crate) fn nearest_center_stats(
    data: DataView<'_>,
    layout: Layout,
    centers: &[f64],
    policy: RowPolicy,
    chunk_rows: usize,
    summary: &DataSummary,
) -> Option<SufficientStats> {
    let Layout { k, d, second } = layout;
    let model = distance_model(centers, k, d);
    let clamp = matches!(policy, RowPolicy::Clamped { .. }) && data.labels().is_some();
    let pass = StatsPass {
        data,
        layout,
        centers,
        policy,
        chunk_rows,
        summary,
    };
    // Diagonal statistics (Lloyd's): only the assigned center's sums move,
    // added here. Otherwise one-hot responsibilities for the scatter kernel.
    let direct = second == SecondMoment::Diag;
    pass.run(direct, |rows, b0, p, _| {
        rows.lp.resize(k * BLOCK, 0.0);
        kernel::log_prob(&model, &mut rows.block, &mut rows.lp);
        // Padding rows too (their weight is zero), so that their columns of
        // `lp` end up zero for the scatter kernel.
        let n = rows.block.rows;
        for i in 0..BLOCK {
            let class = if clamp && i < n {
                data.label(b0 + i)
            } else {
                None
            };
            let c = assigned(rows, k, class, i);
            let w = rows.ew[i];
            if direct {
                if w > 0.0 {
                    p.n[c] += w;
                    for j in 0..d {
                        let z = rows.block.xt[j * BLOCK + i] - centers[c * d + j];
                        let wz = w * z;
                        p.s1[c * d + j] += wz;
                        p.s2[c * d + j] += wz * z;
                    }
                }
            } else {
                // Row i's column of `lp` is read; it becomes one-hot.
                for m in 0..k {
                    rows.lp[m * BLOCK + i] = if m == c { w } else { 0.0 };
                }
            }
        }
    })
}
