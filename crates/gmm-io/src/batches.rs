//! Tables handed over as Arrow record batches rather than read from files:
//! a front end's data frames (pandas, polars, pyarrow through the Arrow C
//! stream interface). The same column rules, checks and messages as a file
//! of the same columns; `name` stands for the file in messages.

use std::mem::MaybeUninit;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use arrow::datatypes::{DataType, SchemaRef};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use gmm_core::Precision;

use crate::column_types::type_name;
use crate::decode::{BadValues, BatchConverter, concat_arrays};
use crate::error::{IoError, Result};
use crate::format::InputFormat;
use crate::projection::{ColumnSpec, SkippedColumn, resolve};
use crate::rows::RowValues;
use crate::source::check_unique_names;
use crate::table::Table;

/// `f32` when every feature column `columns` selects from `schema` (as
/// [`read_record_batches`] resolves them) holds `float32` or `float16`:
/// their values are exact in `f32`, so the rows can take half the memory
/// and fit as they would in `f64`. `f64` otherwise, or when the columns do
/// not resolve (the read then reports why).
pub fn exact_precision(schema: &SchemaRef, columns: &ColumnSpec) -> Precision {
    let narrow = |i: &usize| {
        matches!(
            schema.field(*i).data_type(),
            DataType::Float32 | DataType::Float16
        )
    };
    match resolve(
        Path::new(""),
        schema,
        InputFormat::ArrowIpc,
        columns,
        usize::MAX,
    ) {
        Ok(p) if !p.features.is_empty() && p.features.iter().all(narrow) => Precision::F32,
        _ => Precision::F64,
    }
}

/// Reads the columns `columns` names (every numeric column when it names
/// no features) of `batches`, all of `schema`, into row-major rows. Nulls,
/// non-finite and too large values are errors naming `name`, the column
/// and the row, as for files; `stop` raised ends the read with
/// [`IoError::Interrupted`] between batches. Also returns the columns left
/// out of the features because they do not hold numbers.
pub fn read_record_batches<I>(
    name: &str,
    schema: SchemaRef,
    batches: I,
    columns: &ColumnSpec,
    stop: Option<&AtomicBool>,
) -> Result<(Table, Vec<SkippedColumn>)>
where
    I: IntoIterator<Item = std::result::Result<RecordBatch, ArrowError>>,
{
    let path = Path::new(name);
    check_unique_names(&schema, path)?;
    let proj = resolve(path, &schema, InputFormat::ArrowIpc, columns, usize::MAX)?;
    let conv = BatchConverter::new(&schema, &proj);
    let d = proj.n_features();
    let mut x = RowValues::with_capacity(proj.precision, 0);
    let mut weights = proj.carries_weights().then(Vec::new);
    let (mut labels, mut passthrough) = (Vec::new(), Vec::new());
    let mut noise_init = proj.noise_init.map(|_| Vec::new());
    let mut problems = BadValues::new(&conv);
    let mut n = 0;
    let read = |b: std::result::Result<RecordBatch, ArrowError>| {
        b.map_err(|e| IoError::read(path, format!("the Arrow stream failed: {e}")))
    };
    let mut batches = batches.into_iter();
    for b in batches.by_ref() {
        if stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
            return Err(IoError::Interrupted);
        }
        let b = read(b)?;
        let same = |a: &arrow::datatypes::Field, b: &arrow::datatypes::Field| {
            a.name() == b.name() && a.data_type() == b.data_type()
        };
        let fields = b.schema_ref().fields();
        if fields.len() != schema.fields().len()
            || !fields.iter().zip(schema.fields()).all(|(a, b)| same(a, b))
        {
            return Err(IoError::read(
                path,
                "a record batch's columns differ from the stream's schema",
            ));
        }
        let rows = b.num_rows();
        let mut w = weights.as_ref().map(|_| Vec::<f64>::with_capacity(rows));
        let mut convert = |ws: Option<&mut [MaybeUninit<f64>]>| match &mut x {
            RowValues::F64(x) => append(x, rows * d, path, |xs| {
                conv.convert_into(path, &b, n, xs, ws, &mut problems)
            }),
            RowValues::F32(x) => append(x, rows * d, path, |xs| {
                conv.convert_into(path, &b, n, xs, ws, &mut problems)
            }),
        };
        let kept = convert(
            w.as_mut()
                .map(|w| &mut w.spare_capacity_mut()[..rows] as &mut [MaybeUninit<f64>]),
        )?;
        // SAFETY: `convert_into` returned `Ok`, so it wrote every one of
        // the `rows` weights it was given.
        if let Some(w) = w.as_mut() {
            unsafe { w.set_len(rows) };
        }
        if let (Some(all), Some(w)) = (weights.as_mut(), w) {
            all.extend(w);
        }
        labels.extend(kept.labels);
        if let (Some(f), Some(bf)) = (noise_init.as_mut(), kept.noise_init) {
            f.extend(bf);
        }
        passthrough.extend(kept.passthrough);
        n += rows;
        if problems.any() {
            // Count the rest before reporting, as for files.
            for b in batches.by_ref() {
                if stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
                    return Err(IoError::Interrupted);
                }
                let Ok(b) = b else { break };
                if conv.scan(path, &b, n, &mut problems).is_err() {
                    break;
                }
                n += b.num_rows();
            }
            return Err(problems.into_error().expect("problems were found"));
        }
    }
    if n == 0 {
        return Err(IoError::EmptyTable {
            path: path.to_path_buf(),
        });
    }
    if let (crate::Missing::Drop, Some(w)) = (proj.missing, weights.as_mut()) {
        crate::rows::mark_missing_rows(&mut x, d, w);
    }
    let column_types = proj
        .features
        .iter()
        .map(|&i| type_name(schema.field(i).data_type()))
        .collect();
    let table = Table {
        source: path.to_path_buf(),
        columns: proj.feature_names.clone(),
        column_types,
        x,
        n_rows: n,
        weights,
        labels: concat_arrays(path, labels)?,
        noise_init,
        passthrough: concat_arrays(path, passthrough)?,
    };
    Ok((table, proj.skipped))
}

/// Appends `len` values to `x`, written by `fill` into the spare capacity;
/// `fill` must write each of them when it returns `Ok`.
fn append<T, R>(
    x: &mut Vec<T>,
    len: usize,
    path: &Path,
    fill: impl FnOnce(&mut [MaybeUninit<T>]) -> Result<R>,
) -> Result<R> {
    x.try_reserve(len)
        .map_err(|_| IoError::read(path, "not enough memory for the rows"))?;
    let r = fill(&mut x.spare_capacity_mut()[..len])?;
    // SAFETY: `fill` returned `Ok`, so it wrote all `len` values.
    unsafe { x.set_len(x.len() + len) };
    Ok(r)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Float32Array, Float64Array, Int64Array, StringArray};

    use super::*;

    fn batch(a: Vec<Option<f64>>, b: Vec<f32>) -> RecordBatch {
        let n = a.len() as i64;
        RecordBatch::try_from_iter([
            ("a", Arc::new(Float64Array::from(a)) as ArrayRef),
            ("b", Arc::new(Float32Array::from(b)) as ArrayRef),
            (
                "id",
                Arc::new(Int64Array::from_iter_values(0..n)) as ArrayRef,
            ),
            (
                "name",
                Arc::new(StringArray::from(vec!["x"; n as usize])) as ArrayRef,
            ),
        ])
        .unwrap()
    }

    #[test]
    fn batches_read_as_rows_with_their_columns_and_errors() {
        let one = batch(vec![Some(1.0), Some(2.0)], vec![0.5, 1.5]);
        let two = batch(vec![Some(3.0)], vec![2.5]);
        let schema = one.schema();
        let spec = ColumnSpec {
            features: vec!["a".into(), "b".into()],
            ..ColumnSpec::default()
        };
        let (t, _) =
            read_record_batches("X", schema.clone(), [Ok(one), Ok(two)], &spec, None).unwrap();
        assert_eq!(t.n_rows, 3);
        assert_eq!(t.x, RowValues::F64(vec![1.0, 0.5, 2.0, 1.5, 3.0, 2.5]));
        // In f32, the same values rounded.
        let one = batch(vec![Some(0.1)], vec![0.5]);
        let narrow = ColumnSpec {
            precision: gmm_core::Precision::F32,
            ..spec.clone()
        };
        let (t, _) = read_record_batches("X", schema.clone(), [Ok(one)], &narrow, None).unwrap();
        assert_eq!(t.x, RowValues::F32(vec![0.1, 0.5]));
        // Exact in f32 only when every selected feature is float32.
        assert_eq!(exact_precision(&schema, &spec), Precision::F64);
        let only_b = ColumnSpec {
            features: vec!["b*".into()],
            ..ColumnSpec::default()
        };
        assert_eq!(exact_precision(&schema, &only_b), Precision::F32);
        let missing = ColumnSpec {
            features: vec!["zz".into()],
            ..ColumnSpec::default()
        };
        assert_eq!(exact_precision(&schema, &missing), Precision::F64);
        assert_eq!(t.column_types, vec!["float64", "float32"]);
        // Unnamed features: the numeric columns; the text column is reported.
        let one = batch(vec![Some(1.0)], vec![0.5]);
        let (t, skipped) =
            read_record_batches("X", schema.clone(), [Ok(one)], &ColumnSpec::default(), None)
                .unwrap();
        assert_eq!(t.columns, vec!["a", "b", "id"]);
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].column, "name");
        // A null is an error naming the column and the row, counted over
        // every batch.
        let bad = batch(vec![Some(1.0), None], vec![0.5, 1.5]);
        let worse = batch(vec![None], vec![0.5]);
        let err = read_record_batches("X", schema.clone(), [Ok(bad), Ok(worse)], &spec, None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`a`") && err.contains('2'), "{err}");
        // Nothing to read, or a stop asked for.
        let err = read_record_batches("X", schema.clone(), [], &spec, None).unwrap_err();
        assert!(matches!(err, IoError::EmptyTable { .. }), "{err}");
        let stop = AtomicBool::new(true);
        let one = batch(vec![Some(1.0)], vec![0.5]);
        let err = read_record_batches("X", schema, [Ok(one)], &spec, Some(&stop)).unwrap_err();
        assert!(matches!(err, IoError::Interrupted));
    }
}
