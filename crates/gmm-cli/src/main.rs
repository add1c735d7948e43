//! The `gmm` binary: thin glue between the command line, gmm-io and gmm-core.

mod checkpoint;
mod commands;
mod dataset;
mod distributed;
mod interrupt;
mod joblog;
mod plots;
mod progress;
mod rundir;
mod units;

use clap::Parser;
// The command line, the config file and the errors live in the library
// (`src/lib.rs`), where the fuzz targets reach them too.
use gmm_cli::{args, config, error};
use mimalloc::MiMalloc;

#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

/// `GMM_SIMD` caps the kernels' SIMD level (gmm-core reads it): a value it
/// does not take is refused rather than ignored.
fn check_simd_cap() -> Result<(), error::UsageError> {
    match std::env::var("GMM_SIMD") {
        Ok(v) if !matches!(v.as_str(), "" | "scalar" | "avx2") => Err(error::UsageError(format!(
            "GMM_SIMD={v}: it takes scalar or avx2 (a cap on the kernels' SIMD level); unset it to use the processor's best"
        ))),
        _ => Ok(()),
    }
}

fn main() {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version print and exit 0; usage errors exit 2.
            e.exit();
        }
    };
    // Ctrl-C and SIGTERM set a flag that every phase checks, from the start
    // (loading included), so that each ends with status 130 and a message.
    interrupt::interrupt_flag();
    let command = match &cli.command {
        args::Command::Fit(_) => "fit",
        args::Command::Select(_) => "select",
        args::Command::Predict(_) => "predict",
        args::Command::Score(_) => "score",
        args::Command::Sample(_) => "sample",
        args::Command::Inspect(_) => "inspect",
    };
    let comm = distributed::start();
    quiet_panics(comm);
    // After a panic the process only reports it and exits: nothing the
    // closure touched (the transport included) is used again.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        check_simd_cap()?;
        match cli.command {
        args::Command::Fit(a) => commands::fit::run(a, comm),
        args::Command::Select(a) => commands::select::run(a, comm),
        // Only fits and selections are shared among processes; anything
        // else started by mpirun would run N times over the same files.
        _ if comm.is_some_and(|c| gmm_core::Collective::size(c) > 1) => {
            Err(error::UsageError(
                "only `gmm fit` and `gmm select` run under mpirun; run the other commands as one process".into(),
            )
            .into())
        }
        args::Command::Predict(a) => commands::predict::run(a),
        args::Command::Score(a) => commands::score::run(a),
        args::Command::Sample(a) => commands::sample::run(a),
        args::Command::Inspect(a) => commands::inspect::run(a),
    }
    }));
    let Ok(result) = result else {
        // The panic hook has said what happened.
        exit(1);
    };
    if let Err(err) = result {
        // The batch log ends here: the error is its last line.
        joblog::stop();
        if error::is_broken_pipe(&err) {
            // `gmm inspect m.json | head`: the reader has all it wanted.
            exit(0);
        }
        let code = error::exit_code(&err);
        // Under mpirun every rank has the same error: rank 0 says it.
        if distributed::is_root(comm) {
            let chain: Vec<String> = err.chain().map(|e| e.to_string()).collect();
            let message = if error::is_plain_interruption(&err) {
                format!("gmm {command} was interrupted; nothing was written")
            } else {
                chain.join(": ")
            };
            eprintln!("error: {}", one_line(&message));
        }
        exit(code);
    }
    distributed::finish();
}

/// Leaves the MPI job, if any, and exits.
fn exit(code: i32) -> ! {
    distributed::finish();
    std::process::exit(code);
}

/// An error is one line, whatever it quotes (a CSV field with a line break,
/// a library's multi-line text): control characters are written escaped.
fn one_line(message: &str) -> String {
    message
        .trim_end()
        .chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// A bug is reported in one line, not a backtrace, unless RUST_BACKTRACE asks.
fn quiet_panics(comm: Option<&'static dyn distributed::Transport>) {
    if std::env::var_os("RUST_BACKTRACE").is_some() {
        return;
    }
    std::panic::set_hook(Box::new(move |info| {
        // A damaged file's decoder: gmm-io reports it as an error.
        if gmm_io::catching_decoder_panics() {
            return;
        }
        let payload = info.payload();
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "error: internal error: {}{place}; this is a bug in gmm, please report it (RUST_BACKTRACE=1 shows where it happened)",
            one_line(&msg)
        );
        // The other processes of an MPI job may be waiting for this one.
        if let Some(c) = comm
            && gmm_core::Collective::size(c) > 1
        {
            c.abort(1);
        }
    }));
}
