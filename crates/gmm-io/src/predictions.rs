//! Per-row predictions written while they are computed: the columns copied
//! from the input (ids, kept columns), `component` (u32), `class` (for a
//! semi-supervised model), `probability` of that component, `proba_0` ...
//! `proba_{K-1}` and `uncertainty` (1 - `probability`, mclust's; f64), in
//! row order, as Parquet, CSV or Arrow IPC. A model with a noise component
//! writes `component` as i32, -1 for a row the noise explains best (its
//! `class` null), and `proba_noise` after `proba_{K-1}`.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int32Array, RecordBatch, UInt32Array};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;

use crate::atomic::PendingFile;
use crate::error::{IoError, Result};
use crate::labels::ComponentClasses;
use crate::parquet_out::ParallelParquetWriter;

/// Rows per Parquet row group of a predictions file.
pub const PREDICTION_ROW_GROUP: usize = 131_072;

/// Output formats of predictions and samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    #[default]
    Parquet,
    Csv,
    Arrow,
}

impl OutputFormat {
    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Parquet => "parquet",
            OutputFormat::Csv => "csv",
            OutputFormat::Arrow => "arrow",
        }
    }

    /// The format of an output path by its extension.
    pub fn from_path(path: &Path) -> Result<Self> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        match ext.as_str() {
            "parquet" | "pq" => Ok(OutputFormat::Parquet),
            "csv" => Ok(OutputFormat::Csv),
            "arrow" | "feather" | "ipc" => Ok(OutputFormat::Arrow),
            _ => Err(IoError::UnsupportedFormat {
                path: path.to_path_buf(),
                extension: ext,
                choices: ".parquet, .arrow, .feather, .ipc or .csv",
            }),
        }
    }
}

impl FromStr for OutputFormat {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "parquet" => Ok(OutputFormat::Parquet),
            "csv" => Ok(OutputFormat::Csv),
            "arrow" => Ok(OutputFormat::Arrow),
            other => Err(format!("`{other}` is not one of csv, parquet, arrow")),
        }
    }
}

enum Sink {
    Parquet(ParallelParquetWriter<BufWriter<File>>),
    Csv(arrow::csv::Writer<BufWriter<File>>),
    Arrow(arrow::ipc::writer::FileWriter<BufWriter<File>>),
}

/// Writes record batches of one schema to a file that appears when finished.
pub struct BatchWriter {
    pending: PendingFile,
    sink: Sink,
    schema: SchemaRef,
    rows: usize,
}

impl BatchWriter {
    pub fn create(path: impl AsRef<Path>, format: OutputFormat, schema: SchemaRef) -> Result<Self> {
        let path = path.as_ref();
        let names: Vec<&String> = schema.fields().iter().map(|f| f.name()).collect();
        if let Some((_, _, dup)) = crate::projection::repeated_name(&names) {
            return Err(IoError::write(
                path,
                format!("two of its columns would be named `{dup}`; rename one of them"),
            ));
        }
        let (pending, file) = PendingFile::create(path)?;
        let out = BufWriter::with_capacity(1 << 20, file);
        let sink = match format {
            OutputFormat::Parquet => {
                let mut props = WriterProperties::builder()
                    .set_compression(Compression::SNAPPY)
                    .set_max_row_group_row_count(Some(PREDICTION_ROW_GROUP));
                // Probabilities are nearly all distinct: a dictionary of them
                // is built, hashed and then given up for every page (a fifth
                // of a small fit's time). Component numbers and ids keep it.
                for f in schema.fields() {
                    if f.data_type().is_floating() {
                        props = props.set_column_dictionary_enabled(
                            ColumnPath::from(f.name().as_str()),
                            false,
                        );
                    }
                }
                let props = props.build();
                Sink::Parquet(
                    ParallelParquetWriter::try_new(out, schema.clone(), props)
                        .map_err(|e| IoError::write(path, e))?,
                )
            }
            OutputFormat::Csv => Sink::Csv(
                arrow::csv::WriterBuilder::new()
                    .with_header(true)
                    .build(out),
            ),
            OutputFormat::Arrow => Sink::Arrow(
                arrow::ipc::writer::FileWriter::try_new(out, &schema)
                    .map_err(|e| IoError::write(path, e))?,
            ),
        };
        Ok(BatchWriter {
            pending,
            sink,
            schema,
            rows: 0,
        })
    }

    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let path = self.pending.dest().to_path_buf();
        let r = match &mut self.sink {
            Sink::Parquet(w) => w.write(batch).map_err(|e| e.to_string()),
            Sink::Csv(w) => w.write(batch).map_err(|e| e.to_string()),
            Sink::Arrow(w) => w.write(batch).map_err(|e| e.to_string()),
        };
        r.map_err(|e| IoError::write(&path, e))?;
        self.rows += batch.num_rows();
        Ok(())
    }

    /// Finishes the file; it is published when the returned pending file is
    /// committed (alone or with the rest of a run's outputs).
    pub fn finish(self) -> Result<PendingFile> {
        let path: PathBuf = self.pending.dest().to_path_buf();
        let flush = |w: BufWriter<File>| -> std::result::Result<(), String> {
            let f = w.into_inner().map_err(|e| e.to_string())?;
            f.sync_all().map_err(|e| e.to_string())
        };
        let r: std::result::Result<(), String> = match self.sink {
            Sink::Parquet(w) => w.into_inner().map_err(|e| e.to_string()).and_then(flush),
            Sink::Csv(w) => flush(w.into_inner()),
            Sink::Arrow(mut w) => w
                .finish()
                .map_err(|e| e.to_string())
                .and_then(|_| w.into_inner().map_err(|e| e.to_string()))
                .and_then(flush),
        };
        r.map_err(|e| IoError::write(&path, e))?;
        Ok(self.pending)
    }

    pub fn rows(&self) -> usize {
        self.rows
    }
}

/// What a predictions file holds besides `component`, `probability` and
/// the `proba_*` columns.
#[derive(Debug, Clone, Default)]
pub struct PredictionColumns {
    /// Columns of the input copied in front, as a struct field whose
    /// fields are the columns (see [`crate::load::LoadedData`]'s
    /// `passthrough_field`).
    pub passthrough: Option<Field>,
    /// The class of each component, written as `class` after `component`.
    pub classes: Option<ComponentClasses>,
    /// Rows may be left out (`--missing drop`): their probabilities are
    /// NaN, and they are written as nulls.
    pub rows_left_out: bool,
    /// The model has a noise component: each row's probabilities have one
    /// more, the noise's, last.
    pub noise: bool,
}

impl PredictionColumns {
    /// The passthrough columns' fields, in order.
    fn passthrough_fields(&self) -> Vec<Field> {
        match self.passthrough.as_ref().map(Field::data_type) {
            Some(DataType::Struct(fields)) => fields.iter().map(|f| f.as_ref().clone()).collect(),
            _ => Vec::new(),
        }
    }
}

/// Writes predictions batch by batch.
pub struct PredictionWriter {
    inner: BatchWriter,
    k: usize,
    noise: bool,
    classes: Option<ComponentClasses>,
}

impl PredictionWriter {
    pub fn create(
        path: impl AsRef<Path>,
        format: OutputFormat,
        k: usize,
        columns: PredictionColumns,
    ) -> Result<Self> {
        Ok(PredictionWriter {
            inner: BatchWriter::create(path, format, prediction_schema(k, &columns))?,
            k,
            noise: columns.noise,
            classes: columns.classes,
        })
    }

    /// Writes the rows whose posterior probabilities are `proba`
    /// (`rows x K`, or `rows x (K + 1)` with the noise's last, row-major),
    /// with their passthrough columns (a struct array, as read). A row of
    /// NaN probabilities is a row left out: its written values are null
    /// (see [`PredictionColumns::rows_left_out`]).
    pub fn write(&mut self, passthrough: Option<&ArrayRef>, proba: &[f64]) -> Result<()> {
        let k = self.k + usize::from(self.noise);
        let rows = proba.len() / k;
        let mut component = Vec::with_capacity(rows);
        let mut probability = Vec::with_capacity(rows);
        let mut uncertainty = Vec::with_capacity(rows);
        let mut present = Vec::with_capacity(rows);
        for row in proba.chunks_exact(k) {
            let mut best = 0;
            for (c, &p) in row.iter().enumerate() {
                if p > row[best] {
                    best = c;
                }
            }
            present.push(!row[0].is_nan());
            component.push(best as u32);
            probability.push(row[best]);
            // mclust's uncertainty, 1 - the largest probability, summed from
            // the others so that it keeps its digits when it is tiny.
            // (A fold from +0: a sum of nothing would be -0.)
            let others = (0..k)
                .filter(|&c| c != best)
                .fold(0.0, |sum, c| sum + row[c]);
            uncertainty.push(others);
        }
        let nulls = present
            .contains(&false)
            .then(|| arrow::buffer::NullBuffer::from(present));
        if nulls.is_some()
            && !self
                .inner
                .schema()
                .field_with_name("probability")
                .is_ok_and(|f| f.is_nullable())
        {
            return Err(IoError::write(
                self.inner.pending.dest(),
                "a row without probabilities, in predictions that were not to leave rows out",
            ));
        }
        let column = |values: Vec<f64>| -> ArrayRef {
            Arc::new(Float64Array::new(values.into(), nulls.clone()))
        };
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(k + 4);
        if let Some(p) = passthrough {
            let s = p.as_any().downcast_ref::<arrow::array::StructArray>();
            columns.extend(
                s.expect("passthrough columns travel as a struct")
                    .columns()
                    .iter()
                    .cloned(),
            );
        }
        let gaussians = self.k as u32;
        let noise_rows = self
            .noise
            .then(|| component.iter().map(|&c| c == gaussians));
        // Classes of the Gaussians' rows; a noise row has none.
        let class_nulls = match noise_rows {
            None => nulls.clone(),
            Some(noise_rows) => {
                let valid = noise_rows
                    .zip(0..)
                    .map(|(noise, i)| !noise && nulls.as_ref().is_none_or(|n| n.is_valid(i)));
                Some(arrow::buffer::NullBuffer::from_iter(valid))
            }
        };
        let classes = self.classes.as_ref().map(|c| {
            let of = component
                .iter()
                .map(|&c| c.min(gaussians - 1))
                .collect::<Vec<_>>();
            c.of(&UInt32Array::new(of.into(), class_nulls))
        });
        if self.noise {
            let signed = component
                .iter()
                .map(|&c| if c == gaussians { -1 } else { c as i32 })
                .collect::<Vec<_>>();
            columns.push(Arc::new(Int32Array::new(signed.into(), nulls.clone())));
        } else {
            columns.push(Arc::new(UInt32Array::new(component.into(), nulls.clone())));
        }
        columns.extend(classes);
        columns.push(column(probability));
        for c in 0..k {
            columns.push(column(proba.chunks_exact(k).map(|r| r[c]).collect()));
        }
        columns.push(column(uncertainty));
        let batch = RecordBatch::try_new(self.inner.schema().clone(), columns)
            .map_err(|e| IoError::write(self.inner.pending.dest(), e))?;
        self.inner.write(&batch)
    }

    pub fn finish(self) -> Result<PendingFile> {
        self.inner.finish()
    }

    /// Rows written so far.
    pub fn rows(&self) -> usize {
        self.inner.rows()
    }
}

/// Refuses columns copied into predictions (ids, kept columns) named as a
/// column gmm adds (`component`, `class` with `classes`, `probability`,
/// `proba_0` .. `proba_{k-1}`): the file would have two columns of one
/// name, which readers such as pandas refuse.
pub fn check_passthrough_columns(
    names: &[String],
    k: usize,
    classes: bool,
    noise: bool,
) -> std::result::Result<(), String> {
    for name in names {
        let added = name == "component"
            || name == "probability"
            || name == "uncertainty"
            || (classes && name == "class")
            || (noise && name == "proba_noise")
            || name
                .strip_prefix("proba_")
                .and_then(|c| c.parse::<usize>().ok())
                .is_some_and(|c| c < k && *name == format!("proba_{c}"));
        if added {
            return Err(format!(
                "column `{name}` is copied into the predictions but has the name of a column gmm writes there (component,{} probability, proba_0 .. proba_{},{} uncertainty); rename it in the table, or copy it under another name",
                if classes { " class," } else { "" },
                k.saturating_sub(1),
                if noise { " proba_noise," } else { "" }
            ));
        }
    }
    Ok(())
}

/// The schema of a predictions file.
pub fn prediction_schema(k: usize, columns: &PredictionColumns) -> SchemaRef {
    let mut fields = columns.passthrough_fields();
    let nullable = columns.rows_left_out;
    let component = if columns.noise {
        DataType::Int32
    } else {
        DataType::UInt32
    };
    fields.push(Field::new("component", component, nullable));
    if let Some(c) = &columns.classes {
        fields.push(Field::new("class", c.data_type().clone(), true));
    }
    fields.push(Field::new("probability", DataType::Float64, nullable));
    for c in 0..k {
        fields.push(Field::new(
            format!("proba_{c}"),
            DataType::Float64,
            nullable,
        ));
    }
    if columns.noise {
        fields.push(Field::new("proba_noise", DataType::Float64, nullable));
    }
    fields.push(Field::new("uncertainty", DataType::Float64, nullable));
    Arc::new(Schema::new(fields))
}
