//! Reading a table's projected columns into row-major rows (`f64`, or `f32`
//! under a projection of that precision), whole
//! (Parquet row groups decoded in parallel straight into their place in one
//! buffer) or batch by batch (for streaming predictions and scores),
//! whatever the format: each format's module yields Arrow batches, and
//! [`crate::decode`] turns them into rows.

use std::path::PathBuf;

use arrow::array::{Array, ArrayRef};

use crate::column_types::type_name;
use crate::decode::{BadValues, BatchConverter, concat_arrays};
use crate::error::{IoError, Result};
use crate::format::parquet::ParquetTable;
use crate::format::{InputFormat, RawBatches, compressed, csv, ipc};
use crate::projection::Projection;
use crate::rows::DecodedRows;
use crate::rows::{RowValues, round_to};
use crate::source::TableSource;

/// Rows per decoded batch when reading.
pub const DEFAULT_BATCH_ROWS: usize = 65_536;

/// A table's selected columns: features as row-major `f64`, and the special
/// columns as they were (labels and the passthrough columns keep their
/// Arrow types; the passthrough columns travel as one struct array).
#[derive(Debug, Clone)]
pub struct Table {
    pub source: PathBuf,
    pub columns: Vec<String>,
    /// Arrow type of each feature column in the file, for the model file.
    pub column_types: Vec<String>,
    /// `n_rows x columns.len()`, row-major, in the projection's precision.
    pub x: RowValues,
    pub n_rows: usize,
    pub weights: Option<Vec<f64>>,
    pub labels: Option<ArrayRef>,
    /// The initial noise set's flags, when the projection has its column.
    pub noise_init: Option<Vec<bool>>,
    pub passthrough: Option<ArrayRef>,
}

/// A batch of consecutive rows of a table.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Index of the batch's first row in the table.
    pub first_row: usize,
    pub n_rows: usize,
    /// Row-major; under a projection of `f32` precision, values rounded to
    /// the nearest `f32`.
    pub x: Vec<f64>,
    pub weights: Option<Vec<f64>>,
    pub labels: Option<ArrayRef>,
    pub noise_init: Option<Vec<bool>>,
    pub passthrough: Option<ArrayRef>,
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
            .map(|&i| type_name(self.schema.field(i).data_type()))
            .collect();
        let c = match self.format {
            // A row filter: batch by batch (the rows that pass are not
            // known before they are read).
            InputFormat::Parquet if self.row_filter.is_some() => {
                self.read_sequential(proj, extra_rows)?
            }
            InputFormat::Parquet => {
                let mut c = self.parquet_table().read_parallel(proj, extra_rows)?;
                if let (crate::Missing::Drop, Some(w)) = (proj.missing, c.weights.as_mut()) {
                    crate::rows::mark_missing_rows(&mut c.x, proj.n_features(), w);
                }
                c
            }
            // Marked batch by batch.
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
            noise_init: c.noise_init,
            passthrough: c.passthrough,
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
            .map(|&i| type_name(self.schema.field(i).data_type()))
            .collect();
        // Room for the whole range up front when the row count is known:
        // growing the buffer would hold it twice while it moves.
        let expected = self
            .known_rows()
            .map_or(0, |n| rows.end.min(n).saturating_sub(rows.start));
        let mut x = RowValues::with_capacity(proj.precision, expected.saturating_mul(d));
        let mut n = 0;
        let mut weights = proj.carries_weights().then(|| {
            let mut w = Vec::new();
            let _ = w.try_reserve_exact(expected);
            w
        });
        let mut labels = Vec::new();
        let mut noise_init = proj.noise_init.map(|_| Vec::new());
        let mut passthrough = Vec::new();
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
            x.extend_from_f64(&b.x[a * d..e * d]);
            n += e - a;
            if let (Some(w), Some(bw)) = (weights.as_mut(), &b.weights) {
                w.extend_from_slice(&bw[a..e]);
            }
            labels.extend(b.labels.map(|l| l.slice(a, e - a)));
            if let (Some(f), Some(bf)) = (noise_init.as_mut(), &b.noise_init) {
                f.extend_from_slice(&bf[a..e]);
            }
            passthrough.extend(b.passthrough.map(|l| l.slice(a, e - a)));
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
            noise_init,
            passthrough: concat_arrays(&self.display, passthrough)?.or_else(|| {
                crate::projection::passthrough_field(&self.schema, proj)
                    .map(|f| arrow::array::new_empty_array(f.data_type()))
            }),
        })
    }

    /// CSV and Arrow IPC: batch after batch, appended to one buffer.
    fn read_sequential(&self, proj: &Projection, extra_rows: usize) -> Result<DecodedRows> {
        let d = proj.n_features();
        let estimate = self.estimate_rows().unwrap_or(0);
        let capacity = estimate.saturating_add(extra_rows).saturating_mul(d);
        let mut x = RowValues::with_capacity(proj.precision, capacity);
        let mut n = 0;
        let mut weights = proj.carries_weights().then(Vec::new);
        let mut labels = Vec::new();
        let mut noise_init = proj.noise_init.map(|_| Vec::new());
        let mut passthrough = Vec::new();
        for batch in self.batches(proj, DEFAULT_BATCH_ROWS)? {
            let b = batch?;
            x.extend_from_f64(&b.x);
            n += b.n_rows;
            if let (Some(w), Some(bw)) = (weights.as_mut(), b.weights) {
                w.extend(bw);
            }
            labels.extend(b.labels);
            if let (Some(f), Some(bf)) = (noise_init.as_mut(), b.noise_init) {
                f.extend(bf);
            }
            passthrough.extend(b.passthrough);
        }
        Ok(DecodedRows {
            x,
            n_rows: n,
            weights,
            labels: concat_arrays(&self.display, labels)?,
            noise_init,
            passthrough: concat_arrays(&self.display, passthrough)?,
        })
    }

    /// The table's files as a Parquet table.
    fn parquet_table(&self) -> ParquetTable<'_> {
        ParquetTable {
            files: &self.files,
            schema: &self.schema,
            display: &self.display,
            stop: self.stop.as_deref(),
            partitions: self.partitions.as_ref(),
            filter: self.row_filter.as_ref(),
        }
    }

    /// A row estimate for reserving memory, by newlines for CSV.
    fn estimate_rows(&self) -> Option<usize> {
        match self.format {
            // Under a row filter, the rows stored: room the rows that pass
            // never outgrow (untouched, it costs no memory).
            InputFormat::Parquet => self.stored_rows(),
            InputFormat::Csv => csv::count_lines(self.files[0].local_path()),
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
        let conv = BatchConverter::new(&self.schema, proj)
            .with_partitions(self.partitions.clone())
            .with_filter(self.row_filter.clone());
        // Under a row filter a row's number is its place among the rows
        // that pass, so every row group is read (but for those whose
        // statistics rule every row out).
        let rows = if self.row_filter.is_some() {
            0..usize::MAX
        } else {
            rows
        };
        let (raw, first_row) = match self.format {
            // CSV and Arrow IPC are read from the start.
            InputFormat::Csv => {
                let file = &self.files[0];
                let schema = self.schema.clone();
                let raw = csv::raw_batches(file, schema, proj, &conv, self.delimiter, batch_rows)?;
                (raw, 0)
            }
            InputFormat::ArrowIpc => (ipc::raw_batches(&self.files[0], proj, batch_rows)?, 0),
            InputFormat::Parquet => self.parquet_table().raw_batches(proj, batch_rows, rows),
        };
        Ok(Box::new(Batches {
            src: self,
            raw,
            conv,
            next_row: first_row,
            done: false,
        }))
    }
}

/// [`TableSource::batches`]: converts raw batches one at a time; at the
/// first missing or non-finite value it reads on to count them all, then
/// reports them and stops.
struct Batches<'a> {
    src: &'a TableSource,
    raw: RawBatches<'a>,
    conv: BatchConverter,
    next_row: usize,
    done: bool,
}

impl Iterator for Batches<'_> {
    type Item = Result<Batch>;

    fn next(&mut self) -> Option<Result<Batch>> {
        if self.done {
            return None;
        }
        if self.src.stopped() {
            self.done = true;
            return Some(Err(IoError::Interrupted));
        }
        let (file, b) = match self.raw.next()? {
            Ok(r) => r,
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        let path = &self.src.files[file].path;
        let b = match self.conv.keep_rows(path, b) {
            Ok(b) => b,
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        let first_row = self.next_row;
        let rows = b.num_rows();
        self.next_row += rows;
        let mut bad_values = BadValues::new(&self.conv);
        let d = self.conv.features.len();
        let mut x: Vec<f64> = Vec::with_capacity(rows * d);
        let marks = self.conv.missing == crate::Missing::Drop;
        let mut w: Option<Vec<f64>> =
            (self.conv.weight.is_some() || marks).then(|| Vec::with_capacity(rows));
        let converted = self.conv.convert_into(
            path,
            &b,
            first_row,
            &mut x.spare_capacity_mut()[..rows * d],
            w.as_mut().map(|w| &mut w.spare_capacity_mut()[..rows]),
            &mut bad_values,
        );
        let crate::rows::Kept {
            labels,
            noise_init,
            passthrough,
        } = match converted {
            Ok(r) => r,
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        if bad_values.any() {
            self.done = true;
            // Count the rest before reporting; a later unreadable batch
            // ends the count, and the first problem is reported anyway.
            while let Some(Ok((file, b))) = self.raw.next() {
                let path = &self.src.files[file].path;
                let Ok(b) = self.conv.keep_rows(path, b) else {
                    break;
                };
                if self
                    .conv
                    .scan(path, &b, self.next_row, &mut bad_values)
                    .is_err()
                {
                    break;
                }
                self.next_row += b.num_rows();
            }
            return bad_values.into_error().map(Err);
        }
        // SAFETY: `convert_into` returned `Ok`, so it wrote every cell of
        // the `rows * d` values and `rows` weights it was given.
        unsafe {
            x.set_len(rows * d);
            if let Some(w) = w.as_mut() {
                w.set_len(rows);
            }
        }
        round_to(self.conv.precision, &mut x);
        if let (true, Some(w)) = (marks, w.as_mut()) {
            crate::rows::mark_missing(&mut x, d, w);
        }
        Some(Ok(Batch {
            first_row,
            n_rows: rows,
            x,
            weights: w,
            labels,
            noise_init,
            passthrough,
        }))
    }
}

impl TableSource {
    /// A cheap estimate of the table's rows, for deciding between memory
    /// and the cache without reading the data: exact for Parquet (its
    /// metadata), extrapolated from the first MiB for CSV, from the column
    /// widths for Arrow IPC. `None` when it cannot be told.
    pub fn estimated_rows(&self) -> Option<usize> {
        // Under a row filter, the rows stored: at most that many pass.
        if let Some(n) = self.stored_rows() {
            return Some(n);
        }
        let path = self.files[0].local_path();
        let size = std::fs::metadata(path).ok()?.len() as f64;
        match self.format {
            InputFormat::Parquet => None,
            // Compressed: from a decompressed sample.
            InputFormat::Csv
                if compressed::Compression::of_extension(&crate::format::lower_extension(path))
                    .is_some() =>
            {
                compressed::estimate_compressed_rows(path)
            }
            InputFormat::Csv => {
                let mut f = std::fs::File::open(path).ok()?;
                let mut buf = vec![0u8; 1 << 20];
                let mut filled = 0;
                while filled < buf.len() {
                    let n = std::io::Read::read(&mut f, &mut buf[filled..]).ok()?;
                    if n == 0 {
                        break;
                    }
                    filled += n;
                }
                let sample = &buf[..filled];
                let header_end = sample.iter().position(|&b| b == b'\n')? + 1;
                let body = &sample[header_end..];
                let lines = body.iter().filter(|&&b| b == b'\n').count();
                if filled as f64 >= size {
                    // The whole file was read: count a last line without a newline.
                    let last = usize::from(body.last().is_some_and(|&b| b != b'\n'));
                    return Some(lines + last);
                }
                let per_line = body.len() as f64 / lines.max(1) as f64;
                Some(((size - header_end as f64) / per_line).ceil() as usize)
            }
            InputFormat::ArrowIpc => {
                let row_bytes: usize = self
                    .schema
                    .fields()
                    .iter()
                    .map(|f| f.data_type().primitive_width().unwrap_or(16))
                    .sum();
                Some((size / row_bytes.max(1) as f64).ceil() as usize)
            }
        }
    }
}
