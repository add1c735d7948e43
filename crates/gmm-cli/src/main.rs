//! The `gmm` binary: thin glue between the command line, gmm-io and gmm-core.

mod args;
mod commands;
mod config;
mod dataset;
mod error;
mod progress;

use clap::Parser;
use mimalloc::MiMalloc;

#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

fn main() {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version print and exit 0; usage errors exit 2.
            e.exit();
        }
    };
    let result = match cli.command {
        args::Command::Fit(a) => commands::fit::run(a),
        args::Command::Predict(a) => commands::predict::run(a),
        args::Command::Score(a) => commands::score::run(a),
    };
    if let Err(err) = result {
        let code = error::exit_code(&err);
        let chain: Vec<String> = err.chain().map(|e| e.to_string()).collect();
        eprintln!("error: {}", chain.join(": "));
        std::process::exit(code);
    }
}
