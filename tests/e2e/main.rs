//! End-to-end tests: the real `gmm` binary on the shipped configs and data,
//! and on bad input, checking outputs, exit codes and messages.

mod common;
mod fit;
mod predict;
