//! Fits on files that Python never holds: gmm-io's loader reads Parquet,
//! Arrow IPC or CSV (a file, a directory, a glob; on disk or at an object
//! storage URL) into memory or, when the
//! selected columns are larger than the memory budget, through the
//! out-of-core cache, exactly as `gmm fit` does.

use gmm_io::load::{DataSpec, Processes, load};
use pyo3::prelude::*;

use crate::errors;
use crate::model::Model;
use crate::run::{Job, fit_dataset, params};
use crate::work::detached;

/// Fits a mixture to the rows of `input` (the loader's `DataSpec`);
/// returns the model and the fit's report in JSON. The labels of
/// `label_column` are used as `params_json` says (its `semi_supervised`),
/// or read and dropped with `ignore_labels`.
#[pyfunction]
#[pyo3(signature = (
    input, params_json, *, columns=None, label_column=None, weight_column=None,
    noise_init_column=None, labeled=None, ignore_labels=false, max_memory=None, cache_dir=None, precision="f64",
    missing="error", filter=None, storage_json=None, init_model=None, init_lower_bound=None, n_threads=None, verbose=0, verbose_interval=10
))]
#[allow(clippy::too_many_arguments)]
pub fn fit_files(
    py: Python<'_>,
    input: String,
    params_json: &str,
    columns: Option<Vec<String>>,
    label_column: Option<String>,
    weight_column: Option<String>,
    noise_init_column: Option<String>,
    labeled: Option<String>,
    ignore_labels: bool,
    max_memory: Option<u64>,
    cache_dir: Option<std::path::PathBuf>,
    precision: &str,
    missing: &str,
    filter: Option<String>,
    storage_json: Option<&str>,
    init_model: Option<PyRef<'_, Model>>,
    init_lower_bound: Option<f64>,
    n_threads: Option<usize>,
    verbose: u8,
    verbose_interval: usize,
) -> PyResult<(Model, String)> {
    let params = params(params_json, init_model.as_deref(), init_lower_bound)?;
    let precision = precision.parse::<gmm_core::Precision>().map_err(|_| {
        errors::value(format!(
            "precision must be \"f64\" or \"f32\", not {precision:?}"
        ))
    })?;
    let missing = missing.parse::<gmm_io::Missing>().map_err(|_| {
        errors::value(format!(
            "missing must be \"error\", \"drop\" or \"marginalize\", not {missing:?}"
        ))
    })?;
    let filter = filter
        .map(|f| gmm_io::Filter::parse(&f).map_err(|e| errors::value(format!("filter {f:?}: {e}"))))
        .transpose()?;
    let object_storage = errors::storage_settings(storage_json)?;
    let weighted = weight_column.is_some();
    let spec = DataSpec {
        input: input.clone(),
        columns: columns.unwrap_or_default(),
        label_column: label_column.clone(),
        weight_column,
        noise_init_column,
        id_columns: Vec::new(),
        keep_columns: Vec::new(),
        labeled,
        delimiter: None,
        max_memory,
        cache_dir,
        precision,
        missing,
        filter,
        object_storage,
    };
    let (file, mixture, report) = detached(py, n_threads, verbose, verbose_interval, |p| {
        let mut data = load(&spec, Processes::One, p).map_err(errors::io)?;
        if data.n_dropped > 0 && data.n_dropped == data.dataset.n_rows() {
            return Err(errors::value(format!(
                "{}: every row ({}) misses a feature value; nothing is left to fit",
                spec.input, data.n_dropped
            )));
        }
        if ignore_labels {
            // The label column is read (so it is no feature) and dropped.
            data.classes = None;
            data.n_labeled = 0;
        }
        let job = Job {
            params,
            columns: data.columns.clone(),
            column_types: Some(data.column_types.clone()),
            classes: data.classes.as_ref().map(|c| c.names().to_vec()),
            label_column: data.label_column.clone(),
            input: Some(input.clone()),
            n_dropped: data.n_dropped,
            weighted,
        };
        let view = data.view(None);
        let view = if ignore_labels {
            view.without_labels()
        } else {
            view
        };
        fit_dataset(job, view, data.n_labeled, p)
    })??;
    Ok((Model { file, mixture }, report))
}
