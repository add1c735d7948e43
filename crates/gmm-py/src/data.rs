//! Rows from Python: NumPy arrays read in place, Arrow C streams
//! decoded into row-major `float64` (or `float32`, see [`arrow_table`]).

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};

use arrow::ffi_stream::{FFI_ArrowArrayStream, RecordBatchStreamReader};
use arrow::record_batch::RecordBatchReader;
use gmm_core::{DataView, Values};
use gmm_io::ColumnSpec;
use numpy::{IntoPyArray, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

use crate::errors;

/// Rows as NumPy holds them: a `float64` or a `float32` array. The engine
/// reads `float32` values as `float64` (exactly), so a `float32` array
/// fits as the `float64` array of its values, in half the memory.
#[derive(FromPyObject)]
pub enum Matrix<'py> {
    F64(PyReadonlyArray2<'py, f64>),
    F32(PyReadonlyArray2<'py, f32>),
}

impl Matrix<'_> {
    pub fn ncols(&self) -> usize {
        match self {
            Matrix::F64(a) => a.as_array().ncols(),
            Matrix::F32(a) => a.as_array().ncols(),
        }
    }
}

/// The rows of a C-contiguous `float64` or `float32` array, read in place
/// (no copy), with contiguous weights and label codes in `0..n_classes` (or
/// `UNLABELED`).
pub fn rows<'a>(
    x: &'a Matrix<'_>,
    weights: Option<&'a PyReadonlyArray1<'_, f64>>,
    labels: Option<(&'a PyReadonlyArray1<'_, u32>, usize)>,
) -> PyResult<DataView<'a>> {
    let contiguous = |what: &str| errors::value(format!("{what} must be a contiguous array"));
    let values = match x {
        Matrix::F64(a) => Values::F64(a.as_slice().map_err(|_| contiguous("X"))?),
        Matrix::F32(a) => Values::F32(a.as_slice().map_err(|_| contiguous("X"))?),
    };
    let mut view = DataView::of_values(values, x.ncols()).map_err(errors::engine)?;
    if let Some(w) = weights {
        let w = w.as_slice().map_err(|_| contiguous("sample_weight"))?;
        if w.len() != view.n_rows() {
            return Err(errors::value(format!(
                "sample_weight has {} values for {} rows",
                w.len(),
                view.n_rows()
            )));
        }
        if let Some(bad) = w.iter().find(|v| !(v.is_finite() && **v >= 0.0)) {
            return Err(errors::value(format!(
                "sample_weight holds {bad}: weights must be finite and non-negative"
            )));
        }
        view = view.with_weights(Some(w));
    }
    if let Some((codes, n_classes)) = labels {
        let codes = codes.as_slice().map_err(|_| contiguous("y"))?;
        if codes.len() != view.n_rows() {
            return Err(errors::value(format!(
                "y has {} labels for {} rows",
                codes.len(),
                view.n_rows()
            )));
        }
        view = view.with_labels(Some(codes), n_classes);
    }
    Ok(view)
}

/// The numeric columns (or those named) of anything with
/// `__arrow_c_stream__` (pandas, polars, pyarrow), as a C-contiguous
/// array (`float32` when every such column is `float32` or `float16`,
/// else `float64`) with the column names, their Arrow types, and the
/// columns left out because they do not hold numbers (name, type, why).
/// Ctrl-C between record batches raises `KeyboardInterrupt`.
#[pyfunction]
#[pyo3(signature = (table, columns=None, name="X", missing="error"))]
#[allow(clippy::type_complexity)]
pub fn arrow_table<'py>(
    py: Python<'py>,
    table: &Bound<'py, PyAny>,
    columns: Option<Vec<String>>,
    name: &str,
    missing: &str,
) -> PyResult<(
    Bound<'py, PyAny>,
    Vec<String>,
    Vec<String>,
    Vec<(String, String, String)>,
)> {
    let capsule = table.call_method0("__arrow_c_stream__")?;
    let capsule = capsule.cast_into::<PyCapsule>()?;
    let ptr = capsule.pointer_checked(Some(c"arrow_array_stream"))?;
    // SAFETY: the capsule holds an `ArrowArrayStream` (checked by its name);
    // `from_raw` moves it out and leaves a released stream behind, which
    // the capsule's destructor then leaves alone.
    let stream = unsafe { FFI_ArrowArrayStream::from_raw(ptr.as_ptr().cast()) };
    let reader = RecordBatchStreamReader::try_new(stream)
        .map_err(|e| errors::value(format!("{name}: not a readable Arrow stream ({e})")))?;
    let schema = reader.schema();
    let stop = AtomicBool::new(false);
    let signal: RefCell<Option<PyErr>> = RefCell::new(None);
    let batches = reader.inspect(|_| {
        if let Err(e) = py.check_signals() {
            signal.replace(Some(e));
            stop.store(true, Ordering::Relaxed);
        }
    });
    let missing = missing.parse::<gmm_io::Missing>().map_err(|_| {
        errors::value(format!(
            "missing must be \"error\", \"drop\" or \"marginalize\", not {missing:?}"
        ))
    })?;
    let mut spec = ColumnSpec {
        features: columns.unwrap_or_default(),
        missing,
        ..ColumnSpec::default()
    };
    spec.precision = gmm_io::exact_precision(&schema, &spec);
    let read = gmm_io::read_record_batches(name, schema, batches, &spec, Some(&stop));
    if let Some(e) = signal.take() {
        return Err(e);
    }
    let (mut t, skipped) = read.map_err(errors::io)?;
    let d = t.columns.len();
    // Rows that miss a value (`missing="drop"`, marked by a weight of
    // -0.0) come back as NaN rows, as a NumPy array gives them.
    if let Some(w) = t.weights.take() {
        for (i, _) in w
            .iter()
            .enumerate()
            .filter(|(_, w)| gmm_io::Missing::is_dropped(**w))
        {
            match &mut t.x {
                gmm_io::RowValues::F64(v) => v[i * d..(i + 1) * d].fill(f64::NAN),
                gmm_io::RowValues::F32(v) => v[i * d..(i + 1) * d].fill(f32::NAN),
            }
        }
    }
    // The rows move into the array.
    let shape = (t.n_rows, d);
    let x = match t.x {
        gmm_io::RowValues::F64(v) => ndarray::Array2::from_shape_vec(shape, v)
            .expect("n_rows x d values")
            .into_pyarray(py)
            .into_any(),
        gmm_io::RowValues::F32(v) => ndarray::Array2::from_shape_vec(shape, v)
            .expect("n_rows x d values")
            .into_pyarray(py)
            .into_any(),
    };
    let skipped = skipped
        .into_iter()
        .map(|s| (s.column, s.data_type, s.reason))
        .collect();
    Ok((x, t.columns, t.column_types, skipped))
}
