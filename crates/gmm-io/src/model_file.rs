//! The model file: versioned JSON readable without this tool, holding the
//! parameters in scikit-learn's shapes, the columns fitted on, the fit's
//! figures and its provenance.

use std::path::Path;

use crate::covariance_json::{covariances_from_json, covariances_to_json};
use gmm_core::{CovarianceType, FitReport, GaussianMixture};
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::atomic::PendingFile;
use crate::error::{IoError, Result};

/// The `format` key of every model file.
pub const MODEL_FORMAT: &str = "gmm-model";
/// The version this build writes and reads.
pub const MODEL_VERSION: u32 = 1;

/// How labeled rows were used, when they were.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SemiSupervisedInfo {
    pub mode: String,
    pub unlabeled_weight: f64,
    pub n_labeled: usize,
}

/// Where a model came from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    pub tool: String,
    pub version: String,
    /// UTC time of the fit, RFC 3339.
    pub created: String,
    pub input: Option<String>,
    pub labeled: Option<String>,
    pub config: Option<String>,
    pub seed: Option<u64>,
    pub n_init: Option<usize>,
    pub init: Option<String>,
    pub best_restart: Option<usize>,
    pub command: Option<String>,
    /// `f32` when the rows were held as `f32` (absent: `f64`); `gmm
    /// predict` and `score` round their rows the same way by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<gmm_core::Precision>,
}

/// A model file's contents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelFile {
    pub format: String,
    pub version: u32,
    pub covariance_type: CovarianceType,
    pub columns: Vec<String>,
    /// Type of each column in the fitted table (`float64`, `int64`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column_types: Option<Vec<String>>,
    /// The Gaussians' weights: with a noise component, they sum to `1 -
    /// noise.weight`.
    pub weights: Vec<f64>,
    /// mclust's noise component (`--noise`): its weight and the volume
    /// its uniform density is over (`1 / Vinv`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise: Option<gmm_core::Noise>,
    pub means: Vec<Vec<f64>>,
    /// In scikit-learn's shape: full `K x d x d`, diag `K x d`, spherical
    /// `K`, tied `d x d`; mclust's other families in their storage's
    /// ([`CovarianceType::storage`]).
    pub covariances: Value,
    /// For mclust's constrained families: each covariance's volume, shape
    /// and orientation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decomposition: Option<crate::covariance_json::DecompositionJson>,
    pub precisions_cholesky: Value,
    pub mean_log_likelihood: f64,
    pub n_iter: usize,
    pub converged: bool,
    pub bic: f64,
    pub aic: f64,
    /// Rows the model was fitted on.
    pub n_rows: u64,
    /// Total weight of those rows, when they were weighted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_weight: Option<f64>,
    pub n_parameters: usize,
    pub reg_covar: f64,
    /// Class of each component, for semi-supervised fits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_column: Option<String>,
    /// The Arrow type of the classes as predictions write them (`class`
    /// column), that of the label column (see [`crate::class_type`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub semi_supervised: Option<SemiSupervisedInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
}

/// The fit's figures that go into a model file beside the parameters
/// (all zero by default: a model that was not fitted, such as a start).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FitSummary {
    pub mean_log_likelihood: f64,
    pub n_iter: usize,
    pub converged: bool,
    pub bic: f64,
    pub aic: f64,
    pub n_rows: u64,
    pub total_weight: Option<f64>,
    pub reg_covar: f64,
}

impl FitSummary {
    /// The figures of a fit on `n_rows` rows (weighted or not) with
    /// `reg_covar`.
    pub fn of(report: &FitReport, n_rows: u64, weighted: bool, reg_covar: f64) -> Self {
        FitSummary {
            mean_log_likelihood: report.mean_log_likelihood,
            n_iter: report.n_iter,
            converged: report.converged,
            bic: report.bic,
            aic: report.aic,
            n_rows,
            total_weight: weighted.then_some(report.n_rows),
            reg_covar,
        }
    }
}

impl ModelFile {
    pub fn new(model: &GaussianMixture, columns: Vec<String>, summary: &FitSummary) -> Self {
        ModelFile {
            format: MODEL_FORMAT.into(),
            version: MODEL_VERSION,
            covariance_type: model.covariance_type(),
            columns,
            column_types: None,
            weights: model.weights().to_vec(),
            noise: model.noise(),
            means: model.means().outer_iter().map(|r| r.to_vec()).collect(),
            covariances: covariances_to_json(model.covariances()),
            decomposition: crate::covariance_json::DecompositionJson::of(model),
            precisions_cholesky: covariances_to_json(model.precisions_cholesky()),
            mean_log_likelihood: summary.mean_log_likelihood,
            n_iter: summary.n_iter,
            converged: summary.converged,
            bic: summary.bic,
            aic: summary.aic,
            n_rows: summary.n_rows,
            total_weight: summary.total_weight,
            n_parameters: model.n_parameters(),
            reg_covar: summary.reg_covar,
            classes: None,
            label_column: None,
            label_type: None,
            semi_supervised: None,
            provenance: None,
        }
    }

    /// Reads and checks a model file.
    pub fn read(path: impl AsRef<Path>) -> Result<ModelFile> {
        Self::read_in(path, &crate::ObjectStorage::default())
    }

    /// Like [`ModelFile::read`], where `path` may also be an object
    /// storage URL (`s3://bucket/runs/x/model.json`), reached with
    /// `storage`'s settings.
    pub fn read_in(path: impl AsRef<Path>, storage: &crate::ObjectStorage) -> Result<ModelFile> {
        let path = path.as_ref();
        let text = crate::storage::read_text(path, storage)?;
        ModelFile::parse(&text).map_err(|detail| IoError::Model {
            path: path.to_path_buf(),
            detail,
        })
    }

    /// Parses and checks a model file's text.
    pub fn parse(text: &str) -> std::result::Result<ModelFile, String> {
        let value: Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON ({e})"))?;
        let format = value.get("format").and_then(Value::as_str);
        if format != Some(MODEL_FORMAT) {
            return Err(format!(
                "the `format` key is {:?}, not \"{MODEL_FORMAT}\"",
                format.unwrap_or("missing")
            ));
        }
        match value.get("version") {
            Some(v @ Value::String(_)) => {
                return Err(format!(
                    "the `version` key is the text {v}; it must be the number {MODEL_VERSION}"
                ));
            }
            Some(v) if !v.is_u64() => {
                return Err(format!(
                    "the `version` key is {v}; it must be the number {MODEL_VERSION}"
                ));
            }
            _ => {}
        }
        let version = value.get("version").and_then(Value::as_u64);
        if version != Some(MODEL_VERSION as u64) {
            return Err(format!(
                "format version {} is not supported; this gmm reads version {MODEL_VERSION} (refit the model, or use the gmm that wrote it)",
                version.map_or("missing".to_string(), |v| v.to_string())
            ));
        }
        let file: ModelFile = serde_json::from_value(value).map_err(|e| format!("{e}"))?;
        file.to_model()?;
        crate::labels::ComponentClasses::of_model(&file)?;
        Ok(file)
    }

    /// The mixture, checked for consistent shapes and valid parameters.
    pub fn to_model(&self) -> std::result::Result<GaussianMixture, String> {
        let k = self.weights.len();
        let d = self.columns.len();
        // Columns are matched by name when predicting: each must be distinct.
        if let Some((_, _, c)) = crate::projection::repeated_name(&self.columns) {
            return Err(format!("column `{c}` is listed twice in `columns`"));
        }
        if let Some(types) = &self.column_types
            && types.len() != d
        {
            return Err(format!(
                "`column_types` has {} entries for {d} columns",
                types.len()
            ));
        }
        if self.means.len() != k || self.means.iter().any(|m| m.len() != d) {
            return Err(format!(
                "`means` must be {k} rows of {d} values (one per column)"
            ));
        }
        let means = Array2::from_shape_fn((k, d), |(i, j)| self.means[i][j]);
        let cov = covariances_from_json(self.covariance_type, &self.covariances, k, d)
            .map_err(|e| format!("`covariances`: {e}"))?;
        let noise = self
            .noise
            .map(|n| gmm_core::Noise::new(n.weight, n.volume))
            .transpose()
            .map_err(|e| format!("`noise`: {e}"))?;
        let model =
            GaussianMixture::new_with_noise(Array1::from(self.weights.clone()), means, cov, noise)
                .and_then(|m| m.with_covariance_type(self.covariance_type))
                .map_err(|e| e.to_string())?;
        if let Some(dec) = &self.decomposition {
            dec.check(&model)?;
        }
        Ok(model)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("model files serialize") + "\n"
    }

    /// Writes the file under a temporary name; commit the result to publish it.
    pub fn write_pending(&self, path: impl AsRef<Path>) -> Result<PendingFile> {
        PendingFile::with_bytes(path, self.to_json().as_bytes())
    }
}

/// The current UTC time as RFC 3339, without a date library.
pub fn utc_now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use gmm_core::Covariances;
    use ndarray::array;

    fn model(t: CovarianceType) -> GaussianMixture {
        let dense = vec![
            array![[2.0, 0.3], [0.3, 1.0]],
            array![[1.0, -0.2], [-0.2, 0.5]],
        ];
        let cov = gmm_core::covariances_in_family(t, &dense, &[0.4, 0.6]);
        GaussianMixture::new(array![0.4, 0.6], array![[0.0, 1.0], [3.0, -1.0]], cov)
            .unwrap()
            .with_covariance_type(t)
            .unwrap()
    }

    /// Every family writes and reads back exactly; mclust's constrained
    /// ones with their decomposition, which must agree with the
    /// covariances.
    #[test]
    fn round_trip_every_type_exactly() {
        for t in CovarianceType::FAMILIES {
            let m = model(t);
            let summary = FitSummary {
                mean_log_likelihood: -2.5,
                n_iter: 7,
                converged: true,
                bic: 10.0,
                aic: 9.0,
                n_rows: 100,
                total_weight: None,
                reg_covar: 1e-6,
            };
            let file = ModelFile::new(&m, vec!["a".into(), "b".into()], &summary);
            let back = ModelFile::parse(&file.to_json()).unwrap();
            assert_eq!(back, file);
            let m2 = back.to_model().unwrap();
            assert_eq!(m2.covariances(), m.covariances());
            assert_eq!(m2.means(), m.means());
            assert_eq!(m2.covariance_type(), t);
            assert_eq!(file.decomposition.is_some(), t.is_constrained(), "{t}");
            if let Some(dec) = &file.decomposition {
                let mut edited = file.clone();
                let mut dec = dec.clone();
                dec.scale[0] *= 1.01;
                edited.decomposition = Some(dec);
                let err = edited.to_model().unwrap_err();
                assert!(err.contains("`decomposition` does not give"), "{err}");
                // Covariances outside the family are refused too.
                let mut broken = file.clone();
                broken.decomposition = None;
                broken.covariances = covariances_to_json(model(CovarianceType::Full).covariances());
                if t.storage() == CovarianceType::Full {
                    let err = broken.to_model().unwrap_err();
                    assert!(err.contains(&format!("not of the {t} family")), "{err}");
                }
            }
        }
    }

    #[test]
    fn rejects_text_versions_and_asymmetric_covariances() {
        let m = GaussianMixture::new(
            ndarray::array![0.5, 0.5],
            ndarray::array![[0.0, 0.0], [1.0, 1.0]],
            Covariances::Full(ndarray::array![
                [[1.0, 0.25], [0.25, 1.0]],
                [[2.0, 0.375], [0.375, 2.0]]
            ]),
        )
        .unwrap();
        let summary = FitSummary {
            mean_log_likelihood: -1.0,
            n_iter: 1,
            converged: true,
            bic: 1.0,
            aic: 1.0,
            n_rows: 10,
            total_weight: None,
            reg_covar: 1e-6,
        };
        let text = ModelFile::new(&m, vec!["a".into(), "b".into()], &summary).to_json();
        assert!(ModelFile::parse(&text).is_ok());
        let err = ModelFile::parse(&text.replacen("\"version\": 1", "\"version\": \"1\"", 1))
            .unwrap_err();
        assert!(
            err.contains("is the text \"1\"; it must be the number 1"),
            "{err}"
        );
        let err = ModelFile::parse(&text.replacen("0.375", "0.4", 1)).unwrap_err();
        assert!(err.contains("matrix 1 is not symmetric"), "{err}");
    }

    #[test]
    fn rejects_other_formats_and_versions() {
        let file = ModelFile::new(
            &model(CovarianceType::Diag),
            vec!["a".into(), "b".into()],
            &FitSummary {
                mean_log_likelihood: 0.0,
                n_iter: 1,
                converged: true,
                bic: 0.0,
                aic: 0.0,
                n_rows: 1,
                total_weight: None,
                reg_covar: 0.0,
            },
        );
        let text = file.to_json();
        assert!(
            ModelFile::parse(&text.replace("\"version\": 1", "\"version\": 9"))
                .unwrap_err()
                .contains("version 9")
        );
        assert!(
            ModelFile::parse(&text.replace("gmm-model", "other"))
                .unwrap_err()
                .contains("format")
        );
        assert!(ModelFile::parse("{").unwrap_err().contains("JSON"));
        let bad = text.replace(
            "\"columns\": [\n    \"a\",\n    \"b\"\n  ]",
            "\"columns\": [\"a\"]",
        );
        assert!(ModelFile::parse(&bad).is_err());
        let twice = text.replace(
            "\"columns\": [\n    \"a\",\n    \"b\"\n  ]",
            "\"columns\": [\"a\", \"a\"]",
        );
        assert!(
            ModelFile::parse(&twice)
                .unwrap_err()
                .contains("`a` is listed twice")
        );
    }

    #[test]
    fn date_looks_right() {
        let s = utc_now_rfc3339();
        assert_eq!(s.len(), 20);
        assert!(s.starts_with("20"));
    }
}
