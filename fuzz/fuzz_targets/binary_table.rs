//! What the `parquet_reader` and `ipc_reader` targets do with the fuzzer's
//! bytes: write them to a scratch file of the format's extension, open it,
//! project it three ways, read it whole and in batches of 7 rows, and decode
//! the labels. Errors are fine; a panic that reaches the caller is a
//! finding, and so is a table read whole that differs from the same table
//! read in batches.
//!
//! A panic gmm-io catches is not a finding: its readers run the Arrow and
//! Parquet decoders under `catch_unwind` (`format::no_panic`) and answer a
//! decoder panic with an error, as they must, since those crates panic on
//! some corrupt files. libFuzzer's panic hook aborts on every panic, caught
//! or not, so [`fuzz`] replaces it with one that notes the panic (and
//! prints each new place once, to list the decoder panics gmm-io absorbs)
//! and aborts only when a panic escapes `read_every_way`, after printing it
//! with its backtrace.

use std::backtrace::Backtrace;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Mutex, Once, OnceLock};

use gmm_io::arrow::array::ArrayRef;
use gmm_io::{Classes, ColumnSpec, TableSource, is_numeric, label_values};

/// One scratch file per fuzzing process, `gmm-fuzz-PID.EXTENSION`.
fn scratch(extension: &str) -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        std::env::temp_dir().join(format!("gmm-fuzz-{}.{extension}", std::process::id()))
    })
}

/// Decodes labels into classes as a fit does.
fn decode_labels(column: &str, labels: &ArrayRef, n_rows: usize) {
    assert_eq!(labels.len(), n_rows);
    if let Ok(values) = label_values(column, labels) {
        assert_eq!(values.len(), n_rows);
        let classes = Classes::from_values(&values);
        let _ = classes.encode(&values);
    }
}

/// The three projections: every numeric column; the first non-numeric
/// column as labels, the last other numeric column as weights, the last
/// other non-numeric column as ids; the last non-numeric column as labels
/// and the first numeric column, by name, as the one feature.
fn specs(source: &TableSource) -> Vec<ColumnSpec> {
    let schema = source.schema();
    let fields = schema.fields();
    let name = |i: usize| fields[i].name().clone();
    let numeric: Vec<usize> = (0..fields.len())
        .filter(|&i| is_numeric(fields[i].data_type()))
        .collect();
    let other: Vec<usize> = (0..fields.len()).filter(|i| !numeric.contains(i)).collect();
    let mut out = vec![ColumnSpec::default()];
    if fields.is_empty() {
        return out;
    }
    let label = other.first().copied().unwrap_or(0);
    let weight = numeric
        .iter()
        .rev()
        .copied()
        .find(|&i| i != label)
        .filter(|_| numeric.iter().filter(|&&i| i != label).count() > 1);
    let id = other.iter().rev().copied().find(|&i| i != label);
    out.push(ColumnSpec {
        label: Some(name(label)),
        weight: weight.map(name),
        ids: id.map(name).into_iter().collect(),
        ..ColumnSpec::default()
    });
    let label = other.last().copied().unwrap_or(fields.len() - 1);
    if let Some(&feature) = numeric.first()
        && feature != label
    {
        out.push(ColumnSpec {
            features: vec![name(feature)],
            label: Some(name(label)),
            ..ColumnSpec::default()
        });
    }
    out
}

/// The last panic: where, what, and its backtrace.
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

/// Replaces libFuzzer's abort-on-any-panic hook (see the module comment).
fn note_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            static PLACES: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
            let payload = info.payload();
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(not a string)".into());
            let place = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()))
                .unwrap_or_default();
            let new = PLACES
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(place.clone());
            if new {
                eprintln!("gmm-fuzz: panic at {place}: {what} (first at this place; a finding only if it escapes)");
            }
            let thread = std::thread::current().name().unwrap_or("<unnamed>").to_string();
            *LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()) = Some(format!(
                "thread '{thread}' panicked at {place}:\n{what}\n{}",
                Backtrace::force_capture()
            ));
        }));
    });
}

/// Runs one input through the reader of the format of `extension`
/// (`parquet`, `arrow`, ...); aborts, for libFuzzer to record the input,
/// when a panic escapes the reader.
pub fn fuzz(bytes: &[u8], extension: &str) {
    note_panics();
    let run = std::panic::catch_unwind(|| read_every_way(bytes, extension));
    if run.is_err() {
        let last = LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()).take();
        eprintln!(
            "gmm-fuzz: a panic escaped the reader:\n{}",
            last.as_deref().unwrap_or("(no panic recorded)")
        );
        std::process::abort();
    }
}

/// Open, project, read whole and in batches, decode labels, compare.
fn read_every_way(bytes: &[u8], extension: &str) {
    let path = scratch(extension);
    std::fs::write(path, bytes).unwrap();
    let Ok(source) = TableSource::open(path, None) else {
        return;
    };
    for spec in specs(&source) {
        let Ok(projection) = source.project(&spec) else {
            continue;
        };
        let d = projection.n_features();
        let table = source.read_all(&projection).ok();
        if let Some(table) = &table {
            assert_eq!(table.columns.len(), d);
            assert_eq!(table.x.len(), table.n_rows * d);
            if let Some(w) = &table.weights {
                assert_eq!(w.len(), table.n_rows);
            }
            if let Some(labels) = &table.labels {
                decode_labels(spec.label.as_deref().unwrap(), labels, table.n_rows);
            }
            if let Some(ids) = &table.passthrough {
                assert_eq!(ids.len(), table.n_rows);
            }
        }
        let Ok(batches) = source.batches(&projection, 7) else {
            assert!(table.is_none(), "read whole, but batches cannot start");
            continue;
        };
        let mut rows = 0;
        let mut x = Vec::new();
        for batch in batches {
            let batch = match batch {
                Ok(b) => b,
                Err(e) => {
                    assert!(table.is_none(), "read whole, but batch at row {rows}: {e}");
                    break;
                }
            };
            assert_eq!(batch.first_row, rows);
            assert!(batch.n_rows <= 7);
            assert_eq!(batch.x.len(), batch.n_rows * d);
            if let Some(labels) = &batch.labels {
                decode_labels(spec.label.as_deref().unwrap(), labels, batch.n_rows);
            }
            rows += batch.n_rows;
            if table.is_some() {
                x.extend_from_slice(&batch.x);
            }
        }
        if let Some(table) = &table {
            assert_eq!(rows, table.n_rows, "rows read whole and in batches");
            // Bit for bit: a table's values are finite.
            assert!(
                x.iter()
                    .map(|v| v.to_bits())
                    .eq(table.x.values().iter().map(|v| v.to_bits())),
                "values read whole and in batches differ"
            );
        }
    }
}
