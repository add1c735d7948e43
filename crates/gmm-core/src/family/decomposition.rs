//! The volume, shape and orientation of fitted covariances, as mclust
//! reports them: `Sigma_k = scale_k D_k diag(shape_k) D_k^T` with
//! `prod_j shape_kj = 1` and `D_k` orthogonal.

use ndarray::Array2;

use super::{compose, eigen_decreasing, geometric_mean};
use crate::covariance::{CovarianceType, Covariances};

/// Each component's volume `scale_k = |Sigma_k|^(1/d)`, shape (the
/// eigenvalues of `Sigma_k / scale_k`) and orientation (the eigenvectors,
/// as the columns of `D_k`), so that `Sigma_k = scale_k D_k diag(shape_k)
/// D_k^T`. Families with a shared orientation give every component the
/// same `D` (its shapes in the order of its columns, not sorted); the
/// others sort each shape in decreasing order, mclust's convention; the
/// diagonal and spherical families have `D = I`.
#[derive(Debug, Clone, PartialEq)]
pub struct Decomposition {
    pub scale: Vec<f64>,
    pub shape: Vec<Vec<f64>>,
    pub orientation: Vec<Array2<f64>>,
}

impl Decomposition {
    /// The decomposition of `covariances` of `family` in `d` dimensions; a
    /// shared orientation is found from the components' sum weighted by
    /// `weights` (see [`crate::GaussianMixture::decomposition`]).
    pub fn of(
        family: CovarianceType,
        covariances: &Covariances,
        weights: &[f64],
        d: usize,
    ) -> Decomposition {
        let k = weights.len();
        let dense: Vec<Array2<f64>> = (0..k).map(|c| covariances.dense(c, d)).collect();
        let diagonal = |m: &[f64]| (geometric_mean(m.iter()), m.to_vec());
        let parts: Vec<(Vec<f64>, Array2<f64>)> = match covariances {
            Covariances::Spherical(_) | Covariances::Diag(_) => dense
                .iter()
                .map(|m| (m.diag().to_vec(), Array2::eye(m.nrows())))
                .collect(),
            // One orientation found by the fit's own rotations: the
            // eigenvectors of a sum can be any basis where its eigenvalues tie.
            _ if matches!(family, CovarianceType::Eve | CovarianceType::Vve) => {
                let (shared, c) = super::orientation::shared(family, &dense, weights, None);
                c.into_iter().map(|ck| (ck, shared.clone())).collect()
            }
            _ if matches!(family, CovarianceType::Tied | CovarianceType::Vee) => {
                let mut pooled = Array2::zeros((d, d));
                for (m, w) in dense.iter().zip(weights) {
                    pooled.scaled_add(*w, m);
                }
                let (_, shared) = eigen_decreasing(pooled.view());
                dense
                    .iter()
                    .map(|m| {
                        (
                            shared.t().dot(m).dot(&shared).diag().to_vec(),
                            shared.clone(),
                        )
                    })
                    .collect()
            }
            _ => dense.iter().map(|m| eigen_decreasing(m.view())).collect(),
        };
        let mut out = Decomposition {
            scale: Vec::with_capacity(k),
            shape: Vec::with_capacity(k),
            orientation: Vec::with_capacity(k),
        };
        for (values, orientation) in parts {
            let (scale, values) = diagonal(&values);
            out.scale.push(scale);
            out.shape.push(values.iter().map(|v| v / scale).collect());
            out.orientation.push(orientation);
        }
        out
    }

    /// Component `k`'s covariance, `scale_k D_k diag(shape_k) D_k^T`.
    pub fn covariance(&self, k: usize) -> Array2<f64> {
        let a: Vec<f64> = self.shape[k].iter().map(|v| v * self.scale[k]).collect();
        compose(&self.orientation[k], &a)
    }
}
