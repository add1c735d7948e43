//! Progress on standard error: an indicatif display when standard error is a
//! terminal (and not `--quiet`), one log line per iteration with `--verbose`.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use gmm_core::{FitObserver, InitProgress, RestartReport};

pub use crate::units::{si, thousands};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How much to say while working.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verbosity {
    pub quiet: bool,
    pub verbose: bool,
}

impl Verbosity {
    pub(crate) fn show_bar(self) -> bool {
        !self.quiet && std::io::stderr().is_terminal()
    }

    /// A log line on standard error with `--verbose`.
    pub fn log(self, message: impl FnOnce() -> String) {
        if self.verbose {
            eprintln!("{}", message());
        }
    }

    /// A line on standard error worth keeping on screen: with `--verbose`,
    /// or where the progress display is on.
    pub fn note(self, message: impl FnOnce() -> String) {
        if self.verbose || self.show_bar() {
            eprintln!("{}", message());
        }
    }
}

/// What the loading spinner says about a table: its row count when the
/// format records it (Parquet), and its file count when several.
pub fn loading_message(input: &str, known_rows: Option<usize>, n_files: usize) -> String {
    let mut parts = Vec::new();
    if let Some(rows) = known_rows {
        parts.push(format!("{} rows", thousands(rows as u64)));
    }
    if n_files > 1 {
        parts.push(format!("{n_files} files"));
    }
    if parts.is_empty() {
        format!("loading {input}")
    } else {
        format!("loading {input} ({})", parts.join(", "))
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
    // The ticker is a thread, and indicatif panics if it cannot start one
    // (a process at its thread or memory limit): a spinner that does not
    // spin is better than a panic. Hidden bars need no ticker.
    if v.show_bar() && can_start_a_thread() {
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
    }
    bar
}

fn can_start_a_thread() -> bool {
    std::thread::Builder::new()
        .spawn(|| {})
        .is_ok_and(|h| h.join().is_ok())
}

/// A bar counting rows towards a known total (sampling, streaming writes).
pub fn rows_bar(v: Verbosity, total: u64, message: &str) -> ProgressBar {
    let bar = if v.show_bar() {
        ProgressBar::new(total)
    } else {
        ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden())
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} {bar:30} {human_pos}/{human_len} rows ({per_sec}) [{elapsed}]",
        )
        .expect("valid template"),
    );
    bar.set_message(message.to_string());
    bar
}

/// Reports EM progress: restarts, iterations, log-likelihood, rows per second
/// of the last pass; the initializations while they run (restart i of n,
/// k-means iteration). To the terminal's display, and to the batch log
/// ([`crate::joblog`]) when standard error is not a terminal.
pub struct FitProgress {
    bar: ProgressBar,
    verbosity: Verbosity,
    n_init: usize,
    max_iter: usize,
    rows: usize,
    /// When the last pass ended (or the initializations, for the first).
    pass_started: Instant,
    /// Seconds of the last pass.
    pass_seconds: Option<f64>,
    last_iteration: usize,
    best: f64,
    finished: usize,
    init: Arc<InitProgress>,
    init_started: Option<Instant>,
    /// The restart being initialized, and whether EM has begun (or the
    /// fit ended): read by the display's ticker, which writes the message
    /// only while it holds the lock and EM has not begun.
    shared: Arc<(AtomicUsize, Mutex<bool>)>,
    interrupted: Option<Arc<AtomicBool>>,
}

impl FitProgress {
    pub fn new(verbosity: Verbosity, n_init: usize, max_iter: usize, rows: usize) -> Self {
        let bar = if verbosity.show_bar() {
            ProgressBar::new(max_iter as u64)
        } else {
            ProgressBar::with_draw_target(Some(max_iter as u64), ProgressDrawTarget::hidden())
        };
        // A spinner while the restarts are initialized, a bar of
        // iterations once EM runs.
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").expect("valid template"),
        );
        bar.set_message("initializing");
        let init = Arc::new(InitProgress::default());
        crate::joblog::watch_init(Some(init.clone()));
        let shared = Arc::new((AtomicUsize::new(0), Mutex::new(false)));
        if verbosity.show_bar() {
            let (bar, init, shared) = (bar.clone(), init.clone(), shared.clone());
            // The display of a long initialization moves on its own; no
            // ticker (a process at its thread limit) is no reason to fail.
            let _ = std::thread::Builder::new()
                .name("gmm-progress".into())
                .spawn(move || {
                    loop {
                        {
                            let em = shared.1.lock().unwrap_or_else(|e| e.into_inner());
                            if *em || bar.is_finished() {
                                break;
                            }
                            let r = shared.0.load(Ordering::Relaxed);
                            let it = init.iterations.load(Ordering::Relaxed);
                            let mut msg = format!("initializing restart {}/{n_init}", r + 1);
                            if it > 0 {
                                msg.push_str(&format!(": k-means iteration {it}"));
                            }
                            bar.set_message(msg);
                            bar.tick();
                        }
                        std::thread::sleep(std::time::Duration::from_millis(150));
                    }
                });
        }
        FitProgress {
            bar,
            verbosity,
            n_init,
            max_iter,
            rows,
            pass_started: Instant::now(),
            pass_seconds: None,
            last_iteration: 0,
            best: f64::NEG_INFINITY,
            finished: 0,
            init,
            init_started: None,
            shared,
            interrupted: None,
        }
    }

    /// Stops the fit when the flag is raised (by a signal handler).
    pub fn with_interrupt(mut self, flag: Arc<AtomicBool>) -> Self {
        self.interrupted = Some(flag);
        self
    }

    pub fn finish(&self) {
        *self.shared.1.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.bar.finish_and_clear();
        crate::joblog::watch_init(None);
    }
}

impl Drop for FitProgress {
    fn drop(&mut self) {
        *self.shared.1.lock().unwrap_or_else(|e| e.into_inner()) = true;
    }
}

impl FitObserver for FitProgress {
    fn restart_initializing(&mut self, restart: usize) {
        let now = Instant::now();
        let started = *self.init_started.get_or_insert_with(|| {
            let n = self.n_init;
            crate::joblog::phase("initialize", || {
                format!("starting {n} restart{}", if n == 1 { "" } else { "s" })
            });
            now
        });
        self.shared.0.store(restart, Ordering::Relaxed);
        // Restarts start one after another: the time per restart so far
        // tells what the rest take.
        let remaining = (restart > 0).then(|| {
            (now - started).as_secs_f64() / restart as f64 * (self.n_init - restart) as f64
        });
        let n_init = self.n_init;
        crate::joblog::update(|s| {
            s.restart = Some(restart);
            s.n_init = Some(n_init);
            s.remaining_s = remaining;
        });
    }

    fn init_progress(&self) -> Option<Arc<InitProgress>> {
        Some(self.init.clone())
    }

    fn restart_initialized(&mut self, restart: usize, description: &str) {
        if self.verbosity.verbose {
            self.bar
                .suspend(|| eprintln!("restart {restart}: initialized by {description}"));
        }
    }

    fn iteration(&mut self, restart: usize, iteration: usize, mean: f64) {
        let mut em = self.shared.1.lock().unwrap_or_else(|e| e.into_inner());
        if !*em {
            *em = true;
            self.bar.set_message("");
            self.bar.set_style(
                ProgressStyle::with_template("{bar:20} iteration {pos}/{len} {msg} [{elapsed}]")
                    .expect("valid template"),
            );
            let (n, max) = (self.n_init, self.max_iter);
            crate::joblog::phase("em", || {
                format!(
                    "up to {max} iterations of {n} restart{}",
                    if n == 1 { "" } else { "s" }
                )
            });
        }
        if iteration != self.last_iteration {
            // One pass serves every running restart: it ends when the
            // first restart reports the next iteration.
            let now = Instant::now();
            if self.last_iteration > 0 {
                self.pass_seconds = Some((now - self.pass_started).as_secs_f64().max(1e-9));
            }
            self.pass_started = now;
            self.last_iteration = iteration;
        }
        self.best = self.best.max(mean);
        if self.verbosity.verbose {
            self.bar.suspend(|| {
                eprintln!("restart {restart} iteration {iteration}: mean log-likelihood {mean:.10}")
            });
        }
        let rows_per_sec = self.pass_seconds.map(|p| self.rows as f64 / p);
        self.bar.set_position(iteration as u64);
        self.bar.set_message(format!(
            "restarts done {}/{}, best {:.6}{}",
            self.finished,
            self.n_init,
            self.best,
            rows_per_sec.map_or(String::new(), |r| format!(", {} rows/s", si(r)))
        ));
        let (n_init, max_iter, finished, best) =
            (self.n_init, self.max_iter, self.finished, self.best);
        let remaining = self
            .pass_seconds
            .map(|p| p * (max_iter.saturating_sub(iteration)) as f64);
        crate::joblog::update(|s| {
            s.iteration = Some(iteration);
            s.max_iter = Some(max_iter);
            s.n_init = Some(n_init);
            s.restarts_done = Some(finished);
            s.best_mean_log_likelihood = Some(best);
            s.rows_per_sec = rows_per_sec;
            s.remaining_s = remaining;
        });
    }

    fn restart_finished(&mut self, report: &RestartReport) {
        self.finished += 1;
        let finished = self.finished;
        crate::joblog::update(|s| s.restarts_done = Some(finished));
        if self.verbosity.verbose {
            self.bar.suspend(|| {
                let how = match report.ending {
                    gmm_core::Ending::Converged => "converged",
                    gmm_core::Ending::MaxIter => "reached max_iter",
                    gmm_core::Ending::Dropped => "dropped",
                    gmm_core::Ending::Raced => "stopped by racing",
                    gmm_core::Ending::TimeLimit => "stopped by max_seconds",
                    gmm_core::Ending::Running => "stopped",
                };
                eprintln!(
                    "restart {}: {how} after {} iterations, mean log-likelihood {:.10}{}",
                    report.restart,
                    report.n_iter,
                    report.lower_bound,
                    report
                        .note
                        .as_ref()
                        .map(|n| format!(" ({n})"))
                        .unwrap_or_default()
                )
            });
        }
    }

    fn should_stop(&mut self) -> bool {
        self.interrupted
            .as_ref()
            .is_some_and(|f| f.load(Ordering::Relaxed))
    }

    fn cancel_flag(&self) -> Option<Arc<AtomicBool>> {
        self.interrupted.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loading_message_names_rows_and_files() {
        assert_eq!(loading_message("a.csv", None, 1), "loading a.csv");
        assert_eq!(
            loading_message("d/", Some(1_234_567), 8),
            "loading d/ (1,234,567 rows, 8 files)"
        );
    }
}
