//! Shared helpers of the gmm-io integration tests: a generated table with a
//! column of every supported feature type, label, weight and id columns,
//! and writers for it in every input format.

#![allow(dead_code)]

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use gmm_io::arrow::array::{
    ArrayRef, Decimal32Array, Decimal64Array, Decimal128Array, Decimal256Array, DictionaryArray,
    Float32Array, Float64Array, Int8Array, Int16Array, Int32Array, Int64Array, RecordBatch,
    StringArray, UInt8Array, UInt16Array, UInt32Array, UInt64Array,
};
use gmm_io::arrow::compute::cast;
use gmm_io::arrow::datatypes::{DataType, Field, Int32Type, Schema, SchemaRef, i256};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;

/// A tiny deterministic generator (SplitMix64), so tests need no `rand`.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform integer in [lo, hi].
    pub fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as i64
    }

    /// Approximately standard normal (sum of uniforms).
    pub fn normal(&mut self) -> f64 {
        (0..12).map(|_| self.uniform()).sum::<f64>() - 6.0
    }
}

/// The feature columns of [`Sample`], one per supported type.
pub const FEATURES: [&str; 16] = [
    "x_i8", "x_i16", "x_i32", "x_i64", "x_u8", "x_u16", "x_u32", "x_u64", "x_f16", "x_f32",
    "x_f64", "x_dec32", "x_dec64", "x_dec128", "x_dec256", "x_dict",
];

/// A generated two-cluster table and what reading it must give.
pub struct Sample {
    pub batch: RecordBatch,
    pub n_rows: usize,
    /// Row-major features, as `f64`.
    pub x: Vec<f64>,
    pub weights: Vec<f64>,
    /// Integer labels (3 or 12, so that text order differs from numeric).
    pub label_int: Vec<Option<i32>>,
    pub label_str: Vec<Option<String>>,
    pub id_str: Vec<String>,
    pub id_i64: Vec<i64>,
}

impl Sample {
    pub fn feature_names() -> Vec<String> {
        FEATURES.iter().map(|s| s.to_string()).collect()
    }

    /// `n` rows; about a third of the rows carry labels.
    pub fn new(n: usize, seed: u64) -> Sample {
        let mut rng = Rng::new(seed);
        let cluster: Vec<bool> = (0..n).map(|_| rng.uniform() < 0.4).collect();
        let sign = |c: bool| if c { 1.0 } else { -1.0 };
        let mut cols: Vec<(Field, ArrayRef, Vec<f64>)> = Vec::new();
        let mut int_col = |name: &str, t: DataType, lo: i64, hi: i64, center: i64| {
            let v: Vec<i64> = cluster
                .iter()
                .map(|&c| {
                    let base = if c {
                        center + (hi - lo) / 4
                    } else {
                        center - (hi - lo) / 4
                    };
                    (base + rng.int(-(hi - lo) / 8, (hi - lo) / 8)).clamp(lo, hi)
                })
                .collect();
            let arr: ArrayRef = match t {
                DataType::Int8 => Arc::new(Int8Array::from_iter_values(v.iter().map(|&x| x as i8))),
                DataType::Int16 => {
                    Arc::new(Int16Array::from_iter_values(v.iter().map(|&x| x as i16)))
                }
                DataType::Int32 => {
                    Arc::new(Int32Array::from_iter_values(v.iter().map(|&x| x as i32)))
                }
                DataType::Int64 => Arc::new(Int64Array::from_iter_values(v.iter().copied())),
                DataType::UInt8 => {
                    Arc::new(UInt8Array::from_iter_values(v.iter().map(|&x| x as u8)))
                }
                DataType::UInt16 => {
                    Arc::new(UInt16Array::from_iter_values(v.iter().map(|&x| x as u16)))
                }
                DataType::UInt32 => {
                    Arc::new(UInt32Array::from_iter_values(v.iter().map(|&x| x as u32)))
                }
                DataType::UInt64 => {
                    Arc::new(UInt64Array::from_iter_values(v.iter().map(|&x| x as u64)))
                }
                _ => unreachable!(),
            };
            (
                Field::new(name, t, false),
                arr,
                v.iter().map(|&x| x as f64).collect(),
            )
        };
        cols.push(int_col("x_i8", DataType::Int8, -120, 120, 0));
        cols.push(int_col("x_i16", DataType::Int16, -30_000, 30_000, 0));
        cols.push(int_col(
            "x_i32",
            DataType::Int32,
            -2_000_000,
            2_000_000,
            100,
        ));
        cols.push(int_col(
            "x_i64",
            DataType::Int64,
            -5_000_000_000,
            5_000_000_000,
            7,
        ));
        cols.push(int_col("x_u8", DataType::UInt8, 0, 250, 125));
        cols.push(int_col("x_u16", DataType::UInt16, 0, 60_000, 30_000));
        cols.push(int_col(
            "x_u32",
            DataType::UInt32,
            0,
            4_000_000_000,
            2_000_000_000,
        ));
        cols.push(int_col(
            "x_u64",
            DataType::UInt64,
            0,
            9_000_000_000,
            4_500_000_000,
        ));

        // Float16: eighths in [-16, 16] are exact.
        let f16: Vec<f64> = cluster
            .iter()
            .map(|&c| (sign(c) * 32.0 + rng.int(-40, 40) as f64) / 8.0)
            .collect();
        cols.push((
            Field::new("x_f16", DataType::Float16, false),
            // Exact: eighths of small integers.
            cast(&Float64Array::from(f16.clone()), &DataType::Float16).unwrap(),
            f16,
        ));
        let f32v: Vec<f32> = cluster
            .iter()
            .map(|&c| (sign(c) * 2.0 + 0.7 * rng.normal()) as f32)
            .collect();
        cols.push((
            Field::new("x_f32", DataType::Float32, false),
            Arc::new(Float32Array::from(f32v.clone())),
            f32v.iter().map(|&v| v as f64).collect(),
        ));
        let f64v: Vec<f64> = cluster
            .iter()
            .map(|&c| 1e3 + sign(c) * 3.0 + rng.normal() / 3.0)
            .collect();
        cols.push((
            Field::new("x_f64", DataType::Float64, false),
            Arc::new(Float64Array::from(f64v.clone())),
            f64v,
        ));
        // Decimals: the f64 is the correctly rounded value of the decimal text.
        let mut decimal = |scale: i8, spread: i64| -> (Vec<i64>, Vec<f64>) {
            let m: Vec<i64> = cluster
                .iter()
                .map(|&c| if c { spread } else { -spread } + rng.int(-spread, spread))
                .collect();
            let f = m
                .iter()
                .map(|&m| decimal_text(m as i128, scale).parse::<f64>().unwrap())
                .collect();
            (m, f)
        };
        let (m, f) = decimal(2, 40_000);
        cols.push((
            Field::new("x_dec32", DataType::Decimal32(9, 2), false),
            Arc::new(
                Decimal32Array::from_iter_values(m.iter().map(|&v| v as i32))
                    .with_precision_and_scale(9, 2)
                    .unwrap(),
            ),
            f,
        ));
        let (m, f) = decimal(4, 3_000_000);
        cols.push((
            Field::new("x_dec64", DataType::Decimal64(18, 4), false),
            Arc::new(
                Decimal64Array::from_iter_values(m.iter().copied())
                    .with_precision_and_scale(18, 4)
                    .unwrap(),
            ),
            f,
        ));
        let (m, f) = decimal(3, 5_000);
        cols.push((
            Field::new("x_dec128", DataType::Decimal128(12, 3), false),
            Arc::new(
                Decimal128Array::from_iter_values(m.iter().map(|&v| v as i128))
                    .with_precision_and_scale(12, 3)
                    .unwrap(),
            ),
            f,
        ));
        let (m, f) = decimal(2, 70_000);
        cols.push((
            Field::new("x_dec256", DataType::Decimal256(40, 2), false),
            Arc::new(
                Decimal256Array::from_iter_values(m.iter().map(|&v| i256::from_i128(v as i128)))
                    .with_precision_and_scale(40, 2)
                    .unwrap(),
            ),
            f,
        ));
        // A dictionary-encoded float column (a categorical of numbers).
        let levels = [0.5, 1.5, 2.25, 4.0];
        let codes: Vec<i32> = cluster
            .iter()
            .map(|&c| if c { rng.int(2, 3) } else { rng.int(0, 1) } as i32)
            .collect();
        let dict = DictionaryArray::<Int32Type>::try_new(
            Int32Array::from(codes.clone()),
            Arc::new(Float64Array::from(levels.to_vec())),
        )
        .unwrap();
        cols.push((
            Field::new(
                "x_dict",
                DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Float64)),
                false,
            ),
            Arc::new(dict),
            codes.iter().map(|&c| levels[c as usize]).collect(),
        ));
        assert_eq!(cols.len(), FEATURES.len());

        let d = cols.len();
        let mut x = vec![0.0; n * d];
        for (j, (_, _, v)) in cols.iter().enumerate() {
            for i in 0..n {
                x[i * d + j] = v[i];
            }
        }
        let labeled: Vec<bool> = (0..n).map(|_| rng.uniform() < 0.35).collect();
        let label_int: Vec<Option<i32>> = (0..n)
            .map(|i| labeled[i].then_some(if cluster[i] { 12 } else { 3 }))
            .collect();
        let label_str: Vec<Option<String>> = (0..n)
            .map(|i| {
                labeled[i].then(|| if cluster[i] { "virginica" } else { "setosa" }.to_string())
            })
            .collect();
        let weights: Vec<f64> = (0..n).map(|_| 0.25 + 2.0 * rng.uniform()).collect();
        let id_str: Vec<String> = (0..n).map(|i| format!("row-{i:06}")).collect();
        let id_i64: Vec<i64> = (0..n).map(|i| 1_000_000 + 7 * i as i64).collect();

        let mut fields: Vec<Field> = Vec::new();
        let mut arrays: Vec<ArrayRef> = Vec::new();
        for (f, a, _) in cols {
            fields.push(f);
            arrays.push(a);
        }
        fields.push(Field::new("label_int", DataType::Int32, true));
        arrays.push(Arc::new(Int32Array::from(label_int.clone())));
        fields.push(Field::new("label_str", DataType::Utf8, true));
        arrays.push(Arc::new(StringArray::from(label_str.clone())));
        let dict_labels: DictionaryArray<Int32Type> =
            label_str.iter().map(|s| s.as_deref()).collect();
        fields.push(Field::new(
            "label_dict",
            DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
            true,
        ));
        arrays.push(Arc::new(dict_labels));
        fields.push(Field::new("w", DataType::Float64, false));
        arrays.push(Arc::new(Float64Array::from(weights.clone())));
        fields.push(Field::new("id_str", DataType::Utf8, false));
        arrays.push(Arc::new(StringArray::from(id_str.clone())));
        fields.push(Field::new("id_i64", DataType::Int64, false));
        arrays.push(Arc::new(Int64Array::from(id_i64.clone())));
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap();
        Sample {
            batch,
            n_rows: n,
            x,
            weights,
            label_int,
            label_str,
            id_str,
            id_i64,
        }
    }

    /// The label texts `label_values` must give for `label_int`.
    pub fn label_int_text(&self) -> Vec<Option<String>> {
        self.label_int
            .iter()
            .map(|v| v.map(|v| v.to_string()))
            .collect()
    }

    /// Rows `[start, end)` of the features, row-major.
    pub fn x_rows(&self, start: usize, end: usize) -> &[f64] {
        let d = FEATURES.len();
        &self.x[start * d..end * d]
    }
}

/// `m / 10^scale` as decimal text.
pub fn decimal_text(m: i128, scale: i8) -> String {
    let neg = m < 0;
    let digits = m.unsigned_abs().to_string();
    let s = scale as usize;
    let padded = format!("{digits:0>width$}", width = s + 1);
    let (int, frac) = padded.split_at(padded.len() - s);
    format!("{}{int}.{frac}", if neg { "-" } else { "" })
}

/// Writes batches as one Parquet file with row groups of `row_group` rows.
pub fn write_parquet(path: &Path, batches: &[RecordBatch], row_group: usize) {
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(row_group))
        .build();
    let mut w = ArrowWriter::try_new(
        File::create(path).unwrap(),
        batches[0].schema(),
        Some(props),
    )
    .unwrap();
    for b in batches {
        w.write(b).unwrap();
    }
    w.close().unwrap();
}

/// Writes an Arrow IPC file (optionally LZ4-compressed, as pyarrow does).
pub fn write_ipc(path: &Path, batch: &RecordBatch, batch_rows: usize, lz4: bool) {
    use gmm_io::arrow::ipc::CompressionType;
    use gmm_io::arrow::ipc::writer::{FileWriter, IpcWriteOptions};
    let options = if lz4 {
        IpcWriteOptions::default()
            .try_with_compression(Some(CompressionType::LZ4_FRAME))
            .unwrap()
    } else {
        IpcWriteOptions::default()
    };
    let mut w =
        FileWriter::try_new_with_options(File::create(path).unwrap(), &batch.schema(), options)
            .unwrap();
    for off in (0..batch.num_rows()).step_by(batch_rows) {
        w.write(&batch.slice(off, batch_rows.min(batch.num_rows() - off)))
            .unwrap();
    }
    w.finish().unwrap();
}

/// Writes an Arrow IPC stream.
pub fn write_ipc_stream(path: &Path, batch: &RecordBatch, batch_rows: usize) {
    use gmm_io::arrow::ipc::writer::StreamWriter;
    let mut w = StreamWriter::try_new(File::create(path).unwrap(), &batch.schema()).unwrap();
    for off in (0..batch.num_rows()).step_by(batch_rows) {
        w.write(&batch.slice(off, batch_rows.min(batch.num_rows() - off)))
            .unwrap();
    }
    w.finish().unwrap();
}

/// Writes the batch as CSV with Arrow's writer; Float16/Float32 columns are
/// written as the `f64` they convert to, so that the text holds the same
/// numbers, and dictionaries as their values.
pub fn write_csv(path: &Path, batch: &RecordBatch) {
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    for (f, a) in batch.schema().fields().iter().zip(batch.columns()) {
        let to = match f.data_type() {
            DataType::Float16 | DataType::Float32 => Some(DataType::Float64),
            DataType::Dictionary(_, v) => Some(v.as_ref().clone()),
            _ => None,
        };
        match to {
            Some(t) => {
                arrays.push(cast(a, &t).unwrap());
                fields.push(Field::new(f.name(), t, f.is_nullable()));
            }
            None => {
                arrays.push(a.clone());
                fields.push(f.as_ref().clone());
            }
        }
    }
    let b = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap();
    let mut w = gmm_io::arrow::csv::WriterBuilder::new()
        .with_header(true)
        .build(File::create(path).unwrap());
    w.write(&b).unwrap();
}

/// The batch with its columns in reverse order.
pub fn reversed(batch: &RecordBatch) -> RecordBatch {
    let schema = batch.schema();
    let idx: Vec<usize> = (0..schema.fields().len()).rev().collect();
    batch.project(&idx).unwrap()
}

/// A one-column Float64 schema helper.
pub fn f64_schema(names: &[&str]) -> SchemaRef {
    Arc::new(Schema::new(
        names
            .iter()
            .map(|n| Field::new(*n, DataType::Float64, true))
            .collect::<Vec<_>>(),
    ))
}

/// Writes text to `dir/name`.
pub fn write_text(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}
