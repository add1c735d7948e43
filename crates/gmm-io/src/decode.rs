//! Decoding shared by the formats: Arrow record batches of a table's
//! projected columns into row-major `f64` rows (features) and `f64` weights,
//! with label and passthrough columns kept in the table's Arrow type (the
//! passthrough columns as one struct array, see [`passthrough_field`]).
//!
//! Missing and non-finite feature values are counted over the whole table
//! before they are reported ([`BadValues`]), so that the message says how
//! many there are and where the first one is.

use std::mem::MaybeUninit;
use std::path::{Path, PathBuf};

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::compute::{CastOptions, cast, cast_with_options, concat};
use arrow::datatypes::{DataType, Float64Type, SchemaRef};
use gmm_core::Precision;

use crate::column_types::is_numeric;
use crate::error::{IoError, Result};
use crate::projection::Projection;
use crate::rows::{Element, Kept};

/// Rows interleaved at a time: the block of output rows stays in L1/L2
/// while every column is written into it.
const TILE_ROWS: usize = 256;

/// Where a column's missing or non-finite values are, over the rows seen.
#[derive(Debug, Clone, Default)]
struct Occurrences {
    count: usize,
    /// 1-based data row of the first one, its file, and its value.
    row: usize,
    path: PathBuf,
    value: f64,
}

impl Occurrences {
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

    fn merge(&mut self, other: Occurrences) {
        let Occurrences {
            count,
            row,
            path,
            value,
        } = other;
        self.note(&path, row, count, value);
    }
}

/// The largest magnitude a feature or weight may have: squares of values
/// near 1e154 overflow, and EM sums squares of differences over columns and
/// rows; 1e150 leaves room for both.
pub const MAX_ABS_VALUE: f64 = 1e150;

/// Finite and at most `limit` in magnitude (false for NaN).
fn in_range(v: f64, limit: f64) -> bool {
    v.abs() <= limit
}

/// The largest magnitude a feature may have when it is held in
/// `precision`: beyond `f32::MAX`, an `f32` is infinite.
fn max_abs(precision: Precision) -> f64 {
    match precision {
        Precision::F64 => MAX_ABS_VALUE,
        Precision::F32 => f64::from(f32::MAX),
    }
}

/// Missing (null), non-finite and too large values of the feature columns,
/// then of the weight column.
#[derive(Debug, Clone)]
pub(crate) struct BadValues {
    columns: Vec<(String, Occurrences, Occurrences)>,
    /// How large a feature may be (weights: [`MAX_ABS_VALUE`]).
    max_abs: f64,
    n_features: usize,
    precision: Precision,
    /// Missing feature values (null, NaN) are not problems: their rows are
    /// left out (`--missing drop`) or the values integrated out
    /// (`--missing marginalize`).
    missing_ok: bool,
}

impl BadValues {
    pub(crate) fn new(conv: &BatchConverter) -> Self {
        BadValues {
            columns: conv
                .features
                .iter()
                .chain(&conv.weight)
                .map(|c| (c.clone(), Occurrences::default(), Occurrences::default()))
                .collect(),
            max_abs: max_abs(conv.precision),
            n_features: conv.features.len(),
            precision: conv.precision,
            missing_ok: conv.missing != crate::Missing::Error,
        }
    }

    pub(crate) fn any(&self) -> bool {
        self.columns
            .iter()
            .any(|(_, nulls, bad)| nulls.count > 0 || bad.count > 0)
    }

    pub(crate) fn merge(&mut self, other: BadValues) {
        for (mine, theirs) in self.columns.iter_mut().zip(other.columns) {
            mine.1.merge(theirs.1);
            mine.2.merge(theirs.2);
        }
    }

    /// Notes the nulls and non-finite values of column `j` (`values` as
    /// `f64`), whose first row is the 0-based table row `first_row`.
    pub(crate) fn scan(
        &mut self,
        j: usize,
        path: &Path,
        values: &arrow::array::Float64Array,
        first_row: usize,
    ) {
        // Features in the job's precision; the weight column (the last) as `f64`.
        let limit = if j < self.n_features {
            self.max_abs
        } else {
            MAX_ABS_VALUE
        };
        let missing_ok = self.missing_ok && j < self.n_features;
        let (_, nulls, bad) = &mut self.columns[j];
        let raw = values.values();
        if values.null_count() > 0 && !missing_ok {
            let i = (0..values.len())
                .position(|i| values.is_null(i))
                .unwrap_or(0);
            nulls.note(path, first_row + i + 1, values.null_count(), f64::NAN);
        }
        if !raw.iter().fold(true, |ok, v| ok & (v.abs() <= limit)) {
            let mut count = 0;
            let mut first = None;
            for (i, v) in raw.iter().enumerate() {
                if !in_range(*v, limit) && values.is_valid(i) && !(missing_ok && v.is_nan()) {
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
    pub(crate) fn into_error(self) -> Option<IoError> {
        let mut best: Option<(usize, IoError)> = None;
        let narrow = self.precision == Precision::F32;
        for (j, (column, nulls, bad)) in self.columns.into_iter().enumerate() {
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
                // A feature past the largest f32 (weights stay f64).
                // (past 1e150 the f64 message applies: f64 would refuse it too).
                let e = if bad.value.abs() <= MAX_ABS_VALUE && narrow && j < self.n_features {
                    IoError::TooLargeForF32 {
                        path: bad.path,
                        column,
                        row,
                        count: bad.count,
                        value: bad.value,
                    }
                } else if bad.value.is_finite() {
                    IoError::TooLarge {
                        path: bad.path,
                        column,
                        row,
                        count: bad.count,
                        value: bad.value,
                    }
                } else {
                    IoError::NonFinite {
                        path: bad.path,
                        column,
                        row,
                        count: bad.count,
                        value: bad.value,
                    }
                };
                best = Some((row, e));
            }
        }
        best.map(|(_, e)| e)
    }
}

/// Converts decoded batches of one table to row-major `f64`.
#[derive(Debug, Clone)]
pub(crate) struct BatchConverter {
    pub schema: SchemaRef,
    pub features: Vec<String>,
    pub label: Option<String>,
    pub weight: Option<String>,
    pub noise_init: Option<String>,
    /// Columns copied into predictions, in their order there.
    pub passthrough: Vec<String>,
    /// The type features are held in (see [`Projection::precision`]).
    pub precision: Precision,
    /// What to do with rows that miss a feature value.
    pub missing: crate::Missing,
    /// The table's partition columns, given to each batch by its file.
    pub partitions: Option<std::sync::Arc<crate::partitions::Partitions>>,
    /// A filter that keeps some rows of each batch.
    pub filter: Option<std::sync::Arc<crate::Filter>>,
}

impl BatchConverter {
    pub(crate) fn new(schema: &SchemaRef, proj: &Projection) -> Self {
        let name = |i: usize| schema.field(i).name().clone();
        BatchConverter {
            schema: schema.clone(),
            features: proj.features.iter().map(|&i| name(i)).collect(),
            label: proj.label.map(name),
            weight: proj.weight.map(name),
            noise_init: proj.noise_init.map(name),
            passthrough: proj.passthrough.iter().map(|&i| name(i)).collect(),
            precision: proj.precision,
            missing: proj.missing,
            partitions: None,
            filter: None,
        }
    }

    /// The same, keeping only the rows of each batch that pass `filter`
    /// ([`BatchConverter::keep_rows`]).
    pub(crate) fn with_filter(mut self, filter: Option<std::sync::Arc<crate::Filter>>) -> Self {
        self.filter = filter;
        self
    }

    /// The rows of `b` (of the file at `path`) that pass the filter: the
    /// batch itself when there is no filter.
    pub(crate) fn keep_rows(&self, path: &Path, b: RecordBatch) -> Result<RecordBatch> {
        let Some(f) = &self.filter else {
            return Ok(b);
        };
        let mask = f
            .row_mask(b.num_rows(), &mut |c| {
                self.column(path, &b, c).map_err(|e| e.to_string())
            })
            .map_err(|e| IoError::read(path, format!("--filter {:?}: {e}", f.text())))?;
        arrow::compute::filter_record_batch(&b, &mask).map_err(|e| IoError::read(path, e))
    }

    /// The same, giving batches their files' partition columns.
    pub(crate) fn with_partitions(
        mut self,
        partitions: Option<std::sync::Arc<crate::partitions::Partitions>>,
    ) -> Self {
        self.partitions = partitions;
        self
    }

    fn column(&self, path: &Path, b: &RecordBatch, name: &str) -> Result<ArrayRef> {
        // A partition column: the file's value, on every row.
        if let Some(p) = &self.partitions
            && let (Some(key), Some(file)) = (p.key(name), p.file(path))
            && b.column_by_name(name).is_none()
        {
            return Ok(p.column(file, key, b.num_rows()));
        }
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
        problems: &mut BadValues,
    ) -> Result<Vec<arrow::array::Float64Array>> {
        let mut cols = Vec::with_capacity(self.features.len());
        for (j, name) in self.features.iter().enumerate() {
            let mut values = float_column(path, name, &self.column(path, b, name)?)?;
            problems.scan(j, path, &values, first_row);
            // A missing value (left out or integrated out) is a NaN.
            if self.missing != crate::Missing::Error && values.null_count() > 0 {
                values = values.iter().map(|v| Some(v.unwrap_or(f64::NAN))).collect();
            }
            cols.push(values);
        }
        Ok(cols)
    }

    /// Notes the problems of a batch without converting it.
    pub(crate) fn scan(
        &self,
        path: &Path,
        b: &RecordBatch,
        first_row: usize,
        problems: &mut BadValues,
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
    /// the batch's other columns ([`Kept`]). `first_row` is the 0-based
    /// index of the batch's first row in the table, for messages.
    pub(crate) fn convert_into<T: Element>(
        &self,
        path: &Path,
        b: &RecordBatch,
        first_row: usize,
        x: &mut [MaybeUninit<T>],
        mut w: Option<&mut [MaybeUninit<f64>]>,
        problems: &mut BadValues,
    ) -> Result<Kept> {
        let d = self.features.len();
        let rows = b.num_rows();
        assert_eq!(x.len(), rows * d, "output block matches the batch");
        let cols = self.feature_columns(path, b, first_row, problems)?;
        let slices: Vec<&[f64]> = cols.iter().map(|c| &c.values()[..]).collect();
        interleave(&slices, x, d);

        if let (None, Some(w)) = (&self.weight, &mut w) {
            // Weights that only mark the rows left out (see `mark_missing`).
            for slot in w.iter_mut() {
                slot.write(1.0);
            }
        }
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
                // `+ 0.0`: a weight of -0.0 would read as a row left out.
                slot.write(v + 0.0);
            }
        }
        let labels = self
            .label
            .as_deref()
            .map(|name| self.as_table_type(path, b, name))
            .transpose()?;
        let passthrough = if self.passthrough.is_empty() {
            None
        } else {
            let columns = self
                .passthrough
                .iter()
                .map(|name| self.as_table_type(path, b, name))
                .collect::<Result<Vec<_>>>()?;
            let fields = crate::projection::passthrough_fields(&self.schema, &self.passthrough);
            let s = arrow::array::StructArray::try_new(fields, columns, None)
                .map_err(|e| IoError::read(path, e))?;
            Some(std::sync::Arc::new(s) as ArrayRef)
        };
        let noise_init = self.noise_init.as_deref().map(|name| {
            let col = self.column(path, b, name)?;
            crate::noise_init::flags(path, name, &col, first_row)
        });
        Ok(Kept {
            labels,
            noise_init: noise_init.transpose()?,
            passthrough,
        })
    }

    /// A label or passthrough column in the table's type (that of its first file;
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
fn interleave<T: Element>(cols: &[&[f64]], x: &mut [MaybeUninit<T>], d: usize) {
    if d == 0 {
        return;
    }
    let rows = x.len() / d;
    for start in (0..rows).step_by(TILE_ROWS) {
        let end = (start + TILE_ROWS).min(rows);
        let tile = &mut x[start * d..end * d];
        for (j, col) in cols.iter().enumerate() {
            for (row, &v) in tile.chunks_exact_mut(d).zip(&col[start..end]) {
                row[j].write(T::from_f64(v));
            }
        }
    }
}

/// A numeric column as `f64` (nulls kept; see [`BadValues::scan`]).
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

/// The parts of a column read batch by batch, as one array.
pub(crate) fn concat_arrays(path: &Path, parts: Vec<ArrayRef>) -> Result<Option<ArrayRef>> {
    if parts.is_empty() {
        return Ok(None);
    }
    if parts.len() == 1 {
        return Ok(parts.into_iter().next());
    }
    let refs: Vec<&dyn Array> = parts.iter().map(|a| a.as_ref()).collect();
    concat(&refs).map(Some).map_err(|e| IoError::read(path, e))
}
