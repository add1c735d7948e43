//! The M-step: new parameters from reduced sufficient statistics.

use ndarray::{Array1, Array2, Array3, ArrayView2, Axis};

use crate::covariance::{CovarianceType, Covariances};
use crate::family::prior::{Prior, map_estimates};
use crate::linalg::precision_from_lower;
use crate::model::{GaussianMixture, compute_precision_cholesky};
use crate::stats::{SecondMoment, SufficientStats};

/// scikit-learn adds `10 * eps` to every component's total responsibility, so
/// that an empty component yields its center and `reg_covar` instead of NaN.
/// gmm adds it in units of the rows' mean weight
/// ([`crate::summary::DataSummary::n_eps`]): the same for unit weights, and
/// a fit that depends only on the weights' ratios.
pub(crate) const N_EPS: f64 = 10.0 * f64::EPSILON;

/// A component whose total responsibility is below this share of the total
/// is empty: it explains no rows and its parameters mean nothing.
pub(crate) const EMPTY_SHARE: f64 = 1e-8;

/// A component whose standard deviation in a column (conditional on its
/// other columns) is below this share of the magnitude of its own values
/// there (their root mean square, `sqrt(mean^2 + variance)`) sits on a point
/// or a line of the data: a few hundred units in the last place of its
/// values, whatever their scale. mclust reports such models as missing;
/// scikit-learn fails. The scale is the component's, not the column's: one
/// far outlier must not make every other component look singular.
pub(crate) const SINGULAR_SPREAD: f64 = 1e-13;

/// Why a component cannot go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trouble {
    /// Its covariance is not positive definite even with `reg_covar`.
    NotPositiveDefinite,
    /// It explains (almost) no rows.
    Empty,
}

/// New parameters, with full and tied covariances already factored, before
/// they become a model ([`MStep::into_model`]), so that a caller can check
/// them and repair components that fail.
#[derive(Debug, Clone)]
pub(crate) struct MStep {
    /// The family; `covariances` is in its storage.
    pub family: CovarianceType,
    pub weights: Array1<f64>,
    pub means: Array2<f64>,
    /// Private, so that nothing changes it after [`MStep::new`] factored
    /// (full, tied) and counted it (read it with [`MStep::covariances`]).
    covariances: Covariances,
    /// Total responsibility of each component.
    pub n: Vec<f64>,
    /// Components (for tied: the shared covariance, as 1) whose covariance
    /// is positive definite only thanks to `reg_covar`.
    pub regularized: usize,
    /// Each full covariance (the tied one, as one) factored, `None` where
    /// [`crate::linalg::cholesky_lower`] finds no factor; empty for
    /// diagonal and spherical covariances. Factored once, in
    /// [`MStep::new`], for [`MStep::failing`] and [`MStep::into_model`].
    factors: Vec<Option<Factored>>,
}

/// A covariance `L L^T` factored: what the M-step's checks and the next
/// model need of it.
#[derive(Debug, Clone)]
struct Factored {
    /// The diagonal of `L`: each column's standard deviation given the
    /// columns before it.
    diagonal: Vec<f64>,
    /// The precision factor `L^-T`, `None` when an entry is not finite.
    precision: Option<Array2<f64>>,
}

impl MStep {
    /// The step's parameters, with each full or tied covariance factored
    /// and its precision factor formed, and the components that only
    /// `reg_covar` holds up counted.
    pub fn new(
        family: CovarianceType,
        weights: Array1<f64>,
        means: Array2<f64>,
        covariances: Covariances,
        n: Vec<f64>,
        reg_covar: f64,
    ) -> MStep {
        // Regularized: positive, but not once `reg_covar` is taken off
        // (with `reg_covar` 0, none).
        let (factors, regularized): (Vec<Option<Factored>>, usize) = match &covariances {
            Covariances::Full(a) => {
                let (f, r): (Vec<_>, Vec<bool>) =
                    a.outer_iter().map(|ak| factor(ak, reg_covar)).unzip();
                (f, r.into_iter().filter(|r| *r).count())
            }
            Covariances::Tied(a) => {
                let (f, r) = factor(a.view(), reg_covar);
                (vec![f], usize::from(r))
            }
            Covariances::Diag(a) => (
                Vec::new(),
                a.outer_iter()
                    .filter(|row| {
                        row.iter().all(|v| *v > 0.0) && row.iter().any(|v| *v - reg_covar <= 0.0)
                    })
                    .count(),
            ),
            Covariances::Spherical(a) => (
                Vec::new(),
                a.iter()
                    .filter(|v| **v > 0.0 && **v - reg_covar <= 0.0)
                    .count(),
            ),
        };
        MStep {
            family,
            weights,
            means,
            covariances,
            n,
            regularized,
            factors,
        }
    }

    /// The covariances, in the family's storage.
    pub fn covariances(&self) -> &Covariances {
        &self.covariances
    }

    /// Components that cannot go on, and why (for tied, component 0 stands
    /// for the shared covariance). A component's covariance must be positive
    /// definite with every conditional variance (the square of a Cholesky
    /// diagonal) at or above its floor ([`MStep::floor`]): below it the
    /// component sits on a point or a line of the data, however positive
    /// definite in floating point, and would win on a likelihood that means
    /// nothing.
    pub fn failing(&self, reg_covar: f64) -> Vec<(usize, Trouble)> {
        let d = self.means.ncols();
        let total: f64 = self.n.iter().sum();
        let collapsed = if reg_covar == 0.0 {
            self.collapsed(d)
        } else {
            vec![false; self.n.len()]
        };
        (0..self.n.len())
            .filter_map(|k| {
                let pd = match &self.covariances {
                    Covariances::Tied(_) => {
                        k != 0
                            || above_floor(self.factors[0].as_ref(), &self.floor(None, reg_covar))
                    }
                    Covariances::Full(_) => {
                        above_floor(self.factors[k].as_ref(), &self.floor(Some(k), reg_covar))
                    }
                    Covariances::Diag(a) => a
                        .row(k)
                        .iter()
                        .zip(&self.floor(Some(k), reg_covar))
                        .all(|(v, f)| v.is_finite() && *v > 0.0 && *v >= *f),
                    Covariances::Spherical(a) => {
                        let f =
                            self.floor(Some(k), reg_covar).iter().sum::<f64>() / d.max(1) as f64;
                        a[k].is_finite() && a[k] > 0.0 && a[k] >= f
                    }
                };
                if !pd || collapsed[k] {
                    Some((k, Trouble::NotPositiveDefinite))
                } else if self.n[k] < EMPTY_SHARE * total {
                    Some((k, Trouble::Empty))
                } else {
                    None
                }
            })
            .collect()
    }

    /// Without `reg_covar` (as mclust fits), whether component `k` has
    /// collapsed onto a point or onto rows that share a value of a column
    /// (as integer-valued columns have): its variance in a column at or
    /// below `eps` times the components' pooled variance there (their
    /// variances weighted by their total responsibilities), a standard
    /// deviation `1.5e-8` of theirs. Its likelihood is then a spike that
    /// grows without bound, not a fit (one row of mclust's `diabetes` held
    /// by a VEI component 1e-12 of the others' spread wide). mclust rejects
    /// such components by its own test, the Cholesky factor's smallest
    /// diagonal entry at or below `sqrt(eps)` times `1 +` its largest; this
    /// one measures against the fit's own spread in each column, so that
    /// units do not matter and far outliers (which sit in components of
    /// their own) do not widen it. A tied covariance is one matrix and
    /// never collapses this way. With `reg_covar`, the variance floor is the
    /// user's, and warned of.
    /// Which components have (see above), each column's pooled variance
    /// computed once.
    fn collapsed(&self, d: usize) -> Vec<bool> {
        let kk = self.n.len();
        if matches!(self.covariances, Covariances::Tied(_)) {
            return vec![false; kk];
        }
        let total: f64 = self.n.iter().sum();
        let pooled: Vec<f64> = (0..d)
            .map(|j| {
                (0..kk)
                    .map(|c| self.n[c] * self.variance(c, j).max(0.0))
                    .filter(|v| v.is_finite())
                    .sum::<f64>()
                    / total
            })
            .collect();
        (0..kk)
            .map(|k| {
                pooled
                    .iter()
                    .enumerate()
                    .any(|(j, p)| *p > 0.0 && self.variance(k, j).max(0.0) <= f64::EPSILON * p)
            })
            .collect()
    }

    /// Component `k`'s variance in column `j` (for tied, the shared one).
    fn variance(&self, k: usize, j: usize) -> f64 {
        match &self.covariances {
            Covariances::Full(a) => a[(k, j, j)],
            Covariances::Tied(a) => a[(j, j)],
            Covariances::Diag(a) => a[(k, j)],
            Covariances::Spherical(a) => a[k],
        }
    }

    /// The least variance each column may keep in component `k` (all
    /// components for a tied covariance, which must resolve each of them):
    /// the rounding noise of the component's values, [`SINGULAR_SPREAD`]
    /// times their root mean square, squared. A positive `reg_covar` is the
    /// user's own least variance and caps the floor at half of it: a
    /// component that only `reg_covar` holds up is regularized (and counted
    /// as such), not singular, whatever the magnitude of its values (a
    /// constant column near 2^62 fits as one near 5 does).
    fn floor(&self, k: Option<usize>, reg_covar: f64) -> Vec<f64> {
        let d = self.means.ncols();
        let noise = |k: usize, j: usize| {
            let m = self.means[(k, j)];
            (m * m + self.variance(k, j).max(0.0)) * (SINGULAR_SPREAD * SINGULAR_SPREAD)
        };
        (0..d)
            .map(|j| {
                let n = match k {
                    Some(k) => noise(k, j),
                    None => (0..self.n.len()).map(|k| noise(k, j)).fold(0.0, f64::max),
                };
                if reg_covar > 0.0 {
                    n.min(0.5 * reg_covar)
                } else {
                    n
                }
            })
            .collect()
    }

    /// The mixture, or the first component whose covariance is not
    /// positive definite.
    pub fn into_model(self) -> Result<GaussianMixture, usize> {
        let d = self.means.ncols();
        // The precision factors move out of `factors`: `new` formed them.
        let mut precisions = self
            .factors
            .into_iter()
            .map(|f| f.and_then(|f| f.precision));
        let precisions_cholesky = match &self.covariances {
            Covariances::Full(a) => {
                let mut out = Array3::zeros(a.dim());
                for (k, p) in precisions.enumerate() {
                    out.index_axis_mut(Axis(0), k).assign(&p.ok_or(k)?);
                }
                Covariances::Full(out)
            }
            Covariances::Tied(_) => Covariances::Tied(precisions.next().flatten().ok_or(0usize)?),
            other => compute_precision_cholesky(other, d)?,
        };
        Ok(GaussianMixture::from_parts(
            self.weights,
            self.means,
            self.covariances,
            precisions_cholesky,
        )
        .in_family(self.family))
    }
}

/// A covariance factored ([`Factored`]), and whether it is positive
/// definite only thanks to `reg_covar` (its diagonal less `reg_covar` has
/// no factor).
fn factor(a: ArrayView2<'_, f64>, reg_covar: f64) -> (Option<Factored>, bool) {
    let factored = crate::linalg::cholesky_lower(a).map(|l| Factored {
        diagonal: l.diag().to_vec(),
        precision: precision_from_lower(&l),
    });
    let only_reg = reg_covar > 0.0 && factored.is_some() && {
        let mut m = a.to_owned();
        m.diag_mut().iter_mut().for_each(|v| *v -= reg_covar);
        crate::linalg::cholesky_lower(m.view()).is_none()
    };
    (factored, only_reg)
}

/// Whether a covariance has a Cholesky factor whose every conditional
/// variance reaches `floor`.
fn above_floor(f: Option<&Factored>, floor: &[f64]) -> bool {
    f.is_some_and(|f| f.diagonal.iter().zip(floor).all(|(l, fl)| l * l >= *fl))
}

/// Parameters from statistics accumulated around `centers` (`K x d`).
/// With `delta_k = S1_k / N_k`: means `c_k + delta_k`, covariances
/// `S2_k / N_k - delta_k delta_k^T + reg_covar I` (tied pools the scatter),
/// weights `N_k / sum N`, where `N_k` has `n_eps` added. Fails with the
/// index of the first component whose covariance is not positive definite.
pub(crate) fn m_step(
    centers: &[f64],
    stats: &SufficientStats,
    covariance_type: CovarianceType,
    reg_covar: f64,
    n_eps: f64,
    prior: Option<&Prior>,
) -> Result<GaussianMixture, usize> {
    m_step_parameters(
        centers,
        stats,
        covariance_type,
        reg_covar,
        n_eps,
        None,
        prior,
    )
    .into_model()
}

/// The M-step's parameters, not yet a model (see [`m_step`] and
/// [`MStep`]); `previous`, the covariances of the model whose E-step gave
/// `stats`, starts the iterative M-steps of mclust's families that need
/// one. With a `prior`, the means and covariances are its posterior mode
/// (see [`crate::family::prior`]).
pub(crate) fn m_step_parameters(
    centers: &[f64],
    stats: &SufficientStats,
    covariance_type: CovarianceType,
    reg_covar: f64,
    n_eps: f64,
    previous: Option<&Covariances>,
    prior: Option<&Prior>,
) -> MStep {
    let (kk, d) = (stats.layout.k, stats.layout.d);
    debug_assert_eq!(
        stats.layout.second,
        SecondMoment::for_covariance(covariance_type)
    );
    let family = covariance_type;
    let covariance_type = family.storage();
    let nk: Vec<f64> = stats.n.iter().map(|n| n + n_eps).collect();
    let total: f64 = nk.iter().sum();
    let weights = Array1::from_iter(nk.iter().map(|n| n / total));
    let delta = Array2::from_shape_fn((kk, d), |(k, j)| stats.s1[k * d + j] / nk[k]);
    let means = Array2::from_shape_fn((kk, d), |(k, j)| centers[k * d + j] + delta[(k, j)]);
    if let Some(prior) = prior {
        // The scatter about each component's mean, from the sums about
        // its center.
        let scatter = |k: usize, i: usize, j: usize| match covariance_type {
            CovarianceType::Full => {
                stats.s2[(k * d + i) * d + j] - nk[k] * delta[(k, i)] * delta[(k, j)]
            }
            CovarianceType::Tied => {
                stats.s2[i * d + j]
                    - (0..kk)
                        .map(|c| nk[c] * delta[(c, i)] * delta[(c, j)])
                        .sum::<f64>()
            }
            _ => stats.s2[k * d + j] - nk[k] * delta[(k, j)] * delta[(k, j)],
        };
        let (means, estimates, weights_prime) =
            map_estimates(prior, family, &means, &nk, scatter, reg_covar);
        let covariances =
            crate::family::constrain_from(family, estimates, &weights_prime, previous);
        let n = stats.n.clone();
        return MStep::new(family, weights, means, covariances, n, reg_covar);
    }
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
        _ => unreachable!("storage is one of the four"),
    };
    // A constrained family's M-step from these estimates (which carry
    // reg_covar, so that its result is in the family).
    let covariances = crate::family::constrain_from(family, covariances, &nk, previous);
    let n = stats.n.clone();
    MStep::new(family, weights, means, covariances, n, reg_covar)
}

#[cfg(test)]
mod tests;
