//! mclust's conjugate prior (Fraley & Raftery 2007; `priorControl()` with
//! `defaultPrior()`): a normal prior on each mean (mean `mu_P`, the data's
//! column means; shrinkage `kappa_P` = 0.01) and an inverse-Wishart-like
//! prior on the covariances (`nu_P` = d + 2 degrees of freedom; scale
//! `Lambda_P` = the data's covariance over `G^(2/d)` for the families with
//! a general orientation, or `zeta_P` = its mean variance over `G^(2/d)`
//! for the diagonal ones), so that EM's M-step gives the posterior mode
//! (MAP) and no component collapses onto a point without `reg_covar`.
//!
//! Each family's MAP M-step is mclust's own (its Fortran `me*p`), which is
//! the family's M-step applied to modified estimates: component `k`'s
//! matrix `B_k = (its share of the scale) + W_k + c_k d_k d_k^T` (scatter
//! `W_k` about its mean, `d_k` = mean - `mu_P`, `c_k = kappa n_k / (kappa +
//! n_k)`) over `n_k + delta`, the family's extra degrees of freedom:
//!
//! | family | scale in `B_k` | `delta` |
//! |---|---|---|
//! | EII | none | `1 + (nu + 2) / (d G)` |
//! | VII | `zeta / d` per axis | `(nu + 2 + d) / d` |
//! | EEI | `zeta / G` per axis | `(nu + 2) / G` |
//! | VEI | `zeta` per axis | `(nu + 3) / d` |
//! | EVI | `zeta` per axis | `(nu + 2) / G` |
//! | VVI | `zeta` per axis | `nu + 3` |
//! | EEE | `Lambda / G` | `(nu + d + 1) / G + 1` |
//! | EEV | `Lambda` | `(nu + d + 2) / G` |
//! | VEV | `Lambda` | `0` |
//! | VVV | `Lambda` | `nu + d + 2` |
//!
//! The means move to `(n_k xbar_k + kappa mu_P) / (n_k + kappa)` (EEI's
//! stay at `xbar_k`, as mclust's do); the weights stay `n_k / n`. mclust
//! has no prior for EVE, VEE, VVE and EVV, nor does gmm.

use ndarray::Array2;

use crate::covariance::CovarianceType;

/// mclust's default prior: shrinkage of the means.
pub const SHRINKAGE: f64 = 0.01;

/// The prior of one fit, from its data and number of components.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Prior {
    pub shrinkage: f64,
    /// `mu_P`: the data's column means.
    pub mean: Vec<f64>,
    pub dof: f64,
    /// `zeta_P`, for the diagonal families.
    pub scalar: f64,
    /// `Lambda_P`, for the families with a general orientation.
    pub matrix: Array2<f64>,
    /// The rows' mean weight: counts and scatters enter the M-step in its
    /// units (rows, for unit weights), so that weights `c w` give the fit
    /// that `w` gives, as without the prior.
    pub unit_weight: f64,
}

impl Prior {
    /// `defaultPrior()` for `g` components, from the data's column means
    /// and covariance matrix (unbiased, as R's `var`), its `n` rows and
    /// their mean weight.
    pub fn new(
        g: usize,
        mean: Vec<f64>,
        covariance: Array2<f64>,
        n: f64,
        unit_weight: f64,
    ) -> Self {
        let d = mean.len();
        let factor = (1.0 / g as f64).powf(2.0 / d as f64);
        let scalar = factor * covariance.diag().sum() / d as f64;
        // With no more rows than columns, the covariance is singular:
        // mclust then takes its diagonal.
        let matrix = if n > d as f64 {
            &covariance * factor
        } else {
            Array2::from_diag(&covariance.diag().mapv(|v| v * factor))
        };
        Prior {
            shrinkage: SHRINKAGE,
            mean,
            dof: d as f64 + 2.0,
            scalar,
            matrix,
            unit_weight,
        }
    }

    /// `delta`, the family's extra degrees of freedom per component (see
    /// the module's table).
    pub fn extra(&self, family: CovarianceType, g: usize, d: usize) -> f64 {
        let (nu, d, g) = (self.dof, d as f64, g as f64);
        let shrunk = if self.shrinkage > 0.0 { 1.0 } else { 0.0 };
        match family {
            CovarianceType::Eii => 1.0 + (nu + 2.0) / (d * g),
            CovarianceType::Spherical => (nu + 2.0 + shrunk * d) / d,
            CovarianceType::Eei | CovarianceType::Evi => (nu + 1.0 + shrunk) / g,
            CovarianceType::Vei => (nu + 2.0 + shrunk) / d,
            CovarianceType::Diag => nu + 2.0 + shrunk,
            CovarianceType::Tied => (nu + d + 1.0) / g + shrunk,
            CovarianceType::Eev => (nu + d + 1.0 + shrunk) / g,
            CovarianceType::Vev => 0.0,
            CovarianceType::Full => nu + d + 2.0,
            _ => unreachable!("no prior for {family}"),
        }
    }

    /// The scale's share in each component's `B_k` along axis `j` (the
    /// diagonal families), as a multiple of `zeta`.
    pub fn axis_share(&self, family: CovarianceType, g: usize, d: usize) -> f64 {
        match family {
            CovarianceType::Eii => 0.0,
            CovarianceType::Spherical => self.scalar / d as f64,
            CovarianceType::Eei => self.scalar / g as f64,
            _ => self.scalar,
        }
    }

    /// The matrix scale's share in each component's `B_k` (the families
    /// with a general orientation).
    pub fn matrix_share(&self, family: CovarianceType, g: usize) -> f64 {
        if family == CovarianceType::Tied {
            1.0 / g as f64
        } else {
            1.0
        }
    }

    /// Whether `family`'s means move toward `mu_P` (all but EEI's).
    pub fn shrinks_means(&self, family: CovarianceType) -> bool {
        family != CovarianceType::Eei
    }
}

/// The MAP M-step's means and its estimates `B_k / (n_k + delta)` (plus
/// `reg_covar`) in `family`'s storage, and the weights `n_k + delta` that
/// the family's M-step ([`super::constrain_from`]) then takes them with.
/// `xbar` are the components' weighted means, `n` their total
/// responsibilities, and `scatter(k, i, j)` entry `(i, j)` of `W_k` (for a
/// tied storage, `scatter(0, i, j)` is `sum_k W_k`).
pub(crate) fn map_estimates(
    prior: &Prior,
    family: CovarianceType,
    xbar: &Array2<f64>,
    n: &[f64],
    scatter: impl Fn(usize, usize, usize) -> f64,
    reg_covar: f64,
) -> (Array2<f64>, crate::covariance::Covariances, Vec<f64>) {
    use crate::covariance::Covariances;
    let (g, d) = xbar.dim();
    let kappa = prior.shrinkage;
    // Counts and scatters in units of the mean weight.
    let unit = prior.unit_weight;
    let n: Vec<f64> = n.iter().map(|n| n / unit).collect();
    let n = &n[..];
    let scatter = |k: usize, i: usize, j: usize| scatter(k, i, j) / unit;
    let dev = |k: usize, j: usize| xbar[(k, j)] - prior.mean[j];
    let c: Vec<f64> = n.iter().map(|n| kappa * n / (kappa + n)).collect();
    let extra = prior.extra(family, g, d);
    let weights: Vec<f64> = n.iter().map(|n| n + extra).collect();
    let means = if prior.shrinks_means(family) {
        Array2::from_shape_fn((g, d), |(k, j)| {
            (n[k] * xbar[(k, j)] + kappa * prior.mean[j]) / (n[k] + kappa)
        })
    } else {
        xbar.clone()
    };
    let estimates = match family.storage() {
        CovarianceType::Full => {
            let share = prior.matrix_share(family, g);
            Covariances::Full(ndarray::Array3::from_shape_fn((g, d, d), |(k, i, j)| {
                let b =
                    share * prior.matrix[(i, j)] + scatter(k, i, j) + c[k] * dev(k, i) * dev(k, j);
                b / weights[k] + if i == j { reg_covar } else { 0.0 }
            }))
        }
        CovarianceType::Tied => {
            let total: f64 = weights.iter().sum();
            Covariances::Tied(Array2::from_shape_fn((d, d), |(i, j)| {
                let between: f64 = (0..g).map(|k| c[k] * dev(k, i) * dev(k, j)).sum();
                let b = prior.matrix[(i, j)] + scatter(0, i, j) + between;
                b / total + if i == j { reg_covar } else { 0.0 }
            }))
        }
        storage => {
            let share = prior.axis_share(family, g, d);
            let diag = Array2::from_shape_fn((g, d), |(k, j)| {
                let b = share + scatter(k, j, j) + c[k] * dev(k, j) * dev(k, j);
                b / weights[k] + reg_covar
            });
            if storage == CovarianceType::Diag {
                Covariances::Diag(diag)
            } else {
                Covariances::Spherical(diag.mean_axis(ndarray::Axis(1)).expect("d > 0"))
            }
        }
    };
    (means, estimates, weights)
}
