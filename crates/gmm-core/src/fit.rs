//! The EM driver: restarts advance together, one fused pass over the data per
//! iteration serving all of them, until each converges, reaches `max_iter`,
//! is dropped as degenerate or falls behind in a race.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::collective::{self, Collective};
use crate::covariance::{CovarianceType, Covariances};
use crate::data::{DataView, Dataset};
use crate::error::{GmmError, Result};
use crate::estep::RowPolicy;
use crate::exchange;
use crate::init::{InitContext, broad_start, initialize, warm_start};
use crate::model::{GaussianMixture, aic, bic};
use crate::mstep::{MStep, Trouble, m_step_parameters};
use crate::params::{DegeneratePolicy, FitParams, SemiSupervisedMode, ValidFitParams};
use crate::pass::{EmPassOutput, em_pass};
use crate::predict::score_with;
use crate::prepared::Prepared;
use crate::summary::DataSummary;

/// Receives progress while a fit runs; every method has a do-nothing default.
pub trait FitObserver {
    /// A restart has its starting parameters.
    fn restart_initialized(&mut self, _restart: usize, _description: &str) {}
    /// One EM iteration of a restart: the mean objective per row of the
    /// parameters before this iteration's M-step.
    fn iteration(&mut self, _restart: usize, _iteration: usize, _mean_objective: f64) {}
    /// A restart has converged, reached `max_iter`, or stopped.
    fn restart_finished(&mut self, _report: &RestartReport) {}
    /// Asked between iterations; `true` stops the fit with [`GmmError::Interrupted`].
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

/// One restart's state between iterations.
#[derive(Debug, Clone, PartialEq)]
pub struct RestartSnapshot {
    pub model: GaussianMixture,
    pub report: RestartReport,
    pub done: bool,
}

/// The state of a fit after `iteration` completed iterations: enough to go
/// on exactly as if never stopped ([`FitParams::resume`]).
#[derive(Debug, Clone, PartialEq)]
pub struct FitState {
    pub iteration: usize,
    pub restarts: Vec<RestartSnapshot>,
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
}

impl ValidFitParams {
    /// Fits the mixture to `data`.
    pub fn fit(&self, data: DataView<'_>, observer: &mut dyn FitObserver) -> Result<Fit> {
        self.fit_with(data, observer, None)
    }

    /// Fits the mixture to `data` with the restarts shared among the
    /// processes of `comm`, each of which holds the whole table: restart
    /// `r` runs on rank `r % size` only, and after every iteration the
    /// ranks exchange their restarts' new states, so every rank ends with
    /// the fit one process would return, bit for bit (and reports every
    /// restart to its observer in the same order). Worth it when restarts
    /// are many and the table is small enough to hold on every rank; for
    /// big tables, split the rows instead ([`DataView::with_partition`]).
    pub fn fit_spread_restarts(
        &self,
        data: DataView<'_>,
        comm: &dyn Collective,
        observer: &mut dyn FitObserver,
    ) -> Result<Fit> {
        if data.partition().is_some() {
            return Err(GmmError::InvalidParam {
                name: "data",
                reason: "spreading restarts needs the whole table on every rank, \
                         and this view holds one rank's share of the rows"
                    .into(),
            });
        }
        self.fit_with(data, observer, Some(comm))
    }

    fn fit_with(
        &self,
        data: DataView<'_>,
        observer: &mut dyn FitObserver,
        spread: Option<&dyn Collective>,
    ) -> Result<Fit> {
        let p = &self.0;
        let part = data.partition();
        // The ranks that must stop together, however the work is split.
        let sync = part.map(|pt| pt.comm).or(spread);
        let owns = |restart: usize| spread.is_none_or(|c| restart % c.size() == c.rank());
        if let Some(pt) = part
            && pt.row_offset % p.chunk_rows != 0
        {
            return Err(GmmError::InvalidParam {
                name: "chunk_rows",
                reason: format!(
                    "a rank's rows start at row {}, which is not a multiple of chunk_rows = {}",
                    pt.row_offset, p.chunk_rows
                ),
            });
        }
        // Every rank checks its rows; all stop if one fails.
        let valid = data.validate();
        match part {
            None => valid?,
            Some(pt) => collective::agree(pt.comm, valid)?,
        }
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
                let n_labeled = data.n_labeled();
                let n_labeled = match part {
                    None => n_labeled,
                    Some(pt) => collective::gather(
                        pt.comm,
                        &n_labeled,
                        |&v, o| collective::put_u64(o, v as u64),
                        |r| r.u64() as usize,
                    )
                    .into_iter()
                    .sum(),
                };
                if n_labeled == 0 {
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
                if let Some(pt) = part {
                    for c in 0..seen.len() {
                        seen[c] = collective::any(pt.comm, seen[c]);
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

        // Starting points, or the saved state to go on from.
        let cancel = observer.cancel_flag();
        // Whether to stop here: on Ctrl-C, or when `asked`. Under a
        // partition every rank stops at the same point.
        let stop_now = |asked: bool| {
            let local = asked || cancel.as_ref().is_some_and(|f| f.load(Ordering::Relaxed));
            sync.map_or(local, |c| collective::any(c, local))
        };
        let cancelled = || stop_now(false);
        let (mut states, first_iteration) = match &p.resume {
            Some(state) => (state.restarts.clone(), state.iteration + 1),
            None => (
                self.starts(data, policy, &summary, observer, &cancelled, spread)?,
                1,
            ),
        };

        // EM, all restarts in lockstep.
        for iteration in first_iteration..=p.max_iter {
            let active: Vec<usize> = (0..states.len()).filter(|&i| !states[i].done).collect();
            if active.is_empty() {
                break;
            }
            if stop_now(observer.should_stop()) {
                return Err(GmmError::Interrupted);
            }
            // The restarts this process steps: all, or its share.
            let mine: Vec<usize> = active.iter().copied().filter(|&i| owns(i)).collect();
            let prepared: Vec<Prepared> = mine
                .iter()
                .map(|&i| Prepared::with_center(&states[i].model, &summary.col_mean))
                .collect();
            let outputs = if prepared.is_empty() {
                Vec::new()
            } else {
                em_pass(
                    &prepared,
                    data,
                    policy,
                    p.chunk_rows,
                    &summary,
                    cancel.as_deref(),
                )
            };
            if cancelled() {
                return Err(GmmError::Interrupted);
            }
            // The first restart (in this process's order) whose step failed.
            let mut failed: Option<(usize, GmmError)> = None;
            for ((&i, out), prep) in mine.iter().zip(outputs).zip(&prepared) {
                if let Err(e) = step(&mut states[i], out, prep, iteration, p, &summary) {
                    failed = Some((i, e));
                    break;
                }
            }
            if let Some(comm) = spread {
                failed = exchange_states(comm, &mut states, &mine, failed);
            }
            // Reported in restart order; the first failure ends the fit, as
            // in one process stepping the restarts in order.
            for &i in &active {
                if let Some((f, _)) = &failed
                    && *f == i
                {
                    return Err(failed.expect("just matched").1);
                }
                let state = &states[i];
                observer.iteration(state.report.restart, iteration, state.report.lower_bound);
                if state.done {
                    observer.restart_finished(&state.report);
                }
            }
            if let Some(racing) = &p.racing {
                race(&mut states, iteration, racing, observer);
            }
            if p.checkpoint_every.is_some_and(|n| iteration % n == 0)
                && states.iter().any(|s| !s.done)
            {
                observer.checkpoint(&FitState {
                    iteration,
                    restarts: states.clone(),
                });
            }
        }
        for s in states.iter_mut().filter(|s| !s.done) {
            // max_iter = 0, or a resumed state that had reached max_iter.
            s.done = true;
            s.report.ending = Ending::MaxIter;
            observer.restart_finished(&s.report);
        }

        // The best restart by final objective, among those not dropped; the
        // first of equals wins. Restarts at the same optimum differ by
        // rounding only, so values within 1e-12 relative count as equal: the
        // choice then does not depend on chunking or on weights versus
        // repeated rows.
        let eligible = |s: &RestartSnapshot| s.report.ending != Ending::Dropped;
        if !states.iter().any(eligible) {
            let last = states
                .iter()
                .rev()
                .find_map(|s| s.report.note.clone())
                .unwrap_or_default();
            return Err(GmmError::AllRestartsDropped {
                n_init: states.len(),
                last,
            });
        }
        let top = states
            .iter()
            .filter(|s| eligible(s))
            .map(|s| s.report.lower_bound)
            .fold(f64::NEG_INFINITY, f64::max);
        let slack = 1e-12 * top.abs().max(1.0);
        let best = states
            .iter()
            .position(|s| eligible(s) && s.report.lower_bound >= top - slack)
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
            icl: bic(score.total, score.weight, n_parameters) + 2.0 * score.entropy,
            restarts: states.into_iter().map(|s| s.report).collect(),
        };
        Ok(Fit { model, report })
    }

    /// The starting point of every restart.
    fn starts(
        &self,
        data: DataView<'_>,
        policy: RowPolicy,
        summary: &DataSummary,
        observer: &mut dyn FitObserver,
        cancelled: &dyn Fn() -> bool,
        spread: Option<&dyn Collective>,
    ) -> Result<Vec<RestartSnapshot>> {
        let p = &self.0;
        let method = self.init_method();
        let rows = InitRows::new(data, policy, p);
        let ctx = InitContext {
            data: rows.view(data),
            policy,
            summary,
            params: p,
        };
        let start_of = |restart: usize| -> Result<RestartSnapshot> {
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
                    match p.on_degenerate {
                        DegeneratePolicy::Error => return Err(err),
                        DegeneratePolicy::Reseed => {
                            reseeded = 1;
                            (
                                broad_start(&ctx, restart),
                                "broad start (the initialization degenerated)".to_string(),
                            )
                        }
                        DegeneratePolicy::DropRestart => {
                            note = Some(err.to_string());
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
                    lower_bound: f64::NEG_INFINITY,
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
}

/// One iteration of one restart: record the pass's objective, run the
/// M-step, apply the degeneracy policy, check convergence.
fn step(
    state: &mut RestartSnapshot,
    out: EmPassOutput,
    prep: &Prepared,
    iteration: usize,
    p: &FitParams,
    summary: &DataSummary,
) -> Result<()> {
    let restart = state.report.restart;
    let mean = out.objective / summary.total_weight;
    let previous = state.report.lower_bound;
    state.report.trace.push(mean);
    state.report.lower_bound = mean;
    state.report.n_iter = iteration;
    let trouble = |component: usize, t: Trouble| match t {
        Trouble::NotPositiveDefinite => GmmError::Degenerate {
            component,
            restart,
            iteration,
        },
        Trouble::Empty => GmmError::EmptyComponent {
            component,
            restart,
            iteration,
        },
    };
    let mstep = out
        .stats
        .as_ref()
        .map(|stats| m_step_parameters(&prep.means, stats, p.covariance_type, p.reg_covar));
    let failing = match &mstep {
        Some(m) => m.failing(),
        // Non-finite statistics: the whole restart is broken.
        None => vec![(0, Trouble::NotPositiveDefinite)],
    };
    let mut reseeded = false;
    if failing.is_empty() {
        let m = mstep.expect("statistics");
        state.report.regularizations += m.regularized;
        state.model = m
            .into_model()
            .map_err(|c| trouble(c, Trouble::NotPositiveDefinite))?;
    } else {
        let (component, kind) = failing[0];
        let bad: Vec<usize> = failing.iter().map(|f| f.0).collect();
        let mut distinct = bad.clone();
        distinct.sort_unstable();
        distinct.dedup();
        // Every component degenerate again after a re-seed (collinear
        // columns with reg_covar = 0, say): re-seeding cannot help, and
        // going on would only return a mixture re-seeded every iteration.
        let hopeless = state.report.reseeded_components > 0 && distinct.len() >= prep.k;
        match (p.on_degenerate, mstep) {
            (DegeneratePolicy::Error, _) => return Err(trouble(component, kind)),
            (DegeneratePolicy::Reseed, Some(_)) if hopeless => {
                state.done = true;
                state.report.ending = Ending::Dropped;
                state.report.note = Some(format!(
                    "every component degenerate again after re-seeding: {}",
                    trouble(component, kind)
                ));
                return Ok(());
            }
            (DegeneratePolicy::Reseed, Some(m)) => {
                state.report.regularizations += m.regularized;
                state.model = reseed(m, &bad, &out.worst_rows, summary, p.reg_covar)
                    .map_err(|c| trouble(c, Trouble::NotPositiveDefinite))?;
                state.report.reseeded_components += bad.len();
                reseeded = true;
            }
            (DegeneratePolicy::DropRestart, _) | (DegeneratePolicy::Reseed, None) => {
                state.done = true;
                state.report.ending = Ending::Dropped;
                state.report.note = Some(trouble(component, kind).to_string());
                return Ok(());
            }
        }
    }
    // A re-seeded restart has moved: it has not converged.
    if !reseeded && (mean - previous).abs() < p.tol {
        state.report.converged = true;
        state.report.ending = Ending::Converged;
        state.done = true;
    } else if iteration == p.max_iter {
        state.report.ending = Ending::MaxIter;
        state.done = true;
    }
    Ok(())
}

/// Re-initializes the `bad` components: each starts at one of the rows the
/// mixture explained worst, with the average covariance of the healthy
/// components (or the data's variances if none is healthy) and an equal
/// share of weight.
fn reseed(
    m: MStep,
    bad: &[usize],
    worst_rows: &[Vec<f64>],
    summary: &DataSummary,
    reg_covar: f64,
) -> std::result::Result<GaussianMixture, usize> {
    let k = m.n.len();
    let d = m.means.ncols();
    let good: Vec<usize> = (0..k).filter(|j| !bad.contains(j)).collect();
    let data_cov = || {
        let mut c = Array2::zeros((d, d));
        for j in 0..d {
            c[(j, j)] = summary.col_var[j].max(f64::MIN_POSITIVE.sqrt()) + reg_covar;
        }
        c
    };
    let healthy_average = |covs: &Covariances| {
        let weight: f64 = good.iter().map(|&j| m.n[j]).sum();
        if good.is_empty() || !(weight > 0.0) {
            return data_cov();
        }
        let mut c = Array2::zeros((d, d));
        for &j in &good {
            c.scaled_add(m.n[j] / weight, &covs.dense(j, d));
        }
        c
    };
    let mut means = m.means.clone();
    let mut weights = m.weights.to_vec();
    let mut dense: Vec<Array2<f64>> = (0..k).map(|j| m.covariances.dense(j, d)).collect();
    let average = healthy_average(&m.covariances);
    for (idx, &j) in bad.iter().enumerate() {
        let row = match worst_rows.get(idx) {
            Some(r) => r.clone(),
            None => summary.col_mean.clone(),
        };
        means
            .row_mut(j)
            .assign(&ndarray::ArrayView1::from(&row[..]));
        dense[j] = average.clone();
        weights[j] = 1.0 / k as f64;
    }
    let sum: f64 = weights.iter().sum();
    weights.iter_mut().for_each(|w| *w /= sum);
    let covariances = match m.covariances.covariance_type() {
        // The shared covariance failed: start it over from the data.
        CovarianceType::Tied if bad.contains(&0) => Covariances::Tied(data_cov()),
        t => Covariances::from_dense(t, &dense, &weights),
    };
    GaussianMixture::new(ndarray::Array1::from(weights), means, covariances).map_err(|_| bad[0])
}

/// What became of one restart on one rank: its new state, or the error that
/// ends the fit.
type Outcome<'a> = (
    usize,
    std::result::Result<&'a RestartSnapshot, &'a GmmError>,
);

/// Sends this rank's outcomes to every other rank: the others' outcomes, in
/// rank order.
fn exchange_outcomes(
    comm: &dyn Collective,
    mine: &[Outcome<'_>],
) -> Vec<(usize, Result<RestartSnapshot>)> {
    let mut bytes = Vec::new();
    for (restart, outcome) in mine {
        collective::put_u64(&mut bytes, *restart as u64);
        match outcome {
            Ok(s) => {
                collective::put_u64(&mut bytes, 0);
                exchange::put_snapshot(&mut bytes, s);
            }
            Err(e) => {
                collective::put_u64(&mut bytes, 1);
                exchange::put_error(&mut bytes, e);
            }
        }
    }
    collective::put_u64(&mut bytes, u64::MAX);
    let mut theirs = Vec::new();
    for (rank, b) in comm.all_gather_bytes(&bytes).iter().enumerate() {
        if rank == comm.rank() {
            continue;
        }
        let r = &mut collective::Reader::new(b);
        loop {
            let restart = r.u64();
            if restart == u64::MAX {
                break;
            }
            let outcome = match r.u64() {
                0 => Ok(exchange::get_snapshot(r)),
                _ => Err(exchange::get_error(r, rank)),
            };
            theirs.push((restart as usize, outcome));
        }
    }
    theirs
}

/// Gives every rank the starts the others computed (`None` where this
/// rank computed nothing): after it, `starts` holds every restart's start
/// up to the first failure in restart order.
fn exchange_starts(comm: &dyn Collective, starts: &mut [Option<Result<RestartSnapshot>>]) {
    let mine: Vec<Outcome<'_>> = starts
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.as_ref().map(|s| (i, s.as_ref())))
        .collect();
    for (i, outcome) in exchange_outcomes(comm, &mine) {
        starts[i] = Some(outcome);
    }
}

/// After an iteration split among ranks: every rank gets the new states of
/// the restarts the others stepped (`mine` here), and the failure, if any,
/// of the lowest-numbered restart.
fn exchange_states(
    comm: &dyn Collective,
    states: &mut [RestartSnapshot],
    mine: &[usize],
    failed: Option<(usize, GmmError)>,
) -> Option<(usize, GmmError)> {
    let stepped = mine
        .iter()
        .take_while(|&&i| failed.as_ref().is_none_or(|(f, _)| i < *f))
        .map(|&i| (i, Ok(&states[i])));
    let outcomes: Vec<Outcome<'_>> = stepped
        .chain(failed.as_ref().map(|(f, e)| (*f, Err(e))))
        .collect();
    let theirs = exchange_outcomes(comm, &outcomes);
    let mut first = failed;
    for (i, outcome) in theirs {
        match outcome {
            Ok(state) => states[i] = state,
            Err(e) if first.as_ref().is_none_or(|(f, _)| i < *f) => first = Some((i, e)),
            Err(_) => {}
        }
    }
    first
}

/// Successive halving at iterations `first_round * 2^j`: of the restarts
/// still running, all but the best `keep` fraction stop, unless within
/// `margin` of the leader (the best objective of any restart not dropped).
fn race(
    states: &mut [RestartSnapshot],
    iteration: usize,
    racing: &crate::params::Racing,
    observer: &mut dyn FitObserver,
) {
    let round = iteration / racing.first_round;
    if !iteration.is_multiple_of(racing.first_round) || !round.is_power_of_two() {
        return;
    }
    let mut running: Vec<usize> = (0..states.len()).filter(|&i| !states[i].done).collect();
    if running.len() < 2 {
        return;
    }
    let leader = states
        .iter()
        .filter(|s| s.report.ending != Ending::Dropped)
        .map(|s| s.report.lower_bound)
        .fold(f64::NEG_INFINITY, f64::max);
    running.sort_by(|&a, &b| {
        states[b]
            .report
            .lower_bound
            .total_cmp(&states[a].report.lower_bound)
            .then(a.cmp(&b))
    });
    let keep = ((running.len() as f64 * racing.keep).ceil() as usize).max(1);
    for &i in &running[keep..] {
        let s = &mut states[i];
        if s.report.lower_bound < leader - racing.margin {
            s.done = true;
            s.report.ending = Ending::Raced;
            observer.restart_finished(&s.report);
        }
    }
}

/// The rows initializations read: all rows when the table has at most
/// `init_rows` of them and they are all here; otherwise a uniform sample of
/// about `init_rows` rows (chosen by a hash of the seed and the row's index
/// in the whole table) plus every labeled row, gathered from all ranks in
/// table order. Either way every rank, and a single process, starts from
/// the same rows.
enum InitRows {
    All,
    Gathered(Dataset),
}

impl InitRows {
    fn new(data: DataView<'_>, policy: RowPolicy, p: &FitParams) -> Self {
        let n = data.global_rows();
        let sampled = n > p.init_rows;
        if !sampled && data.partition().is_none() {
            return InitRows::All;
        }
        // Row i is kept when hash(seed, i) / 2^64 < init_rows / n.
        let threshold = if sampled {
            ((p.init_rows as f64 / n as f64) * 2f64.powi(64)) as u64
        } else {
            u64::MAX
        };
        let d = data.n_features();
        let offset = data.row_offset();
        let mut x = Vec::new();
        let mut w = Vec::new();
        let mut l = Vec::new();
        for i in 0..data.n_rows() {
            let labeled = data.label(i).is_some() && policy != RowPolicy::Unsupervised;
            let h = crate::init::row_hash(p.seed, (offset + i) as u64);
            if !sampled || labeled || h < threshold {
                x.extend_from_slice(data.row(i));
                w.push(data.weight(i));
                l.push(data.labels().map_or(crate::data::UNLABELED, |ls| ls[i]));
            }
        }
        if let Some(pt) = data.partition() {
            let all = collective::gather(
                pt.comm,
                &(x, w, l),
                |(x, w, l), o| {
                    collective::put_f64s(o, x);
                    collective::put_f64s(o, w);
                    let l: Vec<f64> = l.iter().map(|&c| f64::from(c)).collect();
                    collective::put_f64s(o, &l);
                },
                |r| {
                    let x = r.f64s();
                    let w = r.f64s();
                    let l: Vec<u32> = r.f64s().into_iter().map(|c| c as u32).collect();
                    (x, w, l)
                },
            );
            (x, w, l) = all.into_iter().fold(
                (Vec::new(), Vec::new(), Vec::new()),
                |(mut x, mut w, mut l), (a, b, c)| {
                    x.extend(a);
                    w.extend(b);
                    l.extend(c);
                    (x, w, l)
                },
            );
        }
        let mut set = Dataset::from_row_major(x, d).expect("whole rows");
        if data.weights().is_some() {
            set = set.with_weights(w).expect("one weight per row");
        }
        if data.labels().is_some() {
            set = set
                .with_labels(l, data.n_classes())
                .expect("one label per row");
        }
        InitRows::Gathered(set)
    }

    fn view<'a>(&'a self, data: DataView<'a>) -> DataView<'a> {
        match self {
            InitRows::All => data,
            InitRows::Gathered(set) => set.view(),
        }
    }
}
