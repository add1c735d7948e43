//! What `gmm fit` prints when it is done: a table, or JSON with `--json`.

use std::io::Write;

use anyhow::Result;
use gmm_core::GaussianMixture;
use gmm_io::ModelFile;
use serde_json::json;

use crate::dataset::LoadedData;
use crate::rundir::stop_reason;

pub(super) fn summary_json(
    file: &ModelFile,
    data: &LoadedData,
    dir: &std::path::Path,
    warnings: &[String],
) -> serde_json::Value {
    json!({
        "run_dir": dir,
        "model": dir.join("model.json"),
        "covariance_type": file.covariance_type,
        "n_components": file.weights.len(),
        "n_features": file.columns.len(),
        "columns": file.columns,
        "n_rows": file.n_rows,
        "n_rows_dropped": data.n_dropped,
        "n_rows_incomplete": data.n_incomplete,
        "total_weight": file.total_weight.unwrap_or(file.n_rows as f64),
        "n_parameters": file.n_parameters,
        "mean_log_likelihood": file.mean_log_likelihood,
        "n_iter": file.n_iter,
        "converged": file.converged,
        "bic": file.bic,
        "aic": file.aic,
        "weights": file.weights,
        "noise": file.noise,
        "means": file.means,
        "classes": file.classes,
        "skipped_columns": data.skipped_columns,
        "warnings": warnings,
    })
}

pub(super) fn write_summary(
    out: &mut impl Write,
    file: &ModelFile,
    model: &GaussianMixture,
    report: &gmm_core::FitReport,
    data: &LoadedData,
    dir: &std::path::Path,
) -> Result<()> {
    writeln!(out, "run directory        {}", dir.display())?;
    writeln!(out, "covariance           {}", file.covariance_type)?;
    writeln!(out, "components           {}", model.n_components())?;
    writeln!(out, "rows                 {}", file.n_rows)?;
    if data.n_dropped > 0 {
        writeln!(
            out,
            "rows dropped         {} (a feature value missing)",
            data.n_dropped
        )?;
    }
    if data.n_incomplete > 0 {
        writeln!(
            out,
            "rows incomplete      {} (missing values integrated out)",
            data.n_incomplete
        )?;
    }
    if !data.skipped_columns.is_empty() {
        let skipped: Vec<String> = data
            .skipped_columns
            .iter()
            .map(|c| format!("{} ({}: {})", c.column, c.data_type, c.reason))
            .collect();
        writeln!(out, "skipped columns      {}", skipped.join("; "))?;
    }
    writeln!(out, "mean log-likelihood  {:.8}", file.mean_log_likelihood)?;
    writeln!(out, "iterations           {}", file.n_iter)?;
    writeln!(out, "converged            {}", file.converged)?;
    if let Some(reason) = stop_reason(report) {
        writeln!(out, "stopped early        {reason}")?;
    }
    writeln!(out, "BIC                  {:.4}", file.bic)?;
    writeln!(out, "AIC                  {:.4}", file.aic)?;
    let classes = file.classes.as_ref();
    writeln!(
        out,
        "component  weight    {}mean ({})",
        if classes.is_some() { "class  " } else { "" },
        file.columns.join(", ")
    )?;
    for (k, w) in model.weights().iter().enumerate() {
        let mean: Vec<String> = model
            .means()
            .row(k)
            .iter()
            .map(|v| format!("{v:.6}"))
            .collect();
        let class = classes
            .map(|c| format!("{:<7}", c.get(k).map_or("-", |s| s.as_str())))
            .unwrap_or_default();
        writeln!(out, "{k:<10} {w:<9.6} {class}[{}]", mean.join(", "))?;
    }
    if let Some(noise) = model.noise() {
        writeln!(
            out,
            "{:<10} {:<9.6} uniform over a volume of {} (component -1 in predictions)",
            "noise",
            noise.weight,
            if (1e-3..1e9).contains(&noise.volume) {
                format!("{:.6}", noise.volume)
            } else {
                format!("{:.6e}", noise.volume)
            }
        )?;
    }
    for line in event_lines(report) {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// One line per restart that needed a numerical safeguard or stopped early.
fn event_lines(report: &gmm_core::FitReport) -> Vec<String> {
    report
        .restarts
        .iter()
        .filter_map(|r| {
            let mut parts = Vec::new();
            if r.regularizations > 0 {
                parts.push(format!(
                    "{} covariance(s) positive definite only thanks to reg_covar",
                    r.regularizations
                ));
            }
            if r.reseeded_components > 0 {
                parts.push(format!("{} component(s) re-seeded", r.reseeded_components));
            }
            match r.ending {
                gmm_core::Ending::Dropped => parts.push(format!(
                    "dropped: {}",
                    r.note.as_deref().unwrap_or("degenerate")
                )),
                gmm_core::Ending::Raced => {
                    parts.push(format!("stopped by racing after {} iterations", r.n_iter))
                }
                gmm_core::Ending::TimeLimit => parts.push(format!(
                    "stopped by max_seconds after {} iterations",
                    r.n_iter
                )),
                _ => {}
            }
            (!parts.is_empty()).then(|| format!("restart {:<3} {}", r.restart, parts.join("; ")))
        })
        .collect()
}
