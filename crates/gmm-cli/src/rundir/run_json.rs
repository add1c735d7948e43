//! trace.csv and run.json: every restart's trace, and everything needed
//! to understand or repeat the run.

use std::time::Instant;

use anyhow::Result;
use gmm_io::{ModelFile, OutputSet};
use serde_json::json;

use super::Timings;
use crate::config::{FitSettings, SemiChoice, setting_names};
use crate::dataset::{LoadedData, StorageJson};
use crate::distributed;

pub(super) fn trace_csv(report: &gmm_core::FitReport) -> String {
    let mut out = String::from("restart,iteration,mean_log_likelihood\n");
    for r in &report.restarts {
        for (i, v) in r.trace.iter().enumerate() {
            out.push_str(&format!("{},{},{v}\n", r.restart, i + 1));
        }
    }
    out
}

/// run.json: everything needed to understand or repeat the run.
#[allow(clippy::too_many_arguments)]
pub(super) fn run_json(
    s: &FitSettings,
    comm: Option<&dyn distributed::Transport>,
    threads: usize,
    data: &LoadedData,
    fit: &gmm_core::Fit,
    model: &ModelFile,
    timings: &Timings,
    started: Instant,
    plots: serde_json::Value,
    outputs: &OutputSet,
    dir: &std::path::Path,
) -> Result<String> {
    let mut paths: Vec<std::path::PathBuf> = outputs
        .paths()
        .into_iter()
        .filter(|p| p.starts_with(dir))
        .collect();
    paths.push(dir.join("run.json"));
    // Where the files end up: under the URL a run directory is uploaded to.
    let paths: Vec<String> = paths
        .iter()
        .map(|p| match (&s.out_url, p.strip_prefix(&s.out)) {
            (Some(url), Ok(rel)) => format!("{}/{}", url.trim_end_matches('/'), rel.display()),
            _ => p.display().to_string(),
        })
        .collect();
    let restarts: Vec<serde_json::Value> = fit
        .report
        .restarts
        .iter()
        .map(|r| {
            json!({
                "restart": r.restart,
                "init": r.init,
                "n_iter": r.n_iter,
                "converged": r.converged,
                "final_mean_log_likelihood": r.lower_bound,
                "chosen": r.restart == fit.report.restarts[fit.report.best_restart].restart,
                "numerical_events": numerical_events(r),
            })
        })
        .collect();
    let run = json!({
        "tool": "gmm",
        "version": env!("CARGO_PKG_VERSION"),
        "created": gmm_io::utc_now_rfc3339(),
        "command": std::env::args().collect::<Vec<_>>(),
        "threads": threads,
        "settings": settings_json(s, threads),
        "data": {
            "rows": data.global_rows(),
            "input_rows": data.global_input_rows(),
            "processes": comm.map_or(1, |c| c.size()),
            "split": comm.map(|_| if data.share.is_some() { "rows" } else { "restarts" }),
            "labeled_rows": data.n_labeled,
            "columns": data.columns,
            "column_types": data.column_types,
            "n_columns": data.columns.len(),
            "skipped_columns": data.skipped_columns,
            // A weight column; the weights that mark rows left out do not count.
            "weighted": s.data.weight_column.is_some(),
            "rows_dropped": data.n_dropped,
            "rows_incomplete": data.n_incomplete,
            "precision": data.dataset.precision(),
            "storage": data.storage.to_json(),
            "classes": data.classes.as_ref().map(|c| c.names().to_vec()),
        },
        "timings_seconds": {
            "load": timings.load,
            "fit": timings.fit,
            "initialization": timings.initialization,
            "first_iteration": timings.first_iteration,
            "per_iteration": if timings.iterations.is_empty() {
                None
            } else {
                Some(timings.iterations.iter().sum::<f64>() / timings.iterations.len() as f64)
            },
            "iterations": timings.iterations,
            "predictions": timings.predictions,
            "plots": timings.plots,
            "write": timings.write,
            "total": started.elapsed().as_secs_f64(),
        },
        "result": {
            "best_restart": fit.report.best_restart,
            "mean_log_likelihood": fit.report.mean_log_likelihood,
            "n_iter": fit.report.n_iter,
            "converged": fit.report.converged,
            "bic": fit.report.bic,
            "aic": fit.report.aic,
            "n_parameters": fit.report.n_parameters,
            "n_rows": model.n_rows,
            "stop_reason": stop_reason(&fit.report),
        },
        "best_restart": fit.report.best_restart,
        "restarts": restarts,
        "plots": plots,
        "outputs": paths,
    });
    Ok(serde_json::to_string_pretty(&run)? + "\n")
}

/// How a restart ended and the numerical safeguards it needed.
fn numerical_events(r: &gmm_core::RestartReport) -> serde_json::Value {
    json!({
        "ending": r.ending,
        "regularizations": r.regularizations,
        "reseeded_components": r.reseeded_components,
        "note": r.note,
    })
}

/// The settings the fit ran with, every one resolved (defaults filled in),
/// in the config file's sections and keys: the engine's settings as they
/// serialize, each under the section and key `setting_names` gives it (the
/// rest under `engine`), and the command line's own.
fn settings_json(s: &FitSettings, threads: usize) -> serde_json::Value {
    let serde_json::Value::Object(mut engine) =
        serde_json::to_value(&s.params).expect("settings serialize")
    else {
        unreachable!("FitParams serializes as a map")
    };
    // Shown as the semi_supervised section, as the command line chose it.
    engine.remove("semi_supervised");
    let mut sections = json!({
        "model": {},
        "fit": {
            "init_model": s.init_model,
            "threads": threads,
        },
        "semi_supervised": {
            "mode": match s.semi { None => None, Some(SemiChoice::Off) => Some("off".to_string()), Some(SemiChoice::Mode(m)) => Some(m.to_string()) },
            "unlabeled_weight": s.unlabeled_weight,
        },
    });
    for name in setting_names() {
        if let Some(value) = engine.remove(name.field) {
            sections[name.section][name.key] = value;
        }
    }
    sections["config"] = json!(s.config_path);
    sections["data"] = json!({
        "input": s.data.input,
        "columns": s.data.columns,
        "label_column": s.data.label_column,
        "weight_column": s.data.weight_column,
        "noise_init_column": s.data.noise_init_column,
        // One name as before, a list when several.
        "id_column": match s.data.id_columns.as_slice() {
            [] => serde_json::Value::Null,
            [one] => json!(one),
            many => json!(many),
        },
        "keep_columns": s.data.keep_columns,
        "labeled": s.data.labeled,
        "delimiter": s.data.delimiter.map(|d| (d as char).to_string()),
        "max_memory": s.data.max_memory,
        "cache_dir": s.data.cache_dir,
        "precision": s.data.precision,
        "missing": s.data.missing,
        "filter": s.data.filter.as_ref().map(|f| f.text()),
    });
    sections["output"] = json!({
        "dir": super::shown_out(s),
        "predictions_format": s.predictions_format.extension(),
        "plots": s.plots,
    });
    sections["engine"] = serde_json::Value::Object(engine);
    sections
}

/// Why the fit stopped before every restart had finished, if it did: its
/// time budget (`max_seconds`) ran out.
pub(crate) fn stop_reason(report: &gmm_core::FitReport) -> Option<String> {
    let stopped: Vec<&gmm_core::RestartReport> = report
        .restarts
        .iter()
        .filter(|r| r.ending == gmm_core::Ending::TimeLimit)
        .collect();
    let last = stopped.iter().map(|r| r.n_iter).max()?;
    Some(format!(
        "the time budget (max_seconds) ran out after iteration {last}: {} restart(s) stopped before converging; the best so far was kept",
        stopped.len()
    ))
}
