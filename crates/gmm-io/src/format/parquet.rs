//! Parquet: the footer read and checked once per file, the row groups of a
//! table (one or many files) as units of work, a whole table decoded in
//! parallel straight into one row-major buffer, and batches streamed from
//! the row groups that overlap a range of rows.

use std::fs::File;
use std::mem::MaybeUninit;
use std::path::Path;

use ::parquet::arrow::ProjectionMask;
use ::parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder,
};
use arrow::array::ArrayRef;
use arrow::datatypes::SchemaRef;
use rayon::prelude::*;

use super::parquet_file::ParquetFile;
use super::{RawBatches, SourceFile, guarded, no_panic};
use crate::decode::{BadValues, BatchConverter, concat_arrays};
use crate::error::{IoError, Result};
use crate::projection::Projection;
use crate::rows::DecodedRows;
use crate::rows::Element;
use gmm_core::Precision;

/// Rows per Parquet batch when row groups are decoded in parallel: small
/// enough that a batch's columns stay in cache while they are interleaved.
const PARALLEL_BATCH_ROWS: usize = 8_192;

fn open(path: &Path) -> Result<ParquetFile> {
    File::open(path)
        .and_then(ParquetFile::new)
        .map_err(|e| IoError::read(path, e))
}

/// Bytes fetched of a remote file's end for its footer: the footer of most
/// files in one request.
#[cfg(feature = "cloud")]
const FOOTER_GUESS: u64 = 256 << 10;

/// Reads and checks a Parquet file's footer.
pub(crate) fn metadata(file: &SourceFile) -> Result<ArrowReaderMetadata> {
    let path = file.path.as_path();
    let options = ArrowReaderOptions::new();
    #[cfg(feature = "cloud")]
    let loaded = match &file.remote {
        Some(obj) => crate::storage::RemoteReader::new(
            obj.clone(),
            std::iter::once(obj.size.saturating_sub(FOOTER_GUESS)..obj.size),
        )
        .and_then(|r| ArrowReaderMetadata::load(&r, options)),
        None => ArrowReaderMetadata::load(&open(path)?, options),
    };
    #[cfg(not(feature = "cloud"))]
    let loaded = ArrowReaderMetadata::load(&open(path)?, options);
    let meta = loaded.map_err(|e| {
        // A failed fetch of an object is not a damaged file.
        #[cfg(feature = "cloud")]
        if let Some(i) = e.to_string().find(crate::storage::FETCH_FAILED) {
            return IoError::read(path, &e.to_string()[i..]);
        }
        IoError::read(
            path,
            format!("not a readable Parquet file ({e}); check that it was written completely"),
        )
    })?;
    for (i, g) in meta.metadata().row_groups().iter().enumerate() {
        if g.num_rows() < 0 {
            return Err(IoError::read(
                path,
                format!(
                    "corrupt Parquet metadata: row group {i} claims {} rows",
                    g.num_rows()
                ),
            ));
        }
    }
    Ok(meta)
}

/// The files of one Parquet table, their common schema, and the path the
/// table was opened by (for messages about the whole table).
#[derive(Clone, Copy)]
pub(crate) struct ParquetTable<'a> {
    pub files: &'a [SourceFile],
    pub schema: &'a SchemaRef,
    pub display: &'a Path,
    /// Raised to stop reading (see `TableSource::with_stop`).
    pub stop: Option<&'a std::sync::atomic::AtomicBool>,
    /// The dataset's partition columns.
    pub partitions: Option<&'a std::sync::Arc<crate::partitions::Partitions>>,
    /// A row filter: row groups whose statistics rule out every row are
    /// skipped.
    pub filter: Option<&'a std::sync::Arc<crate::Filter>>,
}

/// One row group of a table: its file, its index in that file, and its rows
/// in the table.
struct RowGroup {
    file: usize,
    row_group: usize,
    first_row: usize,
    n_rows: usize,
}

/// What decoding a row group gives besides the values written in place.
struct RowGroupOutput {
    labels: Vec<ArrayRef>,
    noise_init: Vec<bool>,
    passthrough: Vec<ArrayRef>,
    bad_values: BadValues,
}

impl<'a> ParquetTable<'a> {
    /// Every row group of the table, in table order.
    fn row_groups(&self) -> Vec<RowGroup> {
        let mut groups = Vec::new();
        let mut row = 0;
        for (fi, f) in self.files.iter().enumerate() {
            let meta = f.parquet.as_ref().expect("parquet metadata");
            for (rg, g) in meta.metadata().row_groups().iter().enumerate() {
                // Checked non-negative when the file was opened.
                let n = g.num_rows() as usize;
                groups.push(RowGroup {
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
        groups
    }

    fn row_group_reader(
        &self,
        group: &RowGroup,
        proj: &Projection,
        batch_rows: usize,
    ) -> Result<ParquetRecordBatchReader> {
        let file = &self.files[group.file];
        let meta = file.parquet.clone().expect("parquet metadata");
        // Columns by name: files of one table may order them differently.
        let names: Vec<&str> = proj
            .all_columns()
            .iter()
            .map(|&i| self.schema.field(i).name().as_str())
            .collect();
        let fs = meta.schema();
        let roots: Vec<usize> = names.iter().filter_map(|n| fs.index_of(n).ok()).collect();
        let mask = ProjectionMask::roots(meta.parquet_schema(), roots);
        #[cfg(feature = "cloud")]
        if let Some(obj) = &file.remote {
            // The selected column chunks of the row group, fetched at once.
            let ranges: Vec<std::ops::Range<u64>> = meta
                .metadata()
                .row_group(group.row_group)
                .columns()
                .iter()
                .enumerate()
                .filter(|(i, _)| mask.leaf_included(*i))
                .map(|(_, c)| {
                    let (start, len) = c.byte_range();
                    start..start.saturating_add(len)
                })
                .collect();
            let r = crate::storage::RemoteReader::new(obj.clone(), ranges)
                .map_err(|e| decode_error(&file.path, e))?;
            return ParquetRecordBatchReaderBuilder::new_with_metadata(r, meta)
                .with_projection(mask)
                .with_row_groups(vec![group.row_group])
                .with_batch_size(batch_rows)
                .build()
                .map_err(|e| decode_error(&file.path, e));
        }
        let f = open(&file.path)?;
        ParquetRecordBatchReaderBuilder::new_with_metadata(f, meta)
            .with_projection(mask)
            .with_row_groups(vec![group.row_group])
            .with_batch_size(batch_rows)
            .build()
            .map_err(|e| decode_error(&file.path, e))
    }

    /// The statistics of column `name` in a row group, when they are in
    /// the units a filter compares: signed integers, floats, UTF-8 text
    /// (other logical types store theirs otherwise).
    fn group_range(&self, g: &RowGroup, name: &str) -> Option<crate::filter::Range> {
        use crate::filter::{Bound, Range};
        use ::parquet::file::statistics::Statistics;
        use arrow::datatypes::DataType;
        // The file's own type: files of one table may store a column as
        // another integer or decimal type, whose statistics differ.
        let file_meta = self.files[g.file].parquet.as_ref()?;
        let t = file_meta
            .schema()
            .field_with_name(name)
            .ok()?
            .data_type()
            .clone();
        let meta = file_meta.metadata();
        let rg = meta.row_group(g.row_group);
        let col = rg.columns().iter().find(|c| {
            let parts = c.column_descr().path().parts();
            parts.len() == 1 && parts[0] == name
        })?;
        let stats = col.statistics()?;
        let nulls = stats.null_count_opt();
        let signed = matches!(
            t,
            DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64
        );
        let (min, max) = match stats {
            Statistics::Int32(s) if signed => (
                Bound::Number(f64::from(*s.min_opt()?)),
                Bound::Number(f64::from(*s.max_opt()?)),
            ),
            Statistics::Int64(s) if signed => (
                Bound::Number(*s.min_opt()? as f64),
                Bound::Number(*s.max_opt()? as f64),
            ),
            Statistics::Float(s) if t.is_floating() => (
                Bound::Number(f64::from(*s.min_opt()?)),
                Bound::Number(f64::from(*s.max_opt()?)),
            ),
            Statistics::Double(s) if t.is_floating() => {
                (Bound::Number(*s.min_opt()?), Bound::Number(*s.max_opt()?))
            }
            // Old writers ordered text by signed bytes: those are not used.
            Statistics::ByteArray(s)
                if matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
                    && !stats.is_min_max_deprecated() =>
            {
                (
                    Bound::Text(s.min_opt()?.as_utf8().ok()?.to_string()),
                    Bound::Text(s.max_opt()?.as_utf8().ok()?.to_string()),
                )
            }
            _ => return None,
        };
        Some(Range {
            min,
            max,
            nulls: nulls.is_none_or(|n| n > 0),
            values: nulls.is_none_or(|n| (n as i64) < rg.num_rows()),
        })
    }

    /// The decoded batches of the projected columns of the row groups that
    /// overlap `rows` (empty ones too, so that an empty range still starts
    /// at the right row), each with the index of its file, and the table
    /// row of the first batch.
    pub(crate) fn raw_batches(
        &self,
        proj: &Projection,
        batch_rows: usize,
        rows: std::ops::Range<usize>,
    ) -> (RawBatches<'a>, usize) {
        let table = *self;
        let proj = proj.clone();
        let groups: Vec<RowGroup> = self
            .row_groups()
            .into_iter()
            .filter(|g| g.first_row + g.n_rows > rows.start && g.first_row < rows.end)
            .filter(|g| {
                self.filter
                    .is_none_or(|f| f.may_keep_group(&|c| self.group_range(g, c)))
            })
            .collect();
        // Under a row filter rows are numbered as they pass, from 0.
        let first_row = match self.filter {
            Some(_) => 0,
            None => groups.first().map_or(rows.start, |g| g.first_row),
        };
        let raw: RawBatches<'a> =
            Box::new(groups.into_iter().flat_map(move |g| -> RawBatches<'a> {
                let path = &table.files[g.file].path;
                match no_panic(path, || table.row_group_reader(&g, &proj, batch_rows)) {
                    Err(e) => Box::new(std::iter::once(Err(e))),
                    Ok(reader) => {
                        let path = path.clone();
                        guarded(
                            path.clone(),
                            reader.map(move |b| {
                                b.map(|b| (g.file, b)).map_err(|e| decode_error(&path, e))
                            }),
                        )
                    }
                }
            }));
        (raw, first_row)
    }

    /// Decodes every row group in parallel, each straight into its own
    /// disjoint range of one row-major buffer: the data is held once.
    /// The buffer has room for `extra_rows` more rows.
    pub(crate) fn read_parallel(
        &self,
        proj: &Projection,
        extra_rows: usize,
    ) -> Result<DecodedRows> {
        match proj.precision {
            Precision::F64 => self.read_parallel_as::<f64>(proj, extra_rows),
            Precision::F32 => self.read_parallel_as::<f32>(proj, extra_rows),
        }
    }

    fn read_parallel_as<T: Element>(
        &self,
        proj: &Projection,
        extra_rows: usize,
    ) -> Result<DecodedRows> {
        let d = proj.n_features();
        let groups = self.row_groups();
        let n: usize = groups
            .iter()
            .fold(0usize, |n, g| n.saturating_add(g.n_rows));
        let too_big = || {
            IoError::read(
                self.display,
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
        let mut x: Vec<T> = Vec::new();
        x.try_reserve_exact(capacity).map_err(|_| too_big())?;
        let mut weights: Option<Vec<f64>> = match proj.carries_weights() {
            false => None,
            true => {
                let mut w = Vec::new();
                w.try_reserve_exact(n).map_err(|_| too_big())?;
                Some(w)
            }
        };

        // Disjoint output slices, one per row group. They are written
        // without being zeroed first: the decode touches every page once,
        // in parallel.
        let mut x_parts: Vec<&mut [MaybeUninit<T>]> = Vec::with_capacity(groups.len());
        let mut rest = &mut x.spare_capacity_mut()[..len];
        for g in &groups {
            let (a, b) = rest.split_at_mut(g.n_rows * d);
            x_parts.push(a);
            rest = b;
        }
        let mut w_parts: Vec<Option<&mut [MaybeUninit<f64>]>> = Vec::with_capacity(groups.len());
        match weights.as_mut() {
            Some(w) => {
                let mut rest = &mut w.spare_capacity_mut()[..n];
                for g in &groups {
                    let (a, b) = rest.split_at_mut(g.n_rows);
                    w_parts.push(Some(a));
                    rest = b;
                }
            }
            None => w_parts.extend(groups.iter().map(|_| None)),
        }
        let conv = BatchConverter::new(self.schema, proj).with_partitions(self.partitions.cloned());
        let results: Vec<Result<RowGroupOutput>> = groups
            .par_iter()
            .zip(x_parts.into_par_iter())
            .zip(w_parts.into_par_iter())
            .map(|((g, xs), ws)| self.decode_row_group(&conv, proj, g, xs, ws))
            .collect();

        let mut labels = Vec::new();
        let mut noise_init = proj.noise_init.map(|_| Vec::new());
        let mut passthrough = Vec::new();
        let mut bad_values = BadValues::new(&conv);
        for r in results {
            let out = r?;
            labels.extend(out.labels);
            if let Some(f) = noise_init.as_mut() {
                f.extend(out.noise_init);
            }
            passthrough.extend(out.passthrough);
            bad_values.merge(out.bad_values);
        }
        if let Some(e) = bad_values.into_error() {
            return Err(e);
        }
        // SAFETY: the row groups' slices partition `x[..len]` (and
        // `weights[..n]`), and every row group returned `Ok` only after
        // writing each element of its slice (`decode_row_group` checks that
        // it decoded exactly the rows its slice holds, and `convert_into`
        // writes every cell of the rows it is given).
        unsafe {
            x.set_len(len);
            if let Some(w) = weights.as_mut() {
                w.set_len(n);
            }
        }
        Ok(DecodedRows {
            x: T::into_rows(x),
            n_rows: n,
            weights,
            labels: concat_arrays(self.display, labels)?,
            noise_init,
            passthrough: concat_arrays(self.display, passthrough)?,
        })
    }

    /// Decodes one row group into its slices.
    fn decode_row_group<T: Element>(
        &self,
        conv: &BatchConverter,
        proj: &Projection,
        group: &RowGroup,
        xs: &mut [MaybeUninit<T>],
        mut ws: Option<&mut [MaybeUninit<f64>]>,
    ) -> Result<RowGroupOutput> {
        if self
            .stop
            .is_some_and(|f| f.load(std::sync::atomic::Ordering::Relaxed))
        {
            return Err(IoError::Interrupted);
        }
        let d = proj.n_features();
        let path = &self.files[group.file].path;
        let mut reader = no_panic(path, || {
            self.row_group_reader(group, proj, PARALLEL_BATCH_ROWS)
        })?;
        let mut out = RowGroupOutput {
            labels: Vec::new(),
            noise_init: Vec::new(),
            passthrough: Vec::new(),
            bad_values: BadValues::new(conv),
        };
        let mut off = 0;
        while let Some(b) = no_panic(path, || Ok(reader.next()))? {
            let b = b.map_err(|e| decode_error(path, e))?;
            let rows = b.num_rows();
            if off + rows > group.n_rows {
                return Err(IoError::read(
                    path,
                    format!(
                        "row group {} holds more rows than its metadata says ({}); the file is corrupt",
                        group.row_group, group.n_rows
                    ),
                ));
            }
            let w_out = ws.as_deref_mut().map(|w| &mut w[off..off + rows]);
            let kept = conv.convert_into(
                path,
                &b,
                group.first_row + off,
                &mut xs[off * d..(off + rows) * d],
                w_out,
                &mut out.bad_values,
            )?;
            out.labels.extend(kept.labels);
            out.noise_init.extend(kept.noise_init.into_iter().flatten());
            out.passthrough.extend(kept.passthrough);
            off += rows;
        }
        if off != group.n_rows {
            return Err(IoError::read(
                path,
                format!(
                    "row group {} holds {off} rows but its metadata says {}; the file is corrupt",
                    group.row_group, group.n_rows
                ),
            ));
        }
        Ok(out)
    }
}

fn decode_error(path: &Path, e: impl std::fmt::Display) -> IoError {
    // A failed fetch of an object is not a damaged file.
    #[cfg(feature = "cloud")]
    {
        let text = e.to_string();
        if let Some(i) = text.find(crate::storage::FETCH_FAILED) {
            return IoError::read(path, &text[i..]);
        }
    }
    IoError::read(
        path,
        format!("cannot decode the Parquet data ({e}); the file may be corrupt or truncated"),
    )
}
