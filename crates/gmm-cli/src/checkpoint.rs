//! Checkpoints of a running fit, so that a job killed by a scheduler can go
//! on: `DIR/checkpoint.json` holds every restart's state after a completed
//! iteration, and a fingerprint of the settings and data that determine
//! the result. Resuming with the same fingerprint gives the fit an
//! uninterrupted run gives, bit for bit.
//!
//! The state itself is the engine's wire encoding of a `FitState` (every
//! parameter, precision factor and report value to the bit, infinities and
//! degenerate mixtures of dropped restarts included), in base64; the JSON
//! around it says what it is, and lists each restart's progress for people
//! (`restarts`, not read back).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use gmm_core::{FitParams, FitState};
use gmm_io::PendingFile;
use serde::{Deserialize, Serialize};

use crate::config::FitSettings;
use crate::dataset::LoadedData;

const FORMAT: &str = "gmm-checkpoint";
/// Version 1 stored parameters as JSON numbers, which cannot hold the
/// -inf of a restart dropped at its start; version 2's model records had
/// no noise component.
const VERSION: u32 = 3;

#[derive(Serialize, Deserialize)]
struct CheckpointFile {
    format: String,
    version: u32,
    fingerprint: String,
    iteration: usize,
    /// For people: where each restart stands.
    #[serde(default)]
    restarts: Vec<serde_json::Value>,
    /// The `FitState`, wire-encoded, in base64.
    #[serde(default)]
    state: String,
}

pub fn path(dir: &Path) -> PathBuf {
    dir.join("checkpoint.json")
}

/// What must not change between a checkpoint and its resumption: every
/// engine setting that affects the result (as it serializes; not how often
/// checkpoints are written, nor the thread count, which do not), the
/// warm-start model, and the data itself (its shape and a hash of every
/// value, weight, label and initial noise flag).
pub fn fingerprint(params: &FitParams, s: &FitSettings, data: &LoadedData) -> String {
    let mut h = gmm_core::hash::Fingerprint::new();
    let view = data.dataset.view();
    for v in view.values().iter() {
        h.write_u64(v.to_bits());
    }
    if let Some(w) = view.weights() {
        w.iter().for_each(|v| h.write_u64(v.to_bits()));
    }
    if let Some(l) = view.labels() {
        l.iter().for_each(|&v| h.write_u64(u64::from(v)));
    }
    if let Some(f) = view.initial_noise() {
        f.iter().for_each(|&v| h.write_u64(u64::from(v)));
    }
    let settings = settings_fingerprint(
        params,
        s.init_model.as_deref(),
        &data.columns,
        data.dataset.n_rows(),
    );
    format!("{:016x}-{settings}", h.finish())
}

/// The settings part of a fingerprint: the engine's settings as they
/// serialize (all but how often checkpoints are written), the warm-start
/// model's path and the table's shape.
fn settings_fingerprint(
    params: &FitParams,
    init_model: Option<&str>,
    columns: &[String],
    rows: usize,
) -> String {
    let params = FitParams {
        checkpoint_every: None,
        ..params.clone()
    };
    serde_json::json!({
        "params": params,
        "init_model": init_model,
        "columns": columns,
        "rows": rows,
    })
    .to_string()
}

/// Writes the state (replacing the previous checkpoint only once complete).
pub fn save(dir: &Path, fingerprint: &str, state: &FitState) -> Result<()> {
    let mut bytes = gmm_core::wire::Writer::new();
    bytes.fit_state(state);
    let file = CheckpointFile {
        format: FORMAT.into(),
        version: VERSION,
        fingerprint: fingerprint.into(),
        iteration: state.iteration,
        restarts: state
            .restarts
            .iter()
            .map(|r| {
                serde_json::json!({
                    "restart": r.report.restart,
                    "n_iter": r.report.n_iter,
                    "ending": r.report.ending,
                    "mean_log_likelihood": r.report.lower_bound,
                })
            })
            .collect(),
        state: BASE64.encode(bytes.as_bytes()),
    };
    let text = serde_json::to_string_pretty(&file)? + "\n";
    PendingFile::with_bytes(path(dir), text.as_bytes())?.commit()?;
    Ok(())
}

/// Reads the checkpoint of `dir`, refusing one made with other settings or data.
pub fn load(dir: &Path, fingerprint: &str) -> Result<FitState> {
    let p = path(dir);
    let text = std::fs::read_to_string(&p).with_context(|| {
        format!(
            "{}: cannot read the checkpoint to resume from (run with --checkpoint N first)",
            p.display()
        )
    })?;
    let file: CheckpointFile = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a gmm checkpoint", p.display()))?;
    if file.format != FORMAT {
        bail!("{}: not a gmm checkpoint", p.display());
    }
    if file.version != VERSION {
        bail!(
            "{}: a version {} checkpoint, and this gmm reads version {VERSION}; start over without --resume",
            p.display(),
            file.version
        );
    }
    if file.fingerprint != fingerprint {
        bail!(
            "{}: the checkpoint was made with other settings or data; resume with the same config, flags and input, or start over without --resume",
            p.display()
        );
    }
    let bytes = BASE64
        .decode(file.state.as_bytes())
        .with_context(|| format!("{}: the saved state is damaged", p.display()))?;
    let mut r = gmm_core::wire::Reader::new(&bytes);
    let state = r
        .fit_state()
        .and_then(|s| r.finish().map(|_| s))
        .with_context(|| format!("{}: the saved state is damaged", p.display()))?;
    if state.iteration != file.iteration {
        bail!("{}: the saved state is damaged", p.display());
    }
    Ok(state)
}

/// Removes the checkpoint once the run is complete.
pub fn remove(dir: &Path) {
    let _ = std::fs::remove_file(path(dir));
}

#[cfg(test)]
mod tests {
    use super::*;
    use gmm_core::{GaussianMixture, RestartReport, RestartSnapshot};

    #[test]
    fn the_fingerprint_holds_every_setting_but_the_checkpoint_interval() {
        let columns = ["x1".to_string(), "x2".to_string()];
        let of = |p: &FitParams| settings_fingerprint(p, None, &columns, 100);
        let base = FitParams::new(2).max_seconds(30.0);
        let text = of(&base);
        assert!(text.contains("\"max_seconds\":30.0"), "{text}");
        assert!(text.contains("\"n_components\":2"), "{text}");
        assert_ne!(of(&base), of(&base.clone().max_seconds(60.0)));
        assert_ne!(of(&base), of(&base.clone().tol(1e-4)));
        assert_eq!(of(&base), of(&base.clone().checkpoint_every(5)));
    }

    /// A restart dropped at its start has no log-likelihood yet (-inf) and
    /// may hold a degenerate mixture: the checkpoint keeps both exactly.
    #[test]
    fn a_dropped_restart_round_trips() {
        use gmm_core::{Covariances, Ending};
        let model = |c: f64| {
            let cov = Covariances::Diag(ndarray::array![[c, 1.0], [1.0, 2.0]]);
            GaussianMixture::new(
                ndarray::array![0.25, 0.75],
                ndarray::array![[0.1, 0.2], [1.0 / 3.0, -4.0]],
                cov,
            )
            .unwrap()
        };
        let report = |restart: usize, lower_bound: f64, ending: Ending| RestartReport {
            restart,
            init: "kmeans".into(),
            trace: if lower_bound.is_finite() {
                vec![-3.5, lower_bound]
            } else {
                vec![]
            },
            n_iter: if lower_bound.is_finite() { 2 } else { 0 },
            converged: false,
            lower_bound,
            ending,
            regularizations: 0,
            reseeded_components: 0,
            note: (ending == Ending::Dropped).then(|| "component 1 degenerate".into()),
        };
        let state = FitState {
            iteration: 2,
            restarts: vec![
                RestartSnapshot {
                    model: model(0.5),
                    report: report(0, -3.25, Ending::Running),
                    done: false,
                },
                RestartSnapshot {
                    model: model(1e-300),
                    report: report(1, f64::NEG_INFINITY, Ending::Dropped),
                    done: true,
                },
            ],
        };
        let dir = tempfile::tempdir().unwrap();
        save(dir.path(), "fp", &state).unwrap();
        let back = load(dir.path(), "fp").unwrap();
        assert_eq!(back.iteration, 2);
        for (a, b) in state.restarts.iter().zip(&back.restarts) {
            assert_eq!(a.report, b.report);
            assert_eq!(a.done, b.done);
            assert_eq!(a.model, b.model);
        }
        assert!(load(dir.path(), "other").is_err());
    }
}
