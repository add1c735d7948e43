//! Round trips: one generated table written as Parquet (a file, a
//! directory of several files with several row groups each, a glob), Arrow
//! IPC (file, LZ4-compressed file, stream) and CSV (plain, gzip, zstd) reads back to the same
//! row-major values, labels, weights and ids, and fits bit-identical models.
//! Predictions and model files read back with the right schema and values.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use common::{Sample, reversed, write_csv, write_ipc, write_ipc_stream, write_parquet};
use gmm_core::{CovarianceType, FitParams, GaussianMixture, Silent};
use gmm_io::arrow::array::{Array, ArrayRef, AsArray, Int64Array, RecordBatch, StringArray};
use gmm_io::arrow::datatypes::{DataType, Field, Float64Type, Int64Type, UInt32Type};
use gmm_io::{
    ColumnSpec, FitSummary, InputFormat, ModelFile, OutputFormat, PredictionWriter, Provenance,
    Table, TableSource, label_values,
};

const N: usize = 2_400;

/// The sample table written in every format, in one temporary directory.
struct Files {
    _dir: tempfile::TempDir,
    sample: Sample,
    parquet: PathBuf,
    parquet_dir: PathBuf,
    glob: String,
    ipc: PathBuf,
    ipc_lz4: PathBuf,
    ipc_stream: PathBuf,
    csv: PathBuf,
    tsv: PathBuf,
    /// The CSV in two gzip members (as pigz and bgzip write).
    csv_gz: PathBuf,
    /// The TSV compressed with zstd: tab by its inner extension.
    tsv_zst: PathBuf,
}

/// Rows of each file of the directory: the third sits in a partition
/// subdirectory, and the second stores its columns in reverse order.
const SPLITS: [(usize, usize); 3] = [(0, 900), (900, 1_700), (1_700, N)];

fn files() -> Files {
    let dir = tempfile::tempdir().unwrap();
    let sample = Sample::new(N, 42);
    let b = &sample.batch;
    let parquet = dir.path().join("table.parquet");
    write_parquet(
        &parquet,
        &[b.slice(0, 1_000), b.slice(1_000, N - 1_000)],
        300,
    );

    let parquet_dir = dir.path().join("parts");
    std::fs::create_dir_all(parquet_dir.join("z=2")).unwrap();
    for (i, &(start, end)) in SPLITS.iter().enumerate() {
        let part = b.slice(start, end - start);
        let (path, part) = match i {
            0 => (parquet_dir.join("part-00000.parquet"), part),
            1 => (parquet_dir.join("part-00001.parquet"), reversed(&part)),
            _ => (parquet_dir.join("z=2/part-00002.parquet"), part),
        };
        write_parquet(&path, &[part], 250);
    }
    // What a directory reader must skip.
    std::fs::write(parquet_dir.join("_SUCCESS"), "").unwrap();
    std::fs::write(parquet_dir.join(".part-00000.parquet.crc"), "junk").unwrap();
    std::fs::write(parquet_dir.join("README.txt"), "not data").unwrap();
    let glob = format!("{}/part-*.parquet", parquet_dir.display());

    let ipc = dir.path().join("table.arrow");
    write_ipc(&ipc, b, 700, false);
    let ipc_lz4 = dir.path().join("table.feather");
    write_ipc(&ipc_lz4, b, 1_000, true);
    let ipc_stream = dir.path().join("table.arrows");
    write_ipc_stream(&ipc_stream, b, 500);
    let csv = dir.path().join("table.csv");
    write_csv(&csv, b);
    let tsv = dir.path().join("table.tsv");
    std::fs::write(
        &tsv,
        std::fs::read_to_string(&csv).unwrap().replace(',', "\t"),
    )
    .unwrap();
    let text = std::fs::read(&csv).unwrap();
    let csv_gz = dir.path().join("table.csv.gz");
    let (head, tail) = text.split_at(text.len() / 2);
    let mut gz = Vec::new();
    for part in [head, tail] {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(part).unwrap();
        gz.extend(enc.finish().unwrap());
    }
    std::fs::write(&csv_gz, gz).unwrap();
    let tsv_zst = dir.path().join("table.TSV.zst");
    let tsv_text = std::fs::read(&tsv).unwrap();
    std::fs::write(
        &tsv_zst,
        zstd::stream::encode_all(&tsv_text[..], 3).unwrap(),
    )
    .unwrap();
    Files {
        _dir: dir,
        sample,
        parquet,
        parquet_dir,
        glob,
        ipc,
        ipc_lz4,
        ipc_stream,
        csv,
        tsv,
        csv_gz,
        tsv_zst,
    }
}

fn spec(label: &str, id: &str) -> ColumnSpec {
    ColumnSpec {
        features: Sample::feature_names(),
        label: Some(label.into()),
        weight: Some("w".into()),
        ids: vec![id.into()],
        ..Default::default()
    }
}

fn read(path: impl AsRef<Path>, spec: &ColumnSpec) -> Table {
    let src = TableSource::open(path, None).unwrap();
    let proj = src.project(spec).unwrap();
    src.read_all(&proj).unwrap()
}

fn bits<'a>(v: impl Into<gmm_core::Values<'a>>) -> Vec<u64> {
    v.into().iter().map(|x| x.to_bits()).collect()
}

/// The first passthrough column (the id column) of rows read.
fn id_of(passthrough: &Option<ArrayRef>) -> ArrayRef {
    passthrough
        .as_ref()
        .expect("passthrough columns")
        .as_struct()
        .column(0)
        .clone()
}

fn strings(a: &ArrayRef) -> Vec<Option<String>> {
    let a = gmm_io::arrow::compute::cast(a, &DataType::Utf8).unwrap();
    a.as_string::<i32>()
        .iter()
        .map(|s| s.map(str::to_string))
        .collect()
}

/// The table's values, weights, ids and labels are those generated.
fn check_table(t: &Table, s: &Sample, what: &str) {
    assert_eq!(t.n_rows, s.n_rows, "{what}: rows");
    assert_eq!(t.columns, Sample::feature_names(), "{what}: columns");
    assert_eq!(bits(&t.x), bits(&s.x), "{what}: features");
    assert_eq!(
        bits(t.weights.as_ref().unwrap()),
        bits(&s.weights),
        "{what}: weights"
    );
    let ids = &id_of(&t.passthrough);
    assert_eq!(
        strings(ids),
        s.id_str.iter().cloned().map(Some).collect::<Vec<_>>(),
        "{what}: ids"
    );
    let labels = label_values("label_int", t.labels.as_ref().unwrap()).unwrap();
    assert_eq!(labels, s.label_int_text(), "{what}: labels");
}

fn all_paths(f: &Files) -> Vec<(String, String)> {
    vec![
        ("parquet".into(), f.parquet.display().to_string()),
        ("parquet dir".into(), f.parquet_dir.display().to_string()),
        ("ipc".into(), f.ipc.display().to_string()),
        ("ipc lz4".into(), f.ipc_lz4.display().to_string()),
        ("ipc stream".into(), f.ipc_stream.display().to_string()),
        ("csv".into(), f.csv.display().to_string()),
        ("tsv".into(), f.tsv.display().to_string()),
        ("csv.gz".into(), f.csv_gz.display().to_string()),
        ("tsv.zst".into(), f.tsv_zst.display().to_string()),
    ]
}

#[test]
fn every_format_reads_back_the_same_rows() {
    let f = files();
    for (what, path) in all_paths(&f) {
        let t = read(&path, &spec("label_int", "id_str"));
        check_table(&t, &f.sample, &what);
    }
    let src = TableSource::open(&f.parquet_dir, None).unwrap();
    assert_eq!(
        src.n_files(),
        3,
        "hidden, _-prefixed and other files skipped"
    );
    assert_eq!(src.known_rows(), Some(N));
    assert_eq!(src.format(), InputFormat::Parquet);
}

#[test]
fn glob_reads_the_matching_files_in_order() {
    let f = files();
    let src = TableSource::open(&f.glob, None).unwrap();
    assert_eq!(src.n_files(), 2);
    let proj = src.project(&spec("label_int", "id_str")).unwrap();
    let t = src.read_all(&proj).unwrap();
    let end = SPLITS[1].1;
    assert_eq!(t.n_rows, end);
    assert_eq!(bits(&t.x), bits(f.sample.x_rows(0, end)));
}

#[test]
fn string_and_dictionary_labels_and_integer_ids() {
    let f = files();
    let want: Vec<Option<String>> = f.sample.label_str.clone();
    for (what, path) in all_paths(&f) {
        for label in ["label_str", "label_dict"] {
            let t = read(&path, &spec(label, "id_i64"));
            let labels = label_values(label, t.labels.as_ref().unwrap()).unwrap();
            assert_eq!(labels, want, "{what}: {label}");
            let ids = &id_of(&t.passthrough);
            assert_eq!(ids.data_type(), &DataType::Int64, "{what}: id type kept");
            assert_eq!(
                ids.as_primitive::<Int64Type>().values().to_vec(),
                f.sample.id_i64,
                "{what}: ids"
            );
        }
    }
    // Classes in numeric order for integer labels, null = unlabeled.
    let t = read(&f.parquet, &spec("label_int", "id_str"));
    let v = label_values("label_int", t.labels.as_ref().unwrap()).unwrap();
    let classes = gmm_io::Classes::from_values(&v);
    assert_eq!(classes.names(), ["3", "12"]);
    let codes = classes.encode(&v).unwrap();
    assert_eq!(
        codes.iter().filter(|&&c| c != gmm_core::UNLABELED).count(),
        f.sample.label_int.iter().flatten().count()
    );
}

#[test]
fn all_numeric_projection_leaves_out_special_columns() {
    let f = files();
    for (what, path) in all_paths(&f) {
        let src = TableSource::open(&path, None).unwrap();
        let proj = src
            .project(&ColumnSpec {
                features: vec![],
                label: Some("label_int".into()),
                weight: Some("w".into()),
                ids: vec!["id_i64".into()],
                ..Default::default()
            })
            .unwrap();
        let mut want = Sample::feature_names();
        if what.starts_with("csv") || what.starts_with("tsv") {
            // CSV types are inferred: the same columns, by their text.
            want.sort();
            let mut got = proj.feature_names.clone();
            got.sort();
            assert_eq!(got, want, "{what}");
        } else if what == "parquet dir" {
            // Columns in the first file's order.
            assert_eq!(proj.feature_names, want, "{what}");
        } else {
            assert_eq!(proj.feature_names, want, "{what}");
        }
    }
}

#[test]
fn feature_globs_select_in_schema_order() {
    let f = files();
    let src = TableSource::open(&f.parquet, None).unwrap();
    let proj = src
        .project(&ColumnSpec {
            features: vec!["x_f*".into(), "x_i8".into(), "x_f64".into()],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(proj.feature_names, ["x_f16", "x_f32", "x_f64", "x_i8"]);
}

#[test]
fn batches_keep_row_order_and_first_row() {
    let f = files();
    for (what, path) in all_paths(&f) {
        let src = TableSource::open(&path, None).unwrap();
        let proj = src.project(&spec("label_str", "id_str")).unwrap();
        let mut next = 0;
        let mut x = Vec::new();
        let mut w = Vec::new();
        let mut ids = Vec::new();
        for b in src.batches(&proj, 333).unwrap() {
            let b = b.unwrap();
            assert_eq!(b.first_row, next, "{what}");
            assert!(b.n_rows > 0 && b.n_rows <= 333, "{what}: {} rows", b.n_rows);
            assert_eq!(b.x.len(), b.n_rows * proj.n_features());
            assert_eq!(id_of(&b.passthrough).len(), b.n_rows);
            assert_eq!(b.labels.as_ref().unwrap().len(), b.n_rows);
            next += b.n_rows;
            x.extend(b.x);
            w.extend(b.weights.unwrap());
            ids.extend(strings(&id_of(&b.passthrough)));
        }
        assert_eq!(next, N, "{what}");
        assert_eq!(bits(&x), bits(&f.sample.x), "{what}");
        assert_eq!(bits(&w), bits(&f.sample.weights), "{what}");
        assert_eq!(
            ids,
            f.sample
                .id_str
                .iter()
                .cloned()
                .map(Some)
                .collect::<Vec<_>>(),
            "{what}"
        );
    }
}

#[test]
fn read_all_with_capacity_leaves_room() {
    let f = files();
    for path in [f.parquet.clone(), f.csv.clone(), f.ipc.clone()] {
        let src = TableSource::open(&path, None).unwrap();
        let proj = src.project(&spec("label_int", "id_str")).unwrap();
        let t = src.read_all_with_capacity(&proj, 500).unwrap();
        assert_eq!(t.x.len(), N * proj.n_features());
        assert!(
            t.x.capacity() >= (N + 500) * proj.n_features(),
            "{}: capacity {}",
            path.display(),
            t.x.capacity()
        );
        assert_eq!(bits(&t.x), bits(&f.sample.x));
    }
}

fn fit(t: &Table) -> GaussianMixture {
    let data =
        t.x.clone()
            .into_dataset(t.columns.len())
            .unwrap()
            .with_weights(t.weights.clone().unwrap())
            .unwrap();
    FitParams::new(2)
        .covariance_type(CovarianceType::Diag)
        .n_init(2)
        .seed(7)
        .check()
        .unwrap()
        .fit(data.view(), &mut Silent)
        .unwrap()
        .model
}

fn model_bits(m: &GaussianMixture) -> (Vec<u64>, Vec<u64>, String) {
    (
        bits(m.weights().as_slice().unwrap()),
        bits(m.means().as_slice().unwrap()),
        format!("{:?}", m.covariances()),
    )
}

#[test]
fn parquet_csv_and_arrow_fit_bit_identical_models() {
    let f = files();
    let reference = fit(&read(&f.parquet, &spec("label_int", "id_str")));
    assert_eq!(reference.n_components(), 2);
    for (what, path) in all_paths(&f) {
        let m = fit(&read(&path, &spec("label_int", "id_str")));
        assert_eq!(model_bits(&m), model_bits(&reference), "{what}");
    }
}

fn read_back(path: &Path) -> RecordBatch {
    let src = TableSource::open(path, None).unwrap();
    let batches: Vec<RecordBatch> = match src.format() {
        InputFormat::Parquet => {
            let file = std::fs::File::open(path).unwrap();
            parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
                .unwrap()
                .build()
                .unwrap()
                .map(Result::unwrap)
                .collect()
        }
        InputFormat::ArrowIpc => {
            let file = std::fs::File::open(path).unwrap();
            gmm_io::arrow::ipc::reader::FileReader::try_new(file, None)
                .unwrap()
                .map(Result::unwrap)
                .collect()
        }
        InputFormat::Csv => {
            let file = std::fs::File::open(path).unwrap();
            gmm_io::arrow::csv::ReaderBuilder::new(std::sync::Arc::new(src.schema().clone()))
                .with_header(true)
                .build(file)
                .unwrap()
                .map(Result::unwrap)
                .collect()
        }
    };
    gmm_io::arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap()
}

#[test]
fn predictions_read_back_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let k = 3;
    let rows = 1_000;
    // Rows of probabilities, the best component known.
    let proba: Vec<f64> = (0..rows)
        .flat_map(|i| {
            let best = i % k;
            (0..k).map(move |c| {
                if c == best {
                    0.5 + (i as f64) * 1e-4
                } else {
                    0.1
                }
            })
        })
        .collect();
    let ids: ArrayRef = std::sync::Arc::new(StringArray::from_iter_values(
        (0..rows).map(|i| format!("id-{i}")),
    ));
    let int_ids: ArrayRef = std::sync::Arc::new(Int64Array::from_iter_values(
        (0..rows as i64).map(|i| 5 * i),
    ));
    for format in [
        OutputFormat::Parquet,
        OutputFormat::Csv,
        OutputFormat::Arrow,
    ] {
        for (id_name, id_array) in [
            (None, None),
            (Some("key"), Some(&ids)),
            (Some("n"), Some(&int_ids)),
        ] {
            let path = dir.path().join(format!(
                "p-{}.{}",
                id_name.unwrap_or("none"),
                format.extension()
            ));
            assert_eq!(OutputFormat::from_path(&path).unwrap(), format);
            // The id column as it travels beside rows: one struct column.
            let passthrough: Option<ArrayRef> = id_name.map(|n| {
                let field = Field::new(n, id_array.unwrap().data_type().clone(), true);
                std::sync::Arc::new(gmm_io::arrow::array::StructArray::new(
                    vec![field].into(),
                    vec![id_array.unwrap().clone()],
                    None,
                )) as ArrayRef
            });
            let columns = gmm_io::PredictionColumns {
                passthrough: passthrough
                    .as_ref()
                    .map(|p| Field::new("passthrough", p.data_type().clone(), false)),
                classes: None,
                rows_left_out: false,
                noise: false,
            };
            let mut w = PredictionWriter::create(&path, format, k, columns).unwrap();
            // Three uneven batches.
            for (start, end) in [(0, 10), (10, 610), (610, rows)] {
                let id_slice = passthrough.as_ref().map(|a| a.slice(start, end - start));
                w.write(id_slice.as_ref(), &proba[start * k..end * k])
                    .unwrap();
            }
            let pending = w.finish().unwrap();
            assert!(!path.exists(), "appears only when committed");
            pending.commit().unwrap();

            let b = read_back(&path);
            let names: Vec<String> = b
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect();
            let mut want: Vec<String> = id_name.iter().map(|s| s.to_string()).collect();
            want.extend(
                [
                    "component",
                    "probability",
                    "proba_0",
                    "proba_1",
                    "proba_2",
                    "uncertainty",
                ]
                .map(String::from),
            );
            assert_eq!(names, want, "{format:?}");
            assert_eq!(b.num_rows(), rows);
            let off = id_name.is_some() as usize;
            if let Some(ids) = id_array {
                assert_eq!(
                    strings(b.column(0)),
                    strings(ids),
                    "{format:?}: ids in order"
                );
            }
            let component = gmm_io::arrow::compute::cast(b.column(off), &DataType::UInt32).unwrap();
            if format != OutputFormat::Csv {
                assert_eq!(b.schema().field(off).data_type(), &DataType::UInt32);
                assert_eq!(b.schema().field(off + 1).data_type(), &DataType::Float64);
                if let Some(ids) = id_array {
                    assert_eq!(b.column(0).data_type(), ids.data_type());
                }
            }
            let component = component.as_primitive::<UInt32Type>();
            for i in 0..rows {
                assert_eq!(component.value(i) as usize, i % k, "{format:?} row {i}");
            }
            let probability = b.column(off + 1).as_primitive::<Float64Type>();
            let p1 = b.column(off + 3).as_primitive::<Float64Type>();
            let uncertainty = b.column(off + 2 + k).as_primitive::<Float64Type>();
            for i in 0..rows {
                assert_eq!(probability.value(i), proba[i * k + i % k]);
                assert_eq!(p1.value(i), proba[i * k + 1]);
                let others: f64 = (0..k)
                    .filter(|&c| c != i % k)
                    .map(|c| proba[i * k + c])
                    .sum();
                assert_eq!(uncertainty.value(i), others, "{format:?} row {i}");
            }
        }
    }
}

#[test]
fn model_file_round_trip() {
    let f = files();
    let t = read(&f.parquet, &spec("label_int", "id_str"));
    let model = fit(&t);
    let mut file = ModelFile::new(
        &model,
        t.columns.clone(),
        &FitSummary {
            mean_log_likelihood: -12.5,
            n_iter: 9,
            converged: true,
            bic: 123.0,
            aic: 100.0,
            n_rows: t.n_rows as u64,
            total_weight: Some(t.weights.as_ref().unwrap().iter().sum()),
            reg_covar: 1e-6,
        },
    );
    file.column_types = Some(t.column_types.clone());
    file.classes = Some(vec!["3".into(), "12".into()]);
    file.label_column = Some("label_int".into());
    file.provenance = Some(Provenance {
        tool: "gmm".into(),
        version: "test".into(),
        created: gmm_io::utc_now_rfc3339(),
        input: Some(f.parquet.display().to_string()),
        seed: Some(7),
        precision: Some(gmm_core::Precision::F32),
        ..Default::default()
    });
    let path = f.parquet.with_file_name("model.json");
    file.write_pending(&path).unwrap().commit().unwrap();
    let back = ModelFile::read(&path).unwrap();
    assert_eq!(back, file);
    let m = back.to_model().unwrap();
    assert_eq!(model_bits(&m), model_bits(&model));
    assert_eq!(
        back.column_types.as_ref().unwrap()[..4],
        ["int8", "int16", "int32", "int64"]
    );
    // Readable without this tool: plain JSON with the contract's keys.
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for key in [
        "format",
        "version",
        "covariance_type",
        "columns",
        "weights",
        "means",
        "covariances",
        "precisions_cholesky",
        "mean_log_likelihood",
        "n_iter",
        "converged",
        "bic",
        "aic",
        "n_rows",
    ] {
        assert!(v.get(key).is_some(), "model file key `{key}`");
    }
    assert_eq!(v["covariances"].as_array().unwrap().len(), 2);
    assert_eq!(
        v["covariances"][0].as_array().unwrap().len(),
        t.columns.len()
    );
}

#[test]
fn multi_file_labels_and_ids_of_other_types_take_the_first_files_type() {
    use gmm_io::arrow::array::{Float64Array, Int32Array};
    use gmm_io::arrow::datatypes::Schema;
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let a = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("x", DataType::Float64, false),
            Field::new("y", DataType::Int32, true),
            Field::new("id", DataType::Utf8, false),
        ])),
        vec![
            Arc::new(Float64Array::from(vec![1.0, 2.0])),
            Arc::new(Int32Array::from(vec![Some(1), None])),
            Arc::new(StringArray::from(vec!["a", "b"])),
        ],
    )
    .unwrap();
    // The second file: x as int64, y as int64, id as large strings.
    let b = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("id", DataType::LargeUtf8, false),
            Field::new("y", DataType::Int64, true),
            Field::new("x", DataType::Int64, false),
        ])),
        vec![
            Arc::new(gmm_io::arrow::array::LargeStringArray::from(vec!["c"])),
            Arc::new(Int64Array::from(vec![Some(2)])),
            Arc::new(Int64Array::from(vec![3])),
        ],
    )
    .unwrap();
    write_parquet(&dir.path().join("a.parquet"), &[a], 10);
    write_parquet(&dir.path().join("b.parquet"), &[b], 10);
    let src = TableSource::open(dir.path(), None).unwrap();
    let proj = src
        .project(&ColumnSpec {
            features: vec!["x".into()],
            label: Some("y".into()),
            ids: vec!["id".into()],
            ..Default::default()
        })
        .unwrap();
    let t = src.read_all(&proj).unwrap();
    assert_eq!(t.x.values().to_vec(), [1.0, 2.0, 3.0]);
    assert_eq!(t.labels.as_ref().unwrap().data_type(), &DataType::Int32);
    assert_eq!(
        label_values("y", t.labels.as_ref().unwrap()).unwrap(),
        [Some("1".into()), None, Some("2".into())]
    );
    assert_eq!(id_of(&t.passthrough).data_type(), &DataType::Utf8);
    assert_eq!(
        strings(&id_of(&t.passthrough)),
        [Some("a".into()), Some("b".into()), Some("c".into())]
    );
    // The same through batches, as predictions read them.
    let ids: Vec<Option<String>> = src
        .batches(&proj, 1)
        .unwrap()
        .flat_map(|b| strings(&id_of(&b.unwrap().passthrough)))
        .collect();
    assert_eq!(ids.len(), 3);
}

#[test]
fn csv_label_column_empty_in_the_sampled_rows_keeps_its_labels() {
    // Unlabeled rows first, labeled rows after the rows types are inferred from.
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("x,label\n");
    for i in 0..1_500 {
        let label = if i >= 1_200 {
            (i % 2).to_string()
        } else {
            String::new()
        };
        text.push_str(&format!("{}.5,{label}\n", i % 7));
    }
    let path = common::write_text(dir.path(), "late.csv", &text);
    let t = read(
        &path,
        &ColumnSpec {
            features: vec!["x".into()],
            label: Some("label".into()),
            ..Default::default()
        },
    );
    let labels = label_values("label", t.labels.as_ref().unwrap()).unwrap();
    assert_eq!(labels.iter().flatten().count(), 300);
    assert_eq!(labels[1_201].as_deref(), Some("1"));
    let classes = gmm_io::Classes::from_values(&labels);
    assert_eq!(classes.names(), ["0", "1"]);
}

#[test]
fn csv_quirks_read_as_expected() {
    let dir = tempfile::tempdir().unwrap();
    // CRLF line ends, a final line without newline, quoted fields, a BOM.
    let path = common::write_text(
        dir.path(),
        "q.csv",
        "\u{feff}a,\"b\",name\r\n1,2,\"x, y\"\r\n3,4.5,\"say \"\"hi\"\"\"\r\n-1e3,5,",
    );
    let t = read(
        &path,
        &ColumnSpec {
            features: vec!["a".into(), "b".into()],
            ids: vec!["name".into()],
            ..Default::default()
        },
    );
    assert_eq!(t.x.values().to_vec(), [1.0, 2.0, 3.0, 4.5, -1000.0, 5.0]);
    assert_eq!(
        strings(&id_of(&t.passthrough)),
        [Some("x, y".into()), Some("say \"hi\"".into()), None]
    );
    // A semicolon-delimited file through the delimiter option.
    let path = common::write_text(dir.path(), "semi.csv", "a;b\n1.5;2\n3;4\n");
    let src = TableSource::open(&path, Some(b';')).unwrap();
    let proj = src.project(&ColumnSpec::default()).unwrap();
    assert_eq!(proj.feature_names, ["a", "b"]);
    assert_eq!(
        src.read_all(&proj).unwrap().x.values().to_vec(),
        [1.5, 2.0, 3.0, 4.0]
    );
}

/// Any row range of any format reads the same rows as slicing the whole
/// table: how processes of a split fit read their shares (Parquet row
/// groups outside the range are skipped, so ranges that start and end
/// inside, across and between row groups and files are all tried).
#[test]
fn row_ranges_read_the_rows_of_the_whole_table() {
    let f = files();
    let spec = spec("label_int", "id_str");
    for (what, path) in all_paths(&f) {
        let src = TableSource::open(&path, None).unwrap();
        let proj = src.project(&spec).unwrap();
        let whole = src.read_all(&proj).unwrap();
        let d = whole.columns.len();
        for (a, b) in [
            (0, N),
            (0, 1),
            (5, 905),
            (899, 901),
            (1_700, N),
            (N, N),
            (7, 7),
            (2_000, 9_999),
        ] {
            let t = src.read_rows(&proj, a..b).unwrap();
            let b = b.min(N);
            let what = format!("{what} rows {a}..{b}");
            assert_eq!(t.n_rows, b - a, "{what}");
            assert_eq!(
                bits(&t.x),
                bits(whole.x.values().slice(a * d, b * d)),
                "{what}: features"
            );
            assert_eq!(
                bits(t.weights.as_ref().unwrap()),
                bits(&whole.weights.as_ref().unwrap()[a..b]),
                "{what}: weights"
            );
            let ids = id_of(&whole.passthrough).slice(a, b - a);
            assert_eq!(
                strings(&id_of(&t.passthrough)),
                strings(&ids),
                "{what}: ids"
            );
            let labels = whole.labels.as_ref().unwrap().slice(a, b - a);
            assert_eq!(
                strings(t.labels.as_ref().unwrap()),
                strings(&labels),
                "{what}: labels"
            );
        }
    }
}

#[test]
fn compressed_csv_row_estimates_come_from_the_text() {
    let f = files();
    for path in [&f.csv_gz, &f.tsv_zst] {
        let src = TableSource::open(path, None).unwrap();
        assert_eq!(src.estimated_rows(), Some(N), "{}", path.display());
    }
    // Past the 4 MiB sample: extrapolated from the compressed bytes.
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("a,b\n");
    let mut rng = common::Rng::new(5);
    for _ in 0..300_000 {
        text.push_str(&format!("{:.6},{:.6}\n", rng.normal(), rng.normal()));
    }
    let gz = dir.path().join("big.csv.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(text.as_bytes()).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let est = TableSource::open(&gz, None)
        .unwrap()
        .estimated_rows()
        .unwrap();
    assert!(
        (est as f64 / 300_000.0 - 1.0).abs() < 0.1,
        "estimated {est} rows of 300000"
    );
}
