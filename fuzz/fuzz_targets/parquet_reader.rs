//! The Parquet reader on any bytes, written to a `.parquet` file: open,
//! project, read whole and in batches, and decode the labels (see
//! `binary_table.rs`). Errors are fine, and so are decoder panics gmm-io
//! catches and turns into errors; a panic that escapes is a finding.

#![no_main]

mod binary_table;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    binary_table::fuzz(data, "parquet");
});
