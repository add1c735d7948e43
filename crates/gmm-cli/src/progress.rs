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

/// A rate with an SI prefix: `425k`, `1.14M`.
pub fn si(v: f64) -> String {
    match v {
        v if !v.is_finite() => "-".into(),
        v if v >= 1e9 => format!("{:.3}G", v / 1e9),
        v if v >= 1e6 => format!("{:.3}M", v / 1e6),
        v if v >= 1e3 => format!("{:.0}k", v / 1e3),
        v => format!("{v:.0}"),
    }
}

/// `12345678` as `12,345,678`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
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
            ProgressStyle::with_template("{bar:20} iteration {pos}/{len} {msg} [{elapsed}]")
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
            "restarts done {}/{}, best {:.6}, {} rows/s",
            self.finished,
            self.n_init,
            self.best,
            si(rows_per_sec)
        ));
    }

    fn restart_finished(&mut self, report: &RestartReport) {
        self.finished += 1;
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
            .is_some_and(|f| f.load(std::sync::atomic::Ordering::Relaxed))
    }

    fn cancel_flag(&self) -> Option<std::sync::Arc<std::sync::atomic::AtomicBool>> {
        self.interrupted.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loading_message_names_rows_and_files() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(10_000_000), "10,000,000");
        assert_eq!(si(425_300.0), "425k");
        assert_eq!(si(1_140_000.0), "1.140M");
        assert_eq!(si(12.0), "12");
        assert_eq!(loading_message("a.csv", None, 1), "loading a.csv");
        assert_eq!(
            loading_message("d/", Some(1_234_567), 8),
            "loading d/ (1,234,567 rows, 8 files)"
        );
    }
}
