//! Fits: the engine's settings and warm start read from Python, a fit of a
//! NumPy array, and the model file the `gmm` command would write for it.

use gmm_core::FitParams;
use gmm_io::{FitSummary, ModelFile, Provenance, SemiSupervisedInfo, utc_now_rfc3339};
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;

use crate::work::{Progress, detached};
use crate::{data, errors, model::Model};

/// What a fit needs besides its rows: settings, warm start, columns.
pub struct Job {
    pub params: FitParams,
    pub columns: Vec<String>,
    pub column_types: Option<Vec<String>>,
    pub classes: Option<Vec<String>>,
    pub label_column: Option<String>,
    pub input: Option<String>,
    /// Rows left out for a missing value (in the rows with weight -0.0).
    pub n_dropped: usize,
    /// Whether the rows' weights are the user's (a weight column or
    /// `sample_weight`), not only the marks of rows left out.
    pub weighted: bool,
}

/// Fits `data`, and describes the result as the CLI's model file does.
pub fn fit_dataset(
    job: Job,
    data: gmm_core::DataView<'_>,
    n_labeled: usize,
    progress: &mut Progress,
) -> Result<(ModelFile, gmm_core::GaussianMixture, String), PyErr> {
    let params = job.params.clone();
    let fit = params
        .check()
        .map_err(errors::engine)?
        .fit(data, progress)
        .map_err(errors::engine)?;
    let r = &fit.report;
    let semi = job.params.semi_supervised;
    let init_mode = semi.is_some_and(|s| s.mode == gmm_core::SemiSupervisedMode::Init);
    let n_rows = data.n_rows() - job.n_dropped - if init_mode { n_labeled } else { 0 };
    let weighted = job.weighted;
    let summary = FitSummary::of(r, n_rows as u64, weighted, job.params.reg_covar);
    let mut file = ModelFile::new(&fit.model, job.columns, &summary);
    file.column_types = job.column_types;
    if let (Some(semi), Some(classes)) = (semi, job.classes) {
        file.classes = Some(classes);
        file.label_column = job.label_column;
        file.semi_supervised = Some(SemiSupervisedInfo {
            mode: semi.mode.to_string(),
            unlabeled_weight: semi.unlabeled_weight,
            n_labeled,
        });
    }
    let init = job.params.init.unwrap_or(if semi.is_some() {
        gmm_core::InitMethod::Labeled
    } else {
        gmm_core::InitMethod::KMeans
    });
    file.provenance = Some(Provenance {
        tool: "gmm-engine (Python)".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        created: utc_now_rfc3339()[..10].to_string(),
        input: job.input,
        labeled: None,
        config: None,
        seed: Some(job.params.seed),
        n_init: Some(job.params.n_init),
        init: Some(if job.params.init_model.is_some() {
            format!("model ({init} for other restarts)")
        } else {
            init.to_string()
        }),
        best_restart: Some(r.best_restart),
        command: None,
        precision: (data.precision() != gmm_core::Precision::F64).then(|| data.precision()),
    });
    let report = serde_json::to_string(r).expect("reports serialize");
    Ok((file, fit.model, report))
}

/// Reads the settings (a `FitParams` in JSON) and the warm start.
pub fn params(
    params_json: &str,
    init_model: Option<&Model>,
    init_lower_bound: Option<f64>,
) -> PyResult<FitParams> {
    let mut params: FitParams = serde_json::from_str(params_json)
        .map_err(|e| errors::value(format!("bad settings: {e}")))?;
    params.init_model = init_model.map(|m| m.mixture.clone());
    params.init_model_lower_bound = init_lower_bound;
    Ok(params)
}

/// Fits a mixture to the rows of `x` (C-contiguous `float64`, read in
/// place): returns the model and the fit's report in JSON. With `missing`,
/// NaN values are missing entries, integrated out.
#[pyfunction]
#[pyo3(signature = (
    x, params_json, *, weights=None, labels=None, classes=None, init_model=None,
    init_lower_bound=None, columns=None, column_types=None, n_threads=None,
    verbose=0, verbose_interval=10, missing=false, noise_init=None
))]
#[allow(clippy::too_many_arguments)]
pub fn fit(
    py: Python<'_>,
    x: data::Matrix<'_>,
    params_json: &str,
    weights: Option<PyReadonlyArray1<'_, f64>>,
    labels: Option<PyReadonlyArray1<'_, u32>>,
    classes: Option<Vec<String>>,
    init_model: Option<PyRef<'_, Model>>,
    init_lower_bound: Option<f64>,
    columns: Option<Vec<String>>,
    column_types: Option<Vec<String>>,
    n_threads: Option<usize>,
    verbose: u8,
    verbose_interval: usize,
    missing: bool,
    noise_init: Option<PyReadonlyArray1<'_, u8>>,
) -> PyResult<(Model, String)> {
    let params = params(params_json, init_model.as_deref(), init_lower_bound)?;
    let d = x.ncols();
    let n_classes = classes.as_ref().map_or(0, Vec::len);
    let n_labeled = labels.as_ref().map_or(0, |l| {
        l.as_array()
            .iter()
            .filter(|&&c| c != gmm_core::UNLABELED)
            .count()
    });
    let view = data::rows(
        &x,
        weights.as_ref(),
        labels.as_ref().map(|l| (l, n_classes)),
    )?
    // NaN values are missing, integrated out.
    .with_missing_values(missing);
    // One flag per row (0 or 1, which the engine checks).
    let flags = noise_init
        .as_ref()
        .map(|f| {
            f.as_slice()
                .map_err(|_| errors::value("noise_init must be a contiguous array"))
        })
        .transpose()?;
    if let Some(f) = flags
        && f.len() != view.n_rows()
    {
        return Err(errors::value(format!(
            "noise_init has {} values for {} rows",
            f.len(),
            view.n_rows()
        )));
    }
    let view = view.with_initial_noise(flags);
    let job = Job {
        params,
        columns: columns.unwrap_or_else(|| (0..d).map(|j| format!("x{j}")).collect()),
        column_types,
        classes,
        label_column: None,
        input: None,
        n_dropped: 0,
        weighted: view.weights().is_some(),
    };
    let (file, mixture, report) = detached(py, n_threads, verbose, verbose_interval, |p| {
        fit_dataset(job, view, n_labeled, p)
    })??;
    Ok((Model { file, mixture }, report))
}
