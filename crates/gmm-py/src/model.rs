//! `Model`: a fitted mixture with its model file (columns, classes, the
//! fit's figures), the same JSON the `gmm` command reads and writes.

use gmm_core::{CovarianceType, Covariances, DataView, GaussianMixture};
use gmm_io::{FitSummary, ModelFile};
use ndarray::{Array1, Array2};
use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::{data, errors, work};

#[pyclass(module = "gmm_engine._native", name = "Model", frozen)]
pub struct Model {
    pub file: ModelFile,
    pub mixture: GaussianMixture,
}

impl Model {
    fn from_file(file: ModelFile) -> PyResult<Model> {
        let mixture = file.to_model().map_err(errors::value)?;
        Ok(Model { file, mixture })
    }

    /// One pass of the mixture over `view` (predict, score, ...) with the
    /// GIL released, on `n_threads` threads.
    fn pass<'a, T: Send>(
        &self,
        py: Python<'_>,
        view: DataView<'a>,
        n_threads: Option<usize>,
        f: impl FnOnce(&GaussianMixture, DataView<'a>) -> gmm_core::Result<T> + Send,
    ) -> PyResult<T> {
        work::detached(py, n_threads, 0, 1, |_| f(&self.mixture, view))?.map_err(errors::engine)
    }
}

/// Covariances (or precision Cholesky factors) in scikit-learn's shape for
/// `covariance_type` (its storage's, for mclust's other families), from a
/// NumPy array.
fn covariances(kind: CovarianceType, a: &Bound<'_, PyAny>) -> PyResult<Covariances> {
    let bad = |e: PyErr| {
        errors::value(format!(
            "{kind} covariances must be a float64 array of scikit-learn's shape ({e})"
        ))
    };
    Ok(match kind.storage() {
        CovarianceType::Full => {
            let a: PyReadonlyArray<'_, f64, ndarray::Ix3> = a.extract().map_err(bad)?;
            Covariances::Full(a.as_array().to_owned())
        }
        CovarianceType::Diag => Covariances::Diag(
            a.extract::<PyReadonlyArray2<'_, f64>>()
                .map_err(bad)?
                .as_array()
                .to_owned(),
        ),
        CovarianceType::Tied => Covariances::Tied(
            a.extract::<PyReadonlyArray2<'_, f64>>()
                .map_err(bad)?
                .as_array()
                .to_owned(),
        ),
        CovarianceType::Spherical => Covariances::Spherical(
            a.extract::<PyReadonlyArray1<'_, f64>>()
                .map_err(bad)?
                .as_array()
                .to_owned(),
        ),
        other => unreachable!("{other} is not a storage"),
    })
}

fn to_numpy<'py>(py: Python<'py>, c: &Covariances) -> Bound<'py, PyAny> {
    match c {
        Covariances::Full(a) => a.clone().into_pyarray(py).into_any(),
        Covariances::Diag(a) | Covariances::Tied(a) => a.clone().into_pyarray(py).into_any(),
        Covariances::Spherical(a) => a.clone().into_pyarray(py).into_any(),
    }
}

#[pymethods]
impl Model {
    /// A model from a model file's text.
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Model> {
        Model::from_file(ModelFile::parse(text).map_err(errors::value)?)
    }

    /// Reads a model file written by `gmm fit` or `save`, at a path or an
    /// object storage URL (reached with the `[storage]` settings in JSON).
    #[staticmethod]
    #[pyo3(signature = (path, storage_json=None))]
    fn read(path: std::path::PathBuf, storage_json: Option<&str>) -> PyResult<Model> {
        let storage = errors::storage_settings(storage_json)?;
        Model::from_file(ModelFile::read_in(&path, &storage).map_err(errors::io)?)
    }

    /// A mixture from its parameters (for warm starts): weights, means and
    /// precision Cholesky factors (`precisions=False`: covariances) in
    /// scikit-learn's shapes.
    #[staticmethod]
    #[pyo3(signature = (weights, means, covariance_type, values, columns, *, cholesky=true))]
    fn from_parameters(
        weights: PyReadonlyArray1<'_, f64>,
        means: PyReadonlyArray2<'_, f64>,
        covariance_type: &str,
        values: &Bound<'_, PyAny>,
        columns: Vec<String>,
        cholesky: bool,
    ) -> PyResult<Model> {
        let kind: CovarianceType = covariance_type.parse().map_err(errors::engine)?;
        let c = covariances(kind, values)?;
        let w: Array1<f64> = weights.as_array().to_owned();
        let m: Array2<f64> = means.as_array().to_owned();
        let mixture = if cholesky {
            GaussianMixture::from_precisions_cholesky(w, m, c)
        } else {
            GaussianMixture::new(w, m, c)
        }
        .map_err(errors::engine)?;
        // A start of one of mclust's constrained families: the member its
        // M-step makes of the given covariances, as a start of another
        // type is converted to the fit's.
        let mixture = match mixture.clone().with_covariance_type(kind) {
            Ok(m) => m,
            Err(_) => {
                let d = mixture.n_features();
                let dense: Vec<Array2<f64>> = (0..mixture.n_components())
                    .map(|k| mixture.covariances().dense(k, d))
                    .collect();
                let w = mixture.weights().clone();
                let c =
                    gmm_core::covariances_in_family(kind, &dense, w.as_slice().expect("weights"));
                GaussianMixture::new(w, mixture.means().clone(), c)
                    .and_then(|m| m.with_covariance_type(kind))
                    .map_err(errors::engine)?
            }
        };
        let file = ModelFile::new(&mixture, columns, &FitSummary::default());
        Ok(Model { file, mixture })
    }

    /// The model file's text.
    fn to_json(&self) -> String {
        self.file.to_json()
    }

    /// Writes the model file; it appears complete or not at all.
    fn save(&self, path: std::path::PathBuf) -> PyResult<()> {
        self.file
            .write_pending(&path)
            .and_then(|p| p.commit())
            .map_err(errors::io)
    }

    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let from_json = py.get_type::<Model>().getattr("from_json")?;
        (from_json, (self.file.to_json(),)).into_pyobject(py)
    }

    fn __repr__(&self) -> String {
        format!(
            "Model(n_components={}, covariance_type='{}', columns={:?})",
            self.mixture.n_components(),
            self.mixture.covariance_type(),
            self.file.columns
        )
    }

    #[getter]
    fn weights<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        self.mixture.weights().clone().into_pyarray(py)
    }
    #[getter]
    fn means<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<f64>> {
        self.mixture.means().clone().into_pyarray(py)
    }
    #[getter]
    fn covariances<'py>(&self, py: Python<'py>) -> Bound<'py, PyAny> {
        to_numpy(py, self.mixture.covariances())
    }
    #[getter]
    fn precisions_cholesky<'py>(&self, py: Python<'py>) -> Bound<'py, PyAny> {
        to_numpy(py, self.mixture.precisions_cholesky())
    }
    #[getter]
    fn covariance_type(&self) -> String {
        self.mixture.covariance_type().to_string()
    }
    #[getter]
    fn n_components(&self) -> usize {
        self.mixture.n_components()
    }
    #[getter]
    fn n_features(&self) -> usize {
        self.mixture.n_features()
    }
    /// The noise component's `(weight, volume)`, or None.
    #[getter]
    fn noise(&self) -> Option<(f64, f64)> {
        self.mixture.noise().map(|n| (n.weight, n.volume))
    }
    #[getter]
    fn n_parameters(&self) -> usize {
        self.mixture.n_parameters()
    }
    #[getter]
    fn columns(&self) -> Vec<String> {
        self.file.columns.clone()
    }
    #[getter]
    fn column_types(&self) -> Option<Vec<String>> {
        self.file.column_types.clone()
    }
    #[getter]
    fn classes(&self) -> Option<Vec<String>> {
        self.file.classes.clone()
    }
    #[getter]
    fn n_iter(&self) -> usize {
        self.file.n_iter
    }
    #[getter]
    fn converged(&self) -> bool {
        self.file.converged
    }
    #[getter]
    fn mean_log_likelihood(&self) -> f64 {
        self.file.mean_log_likelihood
    }
    #[getter]
    fn n_rows(&self) -> u64 {
        self.file.n_rows
    }
    #[getter]
    fn reg_covar(&self) -> f64 {
        self.file.reg_covar
    }
    /// `(mode, unlabeled_weight, n_labeled)` of a semi-supervised fit.
    #[getter]
    fn semi_supervised(&self) -> Option<(String, f64, usize)> {
        self.file
            .semi_supervised
            .as_ref()
            .map(|s| (s.mode.clone(), s.unlabeled_weight, s.n_labeled))
    }

    /// The component of each row (the most probable). With `missing`, NaN
    /// values are missing and integrated out (every method here).
    #[pyo3(signature = (x, n_threads=None, missing=false))]
    fn predict<'py>(
        &self,
        py: Python<'py>,
        x: data::Matrix<'_>,
        n_threads: Option<usize>,
        missing: bool,
    ) -> PyResult<Bound<'py, PyArray1<u32>>> {
        let view = data::rows(&x, None, None)?.with_missing_values(missing);
        Ok(self
            .pass(py, view, n_threads, GaussianMixture::predict)?
            .into_pyarray(py))
    }

    /// The posterior probability of each component for each row.
    #[pyo3(signature = (x, n_threads=None, missing=false))]
    fn predict_proba<'py>(
        &self,
        py: Python<'py>,
        x: data::Matrix<'_>,
        n_threads: Option<usize>,
        missing: bool,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let view = data::rows(&x, None, None)?.with_missing_values(missing);
        Ok(self
            .pass(py, view, n_threads, GaussianMixture::predict_proba)?
            .into_pyarray(py))
    }

    /// `ln p(x)` of each row.
    #[pyo3(signature = (x, n_threads=None, missing=false))]
    fn score_samples<'py>(
        &self,
        py: Python<'py>,
        x: data::Matrix<'_>,
        n_threads: Option<usize>,
        missing: bool,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let view = data::rows(&x, None, None)?.with_missing_values(missing);
        Ok(self
            .pass(py, view, n_threads, GaussianMixture::score_samples)?
            .into_pyarray(py))
    }

    /// The (weighted) mean of `ln p(x)` over the rows.
    #[pyo3(signature = (x, weights=None, n_threads=None, missing=false))]
    fn score(
        &self,
        py: Python<'_>,
        x: data::Matrix<'_>,
        weights: Option<PyReadonlyArray1<'_, f64>>,
        n_threads: Option<usize>,
        missing: bool,
    ) -> PyResult<f64> {
        let view = data::rows(&x, weights.as_ref(), None)?.with_missing_values(missing);
        self.pass(py, view, n_threads, GaussianMixture::score)
    }

    /// `n` rows drawn from the mixture with `seed`, and the component of each.
    fn sample<'py>(
        &self,
        py: Python<'py>,
        n: usize,
        seed: u64,
    ) -> (Bound<'py, PyArray2<f64>>, Bound<'py, PyArray1<u32>>) {
        let (x, c) = py.detach(|| self.mixture.sample(n, seed));
        (x.into_pyarray(py), c.into_pyarray(py))
    }
}
