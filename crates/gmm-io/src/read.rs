//! Reading a table's projected columns into row-major `f64` rows, whole
//! (Parquet row groups decoded in parallel straight into their place in one
//! buffer) or batch by batch (for streaming predictions and scores).

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::compute::{cast, concat};
use arrow::datatypes::{DataType, Float64Type, SchemaRef};
use arrow::ipc::reader::FileReader as IpcFileReader;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use rayon::prelude::*;

use crate::error::{IoError, Result};
use crate::input::{InputFormat, Projection, SourceFile, TableSource};

/// Rows per decoded batch when reading.
pub const DEFAULT_BATCH_ROWS: usize = 65_536;

/// Rows of CSV used to infer column types.
const CSV_INFER_ROWS: usize = 1000;

/// A table's selected columns: features as row-major `f64`, and the special
/// columns as they were (labels and ids keep their Arrow type).
#[derive(Debug, Clone)]
pub struct Table {
    pub source: std::path::PathBuf,
    pub columns: Vec<String>,
    /// Arrow type of each feature column in the file, for the model file.
    pub column_types: Vec<String>,
    /// `n_rows x columns.len()`, row-major.
    pub x: Vec<f64>,
    pub n_rows: usize,
    pub weights: Option<Vec<f64>>,
    pub labels: Option<ArrayRef>,
    pub ids: Option<ArrayRef>,
}

/// A batch of consecutive rows of a table.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Index of the batch's first row in the table.
    pub first_row: usize,
    pub n_rows: usize,
    pub x: Vec<f64>,
    pub weights: Option<Vec<f64>>,
    pub labels: Option<ArrayRef>,
    pub ids: Option<ArrayRef>,
}

impl TableSource {
    /// Reads the projected columns of every row.
    pub fn read_all(&self, proj: &Projection) -> Result<Table> {
        self.read_all_with_capacity(proj, 0)
    }

    /// Reads every row, leaving room in the row buffer for `extra_rows`
    /// more (rows of a second table appended without reallocating).
    pub fn read_all_with_capacity(&self, proj: &Projection, extra_rows: usize) -> Result<Table> {
        let d = proj.n_features();
        let column_types = proj
            .features
            .iter()
            .map(|&i| crate::input::type_name(self.schema.field(i).data_type()))
            .collect();
        let (x, n_rows, weights, labels, ids) = match self.format {
            InputFormat::Parquet => self.read_parquet_parallel(proj, extra_rows)?,
            _ => {
                let mut x = Vec::new();
                x.reserve_exact((self.estimate_rows().unwrap_or(0) + extra_rows) * d);
                let mut n = 0;
                let mut weights = proj.weight.map(|_| Vec::new());
                let mut labels = Vec::new();
                let mut ids = Vec::new();
                for batch in self.batches(proj, DEFAULT_BATCH_ROWS)? {
                    let b = batch?;
                    x.extend_from_slice(&b.x);
                    n += b.n_rows;
                    if let (Some(w), Some(bw)) = (weights.as_mut(), b.weights) {
                        w.extend(bw);
                    }
                    labels.extend(b.labels);
                    ids.extend(b.ids);
                }
                (
                    x,
                    n,
                    weights,
                    concat_arrays(&self.display, labels)?,
                    concat_arrays(&self.display, ids)?,
                )
            }
        };
        if n_rows == 0 {
            return Err(IoError::EmptyTable {
                path: self.display.clone(),
            });
        }
        Ok(Table {
            source: self.display.clone(),
            columns: proj.feature_names.clone(),
            column_types,
            x,
            n_rows,
            weights,
            labels,
            ids,
        })
    }

    /// A row estimate for reserving memory: exact for Parquet, by newlines for CSV.
    fn estimate_rows(&self) -> Option<usize> {
        match self.format {
            InputFormat::Parquet => self.known_rows(),
            InputFormat::Csv => {
                let mut f = File::open(&self.files[0].path).ok()?;
                let mut buf = vec![0u8; 1 << 20];
                let mut lines = 0usize;
                loop {
                    let n = f.read(&mut buf).ok()?;
                    if n == 0 {
                        break;
                    }
                    lines += buf[..n].iter().filter(|&&b| b == b'\n').count();
                }
                Some(lines.saturating_sub(1) + 1)
            }
            InputFormat::ArrowIpc => None,
        }
    }

    /// The rows batch by batch, in order; each batch holds at most
    /// `batch_rows` rows (Parquet batches also end at row-group bounds).
    pub fn batches(
        &self,
        proj: &Projection,
        batch_rows: usize,
    ) -> Result<Box<dyn Iterator<Item = Result<Batch>> + Send + '_>> {
        let conv = Converter::new(self, proj);
        let mut next_row = 0usize;
        let tag = move |r: Result<ConvertedBatch>| -> Result<Batch> {
            let c = r?;
            let b = Batch {
                first_row: next_row,
                n_rows: c.n_rows,
                x: c.x,
                weights: c.weights,
                labels: c.labels,
                ids: c.ids,
            };
            next_row += c.n_rows;
            Ok(b)
        };
        match self.format {
            InputFormat::Csv => {
                let file = &self.files[0];
                let schema = self.schema.clone();
                let reader = csv_reader(file, schema, proj, self.delimiter, batch_rows)?;
                let path = file.path.clone();
                let mut row = 0usize;
                let it = reader.map(move |b| {
                    let b = b.map_err(|e| csv_error(&path, &conv, e))?;
                    let out = conv.convert(&path, &b, row);
                    row += b.num_rows();
                    out
                });
                Ok(Box::new(it.map(tag)))
            }
            InputFormat::ArrowIpc => {
                let file = &self.files[0];
                let f = File::open(&file.path).map_err(|e| IoError::read(&file.path, e))?;
                let reader = IpcFileReader::try_new(BufReader::new(f), Some(proj.all_columns()))
                    .map_err(|e| IoError::read(&file.path, e))?;
                let path = file.path.clone();
                let mut row = 0usize;
                let it = reader.flat_map(move |b| {
                    let out: Vec<Result<ConvertedBatch>> = match b {
                        Err(e) => vec![Err(IoError::read(&path, e))],
                        Ok(b) => {
                            // IPC batches can be large: split them.
                            let mut v = Vec::new();
                            let mut off = 0;
                            while off < b.num_rows() {
                                let len = batch_rows.min(b.num_rows() - off);
                                v.push(conv.convert(&path, &b.slice(off, len), row + off));
                                off += len;
                            }
                            row += b.num_rows();
                            v
                        }
                    };
                    out
                });
                Ok(Box::new(it.map(tag)))
            }
            InputFormat::Parquet => {
                let units = self.parquet_units();
                let proj = proj.clone();
                let it = units.into_iter().flat_map(move |u| {
                    match parquet_unit_reader(self, &u, &proj, batch_rows) {
                        Err(e) => vec![Err(e)].into_iter(),
                        Ok(reader) => {
                            let path = &self.files[u.file].path;
                            let mut row = u.first_row;
                            let v: Vec<Result<ConvertedBatch>> = reader
                                .map(|b| {
                                    let b = b.map_err(|e| IoError::read(path, e))?;
                                    let out = conv.convert(path, &b, row);
                                    row += b.num_rows();
                                    out
                                })
                                .collect();
                            v.into_iter()
                        }
                    }
                });
                Ok(Box::new(it.map(tag)))
            }
        }
    }

    /// (file, row group, first row, rows) of every Parquet row group.
    fn parquet_units(&self) -> Vec<ParquetUnit> {
        let mut units = Vec::new();
        let mut row = 0;
        for (fi, f) in self.files.iter().enumerate() {
            let meta = f.parquet.as_ref().expect("parquet metadata");
            for (rg, g) in meta.metadata().row_groups().iter().enumerate() {
                let n = g.num_rows() as usize;
                units.push(ParquetUnit {
                    file: fi,
                    row_group: rg,
                    first_row: row,
                    n_rows: n,
                });
                row += n;
            }
        }
        units
    }

    #[allow(clippy::type_complexity)]
    fn read_parquet_parallel(
        &self,
        proj: &Projection,
        extra_rows: usize,
    ) -> Result<(
        Vec<f64>,
        usize,
        Option<Vec<f64>>,
        Option<ArrayRef>,
        Option<ArrayRef>,
    )> {
        let d = proj.n_features();
        let units = self.parquet_units();
        let n: usize = units.iter().map(|u| u.n_rows).sum();
        let mut x = Vec::with_capacity((n + extra_rows) * d);
        x.resize(n * d, 0.0f64);

        let mut weights = proj.weight.map(|_| vec![0.0f64; n]);
        // Disjoint output slices, one per row group.
        let mut x_parts: Vec<&mut [f64]> = Vec::with_capacity(units.len());
        let mut rest = x.as_mut_slice();
        for u in &units {
            let (a, b) = rest.split_at_mut(u.n_rows * d);
            x_parts.push(a);
            rest = b;
        }
        let mut w_parts: Vec<Option<&mut [f64]>> = Vec::with_capacity(units.len());
        match weights.as_mut() {
            Some(w) => {
                let mut rest = w.as_mut_slice();
                for u in &units {
                    let (a, b) = rest.split_at_mut(u.n_rows);
                    w_parts.push(Some(a));
                    rest = b;
                }
            }
            None => w_parts.extend(units.iter().map(|_| None)),
        }
        let conv = Converter::new(self, proj);
        let results: Vec<Result<(Vec<ArrayRef>, Vec<ArrayRef>)>> = units
            .par_iter()
            .zip(x_parts.into_par_iter())
            .zip(w_parts.into_par_iter())
            .map(|((u, xs), ws)| {
                let path = &self.files[u.file].path;
                let reader = parquet_unit_reader(self, u, proj, 16_384)?;
                let mut labels = Vec::new();
                let mut ids = Vec::new();
                let mut off = 0;
                let mut ws = ws;
                for b in reader {
                    let b = b.map_err(|e| IoError::read(path, e))?;
                    let rows = b.num_rows();
                    if off + rows > u.n_rows {
                        return Err(IoError::read(
                            path,
                            "row group holds more rows than its metadata says",
                        ));
                    }
                    let w_out = ws.as_deref_mut().map(|w| &mut w[off..off + rows]);
                    let (l, i) = conv.convert_into(
                        path,
                        &b,
                        u.first_row + off,
                        &mut xs[off * d..(off + rows) * d],
                        w_out,
                    )?;
                    labels.extend(l);
                    ids.extend(i);
                    off += rows;
                }
                if off != u.n_rows {
                    return Err(IoError::read(
                        path,
                        "row group holds fewer rows than its metadata says",
                    ));
                }
                Ok((labels, ids))
            })
            .collect();
        let mut labels = Vec::new();
        let mut ids = Vec::new();
        for r in results {
            let (l, i) = r?;
            labels.extend(l);
            ids.extend(i);
        }
        Ok((
            x,
            n,
            weights,
            concat_arrays(&self.display, labels)?,
            concat_arrays(&self.display, ids)?,
        ))
    }
}

struct ParquetUnit {
    file: usize,
    row_group: usize,
    first_row: usize,
    n_rows: usize,
}

fn parquet_unit_reader(
    src: &TableSource,
    u: &ParquetUnit,
    proj: &Projection,
    batch_rows: usize,
) -> Result<parquet::arrow::arrow_reader::ParquetRecordBatchReader> {
    let file = &src.files[u.file];
    let meta = file.parquet.clone().expect("parquet metadata");
    // Columns by name: files of one table may order them differently.
    let names: Vec<&str> = proj
        .all_columns()
        .iter()
        .map(|&i| src.schema.field(i).name().as_str())
        .collect();
    let fs = meta.schema();
    let roots: Vec<usize> = names.iter().filter_map(|n| fs.index_of(n).ok()).collect();
    let mask = ProjectionMask::roots(meta.parquet_schema(), roots);
    let f = File::open(&file.path).map_err(|e| IoError::read(&file.path, e))?;
    ParquetRecordBatchReaderBuilder::new_with_metadata(f, meta)
        .with_projection(mask)
        .with_row_groups(vec![u.row_group])
        .with_batch_size(batch_rows)
        .build()
        .map_err(|e| IoError::read(&file.path, e))
}

fn concat_arrays(path: &Path, parts: Vec<ArrayRef>) -> Result<Option<ArrayRef>> {
    if parts.is_empty() {
        return Ok(None);
    }
    if parts.len() == 1 {
        return Ok(parts.into_iter().next());
    }
    let refs: Vec<&dyn Array> = parts.iter().map(|a| a.as_ref()).collect();
    concat(&refs).map(Some).map_err(|e| IoError::read(path, e))
}

pub(crate) fn csv_schema(path: &Path, delimiter: u8) -> Result<SchemaRef> {
    let mut f = File::open(path).map_err(|e| IoError::read(path, e))?;
    let format = arrow::csv::reader::Format::default()
        .with_header(true)
        .with_delimiter(delimiter);
    let (schema, _) = format
        .infer_schema(BufReader::new(&mut f), Some(CSV_INFER_ROWS))
        .map_err(|e| IoError::read(path, format!("not a readable CSV file ({e})")))?;
    if schema.fields().is_empty() {
        return Err(IoError::EmptyTable {
            path: path.to_path_buf(),
        });
    }
    f.seek(SeekFrom::Start(0))
        .map_err(|e| IoError::read(path, e))?;
    Ok(Arc::new(schema))
}

pub(crate) fn ipc_schema(path: &Path) -> Result<SchemaRef> {
    let f = File::open(path).map_err(|e| IoError::read(path, e))?;
    let reader = IpcFileReader::try_new(BufReader::new(f), None).map_err(|e| {
        IoError::read(
            path,
            format!("not a readable Arrow IPC (Feather v2) file ({e})"),
        )
    })?;
    Ok(reader.schema())
}

/// A CSV reader that parses feature and weight columns as `f64` directly.
fn csv_reader(
    file: &SourceFile,
    schema: SchemaRef,
    proj: &Projection,
    delimiter: u8,
    batch_rows: usize,
) -> Result<arrow::csv::Reader<BufReader<File>>> {
    let fields: Vec<arrow::datatypes::Field> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            if proj.features.contains(&i) || proj.weight == Some(i) {
                arrow::datatypes::Field::new(f.name(), DataType::Float64, true)
            } else {
                f.as_ref().clone()
            }
        })
        .collect();
    let f = File::open(&file.path).map_err(|e| IoError::read(&file.path, e))?;
    arrow::csv::ReaderBuilder::new(crate::input::schema_ref(fields))
        .with_header(true)
        .with_delimiter(delimiter)
        .with_batch_size(batch_rows)
        .with_projection(proj.all_columns())
        .build(BufReader::new(f))
        .map_err(|e| IoError::read(&file.path, e))
}

/// Turns Arrow's CSV parse errors into messages naming the column and row.
fn csv_error(path: &Path, conv: &Converter, e: arrow::error::ArrowError) -> IoError {
    let msg = e.to_string();
    let parse = || -> Option<IoError> {
        let value = msg
            .split("parsing value '")
            .nth(1)?
            .split('\'')
            .next()?
            .to_string();
        let col: usize = msg
            .split("for column ")
            .nth(1)?
            .split(' ')
            .next()?
            .parse()
            .ok()?;
        let line: usize = msg
            .split("at line ")
            .nth(1)?
            .split('.')
            .next()?
            .parse()
            .ok()?;
        let column = conv.schema.field(col).name().clone();
        Some(IoError::NonNumericValue {
            path: path.to_path_buf(),
            column,
            row: line.saturating_sub(1),
            value,
        })
    };
    parse().unwrap_or_else(|| IoError::read(path, format!("malformed CSV: {msg}")))
}

struct ConvertedBatch {
    n_rows: usize,
    x: Vec<f64>,
    weights: Option<Vec<f64>>,
    labels: Option<ArrayRef>,
    ids: Option<ArrayRef>,
}

/// Converts decoded batches of one table to row-major `f64`.
struct Converter {
    schema: SchemaRef,
    features: Vec<String>,
    label: Option<String>,
    weight: Option<String>,
    id: Option<String>,
}

impl Converter {
    fn new(src: &TableSource, proj: &Projection) -> Self {
        let name = |i: usize| src.schema.field(i).name().clone();
        Converter {
            schema: src.schema.clone(),
            features: proj.features.iter().map(|&i| name(i)).collect(),
            label: proj.label.map(name),
            weight: proj.weight.map(name),
            id: proj.id.map(name),
        }
    }

    fn convert(&self, path: &Path, b: &RecordBatch, first_row: usize) -> Result<ConvertedBatch> {
        let rows = b.num_rows();
        let mut x = vec![0.0; rows * self.features.len()];
        let mut w = self.weight.as_ref().map(|_| vec![0.0; rows]);
        let (labels, ids) = self.convert_into(path, b, first_row, &mut x, w.as_deref_mut())?;
        Ok(ConvertedBatch {
            n_rows: rows,
            x,
            weights: w,
            labels,
            ids,
        })
    }

    /// Writes the batch's features into `x` (rows x d) and its weights into
    /// `w`; returns its labels and ids. `first_row` is the 0-based index of
    /// the batch's first row in the table, for messages.
    fn convert_into(
        &self,
        path: &Path,
        b: &RecordBatch,
        first_row: usize,
        x: &mut [f64],
        w: Option<&mut [f64]>,
    ) -> Result<(Option<ArrayRef>, Option<ArrayRef>)> {
        let d = self.features.len();
        let rows = b.num_rows();
        let column = |name: &str| {
            b.column_by_name(name).cloned().ok_or_else(|| {
                IoError::read(path, format!("column `{name}` vanished while reading"))
            })
        };
        for (j, name) in self.features.iter().enumerate() {
            let values = numeric_column(path, name, &column(name)?, first_row)?;
            let values = values.values();
            // Scatter the column into the row-major block.
            for (i, &v) in values.iter().enumerate() {
                x[i * d + j] = v;
            }
            if let Some(i) = values.iter().position(|v| !v.is_finite()) {
                let count = values.iter().filter(|v| !v.is_finite()).count();
                return Err(IoError::NonFinite {
                    path: path.to_path_buf(),
                    column: name.clone(),
                    row: first_row + i + 1,
                    count,
                    value: values[i],
                });
            }
        }
        debug_assert_eq!(x.len(), rows * d);
        if let (Some(name), Some(w)) = (&self.weight, w) {
            let values = numeric_column(path, name, &column(name)?, first_row)?;
            for (i, &v) in values.values().iter().enumerate() {
                if !(v.is_finite() && v >= 0.0) {
                    return Err(IoError::BadWeight {
                        path: path.to_path_buf(),
                        column: name.clone(),
                        row: first_row + i + 1,
                        value: v,
                    });
                }
                w[i] = v;
            }
        }
        let labels = self.label.as_deref().map(column).transpose()?;
        let ids = self.id.as_deref().map(column).transpose()?;
        Ok((labels, ids))
    }
}

/// A column as `f64` without nulls.
fn numeric_column(
    path: &Path,
    name: &str,
    col: &ArrayRef,
    first_row: usize,
) -> Result<arrow::array::Float64Array> {
    if !crate::input::is_numeric(col.data_type()) {
        return Err(IoError::NonNumericColumn {
            path: path.to_path_buf(),
            column: name.to_string(),
            data_type: col.data_type().to_string(),
            hint: "only integer, floating-point and decimal columns can be features",
        });
    }
    if col.null_count() > 0 {
        let row = (0..col.len()).position(|i| col.is_null(i)).unwrap_or(0);
        return Err(IoError::NullValues {
            path: path.to_path_buf(),
            column: name.to_string(),
            row: first_row + row + 1,
            count: col.null_count(),
        });
    }
    let f = cast(col, &DataType::Float64)
        .map_err(|e| IoError::read(path, format!("column `{name}`: {e}")))?;
    Ok(f.as_primitive::<Float64Type>().clone())
}
