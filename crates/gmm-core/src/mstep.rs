//! The M-step: new parameters from reduced sufficient statistics.

use ndarray::{Array1, Array2, Array3};

use crate::covariance::{CovarianceType, Covariances};
use crate::model::{GaussianMixture, compute_precision_cholesky};
use crate::stats::{SecondMoment, SufficientStats};

/// scikit-learn adds `10 * eps` to every component's total responsibility, so
/// that an empty component yields its center and `reg_covar` instead of NaN.
pub(crate) const N_EPS: f64 = 10.0 * f64::EPSILON;

/// Parameters from statistics accumulated around `centers` (`K x d`).
/// With `delta_k = S1_k / N_k`: means `c_k + delta_k`, covariances
/// `S2_k / N_k - delta_k delta_k^T + reg_covar I` (tied pools the scatter),
/// weights `N_k / sum N`. Fails with the index of the first component whose
/// covariance is not positive definite.
pub(crate) fn m_step(
    centers: &[f64],
    stats: &SufficientStats,
    covariance_type: CovarianceType,
    reg_covar: f64,
) -> Result<GaussianMixture, usize> {
    let (kk, d) = (stats.layout.k, stats.layout.d);
    debug_assert_eq!(
        stats.layout.second,
        SecondMoment::for_covariance(covariance_type)
    );
    let nk: Vec<f64> = stats.n.iter().map(|n| n + N_EPS).collect();
    let total: f64 = nk.iter().sum();
    let weights = Array1::from_iter(nk.iter().map(|n| n / total));
    let delta = Array2::from_shape_fn((kk, d), |(k, j)| stats.s1[k * d + j] / nk[k]);
    let means = Array2::from_shape_fn((kk, d), |(k, j)| centers[k * d + j] + delta[(k, j)]);
    let covariances = match covariance_type {
        CovarianceType::Full => {
            let mut c = Array3::zeros((kk, d, d));
            for k in 0..kk {
                let s2 = &stats.s2[k * d * d..(k + 1) * d * d];
                for i in 0..d {
                    for j in 0..d {
                        c[(k, i, j)] = s2[i * d + j] / nk[k] - delta[(k, i)] * delta[(k, j)];
                    }
                    c[(k, i, i)] += reg_covar;
                }
            }
            Covariances::Full(c)
        }
        CovarianceType::Tied => {
            let mut c = Array2::zeros((d, d));
            for i in 0..d {
                for j in 0..d {
                    let between: f64 = (0..kk).map(|k| nk[k] * delta[(k, i)] * delta[(k, j)]).sum();
                    c[(i, j)] = (stats.s2[i * d + j] - between) / total;
                }
                c[(i, i)] += reg_covar;
            }
            Covariances::Tied(c)
        }
        CovarianceType::Diag | CovarianceType::Spherical => {
            let diag = Array2::from_shape_fn((kk, d), |(k, j)| {
                stats.s2[k * d + j] / nk[k] - delta[(k, j)] * delta[(k, j)] + reg_covar
            });
            if covariance_type == CovarianceType::Diag {
                Covariances::Diag(diag)
            } else {
                Covariances::Spherical(diag.mean_axis(ndarray::Axis(1)).expect("d > 0"))
            }
        }
    };
    let precisions_cholesky = compute_precision_cholesky(&covariances, d)?;
    Ok(GaussianMixture::from_parts(
        weights,
        means,
        covariances,
        precisions_cholesky,
    ))
}
