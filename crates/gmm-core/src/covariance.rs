//! The four covariance structures and their parameter arrays, in the shapes of
//! scikit-learn's `covariances_` and `precisions_cholesky_`.

use std::fmt;
use std::str::FromStr;

use ndarray::{Array1, Array2, Array3};
use serde::{Deserialize, Serialize};

use crate::error::GmmError;

/// Which covariance structure every component has. Each also reads by
/// its name in mclust's eigen-decomposition family (Celeux & Govaert
/// 1995): `VVV`, `VVI`, `VII`, `EEE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum CovarianceType {
    /// Each component has its own general covariance matrix.
    #[default]
    #[serde(alias = "VVV")]
    Full,
    /// Each component has its own diagonal covariance matrix.
    #[serde(alias = "VVI")]
    Diag,
    /// Each component has its own single variance.
    #[serde(alias = "VII")]
    Spherical,
    /// All components share one general covariance matrix.
    #[serde(alias = "EEE")]
    Tied,
}

/// mclust's fourteen covariance families, by name: volume, shape and
/// orientation each Equal across components, Variable, or the Identity.
pub const MCLUST_FAMILIES: [&str; 14] = [
    "EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE", "VEE", "EVE", "VVE", "EEV", "VEV", "EVV",
    "VVV",
];

impl CovarianceType {
    pub const ALL: [CovarianceType; 4] = [
        CovarianceType::Full,
        CovarianceType::Diag,
        CovarianceType::Spherical,
        CovarianceType::Tied,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CovarianceType::Full => "full",
            CovarianceType::Diag => "diag",
            CovarianceType::Spherical => "spherical",
            CovarianceType::Tied => "tied",
        }
    }

    /// The family's name in mclust.
    pub fn mclust_name(self) -> &'static str {
        match self {
            CovarianceType::Full => "VVV",
            CovarianceType::Diag => "VVI",
            CovarianceType::Spherical => "VII",
            CovarianceType::Tied => "EEE",
        }
    }

    /// Why `name` is not a covariance type, when it names one of mclust's
    /// families that gmm does not fit.
    pub fn unfitted_mclust_family(name: &str) -> Option<String> {
        let fitted = CovarianceType::ALL.map(|c| c.mclust_name());
        (MCLUST_FAMILIES.contains(&name) && !fitted.contains(&name)).then(|| {
            format!(
                "`{name}` is one of mclust's covariance families that gmm does not fit yet; gmm fits VVV (full), VVI (diag), VII (spherical) and EEE (tied)"
            )
        })
    }

    /// Free parameters of the covariances of `k` components in `d` dimensions.
    pub fn n_covariance_parameters(self, k: usize, d: usize) -> usize {
        match self {
            CovarianceType::Full => k * d * (d + 1) / 2,
            CovarianceType::Diag => k * d,
            CovarianceType::Spherical => k,
            CovarianceType::Tied => d * (d + 1) / 2,
        }
    }
}

impl fmt::Display for CovarianceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CovarianceType {
    type Err = GmmError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "full" | "VVV" => Ok(CovarianceType::Full),
            "diag" | "VVI" => Ok(CovarianceType::Diag),
            "spherical" | "VII" => Ok(CovarianceType::Spherical),
            "tied" | "EEE" => Ok(CovarianceType::Tied),
            other => Err(GmmError::InvalidParam {
                name: "covariance",
                reason: CovarianceType::unfitted_mclust_family(other).unwrap_or_else(|| {
                    format!(
                        "`{other}` is not one of full, diag, spherical, tied (or VVV, VVI, VII, EEE)"
                    )
                }),
            }),
        }
    }
}

/// Covariance-shaped parameters: either the covariances themselves or the
/// upper-triangular precision Cholesky factors `P` with `Sigma^-1 = P P^T`.
///
/// Shapes follow scikit-learn: full `K x d x d`, diag `K x d`, spherical `K`,
/// tied `d x d`.
#[derive(Debug, Clone, PartialEq)]
pub enum Covariances {
    Full(Array3<f64>),
    Diag(Array2<f64>),
    Spherical(Array1<f64>),
    Tied(Array2<f64>),
}

impl Covariances {
    pub fn covariance_type(&self) -> CovarianceType {
        match self {
            Covariances::Full(_) => CovarianceType::Full,
            Covariances::Diag(_) => CovarianceType::Diag,
            Covariances::Spherical(_) => CovarianceType::Spherical,
            Covariances::Tied(_) => CovarianceType::Tied,
        }
    }

    /// The dense `d x d` matrix of component `k` (for diag and spherical, the
    /// diagonal matrix they stand for).
    pub fn dense(&self, k: usize, d: usize) -> Array2<f64> {
        match self {
            Covariances::Full(c) => c.index_axis(ndarray::Axis(0), k).to_owned(),
            Covariances::Diag(c) => Array2::from_diag(&c.row(k)),
            Covariances::Spherical(c) => Array2::eye(d) * c[k],
            Covariances::Tied(c) => c.clone(),
        }
    }

    /// Covariances of the given type from dense per-component matrices: diag
    /// keeps each diagonal, spherical each diagonal's mean, tied the
    /// weight-averaged matrix.
    pub fn from_dense(
        covariance_type: CovarianceType,
        dense: &[Array2<f64>],
        weights: &[f64],
    ) -> Covariances {
        let k = dense.len();
        let d = dense.first().map_or(0, |m| m.nrows());
        match covariance_type {
            CovarianceType::Full => {
                Covariances::Full(Array3::from_shape_fn((k, d, d), |(c, i, j)| {
                    dense[c][(i, j)]
                }))
            }
            CovarianceType::Diag => {
                Covariances::Diag(Array2::from_shape_fn((k, d), |(c, j)| dense[c][(j, j)]))
            }
            CovarianceType::Spherical => Covariances::Spherical(Array1::from_iter(
                dense.iter().map(|m| m.diag().sum() / d as f64),
            )),
            CovarianceType::Tied => {
                let total: f64 = weights.iter().sum();
                let mut t = Array2::zeros((d, d));
                for (m, w) in dense.iter().zip(weights) {
                    t.scaled_add(w / total, m);
                }
                Covariances::Tied(t)
            }
        }
    }

    /// Checks that the array shapes fit `k` components in `d` dimensions.
    pub fn check_shape(&self, k: usize, d: usize) -> Result<(), GmmError> {
        let ok = match self {
            Covariances::Full(c) => c.dim() == (k, d, d),
            Covariances::Diag(c) => c.dim() == (k, d),
            Covariances::Spherical(c) => c.len() == k,
            Covariances::Tied(c) => c.dim() == (d, d),
        };
        if ok {
            Ok(())
        } else {
            Err(GmmError::InvalidModel(format!(
                "{} covariances do not have the shape of {k} components in {d} dimensions",
                self.covariance_type()
            )))
        }
    }

    /// All values, in the row-major order of the scikit-learn array.
    pub fn values(&self) -> impl Iterator<Item = f64> + '_ {
        let slice: Box<dyn Iterator<Item = &f64>> = match self {
            Covariances::Full(c) => Box::new(c.iter()),
            Covariances::Diag(c) => Box::new(c.iter()),
            Covariances::Spherical(c) => Box::new(c.iter()),
            Covariances::Tied(c) => Box::new(c.iter()),
        };
        slice.copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mclust_names_read_as_the_four_types_and_the_others_say_why() {
        for c in CovarianceType::ALL {
            assert_eq!(c.mclust_name().parse::<CovarianceType>().unwrap(), c);
            assert_eq!(c.as_str().parse::<CovarianceType>().unwrap(), c);
            let json = format!("\"{}\"", c.mclust_name());
            assert_eq!(serde_json::from_str::<CovarianceType>(&json).unwrap(), c);
            // Written by its own name.
            assert_eq!(serde_json::to_string(&c).unwrap(), format!("\"{c}\""));
        }
        let others: Vec<&str> = MCLUST_FAMILIES
            .iter()
            .copied()
            .filter(|n| !CovarianceType::ALL.iter().any(|c| c.mclust_name() == *n))
            .collect();
        assert_eq!(others.len(), 10);
        for name in others {
            let err = name.parse::<CovarianceType>().unwrap_err().to_string();
            assert!(
                err.contains("does not fit yet") && err.contains(name),
                "{err}"
            );
        }
        let err = "fulll".parse::<CovarianceType>().unwrap_err().to_string();
        assert!(err.contains("not one of full"), "{err}");
    }
}
