//! Bad input is an `IoError` of the right variant whose message names the
//! file, the column, the 1-based data row and what to do; never a panic.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::{Sample, write_ipc, write_ipc_stream, write_parquet, write_text};
use gmm_io::arrow::array::{ArrayRef, Float64Array, Int32Array, RecordBatch, StringArray};
use gmm_io::arrow::datatypes::{DataType, Field, Schema};
use gmm_io::{ColumnSpec, IoError, TableSource};

fn features(names: &[&str]) -> ColumnSpec {
    ColumnSpec {
        features: names.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

/// Opens, projects and reads the whole table.
fn read_all(path: impl AsRef<Path>, spec: &ColumnSpec) -> Result<gmm_io::Table, IoError> {
    let src = TableSource::open(path, None)?;
    let proj = src.project(spec)?;
    src.read_all(&proj)
}

/// Opens, projects and streams the table in small batches.
fn stream_all(path: impl AsRef<Path>, spec: &ColumnSpec) -> Result<usize, IoError> {
    let src = TableSource::open(path, None)?;
    let proj = src.project(spec)?;
    let mut rows = 0;
    for b in src.batches(&proj, 100)? {
        rows += b?.n_rows;
    }
    Ok(rows)
}

fn assert_mentions(e: &IoError, parts: &[&str]) {
    let msg = e.to_string();
    for p in parts {
        assert!(msg.contains(p), "`{p}` missing from: {msg}");
    }
}

/// A table of one f64 column `x` (with the given values) and an f64 column `w`.
fn xw_batch(x: Vec<Option<f64>>, w: Vec<f64>) -> RecordBatch {
    RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("x", DataType::Float64, true),
            Field::new("w", DataType::Float64, false),
        ])),
        vec![
            Arc::new(Float64Array::from(x)) as ArrayRef,
            Arc::new(Float64Array::from(w)),
        ],
    )
    .unwrap()
}

fn sample_parquet(dir: &Path) -> PathBuf {
    let p = dir.join("sample.parquet");
    write_parquet(&p, &[Sample::new(600, 1).batch], 200);
    p
}

#[test]
fn missing_column_suggests_the_closest() {
    let dir = tempfile::tempdir().unwrap();
    let p = sample_parquet(dir.path());
    let e = read_all(&p, &features(&["x_f64", "X_I8"])).unwrap_err();
    assert!(matches!(e, IoError::MissingColumn { .. }), "{e:?}");
    assert_mentions(
        &e,
        &[
            "sample.parquet",
            "no column `X_I8`",
            "did you mean `x_i8`",
            "x_u16",
        ],
    );
    let e = read_all(
        &p,
        &ColumnSpec {
            weight: Some("weight".into()),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(matches!(e, IoError::MissingColumn { .. }), "{e:?}");
    let e = read_all(&p, &features(&["nothing*"])).unwrap_err();
    assert!(matches!(e, IoError::NoColumnsMatch { .. }), "{e:?}");
    assert_mentions(&e, &["`nothing*`", "x_i8"]);
}

#[test]
fn non_numeric_column_names_its_type() {
    let dir = tempfile::tempdir().unwrap();
    let p = sample_parquet(dir.path());
    let e = read_all(&p, &features(&["x_f64", "label_str"])).unwrap_err();
    assert!(matches!(e, IoError::NonNumericColumn { .. }), "{e:?}");
    assert_mentions(
        &e,
        &[
            "sample.parquet",
            "`label_str`",
            "Utf8",
            "integer, floating-point and decimal",
        ],
    );
    let e = read_all(
        &p,
        &ColumnSpec {
            weight: Some("id_str".into()),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(matches!(e, IoError::NonNumericColumn { .. }), "{e:?}");
}

#[test]
fn non_finite_values_name_column_first_row_and_count() {
    let dir = tempfile::tempdir().unwrap();
    let n = 3_000;
    let mut x: Vec<Option<f64>> = (0..n).map(|i| Some(i as f64)).collect();
    // 0-based rows 1234 and 2000 (different row groups), and 2500.
    x[1234] = Some(f64::NAN);
    x[2000] = Some(f64::INFINITY);
    x[2500] = Some(f64::NEG_INFINITY);
    let batch = xw_batch(x, vec![1.0; n]);
    let parquet = dir.path().join("nan.parquet");
    write_parquet(&parquet, std::slice::from_ref(&batch), 512);
    let ipc = dir.path().join("nan.arrow");
    write_ipc(&ipc, &batch, 700, false);
    let csv = dir.path().join("nan.csv");
    common::write_csv(&csv, &batch);
    for p in [&parquet, &ipc, &csv] {
        let spec = features(&["x"]);
        for e in [
            read_all(p, &spec).unwrap_err(),
            stream_all(p, &spec).unwrap_err(),
        ] {
            match &e {
                IoError::NonFinite {
                    column, row, count, ..
                } => {
                    assert_eq!(
                        (column.as_str(), *row, *count),
                        ("x", 1235, 3),
                        "{}",
                        p.display()
                    );
                }
                other => panic!("{}: {other:?}", p.display()),
            }
            assert_mentions(
                &e,
                &[
                    "nan.",
                    "`x`",
                    "3 non-finite",
                    "data row 1235",
                    "NaN",
                    "remove or impute",
                ],
            );
        }
    }
}

#[test]
fn null_features_name_column_first_row_and_count() {
    let dir = tempfile::tempdir().unwrap();
    let n = 2_000;
    let mut x: Vec<Option<f64>> = (0..n).map(|i| Some(i as f64)).collect();
    x[10] = None;
    x[900] = None;
    x[1999] = None;
    let batch = xw_batch(x, vec![1.0; n]);
    let parquet = dir.path().join("nulls.parquet");
    write_parquet(&parquet, std::slice::from_ref(&batch), 300);
    let csv = dir.path().join("nulls.csv");
    common::write_csv(&csv, &batch);
    let ipc = dir.path().join("nulls.arrow");
    write_ipc(&ipc, &batch, 256, false);
    for p in [&parquet, &csv, &ipc] {
        for e in [
            read_all(p, &features(&["x"])).unwrap_err(),
            stream_all(p, &features(&["x"])).unwrap_err(),
        ] {
            assert!(
                matches!(
                    &e,
                    IoError::NullValues {
                        row: 11,
                        count: 3,
                        ..
                    }
                ),
                "{}: {e:?}",
                p.display()
            );
            assert_mentions(
                &e,
                &[
                    "nulls.",
                    "`x`",
                    "3 missing",
                    "data row 11",
                    "--missing drop",
                ],
            );
        }
    }
    // A directory: the count covers every file, the row is the table's.
    let d = dir.path().join("parts");
    std::fs::create_dir(&d).unwrap();
    let mut y: Vec<Option<f64>> = vec![Some(1.0); 100];
    y[50] = None;
    write_parquet(
        &d.join("a.parquet"),
        &[xw_batch(vec![Some(0.0); 100], vec![1.0; 100])],
        30,
    );
    write_parquet(
        &d.join("b.parquet"),
        &[xw_batch(y.clone(), vec![1.0; 100])],
        30,
    );
    write_parquet(&d.join("c.parquet"), &[xw_batch(y, vec![1.0; 100])], 30);
    let e = read_all(&d, &features(&["x"])).unwrap_err();
    assert!(
        matches!(
            &e,
            IoError::NullValues {
                row: 151,
                count: 2,
                ..
            }
        ),
        "{e:?}"
    );
    assert_mentions(&e, &["b.parquet"]);
}

#[test]
fn bad_weights_name_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let n = 1_000;
    let mut w = vec![1.0; n];
    w[700] = -0.5;
    let batch = xw_batch((0..n).map(|i| Some(i as f64)).collect(), w);
    let parquet = dir.path().join("w.parquet");
    write_parquet(&parquet, std::slice::from_ref(&batch), 128);
    let csv = dir.path().join("w.csv");
    common::write_csv(&csv, &batch);
    let spec = ColumnSpec {
        features: vec!["x".into()],
        weight: Some("w".into()),
        ..Default::default()
    };
    for p in [&parquet, &csv] {
        for e in [
            read_all(p, &spec).unwrap_err(),
            stream_all(p, &spec).unwrap_err(),
        ] {
            assert!(matches!(&e, IoError::BadWeight { row: 701, .. }), "{e:?}");
            assert_mentions(&e, &["w.", "`w`", "-0.5", "data row 701", "non-negative"]);
        }
    }
    // NaN weights too.
    let mut w = vec![1.0; 10];
    w[3] = f64::NAN;
    let p = dir.path().join("wnan.parquet");
    write_parquet(&p, &[xw_batch(vec![Some(1.0); 10], w)], 128);
    let e = read_all(&p, &spec).unwrap_err();
    assert!(matches!(&e, IoError::BadWeight { row: 4, .. }), "{e:?}");
}

#[test]
fn csv_parse_errors_name_the_data_row() {
    let dir = tempfile::tempdir().unwrap();
    // Data row r holds r; row 1500 holds text, past the rows used for
    // inference and in the 15th batch of 100.
    let mut text = String::from("a,b\n");
    for r in 1..=2_000 {
        let b = if r == 1_500 {
            "oops".to_string()
        } else {
            format!("{r}.25")
        };
        text.push_str(&format!("{r},{b}\n"));
    }
    let p = write_text(dir.path(), "text.csv", &text);
    for e in [
        read_all(&p, &features(&["a", "b"])).unwrap_err(),
        stream_all(&p, &features(&["a", "b"])).unwrap_err(),
    ] {
        assert!(
            matches!(&e, IoError::NonNumericValue { row: 1_500, column, value, .. } if column == "b" && value == "oops"),
            "{e:?}"
        );
        assert_mentions(&e, &["text.csv", "`b`", "data row 1500", "`oops`"]);
    }
    // Early rows, quotes in the value, and a different column.
    let p = write_text(dir.path(), "early.csv", "a,b\n1,2\n3,\"it's\"\n5,6\n");
    let e = read_all(&p, &features(&["a", "b"])).unwrap_err();
    assert!(
        matches!(&e, IoError::NonNumericValue { row: 2, column, value, .. } if column == "b" && value == "it's"),
        "{e:?}"
    );
    let p = write_text(dir.path(), "first.csv", "a,b\nx,2\n3,4\n");
    let e = read_all(&p, &features(&["a", "b"])).unwrap_err();
    assert!(
        matches!(&e, IoError::NonNumericValue { row: 1, .. }),
        "{e:?}"
    );
}

/// `text` compressed as `name` says (`.gz` or `.zst`), in `dir`.
fn write_compressed(dir: &Path, name: &str, text: &str) -> PathBuf {
    use std::io::Write;
    let bytes = if name.ends_with(".gz") {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(text.as_bytes()).unwrap();
        enc.finish().unwrap()
    } else {
        zstd::stream::encode_all(text.as_bytes(), 3).unwrap()
    };
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn compressed_csv_errors_name_the_row_or_the_damage() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("a,b\n");
    for r in 1..=20_000 {
        let b = if r == 15_000 {
            "oops".to_string()
        } else {
            format!("{r}.25")
        };
        text.push_str(&format!("{r},{b}\n"));
    }
    for name in ["text.csv.gz", "text.csv.zst"] {
        let p = write_compressed(dir.path(), name, &text);
        let e = stream_all(&p, &features(&["a", "b"])).unwrap_err();
        assert!(
            matches!(&e, IoError::NonNumericValue { row: 15_000, .. }),
            "{name}: {e:?}"
        );
        // Cut short: past the rows types are inferred from, and within them.
        let full = std::fs::read(&p).unwrap();
        for keep in [full.len() * 3 / 4, 64] {
            let cut = dir.path().join(format!("cut-{keep}-{name}"));
            std::fs::write(&cut, &full[..keep]).unwrap();
            let e = stream_all(&cut, &features(&["a", "b"])).unwrap_err();
            assert!(
                matches!(e, IoError::Read { .. }),
                "{name} cut at {keep}: {e:?}"
            );
            let kind = if name.ends_with(".gz") {
                "gzip"
            } else {
                "zstd"
            };
            assert_mentions(
                &e,
                &[
                    &format!("cut-{keep}-{name}: cannot decompress the file as {kind}"),
                    "truncated",
                ],
            );
        }
    }
    // Plain text under a compressed name.
    let p = write_text(dir.path(), "plain.csv.gz", "a,b\n1,2\n");
    let e = read_all(&p, &features(&["a", "b"])).unwrap_err();
    assert_mentions(
        &e,
        &[
            "plain.csv.gz: cannot decompress the file as gzip",
            "not gzip-compressed",
        ],
    );
    // Only CSV is read compressed.
    let p = write_text(dir.path(), "t.parquet.gz", "x");
    let e = TableSource::open(&p, None).unwrap_err();
    assert!(matches!(e, IoError::UnsupportedFormat { .. }), "{e:?}");
    assert_mentions(&e, &["`parquet.gz`", ".csv.gz"]);
}

#[test]
fn csv_ragged_and_truncated_rows_name_the_data_row() {
    let dir = tempfile::tempdir().unwrap();
    let mut head = String::from("a,b,c\n");
    for r in 1..=1_200 {
        head.push_str(&format!("{r},1,2\n"));
    }
    let cases: Vec<(String, usize, &str)> = vec![
        ("a,b,c\n1,2,3\n4,5\n6,7,8\n".into(), 2, "2"),
        ("a,b,c\r\n1,2,3\r\n4,5,6\r\n6,7".into(), 3, "2"),
        ("a,b,c\n1,2,3\n4,5,6,7\n".into(), 2, "4"),
        (format!("{head}4,5\n1,2,3\n"), 1_201, "2"),
        (format!("{head}4,5,6,7\n"), 1_201, "4"),
        // Cut in the middle of a row, as an interrupted copy leaves it.
        (format!("{head}1,2"), 1_201, "2"),
    ];
    for (i, (text, row, found)) in cases.iter().enumerate() {
        let p = write_text(dir.path(), &format!("r{i}.csv"), text);
        let e = read_all(&p, &ColumnSpec::default()).unwrap_err();
        match &e {
            IoError::RaggedRow {
                row: r,
                found: f,
                expected: 3,
                ..
            } => assert_eq!((r, f.as_str()), (row, *found), "case {i}"),
            other => panic!("case {i}: {other:?}"),
        }
        assert_mentions(
            &e,
            &[
                &format!("r{i}.csv"),
                &format!("data row {row}"),
                "header has 3",
                "delimiter",
            ],
        );
    }
}

#[test]
fn csv_label_of_a_new_type_after_the_sampled_rows_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("x,label\n");
    for r in 1..=1_300 {
        let label = if r == 1_250 {
            "cat".to_string()
        } else {
            (r % 3).to_string()
        };
        text.push_str(&format!("{r},{label}\n"));
    }
    let p = write_text(dir.path(), "labels.csv", &text);
    let spec = ColumnSpec {
        features: vec!["x".into()],
        label: Some("label".into()),
        ..Default::default()
    };
    let e = read_all(&p, &spec).unwrap_err();
    assert!(
        matches!(&e, IoError::CsvTypeChange { row: 1_250, .. }),
        "{e:?}"
    );
    assert_mentions(
        &e,
        &[
            "labels.csv",
            "`label`",
            "`cat`",
            "data row 1250",
            "int64",
            "first 1000",
            "Parquet",
        ],
    );
}

#[test]
fn truncated_and_corrupt_parquet_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let good = sample_parquet(dir.path());
    let bytes = std::fs::read(&good).unwrap();
    // Truncated: the footer is gone.
    for keep in [0, 3, 100, bytes.len() / 2, bytes.len() - 1] {
        let p = dir.path().join(format!("cut-{keep}.parquet"));
        std::fs::write(&p, &bytes[..keep]).unwrap();
        let e = read_all(&p, &ColumnSpec::default()).unwrap_err();
        assert!(matches!(e, IoError::Read { .. }), "{e:?}");
        assert_mentions(
            &e,
            &[
                &format!("cut-{keep}.parquet"),
                "not a readable Parquet file",
            ],
        );
    }
    // Data pages overwritten, footer intact: an error when decoding, in
    // parallel and streaming.
    let mut bad = bytes.clone();
    let end = bad.len() * 2 / 3;
    for b in &mut bad[8..end] {
        *b = b.wrapping_mul(31).wrapping_add(7);
    }
    let p = dir.path().join("garbled.parquet");
    std::fs::write(&p, &bad).unwrap();
    let spec = features(&["x_f64", "x_i32"]);
    let e = read_all(&p, &spec).unwrap_err();
    assert_mentions(&e, &["garbled.parquet"]);
    let e = stream_all(&p, &spec).unwrap_err();
    assert_mentions(&e, &["garbled.parquet"]);
}

#[test]
fn truncated_csv_and_arrow_files_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let sample = Sample::new(600, 2);
    let ipc = dir.path().join("t.arrow");
    write_ipc(&ipc, &sample.batch, 100, false);
    let bytes = std::fs::read(&ipc).unwrap();
    for keep in [0, 6, bytes.len() / 2, bytes.len() - 10] {
        let p = dir.path().join(format!("cut-{keep}.arrow"));
        std::fs::write(&p, &bytes[..keep]).unwrap();
        let e = read_all(&p, &features(&["x_f64"])).unwrap_err();
        assert_mentions(&e, &[&format!("cut-{keep}.arrow")]);
    }
    // A truncated stream: the schema reads, a later batch does not.
    let stream = dir.path().join("t.arrows");
    write_ipc_stream(&stream, &sample.batch, 100);
    let bytes = std::fs::read(&stream).unwrap();
    let p = dir.path().join("cut.arrows");
    std::fs::write(&p, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let e = read_all(&p, &features(&["x_f64"])).unwrap_err();
    assert!(matches!(e, IoError::Read { .. }), "{e:?}");
    assert_mentions(&e, &["cut.arrows", "corrupt or truncated"]);

    // A CSV cut in the middle of a quoted field or a row.
    let csv = dir.path().join("t.csv");
    common::write_csv(&csv, &sample.batch);
    let text = std::fs::read(&csv).unwrap();
    for keep in [text.len() / 2, text.len() - 3] {
        let p = dir.path().join(format!("cut-{keep}.csv"));
        std::fs::write(&p, &text[..keep]).unwrap();
        match read_all(&p, &features(&["x_f64", "x_i8"])) {
            Err(e) => assert_mentions(&e, &[&format!("cut-{keep}.csv")]),
            // A cut inside the last field of a row leaves a shorter but
            // well-formed file: CSV cannot tell, only the rows' count can.
            Ok(t) => assert!(t.n_rows <= 600 && keep == text.len() - 3),
        }
    }
}

#[test]
fn empty_inputs_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("empty.csv", ""),
        ("header.csv", "a,b\n"),
        ("blank.csv", "\n\n"),
    ];
    for (name, text) in cases {
        let p = write_text(dir.path(), name, text);
        let e = read_all(&p, &ColumnSpec::default()).unwrap_err();
        assert!(
            matches!(
                e,
                IoError::EmptyTable { .. } | IoError::NoFeatureColumns { .. }
            ),
            "{name}: {e:?}"
        );
        assert_mentions(&e, &[name]);
    }
    // Parquet and Arrow files with a schema and no rows.
    let batch = xw_batch(vec![], vec![]);
    let p = dir.path().join("none.parquet");
    write_parquet(&p, std::slice::from_ref(&batch), 10);
    let e = read_all(&p, &features(&["x"])).unwrap_err();
    assert!(matches!(e, IoError::EmptyTable { .. }), "{e:?}");
    assert_eq!(stream_all(&p, &features(&["x"])).unwrap(), 0);
    let p = dir.path().join("none.arrow");
    write_ipc(&p, &batch, 10, false);
    let e = read_all(&p, &features(&["x"])).unwrap_err();
    assert!(matches!(e, IoError::EmptyTable { .. }), "{e:?}");
    // A zero-byte Parquet file (one still being written, say).
    let p = write_text(dir.path(), "zero.parquet", "");
    let e = read_all(&p, &features(&["x"])).unwrap_err();
    assert!(matches!(e, IoError::Read { .. }), "{e:?}");
    assert_mentions(&e, &["zero.parquet", "not a readable Parquet file"]);
}

#[test]
fn paths_that_are_not_tables() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_text(dir.path(), "data.xlsx", "x");
    let e = TableSource::open(&p, None).unwrap_err();
    assert!(matches!(e, IoError::UnsupportedFormat { .. }), "{e:?}");
    assert_mentions(&e, &["data.xlsx", "`xlsx`", ".parquet", ".csv"]);

    let pattern = format!("{}/nothing-*.parquet", dir.path().display());
    let e = TableSource::open(&pattern, None).unwrap_err();
    assert!(matches!(e, IoError::NoFilesMatch { .. }), "{e:?}");
    assert_mentions(&e, &["nothing-*.parquet", "no files match"]);

    let e = TableSource::open(dir.path().join("missing.csv"), None).unwrap_err();
    assert!(matches!(e, IoError::NotFound { .. }), "{e:?}");
    assert_mentions(&e, &["missing.csv"]);

    let empty = dir.path().join("emptydir");
    std::fs::create_dir(&empty).unwrap();
    write_text(&empty, "_SUCCESS", "");
    let e = TableSource::open(&empty, None).unwrap_err();
    assert!(matches!(e, IoError::EmptyDirectory { .. }), "{e:?}");
    assert_mentions(&e, &["emptydir", ".parquet"]);

    // Several files of another format than Parquet.
    write_text(dir.path(), "a1.csv", "x\n1\n");
    write_text(dir.path(), "a2.csv", "x\n2\n");
    let e = TableSource::open(format!("{}/a*.csv", dir.path().display()), None).unwrap_err();
    assert_mentions(&e, &["only Parquet tables can span several files"]);
}

#[test]
fn files_of_one_table_must_share_columns() {
    let dir = tempfile::tempdir().unwrap();
    let a = xw_batch(vec![Some(1.0)], vec![1.0]);
    let b = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new("x", DataType::Float64, true)])),
        vec![Arc::new(Float64Array::from(vec![2.0])) as ArrayRef],
    )
    .unwrap();
    write_parquet(&dir.path().join("a.parquet"), &[a], 10);
    write_parquet(&dir.path().join("b.parquet"), &[b], 10);
    let e = TableSource::open(dir.path(), None).unwrap_err();
    assert!(matches!(e, IoError::SchemaMismatch { .. }), "{e:?}");
    assert_mentions(&e, &["b.parquet", "`w`", "missing", "a.parquet"]);

    // A column that is numbers in one file and text in another.
    let dir = tempfile::tempdir().unwrap();
    let c = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new("x", DataType::Utf8, true)])),
        vec![Arc::new(StringArray::from(vec!["2"])) as ArrayRef],
    )
    .unwrap();
    let d = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new("x", DataType::Int32, true)])),
        vec![Arc::new(Int32Array::from(vec![2])) as ArrayRef],
    )
    .unwrap();
    write_parquet(&dir.path().join("c.parquet"), &[d], 10);
    write_parquet(&dir.path().join("d.parquet"), &[c], 10);
    let e = TableSource::open(dir.path(), None).unwrap_err();
    assert!(matches!(e, IoError::SchemaMismatch { .. }), "{e:?}");
    assert_mentions(&e, &["d.parquet", "`x`", "Utf8", "Int32"]);
}

#[test]
fn unsupported_feature_types_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let batch = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("x", DataType::Float64, false),
            Field::new("flag", DataType::Boolean, false),
        ])),
        vec![
            Arc::new(Float64Array::from(vec![1.0, 2.0])) as ArrayRef,
            Arc::new(gmm_io::arrow::array::BooleanArray::from(vec![true, false])),
        ],
    )
    .unwrap();
    let p = dir.path().join("b.parquet");
    write_parquet(&p, &[batch], 10);
    let e = read_all(&p, &features(&["x", "flag"])).unwrap_err();
    assert!(matches!(e, IoError::NonNumericColumn { .. }), "{e:?}");
    assert_mentions(&e, &["b.parquet", "`flag`", "Boolean"]);
    // The all-numeric selection leaves it out.
    let t = read_all(&p, &ColumnSpec::default()).unwrap();
    assert_eq!(t.columns, ["x"]);
}

#[test]
fn corrupt_bytes_anywhere_give_errors_not_panics() {
    // Arrow's IPC reader panics on some corrupt buffer offsets; gmm-io
    // turns such panics into errors naming the file.
    let dir = tempfile::tempdir().unwrap();
    let sample = Sample::new(200, 5);
    let ipc = dir.path().join("good.arrow");
    write_ipc(&ipc, &sample.batch, 50, false);
    let parquet = dir.path().join("good.parquet");
    write_parquet(&parquet, std::slice::from_ref(&sample.batch), 64);
    for good in [ipc, parquet] {
        let bytes = std::fs::read(&good).unwrap();
        let ext = good.extension().unwrap().to_str().unwrap();
        let step = (bytes.len() / 300).max(1);
        for (k, at) in (0..bytes.len()).step_by(step).enumerate() {
            let mut bad = bytes.clone();
            bad[at] ^= 0xA5;
            let p = dir.path().join(format!("bad-{k}.{ext}"));
            std::fs::write(&p, &bad).unwrap();
            for r in [
                read_all(&p, &ColumnSpec::default()).map(|_| ()),
                stream_all(&p, &ColumnSpec::default()).map(|_| ()),
            ] {
                if let Err(e) = r {
                    assert_mentions(&e, &[&format!("bad-{k}.{ext}")]);
                }
            }
            std::fs::remove_file(&p).unwrap();
        }
    }
}
