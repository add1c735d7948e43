//! `gmm fit`: load, fit, and write the run directory.

use std::io::Write;
use std::time::Instant;

use anyhow::Result;
use gmm_core::{FitParams, GaussianMixture, SemiSupervised, SemiSupervisedMode};
use gmm_io::load::Processes;
use gmm_io::{FitSummary, ModelFile, OutputSet, PredictionWriter, Provenance, SemiSupervisedInfo};
use serde_json::json;

use crate::args::FitArgs;
use crate::checkpoint;
use crate::config::{
    ConfigFile, DataSettings, FitSettings, SETTING_NAMES, SemiChoice, Split, setting_error,
};
use crate::dataset::{self, LoadedData, StorageJson};
use crate::distributed;
use crate::error::UsageError;
use crate::plots;
use crate::progress::{FitProgress, Verbosity, spinner, thousands};

/// Progress, plus checkpoints written to the run directory.
struct Observer {
    progress: FitProgress,
    /// Run directory and fingerprint, when checkpointing.
    checkpoint: Option<(std::path::PathBuf, String)>,
    /// A checkpoint that could not be written stops the fit.
    failure: Option<anyhow::Error>,
    /// When each iteration's pass ended (for the time per iteration).
    iteration_ends: Vec<Instant>,
}

impl gmm_core::FitObserver for Observer {
    fn restart_initialized(&mut self, restart: usize, description: &str) {
        self.progress.restart_initialized(restart, description);
    }
    fn iteration(&mut self, restart: usize, iteration: usize, mean: f64) {
        if iteration > self.iteration_ends.len() {
            self.iteration_ends.push(Instant::now());
        }
        self.progress.iteration(restart, iteration, mean);
    }
    fn restart_finished(&mut self, report: &gmm_core::RestartReport) {
        self.progress.restart_finished(report);
    }
    fn should_stop(&mut self) -> bool {
        self.failure.is_some() || self.progress.should_stop()
    }
    fn cancel_flag(&self) -> Option<std::sync::Arc<std::sync::atomic::AtomicBool>> {
        self.progress.cancel_flag()
    }
    fn checkpoint(&mut self, state: &gmm_core::FitState) {
        if let Some((dir, fingerprint)) = &self.checkpoint
            && let Err(e) = checkpoint::save(dir, fingerprint, state)
        {
            self.failure = Some(e);
        }
    }
}

/// Rows per batch when writing predictions.
const PREDICT_BATCH_ROWS: usize = 65_536;

pub fn run(args: FitArgs, comm: Option<&dyn distributed::Transport>) -> Result<()> {
    let cfg = match &args.config {
        Some(p) => ConfigFile::load(p)?,
        None => ConfigFile::default(),
    };
    let s = FitSettings::resolve(&args, &cfg)?;
    // Under mpirun only rank 0 talks.
    let verbosity = Verbosity {
        quiet: args.quiet || !distributed::is_root(comm),
        verbose: args.verbose && distributed::is_root(comm),
    };
    if comm.is_some() && (s.params.checkpoint_every.is_some() || s.resume) {
        return Err(UsageError(
            "--checkpoint and --resume are not available under mpirun; run without them".into(),
        )
        .into());
    }
    let threads = super::init_threads(s.threads)?;
    let started = Instant::now();
    let spread = comm.filter(|_| s.split == Split::Restarts);
    let data = load_data(&s, verbosity, comm, spread.is_none())?;
    let load_secs = started.elapsed().as_secs_f64();

    let semi = semi_supervision(&s, &data)?;
    let params = distributed::agree(comm, fit_params(&s, &data, semi))?;
    let fingerprint = (s.params.checkpoint_every.is_some() || s.resume)
        .then(|| checkpoint::fingerprint(&params, &s, &data));
    let resume = match &fingerprint {
        Some(f) if s.resume => {
            let state = checkpoint::load(&s.out, f)?;
            verbosity.log(|| format!("resuming after iteration {}", state.iteration));
            Some(state)
        }
        _ => None,
    };
    let params = params.check().map_err(setting_error)?;
    let spread = spread.map(|c| c as &dyn gmm_core::Collective);
    let view = data.view(comm.map(|c| c as &dyn gmm_core::Collective));
    let run = run_fit(
        &params,
        view,
        &s,
        verbosity,
        fingerprint,
        spread,
        resume.as_ref(),
    )
    .map_err(|e| explain_fit_error(e, &s, &data))?;

    if let Some(c) = comm
        && c.rank() > 0
    {
        // Rank 0 writes everything; when the rows are split, this rank
        // sends it the predictions of its share.
        if data.share.is_some()
            && let Err(e) = send_predictions(c, &run.fit.model, &data)
        {
            eprintln!("error: rank {}: {e:#}", c.rank());
            c.abort(crate::error::exit_code(&e));
        }
        // Whether rank 0 published.
        return distributed::agree(comm, Ok(()));
    }

    // Outputs, all published together at the end.
    let dir = &s.out;
    let mut outputs = OutputSet::new();
    let timings = Timings {
        load: load_secs,
        fit: run.seconds,
        iterations: run.iteration_seconds.clone(),
        ..Timings::default()
    };
    let written = write_run(
        &RunContext {
            s: &s,
            data: &data,
            semi,
            init: params.init_method().as_str(),
            threads,
            started,
            verbosity,
            comm,
        },
        &run.fit,
        timings,
        dir,
        &mut outputs,
    )
    // Ctrl-C while the outputs were written: publish none of them.
    .and_then(|m| super::check_interrupted().map(|_| m))
    .and_then(|m| outputs.commit().map(|_| m).map_err(anyhow::Error::from));
    let model_file = match (written, comm) {
        (Ok(m), _) => m,
        (Err(e), None) => return Err(e),
        // The other ranks may be waiting to send predictions: end them all.
        (Err(e), Some(c)) => {
            let chain: Vec<String> = e.chain().map(|x| x.to_string()).collect();
            eprintln!("error: {}", chain.join(": "));
            c.abort(crate::error::exit_code(&e));
        }
    };
    distributed::agree(comm, Ok(()))?;
    // The run is complete: nothing to resume any more.
    checkpoint::remove(dir);
    verbosity.log(|| {
        format!(
            "wrote {} in {:.2} s",
            dir.display(),
            started.elapsed().as_secs_f64()
        )
    });

    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&summary_json(&model_file, dir))?
        )?;
    } else {
        write_summary(&mut out, &model_file, &run.fit.model, &run.fit.report, dir)?;
    }
    Ok(())
}

/// Loads the job's rows, with a progress display. Under mpirun (`comm`),
/// each process loads its share of the rows when `share_rows`, else the
/// whole table (in memory: the processes would race to build one cache).
pub(crate) fn load_data(
    s: &FitSettings,
    verbosity: Verbosity,
    comm: Option<&dyn distributed::Transport>,
    share_rows: bool,
) -> Result<LoadedData> {
    let started = Instant::now();
    let processes = match comm {
        None => Processes::One,
        Some(c) if share_rows => Processes::RowShares {
            comm: c,
            chunk_rows: s.params.chunk_rows,
        },
        Some(c) => Processes::Replicated(c),
    };
    // The cache lives beside the run directory unless told otherwise.
    let spec = DataSettings {
        cache_dir: Some(s.data.cache_dir.clone().unwrap_or_else(|| {
            s.out
                .parent()
                .unwrap_or(std::path::Path::new(""))
                .join(gmm_io::load::DEFAULT_CACHE_DIR)
        })),
        ..s.data.clone()
    };
    let data = dataset::load(&spec, processes, verbosity)?;
    let load_secs = started.elapsed().as_secs_f64();
    verbosity.log(|| {
        format!(
            "loaded {} rows x {} columns ({}) in {load_secs:.2} s",
            thousands(data.global_rows() as u64),
            data.columns.len(),
            data.columns.join(", ")
        )
    });
    Ok(data)
}

/// The engine's settings for `s` (not yet checked).
pub(crate) fn fit_params(
    s: &FitSettings,
    data: &LoadedData,
    semi: Option<SemiSupervised>,
) -> Result<FitParams> {
    let mut params = s.params.clone();
    params.semi_supervised = semi;
    if let Some(path) = &s.init_model {
        params.init_model = Some(read_init_model(path, &data.columns)?);
    }
    Ok(params)
}

/// A finished fit and how long it took.
pub(crate) struct FitRun {
    pub fit: gmm_core::Fit,
    pub seconds: f64,
    /// Seconds of each EM iteration after the first (which follows
    /// initialization).
    pub iteration_seconds: Vec<f64>,
}

/// Fits with progress on standard error, interruption and checkpoints.
pub(crate) fn run_fit(
    params: &gmm_core::ValidFitParams,
    view: gmm_core::DataView<'_>,
    s: &FitSettings,
    verbosity: Verbosity,
    fingerprint: Option<String>,
    spread: Option<&dyn gmm_core::Collective>,
    resume: Option<&gmm_core::FitState>,
) -> Result<FitRun> {
    let p = params.params();
    let started = Instant::now();
    let progress = FitProgress::new(verbosity, p.n_init, p.max_iter, view.global_rows())
        .with_interrupt(super::interrupt_flag());
    let mut observer = Observer {
        progress,
        checkpoint: fingerprint.map(|f| (s.out.clone(), f)),
        failure: None,
        iteration_ends: Vec::new(),
    };
    // Resuming is refused under mpirun, so a saved state comes alone.
    let fit = match (spread, resume) {
        (None, None) => params.fit(view, &mut observer),
        (None, Some(state)) => params.resume(view, state, &mut observer),
        (Some(comm), _) => params.fit_spread_restarts(view, comm, &mut observer),
    };
    observer.progress.finish();
    if let Some(e) = observer.failure {
        return Err(e.context("writing a checkpoint"));
    }
    let fit = fit?;
    let seconds = started.elapsed().as_secs_f64();
    let iteration_seconds = observer
        .iteration_ends
        .windows(2)
        .map(|w| (w[1] - w[0]).as_secs_f64())
        .collect();
    verbosity.log(|| {
        format!(
            "fitted {} restart(s) in {seconds:.2} s; restart {} chosen",
            p.n_init, fit.report.best_restart
        )
    });
    Ok(FitRun {
        fit,
        seconds,
        iteration_seconds,
    })
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
    let phase = Instant::now();
    let writing = spinner(verbosity, "writing predictions");
    let pred_path = dir.join(format!("predictions.{}", s.predictions_format.extension()));
    outputs.add(write_predictions(
        &fit.model,
        data,
        &pred_path,
        s.predictions_format,
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
        let plots = draw_plots(fit, data, dir, outputs)?;
        drawing.finish_and_clear();
        plots
    } else {
        json!({ "drawn": false, "reason": "plots are off (--no-plots or [output] plots = false)" })
    };
    timings.plots = phase.elapsed().as_secs_f64();

    let phase = Instant::now();
    let model_file = model_file(s, data, fit, ctx.semi, ctx.init);
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
    Ok(model_file)
}

/// Seconds spent in each phase of a fit.
#[derive(Debug, Default, Clone)]
pub(crate) struct Timings {
    pub load: f64,
    pub fit: f64,
    /// Seconds of each EM iteration after the first.
    pub iterations: Vec<f64>,
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
    dir: &std::path::Path,
    outputs: &mut OutputSet,
) -> Result<serde_json::Value> {
    let mut report = serde_json::Map::new();
    match plots::trace_svg(&fit.report) {
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

/// Semi-supervised when labels are present, unless switched off.
pub(crate) fn semi_supervision(
    s: &FitSettings,
    data: &LoadedData,
) -> Result<Option<SemiSupervised>> {
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

/// The engine's errors told with what the binary knows: the classes' names
/// (the engine knows only their indices), and the checkpoint an
/// interrupted run can resume from.
fn explain_fit_error(err: anyhow::Error, s: &FitSettings, data: &LoadedData) -> anyhow::Error {
    let Some(e) = err.downcast_ref::<gmm_core::GmmError>() else {
        return err;
    };
    if matches!(e, gmm_core::GmmError::Interrupted) {
        let saved = checkpoint::path(&s.out);
        return if s.params.checkpoint_every.is_some() && saved.exists() {
            crate::error::Interrupted(format!(
                "{e}; {} holds the last checkpoint: run the same command with --resume to go on",
                saved.display()
            ))
            .into()
        } else {
            err
        };
    }
    let Some(classes) = &data.classes else {
        return err;
    };
    let table = s.data.labeled.as_deref().unwrap_or(&s.data.input);
    let column = data.label_column.as_deref().unwrap_or("label");
    match *e {
        gmm_core::GmmError::TooFewComponents {
            components,
            n_classes,
        } => anyhow::anyhow!(
            "{table}: label column `{column}` holds {n_classes} classes ({}) but {components} components were asked for; each class needs its own component: ask for at least {n_classes} (-k/--components)",
            classes.names().join(", ")
        ),
        gmm_core::GmmError::EmptyClass { class } => anyhow::anyhow!(
            "{table}: class `{}` of label column `{column}` has no labeled row with positive weight; every class needs at least one",
            classes.names().get(class).map_or("?", String::as_str)
        ),
        _ => err,
    }
}

fn read_init_model(path: &str, columns: &[String]) -> Result<GaussianMixture> {
    let file = ModelFile::read(path)?;
    if file.columns != columns {
        // A data mismatch (exit 1), as for `gmm predict` with such a model.
        anyhow::bail!(
            "{path}: the model was fitted on columns [{}] but the data has [{}]; choose the same columns (--columns), or fit without --init-model",
            file.columns.join(", "),
            columns.join(", ")
        );
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
        data.global_rows() - data.n_labeled
    } else {
        data.global_rows()
    };
    let summary = FitSummary {
        mean_log_likelihood: r.mean_log_likelihood,
        n_iter: r.n_iter,
        converged: r.converged,
        bic: r.bic,
        aic: r.aic,
        n_rows: n_rows as u64,
        total_weight: data.dataset.weights().map(|_| r.n_rows),
        reg_covar: s.params.reg_covar,
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
        // The day only, and no command line: the same config and seed give
        // a byte-identical model file (the full time and command are in run.json).
        created: gmm_io::utc_now_rfc3339()[..10].to_string(),
        input: Some(s.data.input.clone()),
        labeled: s.data.labeled.clone(),
        config: s.config_path.as_ref().map(|p| p.display().to_string()),
        seed: Some(s.params.seed),
        n_init: Some(s.params.n_init),
        init: Some(if s.init_model.is_some() {
            format!("model ({init} for other restarts)")
        } else {
            init.to_string()
        }),
        best_restart: Some(r.best_restart),
        command: None,
    });
    file
}

/// Predictions of the input rows, batch by batch.
fn write_predictions(
    model: &GaussianMixture,
    data: &LoadedData,
    path: &std::path::Path,
    format: gmm_io::OutputFormat,
    comm: Option<&dyn distributed::Transport>,
) -> Result<gmm_io::PendingFile> {
    let mut writer =
        PredictionWriter::create(path, format, model.n_components(), data.id_field.clone())?;
    let view = data.dataset.view().without_labels();
    let mut start = 0;
    while start < data.n_input_rows {
        super::check_interrupted()?;
        let end = (start + PREDICT_BATCH_ROWS).min(data.n_input_rows);
        let proba = model.predict_proba(view.slice_rows(start, end))?;
        let ids = data.ids.as_ref().map(|a| a.slice(start, end - start));
        writer.write(ids.as_ref(), proba.as_slice().expect("row-major"))?;
        start = end;
    }
    // Rows split under mpirun: the other ranks' rows follow, in rank order.
    if let (Some(c), Some(_)) = (comm, data.share) {
        let k = model.n_components();
        for r in 1..c.size() {
            loop {
                super::check_interrupted()?;
                let Some((ids, proba)) = decode_predictions(&c.recv_bytes(r), k)? else {
                    break;
                };
                writer.write(ids.as_ref(), &proba)?;
            }
        }
    }
    Ok(writer.finish()?)
}

/// Sends this rank's predictions to rank 0, batch by batch, then an end mark.
fn send_predictions(
    c: &dyn distributed::Transport,
    model: &GaussianMixture,
    data: &LoadedData,
) -> Result<()> {
    let view = data.dataset.view().without_labels();
    let mut start = 0;
    while start < data.n_input_rows {
        let end = (start + PREDICT_BATCH_ROWS).min(data.n_input_rows);
        let proba = model.predict_proba(view.slice_rows(start, end))?;
        let ids = data.ids.as_ref().map(|a| a.slice(start, end - start));
        let mut msg = gmm_core::wire::Writer::new();
        msg.bool(true);
        msg.f64s(proba.as_slice().expect("row-major"));
        msg.bool(ids.is_some());
        if let Some(ids) = ids {
            let schema = std::sync::Arc::new(gmm_io::arrow::datatypes::Schema::new(vec![
                gmm_io::arrow::datatypes::Field::new("id", ids.data_type().clone(), true),
            ]));
            let batch = gmm_io::arrow::array::RecordBatch::try_new(schema.clone(), vec![ids])?;
            let mut ipc = Vec::new();
            let mut w = gmm_io::arrow::ipc::writer::StreamWriter::try_new(&mut ipc, &schema)?;
            w.write(&batch)?;
            w.finish()?;
            drop(w);
            msg.bytes(&ipc);
        }
        c.send_bytes(0, msg.as_bytes());
        start = end;
    }
    let mut end = gmm_core::wire::Writer::new();
    end.bool(false);
    c.send_bytes(0, end.as_bytes());
    Ok(())
}

/// A batch of another rank's predictions: its ids (if any) and
/// probabilities, or `None` at the end mark.
#[allow(clippy::type_complexity)]
fn decode_predictions(
    msg: &[u8],
    k: usize,
) -> Result<Option<(Option<gmm_io::arrow::array::ArrayRef>, Vec<f64>)>> {
    let mut r = gmm_core::wire::Reader::new(msg);
    if !r.bool()? {
        return Ok(None);
    }
    let proba = r.f64s()?;
    if proba.len() % k != 0 {
        anyhow::bail!("{} probabilities are not rows of {k}", proba.len());
    }
    let ids = if r.bool()? {
        let mut reader = gmm_io::arrow::ipc::reader::StreamReader::try_new(
            std::io::Cursor::new(r.bytes()?),
            None,
        )?;
        let batch = reader.next().transpose()?.expect("one batch");
        Some(batch.column(0).clone())
    } else {
        None
    };
    r.finish()?;
    Ok(Some((ids, proba)))
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

/// run.json: everything needed to understand or repeat the run.
#[allow(clippy::too_many_arguments)]
fn run_json(
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
            "weighted": data.dataset.weights().is_some(),
            "storage": data.storage.to_json(),
            "classes": data.classes.as_ref().map(|c| c.names().to_vec()),
        },
        "timings_seconds": {
            "load": timings.load,
            "fit": timings.fit,
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
/// serialize, each under the section and key `SETTING_NAMES` gives it (the
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
    for name in SETTING_NAMES {
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
        "id_column": s.data.id_column,
        "labeled": s.data.labeled,
        "delimiter": s.data.delimiter.map(|d| (d as char).to_string()),
        "max_memory": s.data.max_memory,
        "cache_dir": s.data.cache_dir,
    });
    sections["output"] = json!({
        "dir": s.out,
        "predictions_format": s.predictions_format.extension(),
        "plots": s.plots,
    });
    sections["engine"] = serde_json::Value::Object(engine);
    sections
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
    report: &gmm_core::FitReport,
    dir: &std::path::Path,
) -> Result<()> {
    writeln!(out, "run directory        {}", dir.display())?;
    writeln!(out, "covariance           {}", file.covariance_type)?;
    writeln!(out, "components           {}", model.n_components())?;
    writeln!(out, "rows                 {}", file.n_rows)?;
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
    for line in event_lines(report) {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// Why the fit stopped before every restart had finished, if it did: its
/// time budget (`max_seconds`) ran out.
fn stop_reason(report: &gmm_core::FitReport) -> Option<String> {
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
