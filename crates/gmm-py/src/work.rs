//! Work off the GIL: the work runs on a thread of its own
//! (in a pool of `n_threads`) while the calling thread waits with the GIL
//! released, wakes every 50 ms to print progress (through Python's
//! `sys.stderr`, so notebooks show it) and to check for Ctrl-C, which
//! raises the engine's stop flag: a fit then ends within a chunk's worth
//! of rows (or a Lloyd iteration) and `KeyboardInterrupt` is raised.
//! Predictions and scores, single passes, finish their pass first.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, Sender, channel};
use std::time::Duration;

use gmm_core::{Ending, FitObserver, RestartReport};
use gmm_io::load::LoadObserver;
use pyo3::prelude::*;

use crate::errors;

/// What the work tells the waiting thread, and the flag that stops it.
pub struct Progress {
    verbose: u8,
    interval: usize,
    lines: Sender<String>,
    stop: Arc<AtomicBool>,
}

impl Progress {
    fn say(&self, line: String) {
        let _ = self.lines.send(line);
    }
}

impl FitObserver for Progress {
    fn restart_initialized(&mut self, restart: usize, description: &str) {
        if self.verbose >= 1 {
            self.say(format!("restart {}: started ({description})", restart + 1));
        }
    }
    fn iteration(&mut self, restart: usize, iteration: usize, mean_objective: f64) {
        if self.verbose >= 2 && iteration.is_multiple_of(self.interval.max(1)) {
            self.say(format!(
                "restart {} iteration {iteration}: mean log-likelihood {mean_objective:.8}",
                restart + 1
            ));
        }
    }
    fn restart_finished(&mut self, r: &RestartReport) {
        if self.verbose >= 1 {
            let ending = match r.ending {
                Ending::Converged => "converged",
                Ending::MaxIter => "reached max_iter",
                Ending::Dropped => "dropped (a degenerate component)",
                Ending::Raced => "stopped by racing",
                Ending::TimeLimit => "stopped at max_seconds",
                Ending::Running => "running",
            };
            self.say(format!(
                "restart {}: {ending} after {} iterations, lower bound {:.8}",
                r.restart + 1,
                r.n_iter,
                r.lower_bound
            ));
        }
    }
    fn should_stop(&mut self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
    fn cancel_flag(&self) -> Option<Arc<AtomicBool>> {
        Some(self.stop.clone())
    }
}

impl LoadObserver for Progress {
    fn cache_building(
        &mut self,
        path: &std::path::Path,
        why: &str,
        _source: &gmm_io::TableSource,
        _total_rows: Option<usize>,
    ) {
        if self.verbose >= 1 {
            self.say(format!("building the cache {} ({why})", path.display()));
        }
    }
    fn should_stop(&mut self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
    fn stop_flag(&self) -> Option<Arc<AtomicBool>> {
        Some(self.stop.clone())
    }
}

/// Runs `job` on a thread pool of `n_threads` (all cores: `None`) with the
/// GIL released, printing its progress and raising `KeyboardInterrupt` on
/// Ctrl-C (after the job has stopped: nothing is left running).
pub fn detached<T: Send>(
    py: Python<'_>,
    n_threads: Option<usize>,
    verbose: u8,
    interval: usize,
    job: impl FnOnce(&mut Progress) -> T + Send,
) -> PyResult<T> {
    let pool = pool(n_threads)?;
    let (tx, rx) = channel();
    let stop = Arc::new(AtomicBool::new(false));
    let mut progress = Progress {
        verbose,
        interval,
        lines: tx,
        stop: stop.clone(),
    };
    std::thread::scope(|s| {
        let worker = s.spawn(move || pool.install(|| job(&mut progress)));
        // The first of: Ctrl-C, or a failure to print (a KeyboardInterrupt
        // raised inside `sys.stderr.write`, or no `sys.stderr`). Either
        // stops the work; the loop then waits for it, GIL released.
        let mut signal: Option<PyErr> = None;
        let mut rx = Some(rx);
        loop {
            // Wakes at once when the work ends (its `Progress`, the only
            // sender, is dropped), or with a line, or after 50 ms.
            let (got, back) = py.detach(|| {
                let rx = rx.take().expect("the receiver is put back");
                (rx.recv_timeout(Duration::from_millis(50)), rx)
            });
            rx = Some(back);
            let result = match got {
                Ok(line) if signal.is_none() => print_lines(py, std::iter::once(line)),
                Ok(_) | Err(RecvTimeoutError::Timeout) => Ok(()),
                Err(RecvTimeoutError::Disconnected) => break,
            };
            if signal.is_none()
                && let Err(e) = result.and_then(|()| py.check_signals())
            {
                stop.store(true, Ordering::Relaxed);
                signal = Some(e);
            }
        }
        let out = worker
            .join()
            .map_err(|_| errors::value("the engine stopped unexpectedly (a panic)"))?;
        match signal {
            Some(e) => Err(e),
            None => Ok(out),
        }
    })
}

/// A pool of `n` threads, or of one per core.
pub fn pool(n_threads: Option<usize>) -> PyResult<rayon::ThreadPool> {
    if n_threads == Some(0) || n_threads.is_some_and(|n| n > 4096) {
        return Err(errors::value(format!(
            "n_threads must be between 1 and 4096 (or None for one per core), not {}",
            n_threads.unwrap_or(0)
        )));
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(n_threads.unwrap_or(0))
        .build()
        .map_err(|e| errors::value(format!("cannot start {n_threads:?} threads: {e}")))
}

fn print_lines(py: Python<'_>, lines: impl Iterator<Item = String>) -> PyResult<()> {
    let stderr = py.import("sys")?.getattr("stderr")?;
    for line in lines {
        stderr.call_method1("write", (line + "\n",))?;
    }
    stderr.call_method0("flush")?;
    Ok(())
}
