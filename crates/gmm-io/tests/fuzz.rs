//! Property tests: readers and the model-file parser answer any input with
//! a value or an error, never a panic.

mod common;

use std::path::Path;
use std::sync::OnceLock;

use gmm_core::{CovarianceType, Covariances, GaussianMixture};
use gmm_io::{ColumnSpec, FitSummary, ModelFile, TableSource};
use ndarray::array;
use proptest::prelude::*;
use serde_json::Value;

/// Reads the whole table at `path` every way there is; returns whether
/// the read succeeded (panics propagate to proptest).
fn read_every_way(path: &Path) -> bool {
    let Ok(src) = TableSource::open(path, None) else {
        return false;
    };
    let Ok(proj) = src.project(&ColumnSpec::default()) else {
        return false;
    };
    let all = src.read_all(&proj).is_ok();
    if let Ok(batches) = src.batches(&proj, 7) {
        for b in batches {
            if b.is_err() {
                break;
            }
        }
    }
    all
}

fn csv_like() -> impl Strategy<Value = String> {
    // Mostly the characters CSV is made of, so that parsing goes deep.
    proptest::collection::vec(
        prop_oneof![
            8 => prop::sample::select(vec![
                "0", "1", "-", ".", "e", "9", ",", ",", "\n", "\r\n", "\"", "a", " ", "nan", "inf",
                "", "\t", "1e999", "NA",
            ])
            .prop_map(str::to_string),
            1 => any::<char>().prop_map(|c| c.to_string()),
        ],
        0..200,
    )
    .prop_map(|parts| format!("x,y,z\n{}", parts.concat()))
}

fn sample_bytes(kind: &str) -> &'static [u8] {
    static PARQUET: OnceLock<Vec<u8>> = OnceLock::new();
    static IPC: OnceLock<Vec<u8>> = OnceLock::new();
    let make = |ext: &str| {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(format!("s.{ext}"));
        let s = common::Sample::new(300, 3);
        if ext == "parquet" {
            common::write_parquet(&p, &[s.batch], 100);
        } else {
            common::write_ipc(&p, &s.batch, 100, true);
        }
        std::fs::read(&p).unwrap()
    };
    match kind {
        "parquet" => PARQUET.get_or_init(|| make("parquet")),
        _ => IPC.get_or_init(|| make("arrow")),
    }
}

fn model_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        let dense = vec![
            array![[2.0, 0.3], [0.3, 1.0]],
            array![[1.0, -0.2], [-0.2, 0.5]],
        ];
        let cov = Covariances::from_dense(CovarianceType::Full, &dense, &[0.4, 0.6]);
        let m =
            GaussianMixture::new(array![0.4, 0.6], array![[0.0, 1.0], [3.0, -1.0]], cov).unwrap();
        let mut f = ModelFile::new(
            &m,
            vec!["a".into(), "b".into()],
            &FitSummary {
                mean_log_likelihood: -1.0,
                n_iter: 3,
                converged: true,
                bic: 1.0,
                aic: 1.0,
                n_rows: 10,
                total_weight: None,
                reg_covar: 1e-6,
            },
        );
        f.classes = Some(vec!["x".into(), "y".into()]);
        f.to_json()
    })
}

/// A value of a JSON document, chosen by `pick` (the whole document, or
/// recursively one of its members).
fn value_at(v: &mut Value, pick: usize) -> &mut Value {
    let n = match v {
        Value::Object(m) => m.len(),
        Value::Array(a) => a.len(),
        _ => 0,
    };
    if n == 0 || pick.is_multiple_of(3) {
        return v;
    }
    let i = (pick / 3) % n;
    let next = (pick / (3 * n)).wrapping_mul(7).wrapping_add(1);
    let child = match v {
        Value::Object(m) => m.values_mut().nth(i).unwrap(),
        Value::Array(a) => &mut a[i],
        _ => unreachable!(),
    };
    value_at(child, next)
}

fn replacement() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        Just(Value::Bool(true)),
        any::<f64>()
            .prop_map(|x| serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)),
        prop::sample::select(vec![0.0, -1.0, 1e308, -1e308, 1e-320, 5e-324, 2.0, 1e20])
            .prop_map(|x| serde_json::json!(x)),
        any::<i64>().prop_map(|x| serde_json::json!(x)),
        any::<u64>().prop_map(|x| serde_json::json!(x)),
        ".{0,8}".prop_map(Value::String),
        Just(serde_json::json!([])),
        Just(serde_json::json!([[]])),
        Just(serde_json::json!([1.0])),
        Just(serde_json::json!([[1.0, 0.0], [0.0, 1.0]])),
        Just(serde_json::json!({})),
        prop::sample::select(vec!["full", "diag", "tied", "spherical", "other"])
            .prop_map(|s| Value::String(s.into())),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn csv_reader_never_panics_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.csv");
        std::fs::write(&p, &bytes).unwrap();
        read_every_way(&p);
    }

    #[test]
    fn csv_reader_never_panics_on_csv_like_text(text in csv_like()) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        std::fs::write(&p, &text).unwrap();
        read_every_way(&p);
        // Tab-separated too.
        let q = dir.path().join("t.tsv");
        std::fs::write(&q, text.replace(',', "\t")).unwrap();
        read_every_way(&q);
    }

    #[test]
    fn model_parse_never_panics_on_random_text(text in ".{0,300}") {
        let _ = ModelFile::parse(&text);
    }

    #[test]
    fn model_parse_never_panics_on_mutated_bytes(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 1..6)
    ) {
        let mut bytes = model_json().as_bytes().to_vec();
        for (at, byte, op) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = at % bytes.len();
            match op {
                0 => bytes[i] = byte,
                1 => { bytes.remove(i); }
                _ => bytes.insert(i, byte),
            }
        }
        let _ = ModelFile::parse(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn model_parse_never_panics_on_mutated_values(
        edits in proptest::collection::vec((any::<usize>(), replacement()), 1..4)
    ) {
        let mut v: Value = serde_json::from_str(model_json()).unwrap();
        for (pick, new) in edits {
            *value_at(&mut v, pick) = new;
        }
        if let Ok(file) = ModelFile::parse(&v.to_string()) {
            // What parses is a usable model.
            prop_assert!(file.to_model().is_ok());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn parquet_reader_never_panics_on_corrupt_bytes(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..20),
        cut in proptest::option::of(any::<usize>()),
    ) {
        let mut bytes = sample_bytes("parquet").to_vec();
        for (at, byte) in edits {
            let i = at % bytes.len();
            bytes[i] = byte;
        }
        if let Some(c) = cut {
            bytes.truncate(c % bytes.len());
        }
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.parquet");
        std::fs::write(&p, &bytes).unwrap();
        read_every_way(&p);
    }

    #[test]
    fn arrow_reader_never_panics_on_corrupt_bytes(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..20),
        cut in proptest::option::of(any::<usize>()),
    ) {
        let mut bytes = sample_bytes("arrow").to_vec();
        for (at, byte) in edits {
            let i = at % bytes.len();
            bytes[i] = byte;
        }
        if let Some(c) = cut {
            bytes.truncate(c % bytes.len());
        }
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.arrow");
        std::fs::write(&p, &bytes).unwrap();
        read_every_way(&p);
    }
}

/// The first rows of the customers' table: a valid CSV file to mutate.
fn customers_csv() -> &'static [u8] {
    static CSV: OnceLock<Vec<u8>> = OnceLock::new();
    CSV.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/customers/labeled.csv");
        let text = std::fs::read_to_string(path).unwrap();
        let head: Vec<&str> = text.lines().take(40).collect();
        (head.join("\n") + "\n").into_bytes()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn csv_reader_never_panics_on_mutated_tables(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), 0u8..4), 1..8)
    ) {
        let mut bytes = customers_csv().to_vec();
        for (at, byte, op) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = at % bytes.len();
            match op {
                0 => bytes[i] = byte,
                1 => { bytes.remove(i); }
                2 => bytes.insert(i, byte),
                // Cut short, as a file still being written.
                _ => bytes.truncate(i),
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.csv");
        std::fs::write(&p, &bytes).unwrap();
        read_every_way(&p);
    }
}

/// A compressed Arrow IPC buffer declares its decompressed length in its
/// first 8 bytes, and the Arrow reader allocated that much before
/// checking: a forged length of exabytes aborted the process (found by the
/// fuzz test above at 20000 cases). Every 8-byte word of an LZ4 file,
/// forged in turn, must give a value or an error.
#[test]
fn forged_decompressed_lengths_are_refused_not_allocated() {
    let sample = sample_bytes("arrow");
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("forged.arrow");
    for at in (0..sample.len().saturating_sub(8)).step_by(8) {
        let mut bytes = sample.to_vec();
        bytes[at..at + 8].copy_from_slice(&(i64::MAX - 7).to_le_bytes());
        std::fs::write(&p, &bytes).unwrap();
        read_every_way(&p);
    }
}

/// Two ways past the size check that the cargo-fuzz target `ipc_reader`
/// found, each an abort on a multi-terabyte allocation before the fix: a
/// stream ending in the file magic `ARROW1` (its footer does not parse, so
/// it was read again as a stream whose messages had not been checked), and
/// a file whose message length word disagrees with its footer (the Arrow
/// reader ignores the word). Both must be errors.
#[test]
fn ipc_size_checks_follow_the_reader_that_reads() {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    for name in [
        "ipc-stream-posing-as-file.arrow",
        "ipc-file-bad-length-word.arrow",
    ] {
        let path = data.join(name);
        let read = TableSource::open(&path, None).and_then(|s| {
            let p = s.project(&ColumnSpec::default())?;
            s.read_all(&p)
        });
        let err = read.expect_err(name).to_string();
        assert!(
            err.contains("claims to hold") || err.contains("extends past"),
            "{name}: refused by the size check, not later: {err}"
        );
    }
}
