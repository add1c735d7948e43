//! A fitted (or given) Gaussian mixture: parameters, information criteria
//! and sampling. Its predictions and scores are passes over the data, in
//! the `predict` module.

use ndarray::{Array1, Array2, Array3, Axis};
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::covariance::{CovarianceType, Covariances};
use crate::data::DataView;
use crate::error::{GmmError, Result};
use crate::linalg;
use crate::noise::Noise;

/// Mixture parameters with their cached precision Cholesky factors.
#[derive(Debug, Clone, PartialEq)]
pub struct GaussianMixture {
    /// The family; its storage is the variant of `covariances`.
    covariance_type: CovarianceType,
    /// The Gaussians' weights: with a noise component they sum to
    /// `1 - noise.weight`.
    weights: Array1<f64>,
    means: Array2<f64>,
    covariances: Covariances,
    precisions_cholesky: Covariances,
    noise: Option<Noise>,
}

impl GaussianMixture {
    /// Builds a mixture from weights (`K`), means (`K x d`) and covariances in
    /// scikit-learn's shapes. Fails if shapes disagree, weights are not a
    /// distribution, or a covariance is not positive definite.
    pub fn new(weights: Array1<f64>, means: Array2<f64>, covariances: Covariances) -> Result<Self> {
        Self::new_with_noise(weights, means, covariances, None)
    }

    /// Builds a mixture with a noise component (mclust's): as
    /// [`GaussianMixture::new`], but the Gaussians' weights sum to `1 -
    /// noise.weight`.
    pub fn new_with_noise(
        weights: Array1<f64>,
        means: Array2<f64>,
        covariances: Covariances,
        noise: Option<Noise>,
    ) -> Result<Self> {
        let (k, d) = means.dim();
        check_weights_and_means(&weights, &means, noise)?;
        covariances.check_shape(k, d)?;
        let precisions_cholesky =
            compute_precision_cholesky(&covariances, d).map_err(|component| {
                GmmError::InvalidModel(format!(
                    "the covariance of component {component} is not positive definite"
                ))
            })?;
        Ok(GaussianMixture {
            covariance_type: covariances.covariance_type(),
            weights,
            means,
            covariances,
            precisions_cholesky,
            noise,
        })
    }

    /// Builds a mixture from precision Cholesky factors (scikit-learn's
    /// `precisions_cholesky_`), deriving the covariances.
    pub fn from_precisions_cholesky(
        weights: Array1<f64>,
        means: Array2<f64>,
        precisions_cholesky: Covariances,
    ) -> Result<Self> {
        let (k, d) = means.dim();
        check_weights_and_means(&weights, &means, None)?;
        precisions_cholesky.check_shape(k, d)?;
        let bad = |c: usize| {
            GmmError::InvalidModel(format!(
                "the precision Cholesky factor of component {c} is not invertible"
            ))
        };
        let covariances = match &precisions_cholesky {
            Covariances::Full(p) => {
                let mut c = Array3::zeros((k, d, d));
                for (i, pk) in p.outer_iter().enumerate() {
                    let ck =
                        linalg::covariance_from_precision_cholesky(pk).ok_or_else(|| bad(i))?;
                    c.index_axis_mut(Axis(0), i).assign(&ck);
                }
                Covariances::Full(c)
            }
            Covariances::Tied(p) => Covariances::Tied(
                linalg::covariance_from_precision_cholesky(p.view()).ok_or_else(|| bad(0))?,
            ),
            Covariances::Diag(p) => Covariances::Diag(p.mapv(|v| 1.0 / (v * v))),
            Covariances::Spherical(p) => Covariances::Spherical(p.mapv(|v| 1.0 / (v * v))),
        };
        if covariances.values().any(|v| !v.is_finite()) {
            return Err(bad(0));
        }
        Ok(GaussianMixture {
            covariance_type: covariances.covariance_type(),
            weights,
            means,
            covariances,
            precisions_cholesky,
            noise: None,
        })
    }

    /// Assembles a mixture whose factors were computed by the M-step.
    pub(crate) fn from_parts(
        weights: Array1<f64>,
        means: Array2<f64>,
        covariances: Covariances,
        precisions_cholesky: Covariances,
    ) -> Self {
        GaussianMixture {
            covariance_type: covariances.covariance_type(),
            weights,
            means,
            covariances,
            precisions_cholesky,
            noise: None,
        }
    }

    /// The same parameters with `noise` beside them, weights as they are.
    pub(crate) fn set_noise(mut self, noise: Option<Noise>) -> Self {
        self.noise = noise;
        self
    }

    /// The noise component, if the mixture has one.
    pub fn noise(&self) -> Option<Noise> {
        self.noise
    }

    /// The same Gaussians beside a noise component of `noise.weight` (their
    /// weights scaled by `1 - noise.weight`), or, with `None`, without one
    /// (their weights scaled to sum to 1). `noise` must be valid
    /// ([`Noise::new`]).
    pub(crate) fn with_noise(mut self, noise: Option<Noise>) -> Self {
        let total: f64 = self.weights.sum();
        let target = 1.0 - noise.map_or(0.0, |n| n.weight);
        if total > 0.0 {
            self.weights.mapv_inplace(|w| w / total * target);
        }
        self.noise = noise;
        self
    }

    /// The Gaussians alone, their weights scaled to sum to 1.
    pub fn without_noise(&self) -> GaussianMixture {
        self.clone().with_noise(None)
    }

    /// Each covariance's volume, shape and orientation in the model's family.
    pub fn decomposition(&self) -> crate::family::Decomposition {
        crate::family::Decomposition::of(
            self.covariance_type,
            &self.covariances,
            self.weights.as_slice().expect("contiguous weights"),
            self.n_features(),
        )
    }

    /// The same mixture as a member of `family`, which the M-step made it.
    pub(crate) fn in_family(mut self, family: CovarianceType) -> Self {
        debug_assert_eq!(family.storage(), self.covariances.covariance_type());
        self.covariance_type = family;
        self
    }

    /// The same mixture, declared a member of `family` (one of mclust's
    /// constrained families held in this storage). Fails when the storage
    /// differs or the covariances are not in the family: the family's
    /// M-step from the covariances themselves must give them back (to
    /// 1e-8, relative to each component's largest entry).
    pub fn with_covariance_type(mut self, family: CovarianceType) -> Result<Self> {
        let storage = self.covariances.covariance_type();
        if family.storage() != storage {
            return Err(GmmError::InvalidModel(format!(
                "{family} covariances are held as {}, not {storage}",
                family.storage()
            )));
        }
        if family.is_constrained() {
            let n = self.weights.to_vec();
            let member = crate::family::constrain(family, self.covariances.clone(), &n);
            let d = self.n_features();
            for k in 0..self.n_components() {
                let (a, b) = (member.dense(k, d), self.covariances.dense(k, d));
                if !linalg::within(a.view(), b.view(), 1e-8) {
                    return Err(GmmError::InvalidModel(format!(
                        "the covariance of component {k} is not of the {family} family ({})",
                        family.describe()
                    )));
                }
            }
        }
        self.covariance_type = family;
        Ok(self)
    }

    pub fn n_components(&self) -> usize {
        self.means.nrows()
    }

    pub fn n_features(&self) -> usize {
        self.means.ncols()
    }

    /// The family: one of the fourteen, held in the storage of
    /// [`GaussianMixture::covariances`].
    pub fn covariance_type(&self) -> CovarianceType {
        self.covariance_type
    }

    pub fn weights(&self) -> &Array1<f64> {
        &self.weights
    }

    pub fn means(&self) -> &Array2<f64> {
        &self.means
    }

    pub fn covariances(&self) -> &Covariances {
        &self.covariances
    }

    pub fn precisions_cholesky(&self) -> &Covariances {
        &self.precisions_cholesky
    }

    /// The number of free parameters, counted as scikit-learn counts them;
    /// a noise component adds two, its weight and its volume, as mclust
    /// counts them (`nMclustParams(..., noise = TRUE)`).
    pub fn n_parameters(&self) -> usize {
        n_parameters(
            self.covariance_type(),
            self.n_components(),
            self.n_features(),
        ) + if self.noise.is_some() {
            crate::noise::NOISE_PARAMETERS
        } else {
            0
        }
    }

    /// Draws `n` rows: the number per component from a multinomial of the
    /// weights, then each component's rows in turn (as scikit-learn does).
    /// Returns the rows and the component of each. A noise component has a
    /// volume, not a region, so it draws nothing: a mixture with one draws
    /// from its Gaussians alone, their weights scaled to sum to 1.
    pub fn sample(&self, n: usize, seed: u64) -> (Array2<f64>, Vec<u32>) {
        if self.noise.is_some() {
            return self.without_noise().sample(n, seed);
        }
        let (k, d) = self.means.dim();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        // Multinomial by sequential binomials drawn from uniforms.
        let mut counts = vec![0usize; k];
        for _ in 0..n {
            let u: f64 = rng.random();
            let mut acc = 0.0;
            let mut chosen = k - 1;
            for (c, &w) in self.weights.iter().enumerate() {
                acc += w;
                if u < acc {
                    chosen = c;
                    break;
                }
            }
            counts[chosen] += 1;
        }
        let mut x = Array2::zeros((n, d));
        let mut labels = Vec::with_capacity(n);
        let mut row = 0;
        for (c, &count) in counts.iter().enumerate() {
            let cov = self.covariances.dense(c, d);
            let l = linalg::cholesky_lower(cov.view()).expect("covariances are positive definite");
            for _ in 0..count {
                let z: Vec<f64> = (0..d).map(|_| StandardNormal.sample(&mut rng)).collect();
                for i in 0..d {
                    let mut v = self.means[(c, i)];
                    for j in 0..=i {
                        v += l[(i, j)] * z[j];
                    }
                    x[(row, i)] = v;
                }
                labels.push(c as u32);
                row += 1;
            }
        }
        (x, labels)
    }

    pub(crate) fn check_features(&self, data: &DataView<'_>) -> Result<()> {
        if data.n_features() != self.n_features() {
            return Err(GmmError::DimensionMismatch {
                expected: self.n_features(),
                got: data.n_features(),
            });
        }
        if self.noise.is_some() && data.missing_values() {
            return Err(GmmError::InvalidParam {
                name: "noise",
                reason: NOISE_AND_MISSING.into(),
            });
        }
        Ok(())
    }
}

/// Why a noise component and missing values to integrate out do not mix.
pub(crate) const NOISE_AND_MISSING: &str = "a model with a noise component cannot integrate out missing values (the noise's volume spans every column, so a row with some of them missing has no density under it); leave the rows with missing values out (the `drop` missing-value policy) or fit without noise";

/// Free parameters of a mixture: `K - 1` weights, `K d` means and the covariances.
pub fn n_parameters(covariance_type: CovarianceType, k: usize, d: usize) -> usize {
    covariance_type.n_covariance_parameters(k, d) + k * d + k - 1
}

/// `-2 ln L + p ln n` from the total (weighted) log-likelihood and total weight.
pub fn bic(total_log_likelihood: f64, n: f64, n_parameters: usize) -> f64 {
    -2.0 * total_log_likelihood + n_parameters as f64 * n.ln()
}

/// `-2 ln L + 2 p`.
pub fn aic(total_log_likelihood: f64, n_parameters: usize) -> f64 {
    -2.0 * total_log_likelihood + 2.0 * n_parameters as f64
}

fn check_weights_and_means(
    weights: &Array1<f64>,
    means: &Array2<f64>,
    noise: Option<Noise>,
) -> Result<()> {
    let (k, d) = means.dim();
    if k == 0 || d == 0 {
        return Err(GmmError::InvalidModel(
            "a mixture needs at least one component and one feature".into(),
        ));
    }
    if weights.len() != k {
        return Err(GmmError::InvalidModel(format!(
            "{} weights for {k} components",
            weights.len()
        )));
    }
    if weights.iter().any(|w| !(w.is_finite() && *w >= 0.0)) {
        return Err(GmmError::InvalidModel(
            "weights must be finite and non-negative".into(),
        ));
    }
    if let Some(n) = noise {
        crate::noise::Noise::new(n.weight, n.volume)?;
    }
    let total: f64 = weights.sum();
    match noise {
        None if (total - 1.0).abs() > 1e-6 => {
            return Err(GmmError::InvalidModel(format!(
                "weights sum to {total}, not 1"
            )));
        }
        Some(n) if (total + n.weight - 1.0).abs() > 1e-6 => {
            return Err(GmmError::InvalidModel(format!(
                "weights sum to {total} and the noise weight is {}: together not 1",
                n.weight
            )));
        }
        _ => {}
    }
    if means.iter().any(|v| !v.is_finite()) {
        return Err(GmmError::InvalidModel("means must be finite".into()));
    }
    Ok(())
}

/// Precision Cholesky factors of all components, or the index of the first
/// component whose covariance is not positive definite.
pub(crate) fn compute_precision_cholesky(
    covariances: &Covariances,
    d: usize,
) -> std::result::Result<Covariances, usize> {
    Ok(match covariances {
        Covariances::Full(c) => {
            let k = c.len_of(Axis(0));
            let mut p = Array3::zeros((k, d, d));
            for (i, ck) in c.outer_iter().enumerate() {
                let pk = linalg::precision_cholesky(ck).ok_or(i)?;
                p.index_axis_mut(Axis(0), i).assign(&pk);
            }
            Covariances::Full(p)
        }
        Covariances::Tied(c) => {
            Covariances::Tied(linalg::precision_cholesky(c.view()).ok_or(0usize)?)
        }
        Covariances::Diag(c) => {
            if let Some(pos) = c.iter().position(|v| !(v.is_finite() && *v > 0.0)) {
                return Err(pos / d);
            }
            Covariances::Diag(c.mapv(|v| 1.0 / v.sqrt()))
        }
        Covariances::Spherical(c) => {
            if let Some(pos) = c.iter().position(|v| !(v.is_finite() && *v > 0.0)) {
                return Err(pos);
            }
            Covariances::Spherical(c.mapv(|v| 1.0 / v.sqrt()))
        }
    })
}
