//! The Arrow IPC reader on any bytes, written to an `.arrow` file: open,
//! project, read whole and in batches, and decode the labels (see
//! `binary_table.rs`). Errors are fine, and so are decoder panics gmm-io
//! catches and turns into errors; a panic that escapes is a finding.
//!
//! gmm-io tells an IPC file from an IPC stream by its content, not its
//! extension (it tries the file format, then the stream format, for
//! `.arrow`, `.arrows`, `.feather` and `.ipc` alike), so the whole input is
//! the file and both formats are reached through the seeds: `corpus/
//! ipc_reader` holds IPC files and IPC streams.

#![no_main]

mod binary_table;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    binary_table::fuzz(data, "arrow");
});
