//! Reading a table's projected columns into row-major `f64` rows, whole
//! (Parquet row groups decoded in parallel straight into their place in one
//! buffer) or batch by batch (for streaming predictions and scores).
//!
//! Missing and non-finite feature values are counted over the whole table
//! before they are reported, so that the message says how many there are and
//! where the first one is.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::mem::MaybeUninit;
use std::path::{Path, PathBuf};

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::compute::{CastOptions, cast, cast_with_options, concat};
use arrow::datatypes::{DataType, Float64Type, SchemaRef};
use arrow::error::ArrowError;
use arrow::ipc::reader::{FileReader as IpcFileReader, StreamReader as IpcStreamReader};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use rayon::prelude::*;

use crate::error::{IoError, Result};
use crate::input::{InputFormat, Projection, SourceFile, TableSource, is_numeric};

/// Rows per decoded batch when reading.
pub const DEFAULT_BATCH_ROWS: usize = 65_536;

/// Rows of CSV used to infer column types.
pub(crate) const CSV_INFER_ROWS: usize = 1000;

/// Rows per Parquet batch when row groups are decoded in parallel: small
/// enough that a batch's columns stay in cache while they are interleaved.
const PARALLEL_BATCH_ROWS: usize = 8_192;

/// Rows interleaved at a time: the block of output rows stays in L1/L2
/// while every column is written into it.
const TILE_ROWS: usize = 256;

/// A table's selected columns: features as row-major `f64`, and the special
/// columns as they were (labels and ids keep their Arrow type).
#[derive(Debug, Clone)]
pub struct Table {
    pub source: PathBuf,
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

/// Decoded rows of a whole table, before they become a [`Table`].
struct Columns {
    x: Vec<f64>,
    n_rows: usize,
    weights: Option<Vec<f64>>,
    labels: Option<ArrayRef>,
    ids: Option<ArrayRef>,
}

impl TableSource {
    /// Reads the projected columns of every row.
    pub fn read_all(&self, proj: &Projection) -> Result<Table> {
        self.read_all_with_capacity(proj, 0)
    }

    /// Reads every row, leaving room in the row buffer for `extra_rows`
    /// more (rows of a second table appended without reallocating).
    pub fn read_all_with_capacity(&self, proj: &Projection, extra_rows: usize) -> Result<Table> {
        let column_types = proj
            .features
            .iter()
            .map(|&i| crate::input::type_name(self.schema.field(i).data_type()))
            .collect();
        let c = match self.format {
            InputFormat::Parquet => self.read_parquet_parallel(proj, extra_rows)?,
            _ => self.read_sequential(proj, extra_rows)?,
        };
        if c.n_rows == 0 {
            return Err(IoError::EmptyTable {
                path: self.display.clone(),
            });
        }
        Ok(Table {
            source: self.display.clone(),
            columns: proj.feature_names.clone(),
            column_types,
            x: c.x,
            n_rows: c.n_rows,
            weights: c.weights,
            labels: c.labels,
            ids: c.ids,
        })
    }

    /// Reads the rows `rows` of the table (clipped to its end): one
    /// process's share when a fit is split among processes. Parquet row
    /// groups outside the range are not read; CSV and Arrow IPC are parsed
    /// from the start and the rows outside the range dropped as they go.
    /// The result may have no rows.
    pub fn read_rows(&self, proj: &Projection, rows: std::ops::Range<usize>) -> Result<Table> {
        let d = proj.n_features();
        let column_types = proj
            .features
            .iter()
            .map(|&i| crate::input::type_name(self.schema.field(i).data_type()))
            .collect();
        // Room for the whole range up front when the row count is known:
        // growing the buffer would hold it twice while it moves.
        let expected = self
            .known_rows()
            .map_or(0, |n| rows.end.min(n).saturating_sub(rows.start));
        let mut x = Vec::new();
        let _ = x.try_reserve_exact(expected.saturating_mul(d));
        let mut n = 0;
        let mut weights = proj.weight.map(|_| {
            let mut w = Vec::new();
            let _ = w.try_reserve_exact(expected);
            w
        });
        let mut labels = Vec::new();
        let mut ids = Vec::new();
        for batch in self.batches_in(proj, DEFAULT_BATCH_ROWS, rows.clone())? {
            let b = batch?;
            let (first, last) = (b.first_row, b.first_row + b.n_rows);
            if last <= rows.start {
                continue;
            }
            if first >= rows.end {
                break;
            }
            let (a, e) = (rows.start.max(first) - first, rows.end.min(last) - first);
            x.extend_from_slice(&b.x[a * d..e * d]);
            n += e - a;
            if let (Some(w), Some(bw)) = (weights.as_mut(), &b.weights) {
                w.extend_from_slice(&bw[a..e]);
            }
            labels.extend(b.labels.map(|l| l.slice(a, e - a)));
            ids.extend(b.ids.map(|l| l.slice(a, e - a)));
        }
        let empty = |col: Option<usize>| {
            col.map(|i| arrow::array::new_empty_array(self.schema.field(i).data_type()))
        };
        Ok(Table {
            source: self.display.clone(),
            columns: proj.feature_names.clone(),
            column_types,
            x,
            n_rows: n,
            weights,
            labels: concat_arrays(&self.display, labels)?.or_else(|| empty(proj.label)),
            ids: concat_arrays(&self.display, ids)?.or_else(|| empty(proj.id)),
        })
    }

    /// CSV and Arrow IPC: batch after batch, appended to one buffer.
    fn read_sequential(&self, proj: &Projection, extra_rows: usize) -> Result<Columns> {
        let d = proj.n_features();
        let mut x = Vec::new();
        let estimate = self.estimate_rows().unwrap_or(0);
        let _ = x.try_reserve_exact(estimate.saturating_add(extra_rows).saturating_mul(d));
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
        Ok(Columns {
            x,
            n_rows: n,
            weights,
            labels: concat_arrays(&self.display, labels)?,
            ids: concat_arrays(&self.display, ids)?,
        })
    }

    /// A row estimate for reserving memory, by newlines for CSV.
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
                Some(lines)
            }
            InputFormat::ArrowIpc => None,
        }
    }

    /// The rows batch by batch, in order; each batch holds at most
    /// `batch_rows` rows (Parquet batches also end at row-group bounds).
    /// Only one batch is decoded at a time.
    pub fn batches(
        &self,
        proj: &Projection,
        batch_rows: usize,
    ) -> Result<Box<dyn Iterator<Item = Result<Batch>> + Send + '_>> {
        self.batches_in(proj, batch_rows, 0..usize::MAX)
    }

    /// Like [`TableSource::batches`], but may skip what lies outside `rows`:
    /// Parquet row groups that do not overlap `rows` are not read at all.
    /// The batches returned still carry their first row in the table and
    /// may begin before or end after `rows`; clip them.
    pub fn batches_in(
        &self,
        proj: &Projection,
        batch_rows: usize,
        rows: std::ops::Range<usize>,
    ) -> Result<Box<dyn Iterator<Item = Result<Batch>> + Send + '_>> {
        let batch_rows = batch_rows.max(1);
        let conv = Converter::new(self, proj);
        let (raw, first_row) = self.raw_batches(proj, &conv, batch_rows, rows)?;
        Ok(Box::new(Batches {
            src: self,
            raw,
            conv,
            next_row: first_row,
            done: false,
        }))
    }

    /// The decoded Arrow batches of the projected columns, in table order,
    /// each with the index of its file.
    fn raw_batches(
        &self,
        proj: &Projection,
        conv: &Converter,
        batch_rows: usize,
        rows: std::ops::Range<usize>,
    ) -> Result<(RawBatches<'_>, usize)> {
        // CSV and Arrow IPC are read from the start.
        fn all_rows(r: RawBatches<'_>) -> (RawBatches<'_>, usize) {
            (r, 0)
        }
        match self.format {
            InputFormat::Csv => {
                let file = &self.files[0];
                let reader =
                    csv_reader(file, self.schema.clone(), proj, self.delimiter, batch_rows)?;
                let path = file.path.clone();
                let conv = conv.clone();
                Ok(all_rows(guarded(
                    file.path.clone(),
                    reader.map(move |b| b.map(|b| (0, b)).map_err(|e| csv_error(&path, &conv, e))),
                )))
            }
            InputFormat::ArrowIpc => {
                let file = &self.files[0];
                let reader = no_panic(&file.path, || ipc_reader(file, Some(proj.all_columns())))?;
                let path = file.path.clone();
                Ok(all_rows(guarded(
                    file.path.clone(),
                    reader.flat_map(move |b| {
                        let out: Vec<Result<(usize, RecordBatch)>> = match b {
                            Err(e) => vec![Err(ipc_error(&path, e))],
                            // IPC batches can be large: split them (slices share memory).
                            Ok(b) => (0..b.num_rows())
                                .step_by(batch_rows)
                                .map(|off| {
                                    Ok((0, b.slice(off, batch_rows.min(b.num_rows() - off))))
                                })
                                .collect(),
                        };
                        out
                    }),
                )))
            }
            InputFormat::Parquet => {
                let proj = proj.clone();
                // Only the row groups that overlap `rows` (empty ones too,
                // so that an empty range still starts at the right row).
                let units: Vec<ParquetUnit> = self
                    .parquet_units()
                    .into_iter()
                    .filter(|u| u.first_row + u.n_rows > rows.start && u.first_row < rows.end)
                    .collect();
                let first_row = units.first().map_or(rows.start, |u| u.first_row);
                let raw: RawBatches<'_> =
                    Box::new(units.into_iter().flat_map(move |u| -> RawBatches<'_> {
                        let path = &self.files[u.file].path;
                        match no_panic(path, || parquet_unit_reader(self, &u, &proj, batch_rows)) {
                            Err(e) => Box::new(std::iter::once(Err(e))),
                            Ok(reader) => {
                                let path = self.files[u.file].path.clone();
                                guarded(
                                    path.clone(),
                                    reader.map(move |b| {
                                        b.map(|b| (u.file, b)).map_err(|e| parquet_error(&path, e))
                                    }),
                                )
                            }
                        }
                    }));
                Ok((raw, first_row))
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
                // Checked non-negative when the file was opened.
                let n = g.num_rows() as usize;
                units.push(ParquetUnit {
                    file: fi,
                    row_group: rg,
                    first_row: row,
                    n_rows: n,
                });
                // Corrupt metadata may claim absurd counts: saturate, and
                // let the allocation refuse them.
                row = row.saturating_add(n);
            }
        }
        units
    }

    /// Decodes every row group in parallel, each straight into its own
    /// disjoint range of one row-major buffer: the data is held once.
    fn read_parquet_parallel(&self, proj: &Projection, extra_rows: usize) -> Result<Columns> {
        let d = proj.n_features();
        let units = self.parquet_units();
        let n: usize = units.iter().fold(0usize, |n, u| n.saturating_add(u.n_rows));
        let too_big = || {
            IoError::read(
                &self.display,
                format!(
                    "cannot hold {n} rows x {d} columns in memory; select fewer columns or split the table"
                ),
            )
        };
        let len = n.checked_mul(d).ok_or_else(too_big)?;
        let capacity = n
            .checked_add(extra_rows)
            .and_then(|r| r.checked_mul(d))
            .ok_or_else(too_big)?;
        let mut x: Vec<f64> = Vec::new();
        x.try_reserve_exact(capacity).map_err(|_| too_big())?;
        let mut weights: Option<Vec<f64>> = match proj.weight {
            None => None,
            Some(_) => {
                let mut w = Vec::new();
                w.try_reserve_exact(n).map_err(|_| too_big())?;
                Some(w)
            }
        };

        // Disjoint output slices, one per row group. They are written
        // without being zeroed first: the decode touches every page once,
        // in parallel.
        let mut x_parts: Vec<&mut [MaybeUninit<f64>]> = Vec::with_capacity(units.len());
        let mut rest = &mut x.spare_capacity_mut()[..len];
        for u in &units {
            let (a, b) = rest.split_at_mut(u.n_rows * d);
            x_parts.push(a);
            rest = b;
        }
        let mut w_parts: Vec<Option<&mut [MaybeUninit<f64>]>> = Vec::with_capacity(units.len());
        match weights.as_mut() {
            Some(w) => {
                let mut rest = &mut w.spare_capacity_mut()[..n];
                for u in &units {
                    let (a, b) = rest.split_at_mut(u.n_rows);
                    w_parts.push(Some(a));
                    rest = b;
                }
            }
            None => w_parts.extend(units.iter().map(|_| None)),
        }
        let conv = Converter::new(self, proj);
        let results: Vec<Result<UnitOutput>> = units
            .par_iter()
            .zip(x_parts.into_par_iter())
            .zip(w_parts.into_par_iter())
            .map(|((u, xs), ws)| self.decode_unit(&conv, proj, u, xs, ws))
            .collect();

        let mut labels = Vec::new();
        let mut ids = Vec::new();
        let mut problems = Problems::new(&conv);
        for r in results {
            let out = r?;
            labels.extend(out.labels);
            ids.extend(out.ids);
            problems.merge(out.problems);
        }
        if let Some(e) = problems.into_error() {
            return Err(e);
        }
        // SAFETY: the row groups' slices partition `x[..len]` (and
        // `weights[..n]`), and every row group returned `Ok` only after
        // writing each element of its slice (`decode_unit` checks that it
        // decoded exactly the rows its slice holds, and `convert_into`
        // writes every cell of the rows it is given).
        unsafe {
            x.set_len(len);
            if let Some(w) = weights.as_mut() {
                w.set_len(n);
            }
        }
        Ok(Columns {
            x,
            n_rows: n,
            weights,
            labels: concat_arrays(&self.display, labels)?,
            ids: concat_arrays(&self.display, ids)?,
        })
    }

    /// Decodes one row group into its slices.
    fn decode_unit(
        &self,
        conv: &Converter,
        proj: &Projection,
        u: &ParquetUnit,
        xs: &mut [MaybeUninit<f64>],
        mut ws: Option<&mut [MaybeUninit<f64>]>,
    ) -> Result<UnitOutput> {
        let d = proj.n_features();
        let path = &self.files[u.file].path;
        let mut reader = no_panic(path, || {
            parquet_unit_reader(self, u, proj, PARALLEL_BATCH_ROWS)
        })?;
        let mut out = UnitOutput {
            labels: Vec::new(),
            ids: Vec::new(),
            problems: Problems::new(conv),
        };
        let mut off = 0;
        while let Some(b) = no_panic(path, || Ok(reader.next()))? {
            let b = b.map_err(|e| parquet_error(path, e))?;
            let rows = b.num_rows();
            if off + rows > u.n_rows {
                return Err(IoError::read(
                    path,
                    format!(
                        "row group {} holds more rows than its metadata says ({}); the file is corrupt",
                        u.row_group, u.n_rows
                    ),
                ));
            }
            let w_out = ws.as_deref_mut().map(|w| &mut w[off..off + rows]);
            let (l, i) = conv.convert_into(
                path,
                &b,
                u.first_row + off,
                &mut xs[off * d..(off + rows) * d],
                w_out,
                &mut out.problems,
            )?;
            out.labels.extend(l);
            out.ids.extend(i);
            off += rows;
        }
        if off != u.n_rows {
            return Err(IoError::read(
                path,
                format!(
                    "row group {} holds {off} rows but its metadata says {}; the file is corrupt",
                    u.row_group, u.n_rows
                ),
            ));
        }
        Ok(out)
    }
}

/// Decoded Arrow batches with the index of the file each came from.
type RawBatches<'a> = Box<dyn Iterator<Item = Result<(usize, RecordBatch)>> + Send + 'a>;

/// [`TableSource::batches`]: converts raw batches one at a time; at the
/// first missing or non-finite value it reads on to count them all, then
/// reports them and stops.
struct Batches<'a> {
    src: &'a TableSource,
    raw: RawBatches<'a>,
    conv: Converter,
    next_row: usize,
    done: bool,
}

impl Iterator for Batches<'_> {
    type Item = Result<Batch>;

    fn next(&mut self) -> Option<Result<Batch>> {
        if self.done {
            return None;
        }
        let (file, b) = match self.raw.next()? {
            Ok(r) => r,
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        let path = &self.src.files[file].path;
        let first_row = self.next_row;
        let rows = b.num_rows();
        self.next_row += rows;
        let mut problems = Problems::new(&self.conv);
        let d = self.conv.features.len();
        let mut x: Vec<f64> = Vec::with_capacity(rows * d);
        let mut w: Option<Vec<f64>> = self.conv.weight.as_ref().map(|_| Vec::with_capacity(rows));
        let converted = self.conv.convert_into(
            path,
            &b,
            first_row,
            &mut x.spare_capacity_mut()[..rows * d],
            w.as_mut().map(|w| &mut w.spare_capacity_mut()[..rows]),
            &mut problems,
        );
        let (labels, ids) = match converted {
            Ok(r) => r,
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        if problems.any() {
            self.done = true;
            // Count the rest before reporting; a later unreadable batch
            // ends the count, and the first problem is reported anyway.
            while let Some(Ok((file, b))) = self.raw.next() {
                let path = &self.src.files[file].path;
                if self
                    .conv
                    .scan(path, &b, self.next_row, &mut problems)
                    .is_err()
                {
                    break;
                }
                self.next_row += b.num_rows();
            }
            return problems.into_error().map(Err);
        }
        // SAFETY: `convert_into` returned `Ok`, so it wrote every cell of
        // the `rows * d` values and `rows` weights it was given.
        unsafe {
            x.set_len(rows * d);
            if let Some(w) = w.as_mut() {
                w.set_len(rows);
            }
        }
        Some(Ok(Batch {
            first_row,
            n_rows: rows,
            x,
            weights: w,
            labels,
            ids,
        }))
    }
}

struct ParquetUnit {
    file: usize,
    row_group: usize,
    first_row: usize,
    n_rows: usize,
}

struct UnitOutput {
    labels: Vec<ArrayRef>,
    ids: Vec<ArrayRef>,
    problems: Problems,
}

fn parquet_unit_reader(
    src: &TableSource,
    u: &ParquetUnit,
    proj: &Projection,
    batch_rows: usize,
) -> Result<ParquetRecordBatchReader> {
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
        .map_err(|e| parquet_error(&file.path, e))
}

/// Runs a decoder step, turning a panic into an error naming the file:
/// the Arrow IPC reader, for one, panics on some corrupt buffer offsets
/// instead of returning an error.
pub(crate) fn no_panic<T>(path: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let why = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "the decoder failed".into());
        Err(IoError::read(
            path,
            format!("cannot decode the file ({why}); it is corrupt or truncated"),
        ))
    })
}

/// Batches of one file with decoder panics turned into errors; ends at the
/// first error.
fn guarded<'a>(
    path: PathBuf,
    mut inner: impl Iterator<Item = Result<(usize, RecordBatch)>> + Send + 'a,
) -> RawBatches<'a> {
    let mut done = false;
    Box::new(std::iter::from_fn(move || {
        if done {
            return None;
        }
        let next = no_panic(&path, || Ok(inner.next())).unwrap_or_else(|e| Some(Err(e)));
        if !matches!(next, Some(Ok(_))) {
            done = true;
        }
        next
    }))
}

fn parquet_error(path: &Path, e: impl std::fmt::Display) -> IoError {
    IoError::read(
        path,
        format!("cannot decode the Parquet data ({e}); the file may be corrupt or truncated"),
    )
}

fn ipc_error(path: &Path, e: ArrowError) -> IoError {
    IoError::read(
        path,
        format!("cannot decode the Arrow IPC data ({e}); the file may be corrupt or truncated"),
    )
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
    let (schema, sampled_rows) = format
        .clone()
        .infer_schema(BufReader::new(&mut f), Some(CSV_INFER_ROWS))
        .map_err(|e| csv_infer_error(path, &format, e))?;
    // A header and no data rows: say so, rather than that no column is
    // numeric (every column of an empty CSV reads as text).
    if schema.fields().is_empty() || sampled_rows == 0 {
        return Err(IoError::EmptyTable {
            path: path.to_path_buf(),
        });
    }
    f.seek(SeekFrom::Start(0))
        .map_err(|e| IoError::read(path, e))?;
    // A column empty in every sampled row would be read as all-null (the
    // Null type ignores what it holds), silently dropping later values:
    // read it as text instead.
    let fields: Vec<arrow::datatypes::Field> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Null => f.as_ref().clone().with_data_type(DataType::Utf8),
            _ => f.as_ref().clone(),
        })
        .collect();
    Ok(crate::input::schema_ref(fields))
}

/// The schema of an Arrow IPC file, or of an IPC stream (`true`).
pub(crate) fn ipc_schema(path: &Path) -> Result<(SchemaRef, bool)> {
    let open = || File::open(path).map_err(|e| IoError::read(path, e));
    match IpcFileReader::try_new(BufReader::new(open()?), None) {
        Ok(r) => Ok((r.schema(), false)),
        Err(file_err) => match IpcStreamReader::try_new(BufReader::new(open()?), None) {
            Ok(r) => Ok((r.schema(), true)),
            Err(_) => Err(IoError::read(
                path,
                format!(
                    "not a readable Arrow IPC (Feather v2) file or stream ({file_err}); check that it was written completely"
                ),
            )),
        },
    }
}

type IpcBatches = Box<dyn Iterator<Item = std::result::Result<RecordBatch, ArrowError>> + Send>;

fn ipc_reader(file: &SourceFile, projection: Option<Vec<usize>>) -> Result<IpcBatches> {
    if !file.ipc_stream {
        check_ipc_sizes(&file.path)?;
    }
    let f = File::open(&file.path).map_err(|e| IoError::read(&file.path, e))?;
    let reader: IpcBatches = if file.ipc_stream {
        Box::new(
            IpcStreamReader::try_new(BufReader::new(f), projection)
                .map_err(|e| ipc_error(&file.path, e))?,
        )
    } else {
        Box::new(
            IpcFileReader::try_new(BufReader::new(f), projection)
                .map_err(|e| ipc_error(&file.path, e))?,
        )
    };
    Ok(reader)
}

/// Checks the sizes an Arrow IPC file declares before the Arrow reader
/// allocates them: every record batch must lie inside the file, and every
/// compressed buffer's decompressed length must be plausible. A damaged
/// file could otherwise ask for an allocation of exabytes, which aborts the
/// process instead of returning an error.
fn check_ipc_sizes(path: &Path) -> Result<()> {
    let corrupt = |what: String| {
        IoError::read(
            path,
            format!("not a readable Arrow IPC file ({what}); check that it was written completely"),
        )
    };
    let file = File::open(path).map_err(|e| IoError::read(path, e))?;
    // SAFETY: a read-only mapping, read once here; only the sizes it
    // declares are looked at, so a file changed meanwhile gives wrong
    // numbers at worst, which the Arrow reader then meets as corruption.
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| IoError::read(path, e))?;
    let bytes: &[u8] = &map;
    let len = bytes.len();
    if len < 10 || &bytes[len - 6..] != b"ARROW1" {
        // Not the file format's trailer: the Arrow reader says what is wrong.
        return Ok(());
    }
    let footer_len = i32::from_le_bytes(bytes[len - 10..len - 6].try_into().expect("4 bytes"));
    let footer_len = usize::try_from(footer_len).map_err(|_| corrupt("bad footer".into()))?;
    if footer_len > len - 10 {
        return Err(corrupt("footer longer than the file".into()));
    }
    let Ok(footer) = arrow::ipc::root_as_footer(&bytes[len - 10 - footer_len..len - 10]) else {
        return Ok(());
    };
    for block in footer.recordBatches().into_iter().flatten() {
        let (offset, meta_len, body_len) =
            (block.offset(), block.metaDataLength(), block.bodyLength());
        let (Ok(offset), Ok(meta_len), Ok(body_len)) = (
            usize::try_from(offset),
            usize::try_from(meta_len),
            usize::try_from(body_len),
        ) else {
            return Err(corrupt("negative record batch offset or length".into()));
        };
        let body_start = offset.saturating_add(meta_len);
        if body_start.saturating_add(body_len) > len {
            return Err(corrupt(
                "a record batch extends past the end of the file".into(),
            ));
        }
        // The message: a 0xFFFFFFFF continuation marker, its length, the flatbuffer.
        let meta = &bytes[offset..body_start];
        let fb = if meta.len() >= 8 && meta[..4] == [0xff; 4] {
            &meta[8..]
        } else if meta.len() >= 4 {
            &meta[4..]
        } else {
            continue;
        };
        let Ok(message) = arrow::ipc::root_as_message(fb) else {
            continue;
        };
        let Some(batch) = message.header_as_record_batch() else {
            continue;
        };
        if batch.compression().is_none() {
            continue;
        }
        for buf in batch.buffers().into_iter().flatten() {
            let (Ok(at), Ok(n)) = (usize::try_from(buf.offset()), usize::try_from(buf.length()))
            else {
                return Err(corrupt("negative buffer offset or length".into()));
            };
            if at.saturating_add(n) > body_len {
                return Err(corrupt("a buffer extends past its record batch".into()));
            }
            if n < 8 {
                continue;
            }
            let start = body_start + at;
            let declared = i64::from_le_bytes(bytes[start..start + 8].try_into().expect("8 bytes"));
            // -1: stored uncompressed. Otherwise at most 1 GiB, or 4096 times
            // the compressed size (zeros compress about that well).
            let limit = (n as i64).saturating_mul(4096).max(1 << 30);
            if declared < -1 || declared > limit {
                return Err(corrupt(format!(
                    "a compressed buffer of {n} bytes claims to hold {declared} bytes"
                )));
            }
        }
    }
    Ok(())
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
        .build(BufReader::with_capacity(1 << 20, f))
        .map_err(|e| IoError::read(&file.path, e))
}

/// The number that follows `marker` in `text`.
fn number_after(text: &str, marker: &str) -> Option<usize> {
    let rest = &text[text.find(marker)? + marker.len()..];
    let digits: &str = &rest[..rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len())];
    digits.parse().ok()
}

/// Errors of CSV schema inference (the first [`CSV_INFER_ROWS`] rows).
fn csv_infer_error(path: &Path, format: &arrow::csv::reader::Format, e: ArrowError) -> IoError {
    let msg = e.to_string();
    if msg.contains("unequal lengths") {
        // The inference counts physical lines (and miscounts some line
        // ends); find the row by reading the file as text instead.
        if let Some(err) = find_ragged_row(path, format) {
            return err;
        }
        if let (Some(expected), Some(found), Some(line)) = (
            number_after(&msg, "Expected "),
            number_after(&msg, "found "),
            number_after(&msg, " at line "),
        ) {
            return IoError::RaggedRow {
                path: path.to_path_buf(),
                row: line.saturating_sub(1),
                found: found.to_string(),
                expected,
            };
        }
    }
    IoError::read(path, format!("not a readable CSV file ({msg})"))
}

/// The first row whose field count differs from the header's, by reading
/// every column as text.
fn find_ragged_row(path: &Path, format: &arrow::csv::reader::Format) -> Option<IoError> {
    let (header, _) = format
        .infer_schema(BufReader::new(File::open(path).ok()?), Some(0))
        .ok()?;
    let fields: Vec<arrow::datatypes::Field> = header
        .fields()
        .iter()
        .map(|f| f.as_ref().clone().with_data_type(DataType::Utf8))
        .collect();
    let schema = crate::input::schema_ref(fields);
    let conv = Converter {
        schema: schema.clone(),
        features: Vec::new(),
        label: None,
        weight: None,
        id: None,
    };
    let reader = arrow::csv::ReaderBuilder::new(schema)
        .with_format(format.clone())
        .build(BufReader::new(File::open(path).ok()?))
        .ok()?;
    for b in reader {
        if let Err(e) = b {
            let err = csv_error(path, &conv, e);
            return matches!(err, IoError::RaggedRow { .. }).then_some(err);
        }
    }
    None
}

/// A field's text short enough to quote in a message (a field opened by a
/// stray quote can hold the rest of the file).
fn excerpt(value: &str) -> String {
    const MAX_CHARS: usize = 60;
    match value.char_indices().nth(MAX_CHARS) {
        Some((end, _)) => format!("{}...", &value[..end]),
        None => value.to_string(),
    }
}

/// Turns Arrow's CSV reading errors into messages naming the column and row.
fn csv_error(path: &Path, conv: &Converter, e: ArrowError) -> IoError {
    let msg = e.to_string();
    // "Error while parsing value '{v}' as type '{t}' for column {i} at line {l}. Row data: ..."
    // where `l` is the 1-based data row (the header is not counted).
    let parse_error = || -> Option<IoError> {
        let start = msg.find("parsing value '")? + "parsing value '".len();
        let type_at = start + msg[start..].find("' as type '")?;
        let value = excerpt(&msg[start..type_at]);
        let after = &msg[type_at..];
        let col = number_after(after, "' for column ")?;
        let row = number_after(after, " at line ")?;
        let field = conv.schema.fields().get(col)?;
        let column = field.name().clone();
        if conv.features.contains(&column) || conv.weight.as_ref() == Some(&column) {
            Some(IoError::NonNumericValue {
                path: path.to_path_buf(),
                column,
                row,
                value,
            })
        } else {
            Some(IoError::CsvTypeChange {
                path: path.to_path_buf(),
                column,
                row,
                value,
                inferred: crate::input::type_name(field.data_type()),
                sampled: CSV_INFER_ROWS,
            })
        }
    };
    // "incorrect number of fields for line {l}, expected {e} got [more than] {g}"
    // where `l` counts records from 1, the header included.
    let ragged = || -> Option<IoError> {
        let line = number_after(&msg, "fields for line ")?;
        let expected = number_after(&msg, "expected ")?;
        let found = match number_after(&msg, "got more than ") {
            Some(g) => format!("more than {g}"),
            None => number_after(&msg, " got ")?.to_string(),
        };
        Some(IoError::RaggedRow {
            path: path.to_path_buf(),
            row: line.saturating_sub(1),
            found,
            expected,
        })
    };
    // "Encountered invalid UTF-8 data for line {l} and field {f}", `l` as above.
    let utf8 = || -> Option<IoError> {
        let line = number_after(&msg, "UTF-8 data for line ")?;
        Some(IoError::read(
            path,
            format!(
                "data row {} is not valid UTF-8 text; save the file as UTF-8",
                line.saturating_sub(1)
            ),
        ))
    };
    parse_error()
        .or_else(ragged)
        .or_else(utf8)
        .unwrap_or_else(|| IoError::read(path, format!("malformed CSV: {msg}")))
}

/// Where a column's missing or non-finite values are, over the rows seen.
#[derive(Debug, Clone, Default)]
struct Found {
    count: usize,
    /// 1-based data row of the first one, its file, and its value.
    row: usize,
    path: PathBuf,
    value: f64,
}

impl Found {
    fn note(&mut self, path: &Path, row: usize, count: usize, value: f64) {
        if count == 0 {
            return;
        }
        if self.count == 0 || row < self.row {
            self.row = row;
            self.path = path.to_path_buf();
            self.value = value;
        }
        self.count += count;
    }

    fn merge(&mut self, other: Found) {
        let Found {
            count,
            row,
            path,
            value,
        } = other;
        self.note(&path, row, count, value);
    }
}

/// Missing (null) and non-finite values of the feature columns, then of the
/// weight column.
#[derive(Debug, Clone)]
struct Problems {
    columns: Vec<(String, Found, Found)>,
}

impl Problems {
    fn new(conv: &Converter) -> Self {
        Problems {
            columns: conv
                .features
                .iter()
                .chain(&conv.weight)
                .map(|c| (c.clone(), Found::default(), Found::default()))
                .collect(),
        }
    }

    fn any(&self) -> bool {
        self.columns
            .iter()
            .any(|(_, nulls, bad)| nulls.count > 0 || bad.count > 0)
    }

    fn merge(&mut self, other: Problems) {
        for (mine, theirs) in self.columns.iter_mut().zip(other.columns) {
            mine.1.merge(theirs.1);
            mine.2.merge(theirs.2);
        }
    }

    /// Notes the nulls and non-finite values of column `j` (`values` as
    /// `f64`), whose first row is the 0-based table row `first_row`.
    fn scan(
        &mut self,
        j: usize,
        path: &Path,
        values: &arrow::array::Float64Array,
        first_row: usize,
    ) {
        let (_, nulls, bad) = &mut self.columns[j];
        let raw = values.values();
        if values.null_count() > 0 {
            let i = (0..values.len())
                .position(|i| values.is_null(i))
                .unwrap_or(0);
            nulls.note(path, first_row + i + 1, values.null_count(), f64::NAN);
        }
        if !raw.iter().fold(true, |ok, v| ok & v.is_finite()) {
            let mut count = 0;
            let mut first = None;
            for (i, v) in raw.iter().enumerate() {
                if !v.is_finite() && values.is_valid(i) {
                    count += 1;
                    first.get_or_insert((i, *v));
                }
            }
            if let Some((i, v)) = first {
                bad.note(path, first_row + i + 1, count, v);
            }
        }
    }

    /// The error for the first problem of the table, if any.
    fn into_error(self) -> Option<IoError> {
        let mut best: Option<(usize, IoError)> = None;
        for (column, nulls, bad) in self.columns {
            if nulls.count > 0 && best.as_ref().is_none_or(|(row, _)| nulls.row < *row) {
                let row = nulls.row;
                best = Some((
                    row,
                    IoError::NullValues {
                        path: nulls.path,
                        column: column.clone(),
                        row,
                        count: nulls.count,
                    },
                ));
            }
            if bad.count > 0 && best.as_ref().is_none_or(|(row, _)| bad.row < *row) {
                let row = bad.row;
                best = Some((
                    row,
                    IoError::NonFinite {
                        path: bad.path,
                        column,
                        row,
                        count: bad.count,
                        value: bad.value,
                    },
                ));
            }
        }
        best.map(|(_, e)| e)
    }
}

/// Converts decoded batches of one table to row-major `f64`.
#[derive(Debug, Clone)]
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

    fn column(&self, path: &Path, b: &RecordBatch, name: &str) -> Result<ArrayRef> {
        let col = b.column_by_name(name).cloned().ok_or_else(|| {
            IoError::read(path, format!("column `{name}` vanished while reading"))
        })?;
        if col.len() != b.num_rows() {
            return Err(IoError::read(
                path,
                format!("column `{name}` has the wrong number of rows; the file is corrupt"),
            ));
        }
        Ok(col)
    }

    /// The batch's feature columns as `f64`, with their nulls and
    /// non-finite values noted in `problems`.
    fn feature_columns(
        &self,
        path: &Path,
        b: &RecordBatch,
        first_row: usize,
        problems: &mut Problems,
    ) -> Result<Vec<arrow::array::Float64Array>> {
        let mut cols = Vec::with_capacity(self.features.len());
        for (j, name) in self.features.iter().enumerate() {
            let values = float_column(path, name, &self.column(path, b, name)?)?;
            problems.scan(j, path, &values, first_row);
            cols.push(values);
        }
        Ok(cols)
    }

    /// Notes the problems of a batch without converting it.
    fn scan(
        &self,
        path: &Path,
        b: &RecordBatch,
        first_row: usize,
        problems: &mut Problems,
    ) -> Result<()> {
        self.feature_columns(path, b, first_row, problems)?;
        if let Some(name) = &self.weight {
            let values = float_column(path, name, &self.column(path, b, name)?)?;
            problems.scan(self.features.len(), path, &values, first_row);
        }
        Ok(())
    }

    /// Writes every cell of the batch's features into `x` (rows x d) and
    /// every weight into `w`, noting nulls and non-finite features in
    /// `problems` (the values written for them are meaningless); returns
    /// the batch's labels and ids. `first_row` is the 0-based index of the
    /// batch's first row in the table, for messages.
    fn convert_into(
        &self,
        path: &Path,
        b: &RecordBatch,
        first_row: usize,
        x: &mut [MaybeUninit<f64>],
        w: Option<&mut [MaybeUninit<f64>]>,
        problems: &mut Problems,
    ) -> Result<(Option<ArrayRef>, Option<ArrayRef>)> {
        let d = self.features.len();
        let rows = b.num_rows();
        assert_eq!(x.len(), rows * d, "output block matches the batch");
        let cols = self.feature_columns(path, b, first_row, problems)?;
        let slices: Vec<&[f64]> = cols.iter().map(|c| &c.values()[..]).collect();
        interleave(&slices, x, d);

        if let (Some(name), Some(w)) = (&self.weight, w) {
            assert_eq!(w.len(), rows, "weight block matches the batch");
            let values = float_column(path, name, &self.column(path, b, name)?)?;
            problems.scan(d, path, &values, first_row);
            for (i, (slot, &v)) in w.iter_mut().zip(values.values().iter()).enumerate() {
                if values.is_valid(i) && !(v.is_finite() && v >= 0.0) {
                    return Err(IoError::BadWeight {
                        path: path.to_path_buf(),
                        column: name.clone(),
                        row: first_row + i + 1,
                        value: v,
                    });
                }
                slot.write(v);
            }
        }
        let labels = self
            .label
            .as_deref()
            .map(|name| self.as_table_type(path, b, name))
            .transpose()?;
        let ids = self
            .id
            .as_deref()
            .map(|name| self.as_table_type(path, b, name))
            .transpose()?;
        Ok((labels, ids))
    }

    /// A label or id column in the table's type (that of its first file;
    /// other files may hold another integer or string type).
    fn as_table_type(&self, path: &Path, b: &RecordBatch, name: &str) -> Result<ArrayRef> {
        let col = self.column(path, b, name)?;
        let want = self
            .schema
            .field_with_name(name)
            .map(|f| f.data_type().clone())
            .unwrap_or_else(|_| col.data_type().clone());
        if col.data_type() == &want {
            return Ok(col);
        }
        let options = CastOptions {
            safe: false,
            ..Default::default()
        };
        cast_with_options(&col, &want, &options).map_err(|e| {
            IoError::read(
                path,
                format!(
                    "column `{name}` is {} here and {want} in the table's first file, and does not convert ({e}); give every file the same type",
                    col.data_type()
                ),
            )
        })
    }
}

/// Writes columns into row-major rows, a tile of rows at a time.
fn interleave(cols: &[&[f64]], x: &mut [MaybeUninit<f64>], d: usize) {
    if d == 0 {
        return;
    }
    let rows = x.len() / d;
    for start in (0..rows).step_by(TILE_ROWS) {
        let end = (start + TILE_ROWS).min(rows);
        let tile = &mut x[start * d..end * d];
        for (j, col) in cols.iter().enumerate() {
            for (row, &v) in tile.chunks_exact_mut(d).zip(&col[start..end]) {
                row[j].write(v);
            }
        }
    }
}

/// A numeric column as `f64` (nulls kept; see [`Problems::scan`]).
fn float_column(path: &Path, name: &str, col: &ArrayRef) -> Result<arrow::array::Float64Array> {
    if !is_numeric(col.data_type()) {
        return Err(IoError::NonNumericColumn {
            path: path.to_path_buf(),
            column: name.to_string(),
            data_type: col.data_type().to_string(),
            hint: "only integer, floating-point and decimal columns can be features",
        });
    }
    let f = cast(col, &DataType::Float64)
        .map_err(|e| IoError::read(path, format!("column `{name}`: {e}")))?;
    Ok(f.as_primitive::<Float64Type>().clone())
}
