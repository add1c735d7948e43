//! Batch-job logs. When standard error is not a terminal (a scheduler's
//! log file, a pipe), `gmm fit` and `gmm select` write one line when each
//! phase begins and then a heartbeat line every `--log-interval` seconds
//! (default 30): the phase, restart and iteration, the best mean
//! log-likelihood so far, rows per second of the last pass, the time spent
//! and what is left. `--log-format json` writes the same as JSON lines;
//! `none` writes nothing. A terminal gets the progress display instead.
//!
//! The log is process-wide: phases are announced from wherever the work
//! is (loading, the fit's observer, the run directory), and a thread of
//! its own writes the heartbeats, so that a long pass still shows signs of
//! life.

use std::io::{IsTerminal, Write};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use gmm_core::InitProgress;
use serde::Serialize;

use crate::config::{LogFormat, LogSettings};

/// Where a fit stands, as heartbeats tell it; unknown fields are left out.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Status {
    /// The cell of `gmm select` being fitted (`K=4 full`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cell: Option<String>,
    /// The restart being initialized (from 0), of `n_init`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n_init: Option<usize>,
    /// Rows read so far (building the out-of-core cache).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows_done: Option<u64>,
    /// Lloyd iterations of the k-means start being made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kmeans_iteration: Option<usize>,
    /// The EM iteration under way, of `max_iter`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iteration: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_iter: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restarts_done: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub best_mean_log_likelihood: Option<f64>,
    /// Rows per second of the last pass over the data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows_per_sec: Option<f64>,
    /// Seconds left in the phase: an estimate while initializing, an upper
    /// bound (every restart running to `max_iter`) during EM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining_s: Option<f64>,
}

/// One line of the log.
#[derive(Debug, Serialize)]
struct Line<'a> {
    time: String,
    command: &'a str,
    /// `phase`, `heartbeat` or `done`.
    event: &'a str,
    phase: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    elapsed_s: f64,
    #[serde(flatten)]
    status: Status,
}

/// What the log knows of the work under way.
#[derive(Default)]
struct State {
    phase: &'static str,
    /// The cell of `gmm select` under way, across its phases.
    cell: Option<String>,
    phase_started: Option<Instant>,
    status: Status,
    init: Option<Arc<InitProgress>>,
    finished: bool,
}

struct JobLog {
    command: &'static str,
    format: LogFormat,
    started: Instant,
    state: Mutex<State>,
    wake: Condvar,
}

static LOG: OnceLock<JobLog> = OnceLock::new();

/// Starts the log of `command` when standard error is not a terminal and
/// the command is not quiet (under mpirun, rank 0 only: the caller passes
/// `quiet` for the others). Heartbeats come from a thread of their own.
pub fn start(command: &'static str, settings: LogSettings, quiet: bool) {
    if quiet || settings.format == LogFormat::None || std::io::stderr().is_terminal() {
        return;
    }
    let log = JobLog {
        command,
        format: settings.format,
        started: Instant::now(),
        state: Mutex::new(State::default()),
        wake: Condvar::new(),
    };
    if LOG.set(log).is_err() {
        return;
    }
    if let Some(every) = settings.interval {
        // No heartbeats rather than no fit when no thread can be started.
        let _ = std::thread::Builder::new()
            .name("gmm-log".into())
            .spawn(move || heartbeats(every));
    }
}

/// A phase begins: one line, and heartbeats then tell of it.
pub fn phase(name: &'static str, message: impl FnOnce() -> String) {
    let Some(log) = LOG.get() else { return };
    let mut state = log.state.lock().unwrap_or_else(|e| e.into_inner());
    if state.finished {
        return;
    }
    state.phase = name;
    state.phase_started = Some(Instant::now());
    state.status = Status::default();
    let message = message();
    log.write(&state, "phase", Some(&message));
}

/// The cell of `gmm select` that the next lines are about (`None` after
/// the last).
pub fn cell(cell: Option<String>) {
    if let Some(log) = LOG.get() {
        log.state.lock().unwrap_or_else(|e| e.into_inner()).cell = cell;
    }
}

/// Updates what heartbeats say of the phase under way.
pub fn update(f: impl FnOnce(&mut Status)) {
    if let Some(log) = LOG.get() {
        f(&mut log.state.lock().unwrap_or_else(|e| e.into_inner()).status);
    }
}

/// Where the initializations of the fit under way count their iterations.
pub fn watch_init(progress: Option<Arc<InitProgress>>) {
    if let Some(log) = LOG.get() {
        log.state.lock().unwrap_or_else(|e| e.into_inner()).init = progress;
    }
}

/// The command has failed: no more lines, so that its error is the last.
pub fn stop() {
    let Some(log) = LOG.get() else { return };
    let mut state = log.state.lock().unwrap_or_else(|e| e.into_inner());
    state.finished = true;
    log.wake.notify_all();
}

/// The command has succeeded: a last line, and no more heartbeats.
pub fn finish() {
    let Some(log) = LOG.get() else { return };
    let mut state = log.state.lock().unwrap_or_else(|e| e.into_inner());
    if state.finished {
        return;
    }
    state.finished = true;
    state.phase = "done";
    state.status = Status::default();
    state.cell = None;
    log.write(&state, "done", None);
    log.wake.notify_all();
}

/// Writes a heartbeat every `every` until the log is finished.
fn heartbeats(every: Duration) {
    let Some(log) = LOG.get() else { return };
    let mut state = log.state.lock().unwrap_or_else(|e| e.into_inner());
    let mut next = Instant::now() + every;
    loop {
        let now = Instant::now();
        if now < next {
            state = log
                .wake
                .wait_timeout(state, next - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        if state.finished {
            return;
        }
        let now = Instant::now();
        if now < next {
            continue;
        }
        // After a stall (a suspended job), one heartbeat, not a burst.
        next = (next + every).max(now + every / 2);
        if state.phase.is_empty() {
            continue;
        }
        if let Some(init) = &state.init
            && state.phase == "initialize"
        {
            let done = init.iterations.load(Ordering::Relaxed);
            state.status.kmeans_iteration = (done > 0).then_some(done);
        }
        log.write(&state, "heartbeat", None);
    }
}

impl JobLog {
    fn write(&self, state: &State, event: &str, message: Option<&str>) {
        let line = Line {
            time: gmm_io::utc_now_rfc3339(),
            command: self.command,
            event,
            phase: state.phase,
            message,
            elapsed_s: (self.started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
            status: Status {
                cell: state.cell.clone(),
                // Figures as precise as they are meaningful.
                rows_per_sec: state.status.rows_per_sec.map(f64::round),
                remaining_s: state.status.remaining_s.map(|r| (r * 10.0).round() / 10.0),
                ..state.status.clone()
            },
        };
        let text = match self.format {
            LogFormat::Json => serde_json::to_string(&line).expect("log lines serialize"),
            _ => text_line(&line),
        };
        // A log that cannot be written must not stop the work.
        let _ = writeln!(std::io::stderr().lock(), "{text}");
    }
}

/// `2026-12-05T15:40:34Z gmm fit: em: iteration 7/100, ...; 79.2 s elapsed, at most 280 s left`
fn text_line(l: &Line<'_>) -> String {
    let s = &l.status;
    let mut parts: Vec<String> = Vec::new();
    if let Some(m) = l.message {
        parts.push(m.to_string());
    }
    if let Some(c) = &s.cell {
        parts.push(format!("cell {c}"));
    }
    match (s.restart, s.n_init) {
        (Some(r), Some(n)) => parts.push(format!("restart {}/{n}", r + 1)),
        (Some(r), None) => parts.push(format!("restart {}", r + 1)),
        _ => {}
    }
    if let Some(r) = s.rows_done {
        parts.push(format!("{} rows", crate::units::thousands(r)));
    }
    if let Some(i) = s.kmeans_iteration {
        parts.push(format!("k-means iteration {i}"));
    }
    match (s.iteration, s.max_iter) {
        (Some(i), Some(m)) => parts.push(format!("iteration {i}/{m}")),
        (Some(i), None) => parts.push(format!("iteration {i}")),
        _ => {}
    }
    if let (Some(d), Some(n)) = (s.restarts_done, s.n_init) {
        parts.push(format!("{d}/{n} restarts done"));
    }
    if let Some(b) = s.best_mean_log_likelihood {
        parts.push(format!("best mean log-likelihood {b:.8}"));
    }
    if let Some(r) = s.rows_per_sec {
        parts.push(format!("{} rows/s", crate::units::si(r)));
    }
    if l.event == "done" {
        return format!("{} gmm {}: done in {:.1} s", l.time, l.command, l.elapsed_s);
    }
    let mut text = format!("{} gmm {}: {}", l.time, l.command, l.phase);
    if !parts.is_empty() {
        text.push_str(": ");
        text.push_str(&parts.join(", "));
    }
    if l.event == "heartbeat" {
        text.push_str(&format!("; {:.1} s elapsed", l.elapsed_s));
        if let Some(left) = s.remaining_s {
            let bound = if l.phase == "em" { "at most" } else { "about" };
            text.push_str(&format!(", {bound} {left:.0} s left"));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line<'a>(event: &'a str, phase: &'a str, status: Status) -> Line<'a> {
        Line {
            time: "2026-12-05T15:40:34Z".into(),
            command: "fit",
            event,
            phase,
            message: None,
            elapsed_s: 79.2,
            status,
        }
    }

    #[test]
    fn heartbeats_read_as_text_and_as_json() {
        let status = Status {
            n_init: Some(10),
            iteration: Some(7),
            max_iter: Some(100),
            restarts_done: Some(2),
            best_mean_log_likelihood: Some(-2.572103),
            rows_per_sec: Some(1_140_000.0),
            remaining_s: Some(280.4),
            ..Status::default()
        };
        let l = line("heartbeat", "em", status.clone());
        assert_eq!(
            text_line(&l),
            "2026-12-05T15:40:34Z gmm fit: em: iteration 7/100, 2/10 restarts done, best mean log-likelihood -2.57210300, 1.140M rows/s; 79.2 s elapsed, at most 280 s left"
        );
        let json: serde_json::Value = serde_json::to_value(&l).unwrap();
        assert_eq!(json["event"], "heartbeat");
        assert_eq!(json["iteration"], 7);
        assert_eq!(json["rows_per_sec"], 1_140_000.0);
        assert!(json.get("restart").is_none(), "unknown fields left out");
        let init = Status {
            restart: Some(3),
            n_init: Some(10),
            kmeans_iteration: Some(12),
            remaining_s: Some(45.0),
            ..Status::default()
        };
        assert_eq!(
            text_line(&line("heartbeat", "initialize", init)),
            "2026-12-05T15:40:34Z gmm fit: initialize: restart 4/10, k-means iteration 12; 79.2 s elapsed, about 45 s left"
        );
    }
}
