//! The EM driver: restarts advance together, one fused pass over the data per
//! iteration serving all of them, until each converges, reaches `max_iter`,
//! is dropped as degenerate or falls behind in a race. Around the loop: the
//! starts, the degeneracy policy, racing, the exchange between ranks, the
//! prior and the noise.

mod degenerate;
mod exchange;
mod noise;
mod prior;
mod racing;
mod starts;

use std::sync::atomic::Ordering;
use std::time::Instant;

use crate::collective::{self, Collective};
use crate::covariance::CovarianceType;
use crate::data::DataView;
use crate::error::{GmmError, Result};
use crate::estep::RowPolicy;
use crate::model::{aic, bic};
use crate::mstep::{Trouble, m_step_parameters};

/// The range of total weights a fit computes with (see `GmmError::WeightScale`).
const WEIGHT_TOTAL_MIN: f64 = 1e-280;
const WEIGHT_TOTAL_MAX: f64 = 1e280;
use crate::observer::FitObserver;
use crate::params::{FitParams, SemiSupervisedMode, ValidFitParams};
use crate::pass::{EmPassOutput, em_pass};
use crate::predict::score_with;
use crate::prepared::Prepared;
use crate::report::{Ending, Fit, FitReport};
use crate::state::{FitState, RestartSnapshot};
use crate::summary::DataSummary;

use degenerate::{Remedy, Reseeding, degeneracy_error, remedy, reseed};
use exchange::exchange_states;
use racing::race;
use starts::{Stop, starts};

impl ValidFitParams {
    /// Fits the mixture to `data`.
    pub fn fit(&self, data: DataView<'_>, observer: &mut dyn FitObserver) -> Result<Fit> {
        self.fit_with(data, observer, None, None)
    }

    /// Goes on from `state`, saved by an earlier fit of the same settings
    /// and data (handed to [`FitObserver::checkpoint`]), exactly as if that
    /// fit had never stopped.
    pub fn resume(
        &self,
        data: DataView<'_>,
        state: &FitState,
        observer: &mut dyn FitObserver,
    ) -> Result<Fit> {
        if state.restarts.len() != self.0.n_init {
            return Err(GmmError::InvalidParam {
                name: "resume",
                reason: format!(
                    "the saved state has {} restarts but n_init is {}",
                    state.restarts.len(),
                    self.0.n_init
                ),
            });
        }
        self.fit_with(data, observer, None, Some(state))
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
        self.fit_with(data, observer, Some(comm), None)
    }

    fn fit_with(
        &self,
        data: DataView<'_>,
        observer: &mut dyn FitObserver,
        spread: Option<&dyn Collective>,
        resume: Option<&FitState>,
    ) -> Result<Fit> {
        // The budget of `max_seconds` counts from here, starts included.
        let started = Instant::now();
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
                    Some(pt) => {
                        collective::gather(pt.comm, &n_labeled, |&v, w| w.usize(v), |r| r.usize())
                            .into_iter()
                            .sum()
                    }
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
        let mut summary = DataSummary::new(data, policy, p.chunk_rows);
        if summary.n_positive < k || !(summary.total_weight > 0.0) {
            return Err(GmmError::TooFewRows {
                rows: summary.n_positive,
                components: k,
            });
        }
        // Weights near the ends of f64 lose their precision in products
        // (subnormal) or overflow sums: refused rather than fitted wrongly.
        if !(WEIGHT_TOTAL_MIN..=WEIGHT_TOTAL_MAX).contains(&summary.total_weight) {
            return Err(GmmError::WeightScale {
                total: summary.total_weight,
            });
        }
        // Squared distances summed over columns and weighted rows must not
        // overflow (k-means++ potentials, second moments).
        let limit =
            (f64::MAX / (16.0 * data.n_features() as f64 * summary.total_weight.max(1.0))).sqrt();
        if let Some((column, &value)) = summary
            .col_max_abs
            .iter()
            .enumerate()
            .find(|(_, v)| **v > limit)
        {
            return Err(GmmError::ValuesTooLarge { column, value });
        }
        if let Some(column) = summary.observed_weight.iter().position(|w| !(*w > 0.0)) {
            return Err(GmmError::NothingObserved { column });
        }
        // Initializations read a missing entry as its column's mean.
        let fill = summary.col_mean.clone();
        let data = data.with_fill(&fill);
        if p.prior {
            summary.prior = Some(
                prior::data_prior(k, data, policy, p.chunk_rows, &summary).ok_or(
                    GmmError::InvalidParam {
                        name: "prior",
                        reason: "the data's covariance, which sets the prior, is not finite".into(),
                    },
                )?,
            );
        }

        let noise_start = noise::noise_start(p, data, policy, &summary)?;

        // Starting points, or the saved state to go on from.
        let cancel = observer.cancel_flag();
        // Whether to stop here: on Ctrl-C, or when `asked`. Under a
        // partition every rank stops at the same point.
        let stop_now = |asked: bool| {
            let local = asked || cancel.as_ref().is_some_and(|f| f.load(Ordering::Relaxed));
            sync.map_or(local, |c| collective::any(c, local))
        };
        let cancelled = || stop_now(false);
        let (mut states, first_iteration) = match resume {
            Some(state) => (state.restarts.clone(), state.iteration + 1),
            None => (
                starts(
                    self,
                    data,
                    policy,
                    &summary,
                    observer,
                    Stop {
                        cancelled: &cancelled,
                        // Split rows: the initializations' passes stay in step.
                        interrupt: cancel.as_deref().filter(|_| sync.is_none()),
                        deadline: p
                            .max_seconds
                            .filter(|_| sync.is_none())
                            .and_then(|s| std::time::Duration::try_from_secs_f64(s).ok())
                            .and_then(|d| started.checked_add(d)),
                    },
                    spread,
                )
                .map(|s| noise::with_noise(s, noise_start.as_ref(), data, policy, &summary, p))?,
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
                .map(|&i| Prepared::new(&states[i].model))
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
            // Out of time: the restarts still running stop here, together
            // on every rank.
            if let Some(budget) = p.max_seconds {
                let local = started.elapsed().as_secs_f64() >= budget;
                if sync.map_or(local, |c| collective::any(c, local)) {
                    for s in states.iter_mut().filter(|s| !s.done) {
                        s.done = true;
                        s.report.ending = Ending::TimeLimit;
                        observer.restart_finished(&s.report);
                    }
                    break;
                }
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
            icl_mclust: -bic(score.total, score.weight, n_parameters)
                + 2.0 * score.map_log_posterior,
            restarts: states.into_iter().map(|s| s.report).collect(),
        };
        Ok(Fit { model, report })
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
    let trouble = |component: usize, t: Trouble| degeneracy_error(component, t, restart, iteration);
    let mstep = out.stats.as_ref().map(|stats| {
        m_step_parameters(
            &prep.means,
            stats,
            p.covariance_type,
            p.reg_covar,
            summary.n_eps(),
            Some(state.model.covariances()),
            summary.prior.as_ref(),
        )
    });
    let failing = match &mstep {
        Some(m) => m.failing(p.reg_covar),
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
        // A tied covariance is every component's: its failure (not an
        // empty component) is all of theirs.
        let shared_failed = p.covariance_type == CovarianceType::Tied
            && failing.iter().any(|f| f.1 == Trouble::NotPositiveDefinite);
        let all_failed = distinct.len() >= prep.k || shared_failed;
        let hopeless = state.report.reseeded_components > 0 && all_failed;
        let reseeding = match &mstep {
            None => Reseeding::Impossible,
            Some(_) if hopeless => Reseeding::Futile,
            Some(_) => Reseeding::Possible,
        };
        match remedy(p.on_degenerate, reseeding, trouble(component, kind)) {
            Remedy::Fail(e) => return Err(e),
            Remedy::Drop(note) => {
                state.done = true;
                state.report.ending = Ending::Dropped;
                state.report.note = Some(note);
                return Ok(());
            }
            // A re-seed at the last iteration would publish a start, not a
            // fit: the restart ends as re-seeding that cannot help does.
            Remedy::Reseed if iteration == p.max_iter => {
                let note = format!(
                    "{}; it was to be re-seeded at the last iteration (max_iter = {}), which would leave a start rather than a fit: raise max_iter or reg_covar",
                    trouble(component, kind),
                    p.max_iter
                );
                state.done = true;
                state.report.ending = Ending::Dropped;
                state.report.note = Some(note);
                return Ok(());
            }
            Remedy::Reseed => {
                let m = mstep.expect("re-seeding starts from the M-step");
                state.report.regularizations += m.regularized;
                state.model = reseed(m, &bad, &out.worst_rows, summary, p.reg_covar)
                    .map_err(|c| trouble(c, Trouble::NotPositiveDefinite))?;
                state.report.reseeded_components += bad.len();
                reseeded = true;
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
    noise::after_m_step(state, prep, &out, summary.n_eps(), p.on_degenerate)
}
