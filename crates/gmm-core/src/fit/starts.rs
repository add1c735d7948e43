//! The starting point of every restart: its initialization, with the
//! degeneracy policy applied to starts that fail, announced to the observer
//! in restart order (a resumed fit starts from its saved state instead).
//! When ranks share the restarts, each starts its own and all exchange them.

use std::sync::atomic::AtomicBool;

use crate::collective::Collective;
use crate::data::DataView;
use crate::error::{GmmError, Result};
use crate::estep::RowPolicy;
use crate::fit::degenerate::{Remedy, Reseeding, remedy};
use crate::fit::exchange::exchange_starts;
use crate::init::rows::InitRows;
use crate::init::{InitContext, broad_start, initialize, warm_start};
use crate::observer::FitObserver;
use crate::params::ValidFitParams;
use crate::report::{Ending, RestartReport};
use crate::state::RestartSnapshot;
use crate::summary::DataSummary;

/// How starting is stopped on Ctrl-C.
pub(super) struct Stop<'a> {
    /// Asked between restarts (under a partition, by every rank together).
    pub cancelled: &'a dyn Fn() -> bool,
    /// Checked within iterative initializations; `None` under a partition.
    pub interrupt: Option<&'a AtomicBool>,
    /// When `max_seconds` runs out; `None` under a partition.
    pub deadline: Option<std::time::Instant>,
}

/// The starting point of every restart.
pub(super) fn starts(
    params: &ValidFitParams,
    data: DataView<'_>,
    policy: RowPolicy,
    summary: &DataSummary,
    observer: &mut dyn FitObserver,
    stop: Stop<'_>,
    spread: Option<&dyn Collective>,
) -> Result<Vec<RestartSnapshot>> {
    let Stop {
        cancelled,
        interrupt,
        deadline,
    } = stop;
    let p = params.params();
    let method = params.init_method();
    let rows = InitRows::new(data, policy, p);
    let progress = observer.init_progress();
    let ctx = InitContext {
        data: rows.view(data),
        policy,
        summary,
        params: p,
        interrupt,
        deadline,
        progress: progress.as_deref(),
    };
    // The observer hears of each restart before its initialization runs.
    let begin = |restart: usize, observer: &mut dyn FitObserver| {
        if let Some(p) = &progress {
            p.iterations.store(0, std::sync::atomic::Ordering::Relaxed);
        }
        observer.restart_initializing(restart);
    };
    let start_of = |restart: usize| -> Result<RestartSnapshot> {
        let warm = p.init_model.is_some() && restart == 0;
        let start = match (&p.init_model, restart) {
            (Some(m), 0) => {
                warm_start(m, p).map(|model| (model, "warm start from a model".to_string()))
            }
            _ => initialize(&ctx, method, restart).map(|s| (s.model, s.description)),
        };
        let mut note = None;
        let mut reseeded = 0;
        let (model, description) = match start {
            Ok(s) => s,
            Err(component) => {
                let err = GmmError::Degenerate {
                    component,
                    restart,
                    iteration: 0,
                };
                match remedy(p.on_degenerate, Reseeding::Possible, err) {
                    Remedy::Fail(err) => return Err(err),
                    Remedy::Reseed => {
                        reseeded = 1;
                        (
                            broad_start(&ctx, restart),
                            "broad start (the initialization degenerated)".to_string(),
                        )
                    }
                    Remedy::Drop(why) => {
                        note = Some(why);
                        (
                            broad_start(&ctx, restart),
                            "dropped at initialization".to_string(),
                        )
                    }
                }
            }
        };
        Ok(RestartSnapshot {
            model,
            report: RestartReport {
                restart,
                init: description,
                trace: Vec::new(),
                n_iter: 0,
                converged: false,
                lower_bound: match p.init_model_lower_bound {
                    Some(b) if warm && reseeded == 0 && note.is_none() => b,
                    _ => f64::NEG_INFINITY,
                },
                ending: if note.is_some() {
                    Ending::Dropped
                } else {
                    Ending::Running
                },
                regularizations: 0,
                reseeded_components: reseeded,
                note: note.clone(),
            },
            done: note.is_some(),
        })
    };
    let announce = |state: &RestartSnapshot, observer: &mut dyn FitObserver| {
        observer.restart_initialized(state.report.restart, &state.report.init);
        if state.done {
            observer.restart_finished(&state.report);
        }
    };
    let mut states = Vec::with_capacity(p.n_init);
    let Some(comm) = spread else {
        for restart in 0..p.n_init {
            if cancelled() {
                return Err(GmmError::Interrupted);
            }
            begin(restart, observer);
            let state = start_of(restart)?;
            announce(&state, observer);
            states.push(state);
        }
        return Ok(states);
    };
    // Each rank starts its own restarts (none after a failure: the fit
    // ends with the first failure in restart order, whoever found it),
    // then all exchange them.
    let mut starts: Vec<Option<Result<RestartSnapshot>>> = Vec::with_capacity(p.n_init);
    let mut failed = false;
    for restart in 0..p.n_init {
        if cancelled() {
            return Err(GmmError::Interrupted);
        }
        let owned = restart % comm.size() == comm.rank();
        if owned && !failed {
            begin(restart, observer);
        }
        starts.push((owned && !failed).then(|| start_of(restart)));
        failed |= matches!(starts.last(), Some(Some(Err(_))));
    }
    exchange_starts(comm, &mut starts);
    for start in starts {
        let state = start.expect("every restart up to the first failure has a start")?;
        announce(&state, observer);
        states.push(state);
    }
    Ok(states)
}
