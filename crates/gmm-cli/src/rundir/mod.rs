//! A fit's run directory: predictions, plots, model.json, trace.csv and
//! run.json, added to an [`OutputSet`] that the caller publishes. `gmm fit`
//! writes one; `gmm select` writes one for the model it chooses.

mod predictions;
mod run_json;

use std::time::Instant;

use anyhow::Result;
use gmm_core::{Precision, SemiSupervised, SemiSupervisedMode};
use gmm_io::{FitSummary, ModelFile, OutputSet, Provenance, SemiSupervisedInfo};
use serde_json::json;

use crate::config::FitSettings;
use crate::dataset::LoadedData;
use crate::distributed;
use crate::plots;
use crate::progress::{Verbosity, spinner, thousands};
pub(crate) use predictions::send_predictions;
use predictions::write_predictions;
pub(crate) use run_json::stop_reason;
use run_json::{run_json, trace_csv};

/// The files of a run directory.
pub(crate) const RUN_FILES: &[&str] = &[
    "model.json",
    "predictions.parquet",
    "predictions.csv",
    "predictions.arrow",
    "trace.csv",
    "trace.svg",
    "clusters.svg",
    "run.json",
    "checkpoint.json",
];

/// A run directory at a URL (`--out s3://bucket/runs/x`): the settings
/// then write a local copy in the temporary directory (the returned
/// place), uploaded once complete; the out-of-core cache, which lives
/// beside a local run directory, is then in the working directory.
/// Checkpoints need a local run directory.
pub(crate) fn remote_out(s: &mut FitSettings) -> Result<gmm_io::storage::OutputPlace> {
    let place = gmm_io::storage::OutputPlace::new(&s.out, &s.data.object_storage)?;
    if place.is_remote() {
        if s.params.checkpoint_every.is_some() || s.resume {
            return Err(crate::error::UsageError(
                "--checkpoint and --resume need a local --out: the checkpoint is read and written in the run directory as the fit goes"
                    .into(),
            )
            .into());
        }
        s.out_url = Some(s.out.to_string_lossy().into_owned());
        s.out = place.local().to_path_buf();
        s.data
            .cache_dir
            .get_or_insert_with(|| gmm_io::load::DEFAULT_CACHE_DIR.into());
    }
    Ok(place)
}

/// The run directory as the user named it: its URL, or its path.
pub(crate) fn shown_out(s: &FitSettings) -> String {
    s.out_url
        .clone()
        .unwrap_or_else(|| s.out.display().to_string())
}

/// Refuses, before any work, a run directory `s.out` that cannot be one:
/// an existing file, a path under a file, a place gmm cannot write to, or
/// one that would land on the job's input or labeled table (`names`: the
/// files it will hold).
pub(crate) fn check_run_dir(s: &FitSettings, names: &[&str]) -> Result<()> {
    check_writable_dir(&s.out)?;
    // A directory where gmm writes a file could not be replaced.
    if let Some(name) = names
        .iter()
        .find(|n| RUN_FILES.contains(n) && s.out.join(n).is_dir())
    {
        return Err(crate::error::UsageError(format!(
            "{} is a directory, where gmm writes its file {name}; move it, or give another --out",
            s.out.join(name).display()
        ))
        .into());
    }
    let named = s.out_url.as_deref().map(std::path::Path::new);
    for input in std::iter::once(&s.data.input).chain(&s.data.labeled) {
        let out = gmm_io::overlap::Output::Directory {
            path: named.unwrap_or(&s.out),
            names,
        };
        gmm_io::overlap::check_output(out, input).map_err(crate::error::UsageError)?;
    }
    Ok(())
}

/// Refuses a directory to write into that is a file, lies under a file, or
/// lies where files cannot be created (read-only, no permission); creates
/// nothing that stays.
pub(crate) fn check_writable_dir(dir: &std::path::Path) -> Result<()> {
    let usage = |m: String| anyhow::Error::from(crate::error::UsageError(m));
    let shown = dir.display();
    let mut existing = dir;
    loop {
        match existing.metadata() {
            Ok(m) if m.is_dir() => break,
            Ok(_) if existing == dir => {
                return Err(usage(format!(
                    "--out {shown} is a file; give a directory for the run (it is created if missing)"
                )));
            }
            Ok(_) => {
                return Err(usage(format!(
                    "--out {shown} lies under the file {}; give a directory for the run",
                    existing.display()
                )));
            }
            Err(_) => match existing.parent() {
                Some(p) if !p.as_os_str().is_empty() => existing = p,
                _ => {
                    existing = std::path::Path::new(".");
                    break;
                }
            },
        }
    }
    // Whether a file can be created there: a probe, removed at once.
    let probe = existing.join(format!(".gmm-write-check-{}", std::process::id()));
    match std::fs::File::create(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => Err(usage(format!(
            "--out {shown}: cannot write in {} ({e}); give a directory you can write to",
            existing.display()
        ))),
    }
}

/// Retires the files of `names` in `dir` that an earlier run left and the
/// new set does not replace (another predictions format, plots switched
/// off), and removes their temporaries left by killed runs: gmm's own
/// outputs go with the run; other files stay.
pub(crate) fn retire_stale(outputs: &mut OutputSet, dir: &std::path::Path, names: &[&str]) {
    let new = outputs.paths();
    for name in names {
        gmm_io::remove_stale_temporaries(dir, name);
        let old = dir.join(name);
        if old.is_file() && !new.contains(&old) {
            outputs.retire(old);
        }
    }
}

/// What a run directory is written from, besides the fit.
pub(crate) struct RunContext<'a> {
    pub s: &'a FitSettings,
    pub data: &'a LoadedData,
    pub semi: Option<SemiSupervised>,
    /// The initialization's name, for the model's provenance.
    pub init: &'a str,
    pub threads: usize,
    pub started: Instant,
    pub verbosity: Verbosity,
    /// The processes of an MPI job.
    pub comm: Option<&'a dyn distributed::Transport>,
    /// Rows held out of the fit (`gmm select --validation-fraction`).
    pub held_out: usize,
}

/// The rows a fit was fitted on: those loaded, less those left out for a
/// missing value, held out for validation, or (in `init` mode) labeled.
pub(crate) fn fitted_rows(
    data: &LoadedData,
    semi: Option<SemiSupervised>,
    held_out: usize,
) -> usize {
    let init_mode = semi.is_some_and(|x| x.mode == SemiSupervisedMode::Init);
    let labeled = if init_mode { data.n_labeled } else { 0 };
    (data.global_rows() - data.n_dropped).saturating_sub(held_out + labeled)
}

/// Adds a fit's run directory to `outputs` (committed by the caller):
/// predictions, plots, model.json, trace.csv and run.json.
pub(crate) fn write_run(
    ctx: &RunContext<'_>,
    fit: &gmm_core::Fit,
    mut timings: Timings,
    dir: &std::path::Path,
    outputs: &mut OutputSet,
) -> Result<ModelFile> {
    let (s, data, verbosity) = (ctx.s, ctx.data, ctx.verbosity);
    let model_file = model_file(s, data, fit, ctx);
    let phase = Instant::now();
    let writing = spinner(verbosity, "writing predictions");
    let pred_path = dir.join(format!("predictions.{}", s.predictions_format.extension()));
    crate::joblog::phase("predictions", || format!("writing {}", pred_path.display()));
    // The predictions carry the classes the model file gives its components.
    let classes = gmm_io::ComponentClasses::of_model(&model_file).map_err(anyhow::Error::msg)?;
    outputs.add(write_predictions(
        &fit.model,
        data,
        &pred_path,
        s.predictions_format,
        classes,
        s.data.missing == gmm_io::Missing::Drop,
        ctx.comm,
    )?);
    writing.finish_and_clear();
    timings.predictions = phase.elapsed().as_secs_f64();
    verbosity.log(|| {
        format!(
            "predicted {} rows in {:.2} s",
            thousands(data.global_input_rows() as u64),
            timings.predictions
        )
    });

    let phase = Instant::now();
    let plots = if s.plots {
        let drawing = spinner(verbosity, "drawing plots");
        crate::joblog::phase("plots", || "drawing trace.svg and clusters.svg".into());
        let plots = draw_plots(fit, data, ctx.semi, dir, outputs)?;
        drawing.finish_and_clear();
        plots
    } else {
        json!({ "drawn": false, "reason": "plots are off (--no-plots or [output] plots = false)" })
    };
    timings.plots = phase.elapsed().as_secs_f64();

    let phase = Instant::now();
    crate::joblog::phase("write", || "model.json, trace.csv, run.json".into());
    outputs.add(model_file.write_pending(dir.join("model.json"))?);
    outputs.add_bytes(dir.join("trace.csv"), trace_csv(&fit.report).as_bytes())?;
    timings.write = phase.elapsed().as_secs_f64();
    let run = run_json(
        s,
        ctx.comm,
        ctx.threads,
        data,
        fit,
        &model_file,
        &timings,
        ctx.started,
        plots,
        outputs,
        dir,
    )?;
    outputs.add_bytes(dir.join("run.json"), run.as_bytes())?;
    retire_stale(outputs, dir, RUN_FILES);
    Ok(model_file)
}

/// Seconds spent in each phase of a fit.
#[derive(Debug, Default, Clone)]
pub(crate) struct Timings {
    pub load: f64,
    pub fit: f64,
    /// Seconds of each EM iteration after the first.
    pub iterations: Vec<f64>,
    /// Seconds until every restart had its start (within `fit`).
    pub initialization: Option<f64>,
    /// Seconds of the first EM iteration (within `fit`).
    pub first_iteration: Option<f64>,
    pub predictions: f64,
    pub plots: f64,
    pub write: f64,
}

/// Draws trace.svg and clusters.svg into the run's outputs. A picture that
/// cannot be drawn does not fail the fit: it is reported on standard error
/// and in run.json.
fn draw_plots(
    fit: &gmm_core::Fit,
    data: &LoadedData,
    semi: Option<SemiSupervised>,
    dir: &std::path::Path,
    outputs: &mut OutputSet,
) -> Result<serde_json::Value> {
    let mut report = serde_json::Map::new();
    // In em mode EM maximizes the semi-supervised objective: the trace is its.
    let measure = if semi.is_some_and(|x| x.mode == SemiSupervisedMode::Em) {
        plots::Measure::SemiSupervisedObjective
    } else {
        plots::Measure::LogLikelihood
    };
    match plots::trace_svg(&fit.report, measure) {
        Ok(svg) => {
            outputs.add_bytes(dir.join("trace.svg"), svg.as_bytes())?;
            report.insert("trace.svg".into(), json!({ "drawn": true }));
        }
        Err(e) => {
            eprintln!("warning: {e:#}");
            report.insert(
                "trace.svg".into(),
                json!({ "drawn": false, "reason": format!("{e:#}") }),
            );
        }
    }
    // The input table's rows; rows of a separate labeled table are not shown.
    let rows = data
        .dataset
        .view()
        .without_labels()
        .slice_rows(0, data.n_input_rows);
    let classes = data.classes.as_ref().map(|c| c.names());
    match plots::clusters_svg(&fit.model, rows, &data.columns, classes) {
        Ok(plot) => {
            outputs.add_bytes(dir.join("clusters.svg"), plot.svg.as_bytes())?;
            let mut info = json!({
                "drawn": true,
                "projection": plot.projection.name(),
                "rows_drawn": plot.rows_drawn,
                "rows_total": plot.rows_total,
            });
            if let plots::Projection::PrincipalAxes { explained } = plot.projection {
                info["explained_variance"] = json!(explained);
            }
            if plot.projection == plots::Projection::Density {
                info["note"] = json!(
                    "one column: a histogram of the rows with each component's weighted density"
                );
            }
            report.insert("clusters.svg".into(), info);
        }
        Err(e) => {
            eprintln!("warning: {e:#}");
            report.insert(
                "clusters.svg".into(),
                json!({ "drawn": false, "reason": format!("{e:#}") }),
            );
        }
    }
    Ok(serde_json::Value::Object(report))
}

fn model_file(
    s: &FitSettings,
    data: &LoadedData,
    fit: &gmm_core::Fit,
    ctx: &RunContext<'_>,
) -> ModelFile {
    let (semi, init) = (ctx.semi, ctx.init);
    let r = &fit.report;
    let n_rows = fitted_rows(data, semi, ctx.held_out);
    // Weights from a weight column; those that only mark rows left out for
    // a missing value leave the fit unweighted.
    let weighted = s.data.weight_column.is_some();
    let summary = FitSummary::of(r, n_rows as u64, weighted, s.params.reg_covar);
    let mut file = ModelFile::new(&fit.model, data.columns.clone(), &summary);
    file.column_types = Some(data.column_types.clone());
    if let (Some(semi), Some(classes)) = (semi, &data.classes) {
        file.classes = Some(classes.names().to_vec());
        file.label_column = data.label_column.clone();
        file.label_type = data.class_type.as_ref().map(ToString::to_string);
        file.semi_supervised = Some(SemiSupervisedInfo {
            mode: semi.mode.to_string(),
            unlabeled_weight: semi.unlabeled_weight,
            n_labeled: data.n_labeled,
        });
    }
    file.provenance = Some(Provenance {
        tool: "gmm".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        // The day only, canonical paths, and the command without what does
        // not shape the model (output, threads, display): the same fit gives
        // a byte-identical model file from any directory, with any number
        // of threads (the full time and the command as typed are in run.json).
        created: gmm_io::utc_now_rfc3339()[..10].to_string(),
        input: Some(crate::config::canonical_input(&s.data.input)),
        labeled: s
            .data
            .labeled
            .as_deref()
            .map(crate::config::canonical_input),
        config: s.config_path.as_deref().map(crate::config::canonical_path),
        seed: Some(s.params.seed),
        n_init: Some(s.params.n_init),
        init: Some(if s.init_model.is_some() {
            format!("model ({init} for other restarts)")
        } else {
            init.to_string()
        }),
        best_restart: Some(r.best_restart),
        command: s.command.clone(),
        precision: (data.dataset.precision() != Precision::F64).then(|| data.dataset.precision()),
    });
    file
}
