//! Predictions and scores of a mixture: passes over the rows that run the
//! E-step ([`crate::estep`]) and keep, per row, `ln p(x)` and the posterior
//! probabilities, or sum them in chunk order so that scores are the same
//! for any number of threads or ranks.

use ndarray::Array2;
use rayon::prelude::*;

use crate::aligned::AlignedArray;
use crate::chunks::{DEFAULT_CHUNK_ROWS, OrderedSums, chunked};
use crate::data::DataView;
use crate::error::Result;
use crate::estep::{EStep, RowPolicy};
use crate::kernel::{self, BLOCK};
use crate::missing::{Incomplete, Precisions};
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

    /// Posterior probabilities of the components, `n x K`; with a noise
    /// component, `n x (K + 1)`, the noise's last.
    pub fn predict_proba(&self, data: DataView<'_>) -> Result<Array2<f64>> {
        self.check_features(&data)?;
        let k = self.n_components() + usize::from(self.noise().is_some());
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

    /// The most probable component of every row: with a noise component,
    /// `K` for a row the noise explains best.
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
    /// `sum_i w_i ln max_k r_ik`, the log posterior of each row's most
    /// probable component (for mclust's ICL, which classifies each row).
    pub map_log_posterior: f64,
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
    let precisions = data.missing_values().then(|| Precisions::new(&prepared));
    let br = BLOCK;
    let first_chunk = data.row_offset() / chunk_rows;
    struct Acc {
        sums: OrderedSums,
        estep: EStep,
        incomplete: Incomplete,
    }
    let acc = chunked(
        data.n_rows(),
        chunk_rows,
        || Acc {
            sums: OrderedSums::new(4),
            estep: EStep::default(),
            incomplete: Incomplete::default(),
        },
        |acc, c, start, end| {
            let c = first_chunk + c;
            let mut part = [0.0; 4];
            acc.incomplete.clear();
            let mut b0 = start;
            while b0 < end {
                let b1 = (b0 + br).min(end);
                let work = &mut acc.estep;
                work.load(data, b0, b1, policy);
                work.set_aside();
                work.run(&prepared, data, b0, policy);
                let (mut entropy, mut ln_top) = (
                    AlignedArray::<BLOCK>::default(),
                    AlignedArray::<BLOCK>::default(),
                );
                kernel::classification(
                    &work.lp,
                    prepared.columns(),
                    &mut entropy[..],
                    &mut ln_top[..],
                );
                for i in 0..b1 - b0 {
                    let (w, log_norm) = (work.ew[i], work.log_norm[i]);
                    add_row(&mut part, w, log_norm, entropy[i], ln_top[i]);
                }
                for &i in &work.incomplete {
                    acc.incomplete.push(data, b0 + i);
                }
                b0 = b1;
            }
            // Rows with missing entries, integrated out.
            if let (false, Some(pr)) = (acc.incomplete.is_empty(), &precisions) {
                acc.incomplete
                    .run(&prepared, pr, data, policy, None, |_, w, log_norm, r| {
                        let (entropy, ln_top) = kernel::classification_row(r);
                        add_row(&mut part, w, log_norm, entropy, ln_top)
                    });
                acc.incomplete.clear();
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
        map_log_posterior: s[3],
    }
}

/// Adds a row of weight `w` to a chunk's score sums: `w ln p(x)`, `w`,
/// `w` times the entropy of its responsibilities, and `w` times the log of
/// the largest ([`kernel::classification`]).
fn add_row(part: &mut [f64; 4], w: f64, log_norm: f64, entropy: f64, ln_top: f64) {
    if w > 0.0 {
        part[0] += w * log_norm;
        part[1] += w;
        part[2] += w * entropy;
        part[3] += w * ln_top;
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
    let precisions = data.missing_values().then(|| Precisions::new(&prepared));
    let k = prepared.columns();
    let br = BLOCK;
    let policy = RowPolicy::Unsupervised;
    // Chunks of blocks, so that rows with missing entries are grouped
    // by pattern over a chunk, as in a fit's pass.
    let cr = DEFAULT_CHUNK_ROWS;
    let run = |start: usize, ln: &mut [f64], mut pr: Option<&mut [f64]>, work: &mut Work| {
        let (estep, incomplete) = (&mut work.0, &mut work.1);
        incomplete.clear();
        let mut b0 = 0;
        while b0 < ln.len() {
            let b1 = (b0 + br).min(ln.len());
            estep.load(data, start + b0, start + b1, policy);
            estep.run(&prepared, data, start + b0, policy);
            ln[b0..b1].copy_from_slice(&estep.log_norm[..b1 - b0]);
            if let Some(pr) = pr.as_deref_mut() {
                for (i, row) in pr[b0 * k..b1 * k].chunks_exact_mut(k).enumerate() {
                    for (j, p) in row.iter_mut().enumerate() {
                        *p = estep.lp[j * BLOCK + i];
                    }
                }
            }
            for &i in &estep.incomplete {
                incomplete.push(data, start + b0 + i);
            }
            b0 = b1;
        }
        // Rows with missing entries, integrated out.
        if let (false, Some(precisions)) = (incomplete.is_empty(), &precisions) {
            incomplete.run(
                &prepared,
                precisions,
                data,
                policy,
                None,
                |i, _, log_norm, r| {
                    ln[i - start] = log_norm;
                    if let Some(pr) = pr.as_deref_mut() {
                        pr[(i - start) * k..(i - start + 1) * k].copy_from_slice(r);
                    }
                },
            );
        }
    };
    type Work = (EStep, Incomplete);
    let fresh = || (EStep::default(), Incomplete::default());
    match proba {
        Some(proba) => log_norm
            .par_chunks_mut(cr)
            .zip(proba.par_chunks_mut(cr * k))
            .enumerate()
            .for_each_init(fresh, |work, (b, (ln, pr))| run(b * cr, ln, Some(pr), work)),
        None => log_norm
            .par_chunks_mut(cr)
            .enumerate()
            .for_each_init(fresh, |work, (b, ln)| run(b * cr, ln, None, work)),
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
