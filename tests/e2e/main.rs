//! End-to-end tests: the real `gmm` binary on the shipped configs and data,
//! and on bad input, checking outputs, exit codes and messages.

mod cli;
mod common;
mod fit;
mod inspect;
mod large;
mod plots;
mod predict;
mod run_file;
mod sample;
