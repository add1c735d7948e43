//! The CSV reader on any bytes: open, project (every numeric column; and
//! the first column as labels, the last as weights), read whole and in
//! batches, and decode the labels. Errors are fine; a panic is a finding.
//! The first byte picks the delimiter.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use gmm_io::{Classes, ColumnSpec, TableSource, label_values};
use libfuzzer_sys::fuzz_target;

/// One scratch file per fuzzing process.
fn scratch() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| std::env::temp_dir().join(format!("gmm-fuzz-{}.csv", std::process::id())))
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    let path = scratch();
    std::fs::write(path, bytes).unwrap();
    let delimiter = [None, Some(b'\t'), Some(b';')][usize::from(mode % 3)];
    let Ok(source) = TableSource::open(path, delimiter) else {
        return;
    };
    let names: Vec<String> = source
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let labeled = ColumnSpec {
        label: names.first().cloned(),
        weight: names.last().cloned().filter(|_| names.len() > 1),
        ..ColumnSpec::default()
    };
    for spec in [ColumnSpec::default(), labeled] {
        let Ok(projection) = source.project(&spec) else {
            continue;
        };
        if let Ok(table) = source.read_all(&projection) {
            assert_eq!(table.x.len(), table.n_rows * table.columns.len());
            if let Some(labels) = &table.labels
                && let Ok(values) = label_values(&names[0], labels)
            {
                let classes = Classes::from_values(&values);
                let _ = classes.encode(&values);
            }
        }
        if let Ok(batches) = source.batches(&projection, 7) {
            for batch in batches {
                if batch.is_err() {
                    break;
                }
            }
        }
    }
});
