//! Checkpoints of a running fit, so that a job killed by a scheduler can go
//! on: `DIR/checkpoint.json` holds every restart's parameters and report
//! after a completed iteration, and a fingerprint of the settings and data
//! that determine the result. Resuming with the same fingerprint gives the
//! fit an uninterrupted run gives, bit for bit.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use gmm_core::{
    CovarianceType, FitParams, FitState, GaussianMixture, RestartReport, RestartSnapshot,
};
use gmm_io::{PendingFile, covariances_from_json, covariances_to_json};
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use crate::config::FitSettings;
use crate::dataset::LoadedData;

const FORMAT: &str = "gmm-checkpoint";
const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct CheckpointFile {
    format: String,
    version: u32,
    fingerprint: String,
    iteration: usize,
    restarts: Vec<SavedRestart>,
}

#[derive(Serialize, Deserialize)]
struct SavedRestart {
    covariance_type: CovarianceType,
    weights: Vec<f64>,
    means: Vec<Vec<f64>>,
    covariances: serde_json::Value,
    report: RestartReport,
    done: bool,
}

pub fn path(dir: &Path) -> PathBuf {
    dir.join("checkpoint.json")
}

/// What must not change between a checkpoint and its resumption: every
/// engine setting that affects the result (as it serializes; not how often
/// checkpoints are written, nor the thread count, which do not), the
/// warm-start model, and the data itself (its shape and a hash of every
/// value, weight and label).
pub fn fingerprint(params: &FitParams, s: &FitSettings, data: &LoadedData) -> String {
    let mut h = gmm_core::hash::Fingerprint::new();
    let view = data.dataset.view();
    for v in view.values() {
        h.write_u64(v.to_bits());
    }
    if let Some(w) = view.weights() {
        w.iter().for_each(|v| h.write_u64(v.to_bits()));
    }
    if let Some(l) = view.labels() {
        l.iter().for_each(|&v| h.write_u64(u64::from(v)));
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
    let file = CheckpointFile {
        format: FORMAT.into(),
        version: VERSION,
        fingerprint: fingerprint.into(),
        iteration: state.iteration,
        restarts: state
            .restarts
            .iter()
            .map(|r| SavedRestart {
                covariance_type: r.model.covariance_type(),
                weights: r.model.weights().to_vec(),
                means: r.model.means().outer_iter().map(|m| m.to_vec()).collect(),
                covariances: covariances_to_json(r.model.covariances()),
                report: r.report.clone(),
                done: r.done,
            })
            .collect(),
    };
    let text = serde_json::to_string(&file)? + "\n";
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
    if file.format != FORMAT || file.version != VERSION {
        bail!("{}: not a version {VERSION} gmm checkpoint", p.display());
    }
    if file.fingerprint != fingerprint {
        bail!(
            "{}: the checkpoint was made with other settings or data; resume with the same config, flags and input, or start over without --resume",
            p.display()
        );
    }
    let restarts = file
        .restarts
        .into_iter()
        .map(|r| {
            let k = r.weights.len();
            let d = r.means.first().map_or(0, Vec::len);
            if r.means.len() != k || r.means.iter().any(|m| m.len() != d) {
                bail!("`means` must be {k} rows of {d} values");
            }
            let cov = covariances_from_json(r.covariance_type, &r.covariances, k, d)
                .map_err(anyhow::Error::msg)?;
            let means = Array2::from_shape_fn((k, d), |(i, j)| r.means[i][j]);
            let model = GaussianMixture::new(Array1::from(r.weights), means, cov)?;
            Ok(RestartSnapshot {
                model,
                report: r.report,
                done: r.done,
            })
        })
        .collect::<Result<Vec<_>>>()
        .with_context(|| format!("{}: a saved restart is invalid", p.display()))?;
    Ok(FitState {
        iteration: file.iteration,
        restarts,
    })
}

/// Removes the checkpoint once the run is complete.
pub fn remove(dir: &Path) {
    let _ = std::fs::remove_file(path(dir));
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
