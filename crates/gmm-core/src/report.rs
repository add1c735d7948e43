//! What a fit reports: how each restart went, and the fitted mixture with
//! its summary.

use serde::{Deserialize, Serialize};

use crate::model::GaussianMixture;

/// How a restart ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ending {
    /// Still running (in checkpoints).
    Running,
    Converged,
    /// Reached `max_iter`.
    MaxIter,
    /// A component degenerated and the policy was `drop-restart`.
    Dropped,
    /// Stopped by racing: clearly behind the leader.
    Raced,
    /// Still running when the fit's `max_seconds` ran out.
    TimeLimit,
}

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
    pub ending: Ending,
    /// Component-iterations whose covariance was positive definite only
    /// thanks to `reg_covar`.
    pub regularizations: usize,
    /// Components re-initialized after degenerating (policy `reseed`).
    pub reseeded_components: usize,
    /// Why the restart was dropped, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
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
    /// Integrated completed likelihood: BIC plus twice the weighted
    /// classification entropy of the fitted rows (lower is better).
    pub icl: f64,
    /// ICL as mclust's `icl()` computes it, in its sign (higher is
    /// better): `2 log L - p ln n + 2 sum_i ln max_k r_ik`, each row
    /// classified to its most probable component.
    /// (NaN when read back from a report written before it existed.)
    #[serde(default = "not_recorded")]
    pub icl_mclust: f64,
}

/// A figure a report read back does not hold.
fn not_recorded() -> f64 {
    f64::NAN
}
