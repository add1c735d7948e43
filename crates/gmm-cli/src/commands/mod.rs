pub mod fit;
pub mod inspect;
pub mod predict;
pub mod sample;
pub mod score;
pub mod select;

use anyhow::Result;

/// The most worker threads a command starts.
pub const MAX_THREADS: usize = 4096;

/// Sets the worker thread count for the whole process (all cores by default).
pub fn init_threads(threads: Option<usize>) -> Result<usize> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(t) = threads {
        if t > MAX_THREADS {
            return Err(crate::error::UsageError(format!(
                "--threads / [fit] threads: {t} is more than the {MAX_THREADS} threads gmm starts; give at most the machine's cores ({})",
                std::thread::available_parallelism().map_or(1, |n| n.get())
            ))
            .into());
        }
        b = b.num_threads(t);
    }
    b.build_global()
        .map_err(|e| anyhow::anyhow!("cannot start the worker threads: {e}"))?;
    Ok(rayon::current_num_threads())
}

/// The start of `predict` and `score`: worker threads and the batch log.
pub(crate) fn start_streaming(args: &crate::args::StreamArgs, command: &'static str) -> Result<()> {
    init_threads(args.threads)?;
    let log = crate::config::LogSettings::from_flags(
        args.log_format.as_ref(),
        args.log_interval.as_ref(),
        &crate::config::RawOutput::default(),
    )?;
    crate::joblog::start(command, log, args.quiet);
    Ok(())
}

/// The table `input` of `predict` and `score`, with their delimiter and
/// filter, stopped by Ctrl-C.
pub(crate) fn open_streamed(
    args: &crate::args::StreamArgs,
    input: &str,
) -> Result<gmm_io::TableSource> {
    let delimiter = args
        .delimiter
        .as_deref()
        .map(crate::config::parse_delimiter)
        .transpose()?;
    let filter = args
        .filter
        .as_deref()
        .map(|f| crate::config::parse_filter(f, "--filter".into()))
        .transpose()?;
    Ok(
        gmm_io::TableSource::open_filtered(input, delimiter, filter.as_ref())?
            .with_stop(Some(crate::interrupt::interrupt_flag())),
    )
}

/// What may make a fit's result mislead, one sentence each: printed on
/// standard error as `warning: ...` and listed under `warnings` in the
/// `--json` summaries of `fit` and `select`.
pub(crate) fn result_warnings(
    report: &gmm_core::FitReport,
    n_parameters: usize,
    n_rows: u64,
    reg_covar: f64,
) -> Vec<String> {
    let mut warnings = Vec::new();
    if n_parameters as u64 >= n_rows {
        warnings.push(format!(
            "the model has {n_parameters} free parameters for {n_rows} rows: with as many parameters as rows or more it can fit the rows exactly, so its log-likelihood, BIC and AIC say little; use fewer components, a simpler covariance type or more rows"
        ));
    }
    let floor = report
        .restarts
        .get(report.best_restart)
        .is_some_and(|r| r.regularizations > 0);
    if floor {
        warnings.push(format!(
            "a covariance of the chosen fit is positive definite only thanks to reg_covar = {reg_covar:e}: a component sits at the variance floor (too few rows, or a constant or duplicated column), which the log-likelihood rewards for nothing; look at the components' variances (gmm inspect) or use fewer components"
        ));
    }
    warnings
}

/// Prints [`result_warnings`] on standard error.
pub(crate) fn print_warnings(warnings: &[String]) {
    for w in warnings {
        eprintln!("warning: {w}");
    }
}
