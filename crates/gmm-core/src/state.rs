//! The state of a fit between iterations: every restart's parameters and
//! report, enough to go on exactly as if never stopped. Checkpoints save it;
//! ranks that share restarts exchange it.

use crate::model::GaussianMixture;
use crate::report::RestartReport;

/// One restart's state between iterations.
#[derive(Debug, Clone, PartialEq)]
pub struct RestartSnapshot {
    pub model: GaussianMixture,
    pub report: RestartReport,
    pub done: bool,
}

/// The state of a fit after `iteration` completed iterations: enough to go
/// on exactly as if never stopped ([`crate::ValidFitParams::resume`]).
#[derive(Debug, Clone, PartialEq)]
pub struct FitState {
    pub iteration: usize,
    pub restarts: Vec<RestartSnapshot>,
}
