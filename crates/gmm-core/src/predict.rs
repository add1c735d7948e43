//! Predictions and scores of a mixture: passes over the rows that run the
//! E-step ([`crate::estep`]) and keep, per row, `ln p(x)` and the posterior
//! probabilities, or sum them in chunk order so that scores are the same
//! for any number of threads or ranks.

use ndarray::Array2;
use rayon::prelude::*;

use crate::chunks::{DEFAULT_CHUNK_ROWS, OrderedSums, chunked};
use crate::data::DataView;
use crate::error::Result;
use crate::estep::{EStep, RowPolicy};
use crate::kernel::BLOCK;
use crate::model::{GaussianMixture, aic, bic};
use crate::prepared::Prepared;

impl GaussianMixture {
    /// `ln p(x)` of every row.
    pub fn score_samples(&self, data: DataView<'_>) -> Result<Vec<f64>> {
        self.check_features(&data)?;
        let mut out = vec![0.0; data.n_rows()];
        predict_rows(self, data, &mut out, None);
        Ok(out)
    }

    /// The weighted total of `ln p(x)` and the total weight, for callers that
    /// stream a table batch by batch.
    pub fn score_sums(&self, data: DataView<'_>) -> Result<ScoreSums> {
        self.check_features(&data)?;
        Ok(score(self, data.without_labels()))
    }

    /// The weighted mean of `ln p(x)` over the rows.
    pub fn score(&self, data: DataView<'_>) -> Result<f64> {
        self.check_features(&data)?;
        let s = score(self, data.without_labels());
        Ok(s.mean())
    }

    /// Posterior probabilities of the components, `n x K`.
    pub fn predict_proba(&self, data: DataView<'_>) -> Result<Array2<f64>> {
        self.check_features(&data)?;
        let k = self.n_components();
        let mut proba = Array2::zeros((data.n_rows(), k));
        let mut log_norm = vec![0.0; data.n_rows()];
        predict_rows(
            self,
            data,
            &mut log_norm,
            Some(proba.as_slice_mut().expect("standard layout")),
        );
        Ok(proba)
    }

    /// The most probable component of every row.
    pub fn predict(&self, data: DataView<'_>) -> Result<Vec<u32>> {
        let proba = self.predict_proba(data)?;
        Ok(proba
            .outer_iter()
            .map(|row| argmax(row.as_slice().expect("row-major")) as u32)
            .collect())
    }

    /// Bayesian information criterion on `data`: `-2 ln L + p ln n`, with `n`
    /// the total weight of the rows.
    pub fn bic(&self, data: DataView<'_>) -> Result<f64> {
        self.check_features(&data)?;
        let s = score(self, data.without_labels());
        Ok(bic(s.total, s.weight, self.n_parameters()))
    }

    /// Akaike information criterion on `data`: `-2 ln L + 2 p`.
    pub fn aic(&self, data: DataView<'_>) -> Result<f64> {
        self.check_features(&data)?;
        let s = score(self, data.without_labels());
        Ok(aic(s.total, self.n_parameters()))
    }
}

/// Total weighted `ln p(x)` and total weight of the rows a policy scores.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreSums {
    pub total: f64,
    pub weight: f64,
    /// Weighted classification entropy `-sum_i w_i sum_k r_ik ln r_ik` (for ICL).
    pub entropy: f64,
}

impl ScoreSums {
    pub fn mean(&self) -> f64 {
        self.total / self.weight
    }
}

pub(crate) fn score(model: &GaussianMixture, data: DataView<'_>) -> ScoreSums {
    score_with(model, data, RowPolicy::Unsupervised, DEFAULT_CHUNK_ROWS)
}

pub(crate) fn score_with(
    model: &GaussianMixture,
    data: DataView<'_>,
    policy: RowPolicy,
    chunk_rows: usize,
) -> ScoreSums {
    let prepared = Prepared::new(model);
    let br = BLOCK;
    let first_chunk = data.row_offset() / chunk_rows;
    struct Acc {
        sums: OrderedSums,
        estep: EStep,
    }
    let acc = chunked(
        data.n_rows(),
        chunk_rows,
        || Acc {
            sums: OrderedSums::new(3),
            estep: EStep::default(),
        },
        |acc, c, start, end| {
            let c = first_chunk + c;
            let mut part = [0.0, 0.0, 0.0];
            let mut b0 = start;
            while b0 < end {
                let b1 = (b0 + br).min(end);
                let work = &mut acc.estep;
                work.load(data, b0, b1, policy);
                work.run(&prepared, data, b0, policy);
                for i in 0..b1 - b0 {
                    let w = work.ew[i];
                    if w > 0.0 {
                        part[0] += w * work.log_norm[i];
                        part[1] += w;
                        let mut h = 0.0;
                        for k in 0..prepared.k {
                            let r = work.lp[k * BLOCK + i];
                            if r > 0.0 {
                                h -= r * r.ln();
                            }
                        }
                        part[2] += w * h;
                    }
                }
                b0 = b1;
            }
            acc.sums.push(c, &part);
        },
        |a, b| Acc {
            sums: a.sums.merge(b.sums),
            ..a
        },
    );
    let sums = match data.partition() {
        None => acc.sums,
        Some(p) => acc.sums.gathered(p.comm),
    };
    let s = sums.finish();
    ScoreSums {
        total: s[0],
        weight: s[1],
        entropy: s[2],
    }
}

/// Fills `log_norm[i] = ln p(x_i)` and, if given, the posterior probabilities
/// (`n x K`, row-major) of every row.
pub(crate) fn predict_rows(
    model: &GaussianMixture,
    data: DataView<'_>,
    log_norm: &mut [f64],
    proba: Option<&mut [f64]>,
) {
    let prepared = Prepared::new(model);
    let k = prepared.k;
    let br = BLOCK;
    let policy = RowPolicy::Unsupervised;
    let run = |start: usize, ln: &mut [f64], mut pr: Option<&mut [f64]>, work: &mut EStep| {
        let rows = ln.len();
        work.load(data, start, start + rows, policy);
        work.run(&prepared, data, start, policy);
        let w = BLOCK;
        ln.copy_from_slice(&work.log_norm[..rows]);
        if let Some(pr) = pr.as_deref_mut() {
            for (i, row) in pr.chunks_exact_mut(k).enumerate() {
                for (j, p) in row.iter_mut().enumerate() {
                    *p = work.lp[j * w + i];
                }
            }
        }
    };
    match proba {
        Some(proba) => log_norm
            .par_chunks_mut(br)
            .zip(proba.par_chunks_mut(br * k))
            .enumerate()
            .for_each_init(EStep::default, |work, (b, (ln, pr))| {
                run(b * br, ln, Some(pr), work)
            }),
        None => log_norm
            .par_chunks_mut(br)
            .enumerate()
            .for_each_init(EStep::default, |work, (b, ln)| run(b * br, ln, None, work)),
    }
}

fn argmax(values: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}
