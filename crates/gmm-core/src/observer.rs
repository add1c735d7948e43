//! The seam between a running fit and its caller: progress, cancellation
//! and checkpoints stay out of the engine.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize};

use crate::report::RestartReport;
use crate::state::FitState;

/// How far the initialization of the restart being started has got,
/// advanced by the initialization itself, so that a front end can read it
/// from another thread (a progress display, a heartbeat in a log) while a
/// long initialization runs between two observer calls.
#[derive(Debug, Default)]
pub struct InitProgress {
    /// Lloyd iterations done by the restart being started (k-means
    /// starts); reset when the next restart begins.
    pub iterations: AtomicUsize,
}

/// Receives progress while a fit runs; every method has a do-nothing default.
pub trait FitObserver {
    /// A restart's initialization begins (restarts start one after another).
    fn restart_initializing(&mut self, _restart: usize) {}
    /// Where the initializations report how far they have got.
    fn init_progress(&self) -> Option<Arc<InitProgress>> {
        None
    }
    /// A restart has its starting parameters.
    fn restart_initialized(&mut self, _restart: usize, _description: &str) {}
    /// One EM iteration of a restart: the mean objective per row of the
    /// parameters before this iteration's M-step.
    fn iteration(&mut self, _restart: usize, _iteration: usize, _mean_objective: f64) {}
    /// A restart has converged, reached `max_iter`, or stopped.
    fn restart_finished(&mut self, _report: &RestartReport) {}
    /// Asked between iterations; `true` stops the fit with [`crate::GmmError::Interrupted`].
    fn should_stop(&mut self) -> bool {
        false
    }
    /// A flag the passes check between chunks: raising it (from a signal
    /// handler, say) stops the fit within a chunk's worth of work.
    fn cancel_flag(&self) -> Option<Arc<AtomicBool>> {
        None
    }
    /// The whole state every `checkpoint_every` iterations, to save and
    /// resume from.
    fn checkpoint(&mut self, _state: &FitState) {}
}

/// An observer that ignores everything.
pub struct Silent;

impl FitObserver for Silent {}
