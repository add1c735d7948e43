//! A mixture laid out for the E-step kernels (`kernel.rs`): flat
//! means and precision factors, and the constant part of each component's
//! log-density.

use crate::covariance::{CovarianceType, Covariances};
use crate::model::GaussianMixture;

pub(crate) const LN_2PI: f64 = 1.837_877_066_409_345_3;

/// Flat means and precision factors, and the per-component constant
/// `ln pi_k + ln det P_k - d/2 ln 2 pi`.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub k: usize,
    pub d: usize,
    pub covariance_type: CovarianceType,
    /// `K x d`, row-major.
    pub means: Vec<f64>,
    /// Full: `K x d x d` upper factors, row-major; tied: `d x d`; diag:
    /// `K x d`; spherical: `K`.
    pub precision: Vec<f64>,
    pub log_const: Vec<f64>,
    /// `ln pi_k`.
    pub log_weights: Vec<f64>,
    /// The noise component: the E-step gives every row its constant
    /// log-density `ln(weight / volume)` as column `k` of the log-probabilities.
    pub noise: Option<crate::noise::Noise>,
}

impl Prepared {
    /// Columns of the E-step's log-probabilities: `k`, and one more for
    /// the noise.
    pub fn columns(&self) -> usize {
        self.k + usize::from(self.noise.is_some())
    }
}

impl Prepared {
    pub fn new(model: &GaussianMixture) -> Self {
        let (k, d) = model.means().dim();
        let means: Vec<f64> = model.means().iter().copied().collect();
        let p = model.precisions_cholesky();
        let precision: Vec<f64> = p.values().collect();
        let log_det: Vec<f64> = match p {
            Covariances::Full(p) => p
                .outer_iter()
                .map(|pk| (0..d).map(|i| pk[(i, i)].ln()).sum())
                .collect(),
            Covariances::Tied(p) => {
                let ld: f64 = (0..d).map(|i| p[(i, i)].ln()).sum();
                vec![ld; k]
            }
            Covariances::Diag(p) => p
                .outer_iter()
                .map(|pk| pk.iter().map(|v| v.ln()).sum())
                .collect(),
            Covariances::Spherical(p) => p.iter().map(|v| d as f64 * v.ln()).collect(),
        };
        let log_weights: Vec<f64> = model.weights().iter().map(|w| w.ln()).collect();
        let log_const = log_weights
            .iter()
            .zip(&log_det)
            .map(|(lw, ld)| lw + ld - 0.5 * d as f64 * LN_2PI)
            .collect();
        Prepared {
            k,
            d,
            covariance_type: model.covariance_type().storage(),
            means,
            precision,
            log_const,
            log_weights,
            noise: model.noise(),
        }
    }
}
