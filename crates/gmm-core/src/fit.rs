//! The EM driver: restarts advance together, one fused pass over the data per
//! iteration serving all of them, until each converges or reaches `max_iter`.

use serde::{Deserialize, Serialize};

use crate::data::DataView;
use crate::error::{GmmError, Result};
use crate::estep::Prepared;
use crate::init::{InitContext, initialize, warm_start};
use crate::model::{GaussianMixture, aic, bic};
use crate::mstep::m_step;
use crate::params::{SemiSupervisedMode, ValidFitParams};
use crate::pass::{DataSummary, RowPolicy, em_pass, score_with};

/// Receives progress while a fit runs; every method has a do-nothing default.
pub trait FitObserver {
    /// A restart has its starting parameters.
    fn restart_initialized(&mut self, _restart: usize, _description: &str) {}
    /// One EM iteration of a restart: the mean objective per row of the
    /// parameters before this iteration's M-step.
    fn iteration(&mut self, _restart: usize, _iteration: usize, _mean_objective: f64) {}
    /// A restart has converged or reached `max_iter`.
    fn restart_finished(&mut self, _report: &RestartReport) {}
    /// Asked between iterations; `true` stops the fit with [`GmmError::Interrupted`].
    fn should_stop(&mut self) -> bool {
        false
    }
}

/// An observer that ignores everything.
pub struct Silent;

impl FitObserver for Silent {}

/// What happened in one restart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestartReport {
    pub restart: usize,
    /// How the restart started (the initialization and its details).
    pub init: String,
    /// Mean objective per row at every iteration (the log-likelihood per row
    /// for unsupervised fits).
    pub trace: Vec<f64>,
    pub n_iter: usize,
    pub converged: bool,
    /// The last value of the trace (scikit-learn's `lower_bound_`).
    pub lower_bound: f64,
}

/// A fitted mixture and how it was found.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    pub model: GaussianMixture,
    pub report: FitReport,
}

/// Summary of a fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitReport {
    /// The restart whose final objective was highest.
    pub best_restart: usize,
    pub restarts: Vec<RestartReport>,
    /// Of the best restart.
    pub n_iter: usize,
    pub converged: bool,
    pub lower_bound: f64,
    /// Weighted mean of `ln p(x)` of the returned model over the rows it was
    /// fitted on (for semi-supervised `init` fits, the unlabeled rows).
    pub mean_log_likelihood: f64,
    /// Total weight (the row count when unweighted) of those rows.
    pub n_rows: f64,
    pub n_parameters: usize,
    pub bic: f64,
    pub aic: f64,
}

impl ValidFitParams {
    /// Fits the mixture to `data`.
    pub fn fit(&self, data: DataView<'_>, observer: &mut dyn FitObserver) -> Result<Fit> {
        let p = &self.0;
        data.validate()?;
        let k = p.n_components;
        if let Some(m) = &p.init_model
            && m.n_features() != data.n_features()
        {
            return Err(GmmError::DimensionMismatch {
                expected: m.n_features(),
                got: data.n_features(),
            });
        }
        let policy = match p.semi_supervised {
            None => RowPolicy::Unsupervised,
            Some(s) => {
                if data.n_labeled() == 0 {
                    return Err(GmmError::NoLabeledRows);
                }
                if data.n_classes() > k {
                    return Err(GmmError::TooFewComponents {
                        components: k,
                        n_classes: data.n_classes(),
                    });
                }
                // Every class needs a labeled row with weight to start from.
                let mut seen = vec![false; data.n_classes()];
                for i in 0..data.n_rows() {
                    if let Some(c) = data.label(i)
                        && data.weight(i) > 0.0
                    {
                        seen[c as usize] = true;
                    }
                }
                if let Some(class) = seen.iter().position(|s| !s) {
                    return Err(GmmError::EmptyClass { class });
                }
                match s.mode {
                    SemiSupervisedMode::Em => RowPolicy::Clamped {
                        unlabeled_weight: s.unlabeled_weight,
                    },
                    SemiSupervisedMode::Init => RowPolicy::UnlabeledOnly,
                }
            }
        };
        let summary = DataSummary::new(data, policy, p.chunk_rows);
        if summary.n_positive < k || !(summary.total_weight > 0.0) {
            return Err(GmmError::TooFewRows {
                rows: summary.n_positive,
                components: k,
            });
        }

        // Starting points.
        let method = self.init_method();
        let ctx = InitContext {
            data,
            policy,
            summary: &summary,
            params: p,
        };
        let mut states = Vec::with_capacity(p.n_init);
        for restart in 0..p.n_init {
            let start = match (&p.init_model, restart) {
                (Some(m), 0) => {
                    warm_start(m, p).map(|model| (model, "warm start from a model".to_string()))
                }
                _ => initialize(&ctx, method, restart).map(|s| (s.model, s.description)),
            };
            let (model, description) = start.map_err(|component| GmmError::Degenerate {
                component,
                restart,
                iteration: 0,
            })?;
            observer.restart_initialized(restart, &description);
            states.push(RestartState {
                model,
                report: RestartReport {
                    restart,
                    init: description,
                    trace: Vec::new(),
                    n_iter: 0,
                    converged: false,
                    lower_bound: f64::NEG_INFINITY,
                },
                done: p.max_iter == 0,
            });
        }

        // EM, all restarts in lockstep.
        for iteration in 1..=p.max_iter {
            let active: Vec<usize> = (0..states.len()).filter(|&i| !states[i].done).collect();
            if active.is_empty() {
                break;
            }
            if observer.should_stop() {
                return Err(GmmError::Interrupted);
            }
            let prepared: Vec<Prepared> = active
                .iter()
                .map(|&i| Prepared::with_center(&states[i].model, &summary.col_mean))
                .collect();
            let outputs = em_pass(&prepared, data, policy, p.chunk_rows, &summary);
            for ((&i, out), prep) in active.iter().zip(outputs).zip(&prepared) {
                let state = &mut states[i];
                let restart = state.report.restart;
                let degenerate = |component| GmmError::Degenerate {
                    component,
                    restart,
                    iteration,
                };
                let stats = out.stats.ok_or_else(|| degenerate(0))?;
                let mean = out.objective / summary.total_weight;
                let previous = state.report.lower_bound;
                state.report.trace.push(mean);
                state.report.lower_bound = mean;
                state.report.n_iter = iteration;
                state.model = m_step(&prep.means, &stats, p.covariance_type, p.reg_covar)
                    .map_err(degenerate)?;
                observer.iteration(restart, iteration, mean);
                if (mean - previous).abs() < p.tol {
                    state.report.converged = true;
                    state.done = true;
                } else if iteration == p.max_iter {
                    state.done = true;
                }
                if state.done {
                    observer.restart_finished(&state.report);
                }
            }
        }
        if p.max_iter == 0 {
            for s in &states {
                observer.restart_finished(&s.report);
            }
        }

        // The best restart by final objective; the first of equals wins.
        // Restarts at the same optimum differ by rounding only, so values
        // within 1e-12 relative count as equal: the choice then does not
        // depend on chunking or on weights versus repeated rows.
        let top = states
            .iter()
            .map(|s| s.report.lower_bound)
            .fold(f64::NEG_INFINITY, f64::max);
        let slack = 1e-12 * top.abs().max(1.0);
        let best = states
            .iter()
            .position(|s| s.report.lower_bound >= top - slack)
            .unwrap_or(0);
        let model = states[best].model.clone();
        let score = score_with(&model, data, policy.scoring(), p.chunk_rows);
        let n_parameters = model.n_parameters();
        let best_report = &states[best].report;
        let report = FitReport {
            best_restart: best,
            n_iter: best_report.n_iter,
            converged: best_report.converged,
            lower_bound: best_report.lower_bound,
            mean_log_likelihood: score.mean(),
            n_rows: score.weight,
            n_parameters,
            bic: bic(score.total, score.weight, n_parameters),
            aic: aic(score.total, n_parameters),
            restarts: states.into_iter().map(|s| s.report).collect(),
        };
        Ok(Fit { model, report })
    }
}

struct RestartState {
    model: GaussianMixture,
    report: RestartReport,
    done: bool,
}
