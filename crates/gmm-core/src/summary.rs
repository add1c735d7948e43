//! What every fit needs to know about its rows once, before any pass: column
//! bounds, means and variances, and the total weight under a row policy.

use crate::chunks::{OrderedSums, chunked};
use crate::collective;
use crate::data::DataView;
use crate::estep::RowPolicy;
use crate::mstep::N_EPS;
use crate::stats::{Layout, Scales};

/// Facts about the rows that every fit needs once: the bound of each column
/// and the total weight under each row policy.
#[derive(Debug, Clone)]
pub(crate) struct DataSummary {
    pub col_max_abs: Vec<f64>,
    /// Weighted column means of the rows with positive effective weight.
    pub col_mean: Vec<f64>,
    /// Their weighted column variances (around `col_mean`).
    pub col_var: Vec<f64>,
    /// Total effective weight.
    pub total_weight: f64,
    /// Rows with positive effective weight.
    pub n_positive: usize,
    /// A bound on the total weight any policy gives the rows (raw weights
    /// times the largest row factor), used to scale exact sums.
    pub weight_bound: f64,
}

impl DataSummary {
    /// scikit-learn's `10 * eps` added to every component's total
    /// responsibility, in units of the mean weight of the rows: exactly
    /// [`N_EPS`] for unit weights, and scaled with the weights, so that
    /// weights `c w` fit as `w` do.
    pub fn n_eps(&self) -> f64 {
        N_EPS * (self.total_weight / self.n_positive.max(1) as f64)
    }

    pub fn new(data: DataView<'_>, policy: RowPolicy, chunk_rows: usize) -> Self {
        let d = data.n_features();
        let part = data.partition();
        let first_chunk = data.row_offset() / chunk_rows;
        // Moments around the table's first row, so that data far from the
        // origin keeps its variance.
        let local_first = if data.n_rows() > 0 {
            data.row(0).to_vec()
        } else {
            Vec::new()
        };
        let origin = match part {
            None => local_first,
            Some(p) => collective::gather(p.comm, &local_first, |v, w| w.f64s(v), |r| r.f64s())
                .into_iter()
                .find(|v| !v.is_empty())
                .unwrap_or_default(),
        };
        let origin = if origin.is_empty() {
            vec![0.0; d]
        } else {
            origin
        };
        struct Acc {
            max_abs: Vec<f64>,
            sums: OrderedSums,
            n_positive: usize,
        }
        let acc = chunked(
            data.n_rows(),
            chunk_rows,
            || Acc {
                max_abs: vec![0.0; d],
                sums: OrderedSums::new(2 * d + 2),
                n_positive: 0,
            },
            |acc, c, start, end| {
                let mut part = vec![0.0; 2 * d + 2];
                let mut scratch = Vec::new();
                for i in start..end {
                    let row = data.row(i).as_f64(&mut scratch);
                    for (m, v) in acc.max_abs.iter_mut().zip(row) {
                        *m = m.max(v.abs());
                    }
                    part[2 * d + 1] += data.weight(i);
                    let w = policy.effective_weight(data.weight(i), data.label(i));
                    if w > 0.0 {
                        acc.n_positive += 1;
                        for j in 0..d {
                            let t = row[j] - origin[j];
                            part[j] += w * t;
                            part[d + j] += w * t * t;
                        }
                        part[2 * d] += w;
                    }
                }
                acc.sums.push(first_chunk + c, &part);
            },
            |mut a, b| {
                for (x, y) in a.max_abs.iter_mut().zip(&b.max_abs) {
                    *x = x.max(*y);
                }
                a.sums = a.sums.merge(b.sums);
                a.n_positive += b.n_positive;
                a
            },
        );
        let (max_abs, sums, n_positive) = match part {
            None => (acc.max_abs, acc.sums, acc.n_positive),
            Some(p) => {
                let max_abs =
                    collective::gather(p.comm, &acc.max_abs, |v, w| w.f64s(v), |r| r.f64s())
                        .into_iter()
                        .fold(vec![0.0f64; d], |mut m, v| {
                            for (x, y) in m.iter_mut().zip(v) {
                                *x = x.max(y);
                            }
                            m
                        });
                let n_positive =
                    collective::gather(p.comm, &acc.n_positive, |&v, w| w.usize(v), |r| r.usize())
                        .into_iter()
                        .sum();
                (max_abs, acc.sums.gathered(p.comm), n_positive)
            }
        };
        let sums = sums.finish();
        let total_weight = sums[2 * d];
        let (col_mean, col_var) = if total_weight > 0.0 {
            let shift: Vec<f64> = sums[..d].iter().map(|s| s / total_weight).collect();
            let mean = shift.iter().zip(&origin).map(|(s, o)| o + s).collect();
            let var = (0..d)
                .map(|j| (sums[d + j] / total_weight - shift[j] * shift[j]).max(0.0))
                .collect();
            (mean, var)
        } else {
            (vec![0.0; d], vec![0.0; d])
        };
        let factor = match policy {
            RowPolicy::Clamped { unlabeled_weight } => unlabeled_weight.max(1.0),
            _ => 1.0,
        };
        DataSummary {
            col_max_abs: max_abs,
            col_mean,
            col_var,
            total_weight,
            n_positive,
            weight_bound: sums[2 * d + 1] * factor,
        }
    }

    /// Scales for statistics accumulated around `centers`. Effective weights
    /// may exceed raw weights by the unlabeled weight, which the total covers.
    pub fn scales(&self, layout: Layout, centers: &[f64]) -> Scales {
        Scales::new(layout, centers, &self.col_max_abs, self.weight_bound)
    }
}
