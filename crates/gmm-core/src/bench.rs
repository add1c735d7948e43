//! Entry points for benchmarks: one EM iteration (the fused E+M pass and
//! the M-step) without the set-up a fit does around it. Not a stable API.

use crate::data::DataView;
use crate::estep::RowPolicy;
use crate::model::GaussianMixture;
use crate::mstep::m_step;
use crate::pass::em_pass;
use crate::prepared::Prepared;
use crate::summary::DataSummary;

/// Data and models prepared for timing single EM iterations.
pub struct Iteration<'a> {
    data: DataView<'a>,
    summary: DataSummary,
    chunk_rows: usize,
}

impl<'a> Iteration<'a> {
    pub fn new(data: DataView<'a>, chunk_rows: usize) -> Self {
        let summary = DataSummary::new(data, RowPolicy::Unsupervised, chunk_rows);
        Iteration {
            data,
            summary,
            chunk_rows,
        }
    }

    /// One iteration for each model (restarts advance together through one
    /// pass); returns the next models and the mean log-likelihoods.
    pub fn run(
        &self,
        models: &[GaussianMixture],
        reg_covar: f64,
    ) -> (Vec<GaussianMixture>, Vec<f64>) {
        let prepared: Vec<Prepared> = models.iter().map(Prepared::new).collect();
        let out = em_pass(
            &prepared,
            self.data,
            RowPolicy::Unsupervised,
            self.chunk_rows,
            &self.summary,
            None,
        );
        let mut next = Vec::with_capacity(models.len());
        let mut ll = Vec::with_capacity(models.len());
        for ((o, p), m) in out.into_iter().zip(&prepared).zip(models) {
            ll.push(o.objective / self.summary.total_weight);
            let stats = o.stats.expect("finite statistics");
            next.push(
                m_step(
                    &p.means,
                    &stats,
                    m.covariance_type(),
                    reg_covar,
                    self.summary.n_eps(),
                    self.summary.prior.as_ref(),
                )
                .unwrap_or_else(|_| m.clone()),
            );
        }
        (next, ll)
    }
}
