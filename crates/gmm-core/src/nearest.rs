//! The pass of k-means starts: every row to its nearest center (labeled rows
//! to their class when the policy clamps them), and the statistics of that
//! hard assignment. Distances come from the E-step's diagonal kernel with
//! unit precisions (`-1/2 |x - c|^2`, four rows per SIMD register), so a
//! Lloyd iteration costs a fraction of an EM iteration; the statistics of
//! the assigned center only are added per row when the layout is diagonal
//! (Lloyd's), through the scatter kernel otherwise (a start's parameters).
//! Sums are exact across chunks, as in every pass: the same bits for any
//! number of threads.

use crate::chunks::chunked;
use crate::covariance::CovarianceType;
use crate::data::DataView;
use crate::estep::{EStep, RowPolicy};
use crate::kernel::{self, BLOCK, LaneStats};
use crate::prepared::Prepared;
use crate::stats::{ExactStats, Layout, SecondMoment, SufficientStats};
use crate::summary::DataSummary;

/// The centers as a model whose log-density is `-1/2 |x - c_k|^2`.
fn distance_model(centers: &[f64], k: usize, d: usize) -> Prepared {
    Prepared {
        k,
        d,
        covariance_type: CovarianceType::Diag,
        means: centers.to_vec(),
        precision: vec![1.0; k * d],
        log_const: vec![0.0; k],
    }
}

/// For each row of the loaded block, the component it is assigned to:
/// its class if clamped, else the nearest center (the first of equals).
fn assign(
    rows: &EStep,
    k: usize,
    clamp: bool,
    data: DataView<'_>,
    first: usize,
    out: &mut Vec<usize>,
) {
    out.clear();
    for i in 0..rows.block.rows {
        let class = if clamp { data.label(first + i) } else { None };
        out.push(match class {
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
        });
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
    let scales = summary.scales(layout, centers);
    let model = distance_model(centers, k, d);
    let clamp = matches!(policy, RowPolicy::Clamped { .. }) && data.labels().is_some();
    struct Acc {
        exact: ExactStats,
        lanes: LaneStats,
        partial: SufficientStats,
        rows: EStep,
        scratch: Vec<f64>,
        assigned: Vec<usize>,
    }
    let acc = chunked(
        data.n_rows(),
        chunk_rows,
        || Acc {
            exact: ExactStats::zeros(&scales),
            lanes: LaneStats::zeros(layout),
            partial: SufficientStats::zeros(layout),
            rows: EStep::default(),
            scratch: Vec::new(),
            assigned: Vec::new(),
        },
        |acc, _c, start, end| {
            acc.lanes.reset();
            let p = &mut acc.partial;
            p.n.fill(0.0);
            p.s1.fill(0.0);
            p.s2.fill(0.0);
            let mut b0 = start;
            while b0 < end {
                let b1 = (b0 + BLOCK).min(end);
                let rows = &mut acc.rows;
                rows.load(data, b0, b1, policy);
                rows.lp.resize(k * BLOCK, 0.0);
                kernel::log_prob(&model, &rows.block, &mut rows.lp);
                assign(rows, k, clamp, data, b0, &mut acc.assigned);
                if second == SecondMoment::Diag {
                    // Only the assigned center's sums move.
                    let x = &rows.block.xt;
                    for (i, &c) in acc.assigned.iter().enumerate() {
                        let w = rows.ew[i];
                        if w > 0.0 {
                            p.n[c] += w;
                            for j in 0..d {
                                let z = x[j * BLOCK + i] - centers[c * d + j];
                                let wz = w * z;
                                p.s1[c * d + j] += wz;
                                p.s2[c * d + j] += wz * z;
                            }
                        }
                    }
                } else {
                    rows.lp.fill(0.0);
                    for (i, &c) in acc.assigned.iter().enumerate() {
                        rows.lp[c * BLOCK + i] = rows.ew[i];
                    }
                    kernel::accumulate(
                        centers,
                        &rows.block,
                        &rows.lp,
                        &mut acc.lanes,
                        &mut acc.scratch,
                    );
                }
                b0 = b1;
            }
            if second != SecondMoment::Diag {
                acc.lanes.reduce_into(&mut acc.partial);
            }
            acc.exact.add(&scales, &acc.partial);
        },
        |mut a, b| {
            a.exact.merge(&b.exact);
            a
        },
    );
    acc.exact.totals(&scales)
}
