//! mclust's noise component: a uniform density `1 / volume` over the
//! data's region, with its own weight beside the Gaussians'. Rows in no
//! cluster go to it rather than stretching a Gaussian over themselves.
//!
//! In EM it is one more column of responsibilities: its log-density is the
//! constant `ln(weight / volume)` for every row ([`crate::estep`]), its
//! weight the share of the rows' weight it takes, and the Gaussians' M-step
//! sees only their own responsibilities (so a pooled covariance is over the
//! Gaussians' share, as in mclust's `me*` with `Vinv`). Its volume is fixed
//! for a fit: given, or mclust's `hypvol` of the rows (see
//! `fit::noise`).

use crate::error::{GmmError, Result};

/// Free parameters a noise component adds, as mclust counts them
/// (`nMclustParams(..., noise = TRUE)`): its weight and its volume.
pub const NOISE_PARAMETERS: usize = 2;

/// The noise component of a mixture (in a model file, the `noise` key).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Noise {
    /// Its mixing weight: the Gaussians' weights sum to `1 - weight`.
    pub weight: f64,
    /// The volume of the region it is uniform over (mclust's `1 / Vinv`).
    pub volume: f64,
}

impl Noise {
    /// A noise component; fails unless `0 <= weight < 1` and `volume` is
    /// finite and positive.
    pub fn new(weight: f64, volume: f64) -> Result<Self> {
        if !(0.0..1.0).contains(&weight) {
            return Err(GmmError::InvalidModel(format!(
                "the noise weight is {weight}; it must be at least 0 and below 1"
            )));
        }
        check_volume(volume).map_err(GmmError::InvalidModel)?;
        Ok(Noise { weight, volume })
    }

    /// `ln(weight / volume)`: every row's weighted log-density under the
    /// noise (`-inf` at weight 0).
    pub fn log_density(&self) -> f64 {
        self.weight.ln() - self.volume.ln()
    }
}

/// Why `volume` cannot be a noise component's, if it cannot.
pub(crate) fn check_volume(volume: f64) -> std::result::Result<(), String> {
    if volume.is_finite() && volume > 0.0 {
        Ok(())
    } else {
        Err(format!(
            "the noise volume is {volume}; it must be a finite number above 0"
        ))
    }
}

/// The noise weight of an M-step: its responsibilities' share
/// `noise_total` of all the responsibilities (the Gaussians' sum to
/// `gaussian_total`), as mclust's `pro[G + 1]`.
pub(crate) fn share(noise_total: f64, gaussian_total: f64) -> f64 {
    let total = noise_total + gaussian_total;
    if total > 0.0 {
        noise_total / total
    } else {
        0.0
    }
}
