//! `gmm fit`: load, fit, and write the run directory.

mod summary;

use std::io::Write;
use std::time::Instant;

use anyhow::Result;
use gmm_core::{FitParams, GaussianMixture, SemiSupervised, SemiSupervisedMode};
use gmm_io::load::Processes;
use gmm_io::{ModelFile, OutputSet};

use crate::args::FitArgs;
use crate::checkpoint;
use crate::config::{ConfigFile, DataSettings, FitSettings, SemiChoice, Split, setting_error};
use crate::dataset::{self, LoadedData};
use crate::distributed;
use crate::error::UsageError;
use crate::progress::{FitProgress, Verbosity, thousands};
use crate::rundir::{RunContext, Timings, send_predictions, write_run};
use summary::{summary_json, write_summary};

/// Progress, plus checkpoints written to the run directory.
struct Observer {
    progress: FitProgress,
    /// Run directory and fingerprint, when checkpointing.
    checkpoint: Option<(std::path::PathBuf, String)>,
    /// A checkpoint that could not be written stops the fit.
    failure: Option<anyhow::Error>,
    /// When each iteration's pass ended (for the time per iteration).
    iteration_ends: Vec<Instant>,
    /// When the last restart was initialized.
    initialized: Option<Instant>,
}

impl gmm_core::FitObserver for Observer {
    fn restart_initializing(&mut self, restart: usize) {
        self.progress.restart_initializing(restart);
    }
    fn init_progress(&self) -> Option<std::sync::Arc<gmm_core::InitProgress>> {
        self.progress.init_progress()
    }
    fn restart_initialized(&mut self, restart: usize, description: &str) {
        if self.iteration_ends.is_empty() {
            self.initialized = Some(Instant::now());
        }
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
pub fn run(args: FitArgs, comm: Option<&dyn distributed::Transport>) -> Result<()> {
    let cfg = match &args.config {
        Some(p) => ConfigFile::load(p)?,
        None => ConfigFile::default(),
    };
    if comm.is_none() && args.split.is_some() {
        return Err(UsageError(format!(
            "--split shares the work among processes started by mpirun, but {}; leave --split out",
            distributed::why_single()
        ))
        .into());
    }
    let mut s = FitSettings::resolve(&args, &cfg)?;
    s.command = Some(crate::config::model_command("fit", &args, &[]));
    let place = crate::rundir::remote_out(&mut s)?;
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
    crate::rundir::check_run_dir(&s, crate::rundir::RUN_FILES)?;
    crate::joblog::start("fit", s.log, verbosity.quiet);
    check_copied_columns(&s, s.params.n_components)?;
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
        initialization: run.initialization_seconds,
        first_iteration: run.first_iteration_seconds,
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
            held_out: 0,
        },
        &run.fit,
        timings,
        dir,
        &mut outputs,
    )
    // Ctrl-C while the outputs were written: publish none of them.
    .and_then(|m| crate::interrupt::check_interrupted().map(|_| m))
    .and_then(|m| outputs.commit().map(|_| m).map_err(anyhow::Error::from))
    // A run directory at a URL: uploaded before the other ranks learn
    // that rank 0 published, so that a failed upload fails them all.
    .and_then(|m| {
        if place.is_remote() {
            crate::joblog::phase("upload", || crate::rundir::shown_out(&s));
            place.publish_dir(crate::rundir::RUN_FILES)?;
        }
        Ok(m)
    });
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
    crate::joblog::finish();
    verbosity.log(|| {
        format!(
            "wrote {} in {:.2} s",
            crate::rundir::shown_out(&s),
            started.elapsed().as_secs_f64()
        )
    });

    let shown = crate::rundir::shown_out(&s);
    let dir = std::path::Path::new(&shown);
    let warnings = super::result_warnings(
        &run.fit.report,
        model_file.n_parameters,
        model_file.n_rows,
        model_file.reg_covar,
    );
    super::print_warnings(&warnings);
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&summary_json(&model_file, &data, dir, &warnings))?
        )?;
    } else {
        write_summary(
            &mut out,
            &model_file,
            &run.fit.model,
            &run.fit.report,
            &data,
            dir,
        )?;
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
    if data.n_dropped > 0 && data.n_dropped == data.global_rows() {
        anyhow::bail!(
            "{}: every row ({}) misses a feature value; nothing is left to fit",
            s.data.input,
            data.n_dropped
        );
    }
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
        let (model, lower_bound) = read_init_model(path, &data.columns, &s.data.object_storage)?;
        params.init_model = Some(model);
        // A model file records the mixture's log-likelihood; a
        // semi-supervised fit's objective is another quantity.
        params.init_model_lower_bound = semi.is_none().then_some(lower_bound);
    }
    Ok(params)
}

/// A finished fit and how long it took.
pub(crate) struct FitRun {
    pub fit: gmm_core::Fit,
    pub seconds: f64,
    /// Seconds of each EM iteration after the first.
    pub iteration_seconds: Vec<f64>,
    /// Seconds until every restart had its start, and of the first
    /// iteration after that (`None` when resumed from a checkpoint).
    pub initialization_seconds: Option<f64>,
    pub first_iteration_seconds: Option<f64>,
}

/// Refuses, before any work, an id or kept column that has the name of a
/// column the predictions of a fit of up to `k` components write.
pub(crate) fn check_copied_columns(s: &FitSettings, k: usize) -> Result<(), UsageError> {
    let may_have_classes = s.data.label_column.is_some() || s.data.labeled.is_some();
    let copied = [&s.data.id_columns[..], &s.data.keep_columns[..]].concat();
    gmm_io::check_passthrough_columns(&copied, k, may_have_classes, s.params.noise)
        .map_err(UsageError)
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
        .with_interrupt(crate::interrupt::interrupt_flag());
    let mut observer = Observer {
        progress,
        checkpoint: fingerprint.map(|f| (s.out.clone(), f)),
        failure: None,
        iteration_ends: Vec::new(),
        initialized: None,
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
    let fit = fit.map_err(|e| crate::config::fit_error(e, &s.data))?;
    let seconds = started.elapsed().as_secs_f64();
    let iteration_seconds = observer
        .iteration_ends
        .windows(2)
        .map(|w| (w[1] - w[0]).as_secs_f64())
        .collect();
    let initialization_seconds = observer.initialized.map(|t| (t - started).as_secs_f64());
    let first_iteration_seconds = observer
        .initialized
        .zip(observer.iteration_ends.first())
        .map(|(a, &b)| (b - a).as_secs_f64());
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
        initialization_seconds,
        first_iteration_seconds,
    })
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
    if let gmm_core::GmmError::ValuesTooLarge { column, value } = *e {
        let name = data.columns.get(column).map_or("?", String::as_str);
        return anyhow::anyhow!(
            "{}: column `{name}` holds values as large as {value:e}, too large to compute with at this table's size (sums of their squares overflow); rescale the column, for example divide it by a power of ten",
            s.data.input
        );
    }
    if let gmm_core::GmmError::NothingObserved { column } = *e {
        let name = data.columns.get(column).map_or("?", String::as_str);
        return anyhow::anyhow!(
            "{}: column `{name}` has no value in any row the fit uses (with a positive weight), so --missing marginalize has nothing to integrate from; leave the column out with --columns",
            s.data.input
        );
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

/// The model of a warm start and the mean log-likelihood its fit ended with.
fn read_init_model(
    path: &str,
    columns: &[String],
    storage: &gmm_io::ObjectStorage,
) -> Result<(GaussianMixture, f64)> {
    let file = ModelFile::read_in(path, storage)?;
    if file.columns != columns {
        // A data mismatch (exit 1), as for `gmm predict` with such a model.
        anyhow::bail!(
            "{path}: the model was fitted on columns [{}] but the data has [{}]; choose the same columns (--columns), or fit without --init-model",
            file.columns.join(", "),
            columns.join(", ")
        );
    }
    let model = file
        .to_model()
        .map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
    Ok((model, file.mean_log_likelihood))
}
