//! Covariances in a model file: the arrays in scikit-learn's shapes (or
//! their storage's, for mclust's other families), and the volume, shape
//! and orientation that a model of one of mclust's constrained families
//! stores beside them (mclust's `scale`, `shape` and `orientation`, one
//! entry per component).

use gmm_core::{CovarianceType, Covariances, Decomposition, GaussianMixture};
use ndarray::{Array1, Array2, Array3};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `covariances[k] = scale[k] * D diag(shape[k]) D^T` with `D =
/// orientation[k]` (its columns the principal directions) and the product
/// of `shape[k]` equal to 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecompositionJson {
    pub scale: Vec<f64>,
    pub shape: Vec<Vec<f64>>,
    pub orientation: Vec<Vec<Vec<f64>>>,
}

impl DecompositionJson {
    /// The decomposition of a model of a constrained family; `None` for
    /// the four families with scikit-learn's names, whose files stay as
    /// they were.
    pub fn of(model: &GaussianMixture) -> Option<DecompositionJson> {
        if !model.covariance_type().is_constrained() {
            return None;
        }
        let dec = model.decomposition();
        Some(DecompositionJson {
            scale: dec.scale,
            shape: dec.shape,
            orientation: dec
                .orientation
                .iter()
                .map(|m| m.outer_iter().map(|r| r.to_vec()).collect())
                .collect(),
        })
    }

    /// Checks that the stored decomposition gives the model's covariances
    /// back (to 1e-8 of each component's largest entry): an edit to one
    /// and not the other is refused rather than one of them ignored.
    pub fn check(&self, model: &GaussianMixture) -> Result<(), String> {
        let (k, d) = (model.n_components(), model.n_features());
        let shaped = self.scale.len() == k
            && self.shape.len() == k
            && self.shape.iter().all(|s| s.len() == d)
            && self.orientation.len() == k
            && self
                .orientation
                .iter()
                .all(|m| m.len() == d && m.iter().all(|r| r.len() == d));
        if !shaped {
            return Err(format!(
                "`decomposition` must hold {k} scales, {k} shapes of {d} values and {k} orientations of {d} x {d}"
            ));
        }
        let dec = Decomposition {
            scale: self.scale.clone(),
            shape: self.shape.clone(),
            orientation: self
                .orientation
                .iter()
                .map(|m| ndarray::Array2::from_shape_fn((d, d), |(i, j)| m[i][j]))
                .collect(),
        };
        for c in 0..k {
            let (got, want) = (dec.covariance(c), model.covariances().dense(c, d));
            if !gmm_core::linalg::within(got.view(), want.view(), 1e-8) {
                return Err(format!(
                    "`decomposition` does not give the covariance of component {c}; write both from one fit, or drop `decomposition`"
                ));
            }
        }
        Ok(())
    }
}

pub fn covariances_to_json(c: &Covariances) -> Value {
    match c {
        Covariances::Full(a) => Value::from(
            a.outer_iter()
                .map(|m| {
                    Value::from(
                        m.outer_iter()
                            .map(|r| Value::from(r.to_vec()))
                            .collect::<Vec<_>>(),
                    )
                })
                .collect::<Vec<_>>(),
        ),
        Covariances::Diag(a) | Covariances::Tied(a) => Value::from(
            a.outer_iter()
                .map(|r| Value::from(r.to_vec()))
                .collect::<Vec<_>>(),
        ),
        Covariances::Spherical(a) => Value::from(a.to_vec()),
    }
}

fn numbers(v: &Value) -> std::result::Result<Vec<f64>, String> {
    v.as_array()
        .ok_or("expected an array")?
        .iter()
        .map(|x| x.as_f64().ok_or_else(|| format!("`{x}` is not a number")))
        .collect()
}

fn matrix(v: &Value, rows: usize, cols: usize) -> std::result::Result<Array2<f64>, String> {
    let rs = v.as_array().ok_or("expected an array of rows")?;
    if rs.len() != rows {
        return Err(format!("expected {rows} rows, found {}", rs.len()));
    }
    let mut m = Array2::zeros((rows, cols));
    for (i, r) in rs.iter().enumerate() {
        let r = numbers(r)?;
        if r.len() != cols {
            return Err(format!("expected rows of {cols} values, found {}", r.len()));
        }
        for (j, x) in r.into_iter().enumerate() {
            m[(i, j)] = x;
        }
    }
    Ok(m)
}

/// A covariance matrix must be symmetric (to rounding: 1e-12 of its
/// diagonal's scale); a hand-edited asymmetric one would be read as its
/// lower triangle, silently.
fn symmetric(a: ndarray::ArrayView2<'_, f64>) -> std::result::Result<(), String> {
    let n = a.nrows();
    let scale = (0..n).map(|i| a[(i, i)].abs()).fold(0.0, f64::max);
    for i in 0..n {
        for j in 0..i {
            let gap = (a[(i, j)] - a[(j, i)]).abs();
            if gap.is_nan() || gap > 1e-12 * scale {
                return Err(format!(
                    "is not symmetric: entry ({i}, {j}) is {} but ({j}, {i}) is {}",
                    a[(i, j)],
                    a[(j, i)]
                ));
            }
        }
    }
    Ok(())
}

pub fn covariances_from_json(
    t: CovarianceType,
    v: &Value,
    k: usize,
    d: usize,
) -> std::result::Result<Covariances, String> {
    Ok(match t.storage() {
        CovarianceType::Full => {
            let ms = v.as_array().ok_or("expected an array of matrices")?;
            if ms.len() != k {
                return Err(format!("expected {k} matrices, found {}", ms.len()));
            }
            let mut a = Array3::zeros((k, d, d));
            for (c, m) in ms.iter().enumerate() {
                let m = matrix(m, d, d)?;
                symmetric(m.view()).map_err(|e| format!("matrix {c} {e}"))?;
                a.index_axis_mut(ndarray::Axis(0), c).assign(&m);
            }
            Covariances::Full(a)
        }
        CovarianceType::Diag => Covariances::Diag(matrix(v, k, d)?),
        CovarianceType::Tied => {
            let a = matrix(v, d, d)?;
            symmetric(a.view()).map_err(|e| format!("the tied matrix {e}"))?;
            Covariances::Tied(a)
        }
        CovarianceType::Spherical => {
            let s = numbers(v)?;
            if s.len() != k {
                return Err(format!("expected {k} values, found {}", s.len()));
            }
            Covariances::Spherical(Array1::from(s))
        }
        other => unreachable!("{other} is not a storage"),
    })
}
