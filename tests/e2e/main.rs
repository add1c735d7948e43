//! End-to-end tests: the real `gmm` binary on the shipped configs and data,
//! and on bad input, checking outputs, exit codes and messages.

mod architecture;
mod bad_input;
mod cli;
mod common;
mod faults;
mod fit;
mod golden;
mod hostile;
mod inspect;
mod interrupts;
mod join;
mod large;
mod logs;
mod marginalize;
mod messages;
mod missing;
#[cfg(feature = "mpi")]
mod mpi;
mod noise;
mod outliers;
mod outofcore;
mod partitions;
mod plots;
mod precision;
mod predict;
mod publish;
mod readme;
mod reproducible;
mod run_file;
mod s3;
mod sample;
mod select;
