//! `gmm fit`: load, fit, and write the run directory.

use std::io::Write;
use std::time::Instant;

use anyhow::Result;
use gmm_core::{FitParams, GaussianMixture, SemiSupervised, SemiSupervisedMode};
use gmm_io::{FitSummary, ModelFile, OutputSet, PredictionWriter, Provenance, SemiSupervisedInfo};
use serde_json::json;

use crate::args::FitArgs;
use crate::config::{ConfigFile, FitSettings, SemiChoice};
use crate::dataset::{self, LoadedData};
use crate::error::UsageError;
use crate::progress::{FitProgress, Verbosity, spinner};

/// Rows per batch when writing predictions.
const PREDICT_BATCH_ROWS: usize = 65_536;

pub fn run(args: FitArgs) -> Result<()> {
    let cfg = match &args.config {
        Some(p) => ConfigFile::load(p)?,
        None => ConfigFile::default(),
    };
    let s = FitSettings::resolve(&args, &cfg)?;
    let verbosity = Verbosity {
        quiet: args.quiet,
        verbose: args.verbose,
    };
    let threads = super::init_threads(s.threads)?;
    let started = Instant::now();

    let loading = spinner(verbosity, &format!("loading {}", s.data.input));
    let data = dataset::load(&s.data)?;
    loading.finish_and_clear();
    let load_secs = started.elapsed().as_secs_f64();

    let semi = semi_supervision(&s, &data)?;
    let mut params = FitParams::new(s.components)
        .covariance_type(s.covariance)
        .reg_covar(s.reg_covar)
        .tol(s.tol)
        .max_iter(s.max_iter)
        .n_init(s.n_init)
        .seed(s.seed)
        .chunk_rows(s.chunk_rows);
    params.init = s.init;
    params.semi_supervised = semi;
    if let Some(path) = &s.init_model {
        params.init_model = Some(read_init_model(path, &data.columns)?);
    }
    let params = params.check().map_err(|e| UsageError(e.to_string()))?;

    let fit_started = Instant::now();
    let view = data.dataset.view();
    let mut progress = FitProgress::new(verbosity, s.n_init, s.max_iter, data.dataset.n_rows())
        .with_interrupt(super::interrupt_flag());
    let fit = params.fit(view, &mut progress);
    progress.finish();
    let fit = fit?;
    let fit_secs = fit_started.elapsed().as_secs_f64();

    // Outputs, all published together at the end.
    let write_started = Instant::now();
    let writing = spinner(verbosity, "writing results");
    let mut outputs = OutputSet::new();
    let dir = &s.out;
    let model_file = model_file(&s, &data, &fit, semi, params.init_method().as_str());
    outputs.add(model_file.write_pending(dir.join("model.json"))?);
    let pred_path = dir.join(format!("predictions.{}", s.predictions_format.extension()));
    outputs.add(write_predictions(
        &fit.model,
        &data,
        &pred_path,
        s.predictions_format,
    )?);
    outputs.add_bytes(dir.join("trace.csv"), trace_csv(&fit.report).as_bytes())?;
    let write_secs = write_started.elapsed().as_secs_f64();
    let run = json!({
        "version": env!("CARGO_PKG_VERSION"),
        "settings": settings_json(&s, threads),
        "rows": data.dataset.n_rows(),
        "input_rows": data.n_input_rows,
        "labeled_rows": data.n_labeled,
        "columns": data.columns,
        "timings_seconds": { "load": load_secs, "fit": fit_secs, "write": write_secs, "total": started.elapsed().as_secs_f64() },
        "best_restart": fit.report.best_restart,
        "restarts": fit.report.restarts.iter().map(|r| json!({
            "restart": r.restart,
            "init": r.init,
            "n_iter": r.n_iter,
            "converged": r.converged,
            "final_mean_log_likelihood": r.lower_bound,
        })).collect::<Vec<_>>(),
        "outputs": outputs.paths(),
    });
    outputs.add_bytes(
        dir.join("run.json"),
        (serde_json::to_string_pretty(&run)? + "\n").as_bytes(),
    )?;
    outputs.commit()?;
    writing.finish_and_clear();

    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&summary_json(&model_file, dir))?
        )?;
    } else {
        write_summary(&mut out, &model_file, &fit.model, dir)?;
    }
    Ok(())
}

/// Semi-supervised when labels are present, unless switched off.
fn semi_supervision(s: &FitSettings, data: &LoadedData) -> Result<Option<SemiSupervised>> {
    let has_labels = data.classes.is_some();
    let mode = match (s.semi, has_labels) {
        (Some(SemiChoice::Off), _) => {
            if s.data.labeled.is_some() {
                return Err(UsageError(
                    "--labeled was given but semi-supervision is off; drop one of them".into(),
                )
                .into());
            }
            None
        }
        (None, false) => None,
        (None, true) => Some(SemiSupervisedMode::Em),
        (Some(SemiChoice::Mode(m)), true) => Some(m),
        (Some(SemiChoice::Mode(m)), false) => {
            return Err(UsageError(format!(
                "semi-supervised mode `{m}` needs labeled rows: give --label-column or --labeled"
            ))
            .into());
        }
    };
    Ok(mode.map(|mode| SemiSupervised {
        mode,
        unlabeled_weight: s.unlabeled_weight,
    }))
}

fn read_init_model(path: &str, columns: &[String]) -> Result<GaussianMixture> {
    let file = ModelFile::read(path)?;
    if file.columns != columns {
        return Err(UsageError(format!(
            "{path}: the model was fitted on columns [{}] but the data has [{}]",
            file.columns.join(", "),
            columns.join(", ")
        ))
        .into());
    }
    file.to_model().map_err(|e| anyhow::anyhow!("{path}: {e}"))
}

fn model_file(
    s: &FitSettings,
    data: &LoadedData,
    fit: &gmm_core::Fit,
    semi: Option<SemiSupervised>,
    init: &str,
) -> ModelFile {
    let r = &fit.report;
    let init_mode = semi.is_some_and(|x| x.mode == SemiSupervisedMode::Init);
    let n_rows = if init_mode {
        data.dataset.n_rows() - data.n_labeled
    } else {
        data.dataset.n_rows()
    };
    let summary = FitSummary {
        mean_log_likelihood: r.mean_log_likelihood,
        n_iter: r.n_iter,
        converged: r.converged,
        bic: r.bic,
        aic: r.aic,
        n_rows: n_rows as u64,
        total_weight: data.dataset.weights().map(|_| r.n_rows),
        reg_covar: s.reg_covar,
    };
    let mut file = ModelFile::new(&fit.model, data.columns.clone(), &summary);
    file.column_types = Some(data.column_types.clone());
    if let (Some(semi), Some(classes)) = (semi, &data.classes) {
        file.classes = Some(classes.names().to_vec());
        file.label_column = data.label_column.clone();
        file.semi_supervised = Some(SemiSupervisedInfo {
            mode: semi.mode.to_string(),
            unlabeled_weight: semi.unlabeled_weight,
            n_labeled: data.n_labeled,
        });
    }
    file.provenance = Some(Provenance {
        tool: "gmm".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        created: gmm_io::utc_now_rfc3339(),
        input: Some(s.data.input.clone()),
        labeled: s.data.labeled.clone(),
        config: s.config_path.as_ref().map(|p| p.display().to_string()),
        seed: Some(s.seed),
        n_init: Some(s.n_init),
        init: Some(if s.init_model.is_some() {
            format!("model ({init} for other restarts)")
        } else {
            init.to_string()
        }),
        best_restart: Some(r.best_restart),
        command: Some(std::env::args().collect::<Vec<_>>().join(" ")),
    });
    file
}

/// Predictions of the input rows, batch by batch.
fn write_predictions(
    model: &GaussianMixture,
    data: &LoadedData,
    path: &std::path::Path,
    format: gmm_io::OutputFormat,
) -> Result<gmm_io::PendingFile> {
    let mut writer =
        PredictionWriter::create(path, format, model.n_components(), data.id_field.clone())?;
    let view = data.dataset.view().without_labels();
    let mut start = 0;
    while start < data.n_input_rows {
        let end = (start + PREDICT_BATCH_ROWS).min(data.n_input_rows);
        let proba = model.predict_proba(view.slice_rows(start, end))?;
        let ids = data.ids.as_ref().map(|a| a.slice(start, end - start));
        writer.write(ids.as_ref(), proba.as_slice().expect("row-major"))?;
        start = end;
    }
    Ok(writer.finish()?)
}

fn trace_csv(report: &gmm_core::FitReport) -> String {
    let mut out = String::from("restart,iteration,mean_log_likelihood\n");
    for r in &report.restarts {
        for (i, v) in r.trace.iter().enumerate() {
            out.push_str(&format!("{},{},{v}\n", r.restart, i + 1));
        }
    }
    out
}

fn settings_json(s: &FitSettings, threads: usize) -> serde_json::Value {
    json!({
        "config": s.config_path,
        "input": s.data.input,
        "columns": s.data.columns,
        "label_column": s.data.label_column,
        "weight_column": s.data.weight_column,
        "id_column": s.data.id_column,
        "labeled": s.data.labeled,
        "components": s.components,
        "covariance": s.covariance.as_str(),
        "reg_covar": s.reg_covar,
        "init": s.init.map(|i| i.as_str()),
        "init_model": s.init_model,
        "n_init": s.n_init,
        "max_iter": s.max_iter,
        "tol": s.tol,
        "seed": s.seed,
        "threads": threads,
        "chunk_rows": s.chunk_rows,
        "semi_supervised": match s.semi { None => None, Some(SemiChoice::Off) => Some("off".to_string()), Some(SemiChoice::Mode(m)) => Some(m.to_string()) },
        "unlabeled_weight": s.unlabeled_weight,
        "out": s.out,
        "predictions_format": s.predictions_format.extension(),
    })
}

fn summary_json(file: &ModelFile, dir: &std::path::Path) -> serde_json::Value {
    json!({
        "run_dir": dir,
        "model": dir.join("model.json"),
        "covariance_type": file.covariance_type,
        "components": file.weights.len(),
        "rows": file.n_rows,
        "mean_log_likelihood": file.mean_log_likelihood,
        "n_iter": file.n_iter,
        "converged": file.converged,
        "bic": file.bic,
        "aic": file.aic,
        "weights": file.weights,
        "means": file.means,
        "classes": file.classes,
    })
}

fn write_summary(
    out: &mut impl Write,
    file: &ModelFile,
    model: &GaussianMixture,
    dir: &std::path::Path,
) -> Result<()> {
    writeln!(out, "run directory        {}", dir.display())?;
    writeln!(out, "covariance           {}", file.covariance_type)?;
    writeln!(out, "components           {}", model.n_components())?;
    writeln!(out, "rows                 {}", file.n_rows)?;
    writeln!(out, "mean log-likelihood  {:.8}", file.mean_log_likelihood)?;
    writeln!(out, "iterations           {}", file.n_iter)?;
    writeln!(out, "converged            {}", file.converged)?;
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
    Ok(())
}
