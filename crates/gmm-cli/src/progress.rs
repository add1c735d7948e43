//! Progress on standard error: an indicatif display when standard error is a
//! terminal (and not `--quiet`), one log line per iteration with `--verbose`.

use std::io::IsTerminal;
use std::time::Instant;

use gmm_core::{FitObserver, RestartReport};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How much to say while working.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verbosity {
    pub quiet: bool,
    pub verbose: bool,
}

impl Verbosity {
    fn show_bar(self) -> bool {
        !self.quiet && std::io::stderr().is_terminal()
    }
}

/// A spinner for a phase (loading, writing) that clears itself when done.
pub fn spinner(v: Verbosity, message: &str) -> ProgressBar {
    let bar = if v.show_bar() {
        ProgressBar::new_spinner()
    } else {
        ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden())
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").expect("valid template"),
    );
    bar.set_message(message.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// Reports EM progress: restarts, iterations, log-likelihood, rows per second.
pub struct FitProgress {
    bar: ProgressBar,
    verbosity: Verbosity,
    n_init: usize,
    rows: usize,
    started: Instant,
    passes: usize,
    last_iteration: usize,
    best: f64,
    finished: usize,
    interrupted: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

impl FitProgress {
    pub fn new(verbosity: Verbosity, n_init: usize, max_iter: usize, rows: usize) -> Self {
        let bar = if verbosity.show_bar() {
            ProgressBar::new(max_iter as u64)
        } else {
            ProgressBar::with_draw_target(Some(max_iter as u64), ProgressDrawTarget::hidden())
        };
        bar.set_style(
            ProgressStyle::with_template("{bar:30} iteration {pos}/{len} {msg} [{elapsed}]")
                .expect("valid template"),
        );
        FitProgress {
            bar,
            verbosity,
            n_init,
            rows,
            started: Instant::now(),
            passes: 0,
            last_iteration: 0,
            best: f64::NEG_INFINITY,
            finished: 0,
            interrupted: None,
        }
    }

    /// Stops the fit when the flag is raised (by a signal handler).
    pub fn with_interrupt(mut self, flag: std::sync::Arc<std::sync::atomic::AtomicBool>) -> Self {
        self.interrupted = Some(flag);
        self
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl FitObserver for FitProgress {
    fn restart_initialized(&mut self, restart: usize, description: &str) {
        if self.verbosity.verbose {
            self.bar
                .suspend(|| eprintln!("restart {restart}: initialized by {description}"));
        }
    }

    fn iteration(&mut self, restart: usize, iteration: usize, mean: f64) {
        if iteration != self.last_iteration {
            self.last_iteration = iteration;
            self.passes += 1;
        }
        self.best = self.best.max(mean);
        if self.verbosity.verbose {
            self.bar.suspend(|| {
                eprintln!("restart {restart} iteration {iteration}: mean log-likelihood {mean:.10}")
            });
        }
        let secs = self.started.elapsed().as_secs_f64().max(1e-9);
        let rows_per_sec = (self.passes * self.rows) as f64 / secs;
        self.bar.set_position(iteration as u64);
        self.bar.set_message(format!(
            "restarts done {}/{} best {:.6} {:.2e} rows/s",
            self.finished, self.n_init, self.best, rows_per_sec
        ));
    }

    fn restart_finished(&mut self, report: &RestartReport) {
        self.finished += 1;
        if self.verbosity.verbose {
            self.bar.suspend(|| {
                eprintln!(
                    "restart {}: {} after {} iterations, mean log-likelihood {:.10}",
                    report.restart,
                    if report.converged {
                        "converged"
                    } else {
                        "stopped"
                    },
                    report.n_iter,
                    report.lower_bound
                )
            });
        }
    }

    fn should_stop(&mut self) -> bool {
        self.interrupted
            .as_ref()
            .is_some_and(|f| f.load(std::sync::atomic::Ordering::Relaxed))
    }
}
