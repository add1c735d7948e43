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
    /// Per column, the effective weight of the rows where it is observed
    /// (the total weight, unless values are missing).
    pub observed_weight: Vec<f64>,
    /// Whether missing entries are integrated out: their conditional
    /// expectations may lie beyond the columns' bounds.
    missing: bool,
    /// The fit's prior (`prior`), when it has one: set by the fit once
    /// the summary is known.
    pub prior: Option<crate::family::prior::Prior>,
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
        // (A missing entry of that row puts its column's origin at 0.)
        let origin: Vec<f64> = if origin.is_empty() {
            vec![0.0; d]
        } else {
            origin
                .into_iter()
                .map(|v| if v.is_nan() { 0.0 } else { v })
                .collect()
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
                sums: OrderedSums::new(3 * d + 2),
                n_positive: 0,
            },
            |acc, c, start, end| {
                // Per column: sum w t, sum w t^2 (t = x - origin), then the
                // total effective weight, the total raw weight, and per
                // column the weight of the rows where it is observed.
                let mut part = vec![0.0; 3 * d + 2];
                let mut scratch = Vec::new();
                for i in start..end {
                    let row = data.row(i).as_f64(&mut scratch);
                    for (m, v) in acc.max_abs.iter_mut().zip(row) {
                        if !v.is_nan() {
                            *m = m.max(v.abs());
                        }
                    }
                    part[2 * d + 1] += data.weight(i);
                    let w = policy.effective_weight(data.weight(i), data.label(i));
                    if w > 0.0 {
                        acc.n_positive += 1;
                        for j in 0..d {
                            // Missing entries (NaN) count in no column.
                            if !row[j].is_nan() {
                                let t = row[j] - origin[j];
                                part[j] += w * t;
                                part[d + j] += w * t * t;
                                part[2 * d + 2 + j] += w;
                            }
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
        // A column observed in no row has mean and variance 0 here; a fit
        // refuses it (`observed_weight`).
        let observed_weight = sums[2 * d + 2..].to_vec();
        let shift: Vec<f64> = (0..d)
            .map(|j| match observed_weight[j] {
                w if w > 0.0 => sums[j] / w,
                _ => 0.0,
            })
            .collect();
        let col_mean = shift.iter().zip(&origin).map(|(s, o)| o + s).collect();
        let col_var = (0..d)
            .map(|j| match observed_weight[j] {
                w if w > 0.0 => (sums[d + j] / w - shift[j] * shift[j]).max(0.0),
                _ => 0.0,
            })
            .collect();
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
            observed_weight,
            missing: data.missing,
            prior: None,
        }
    }

    /// Scales for statistics accumulated around `centers`. Effective weights
    /// may exceed raw weights by the unlabeled weight, which the total covers.
    pub fn scales(&self, layout: Layout, centers: &[f64]) -> Scales {
        if self.missing {
            // A missing value's conditional expectation extrapolates from
            // the observed columns: the columns with missing values get
            // 2^40 times their bound (the exact sums' second word keeps the
            // precision this costs); complete columns keep theirs.
            let wide: Vec<f64> = self
                .col_max_abs
                .iter()
                .zip(&self.observed_weight)
                .map(|(&v, &w)| {
                    if w < self.total_weight {
                        // (At least 1: a column of zeros or tiny values
                        // still has conditional variances of reg_covar.)
                        v.max(1.0) * 1_099_511_627_776.0
                    } else {
                        v
                    }
                })
                .collect();
            return Scales::new(layout, centers, &wide, self.weight_bound);
        }
        Scales::new(layout, centers, &self.col_max_abs, self.weight_bound)
    }
}
