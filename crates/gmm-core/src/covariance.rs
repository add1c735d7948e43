//! The four covariance structures and their parameter arrays, in the shapes of
//! scikit-learn's `covariances_` and `precisions_cholesky_`.

use std::fmt;
use std::str::FromStr;

use ndarray::{Array1, Array2, Array3};
use serde::{Deserialize, Serialize};

use crate::error::GmmError;

/// Which covariance structure every component has: one of mclust's
/// fourteen families of the eigen-decomposition `Sigma_k = lambda_k D_k A_k
/// D_k^T` (Celeux & Govaert 1995), whose three letters say whether the
/// volume `lambda`, the shape `A` (diagonal, determinant 1) and the
/// orientation `D` (orthogonal) are Equal across components, Variable, or
/// the Identity. Four of them carry scikit-learn's names (full = `VVV`,
/// diag = `VVI`, spherical = `VII`, tied = `EEE`) and read by either.
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
    /// One variance shared by every component: `lambda I`.
    #[serde(rename = "EII")]
    Eii,
    /// One diagonal covariance shared by every component: `lambda A`.
    #[serde(rename = "EEI")]
    Eei,
    /// A shared diagonal shape, scaled per component: `lambda_k A`.
    #[serde(rename = "VEI")]
    Vei,
    /// Diagonal shapes per component, one volume: `lambda A_k`.
    #[serde(rename = "EVI")]
    Evi,
    /// A shared matrix scaled per component: `lambda_k D A D^T`.
    #[serde(rename = "VEE")]
    Vee,
    /// One volume and orientation, shapes per component: `lambda D A_k D^T`.
    #[serde(rename = "EVE")]
    Eve,
    /// One orientation, volumes and shapes per component: `lambda_k D A_k D^T`.
    #[serde(rename = "VVE")]
    Vve,
    /// One volume and shape, orientations per component: `lambda D_k A D_k^T`.
    #[serde(rename = "EEV")]
    Eev,
    /// One shape, volumes and orientations per component: `lambda_k D_k A D_k^T`.
    #[serde(rename = "VEV")]
    Vev,
    /// One volume, shapes and orientations per component: `lambda D_k A_k D_k^T`.
    #[serde(rename = "EVV")]
    Evv,
}

/// mclust's fourteen covariance families, by name: volume, shape and
/// orientation each Equal across components, Variable, or the Identity.
pub const MCLUST_FAMILIES: [&str; 14] = [
    "EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE", "VEE", "EVE", "VVE", "EEV", "VEV", "EVV",
    "VVV",
];

impl CovarianceType {
    /// The four families with scikit-learn's names.
    pub const ALL: [CovarianceType; 4] = [
        CovarianceType::Full,
        CovarianceType::Diag,
        CovarianceType::Spherical,
        CovarianceType::Tied,
    ];

    /// All fourteen families, in mclust's order (`mclust.options("emModelNames")`).
    pub const FAMILIES: [CovarianceType; 14] = [
        CovarianceType::Eii,
        CovarianceType::Spherical,
        CovarianceType::Eei,
        CovarianceType::Vei,
        CovarianceType::Evi,
        CovarianceType::Diag,
        CovarianceType::Tied,
        CovarianceType::Vee,
        CovarianceType::Eve,
        CovarianceType::Vve,
        CovarianceType::Eev,
        CovarianceType::Vev,
        CovarianceType::Evv,
        CovarianceType::Full,
    ];

    /// The name gmm writes: scikit-learn's for its four, mclust's for the rest.
    pub fn as_str(self) -> &'static str {
        match self {
            CovarianceType::Full => "full",
            CovarianceType::Diag => "diag",
            CovarianceType::Spherical => "spherical",
            CovarianceType::Tied => "tied",
            other => other.mclust_name(),
        }
    }

    /// The family's name in mclust.
    pub fn mclust_name(self) -> &'static str {
        match self {
            CovarianceType::Full => "VVV",
            CovarianceType::Diag => "VVI",
            CovarianceType::Spherical => "VII",
            CovarianceType::Tied => "EEE",
            CovarianceType::Eii => "EII",
            CovarianceType::Eei => "EEI",
            CovarianceType::Vei => "VEI",
            CovarianceType::Evi => "EVI",
            CovarianceType::Vee => "VEE",
            CovarianceType::Eve => "EVE",
            CovarianceType::Vve => "VVE",
            CovarianceType::Eev => "EEV",
            CovarianceType::Vev => "VEV",
            CovarianceType::Evv => "EVV",
        }
    }

    /// How the covariances are held and evaluated: per-component matrices
    /// (full), one shared matrix (tied), per-component diagonals (diag) or
    /// per-component variances (spherical). A constrained family is held as
    /// the least structure that holds it: `EII` as spherical, `EEI`, `VEI`,
    /// `EVI` as diag, the families with a general orientation as full.
    pub fn storage(self) -> CovarianceType {
        match self {
            CovarianceType::Full
            | CovarianceType::Vee
            | CovarianceType::Eve
            | CovarianceType::Vve
            | CovarianceType::Eev
            | CovarianceType::Vev
            | CovarianceType::Evv => CovarianceType::Full,
            CovarianceType::Diag
            | CovarianceType::Eei
            | CovarianceType::Vei
            | CovarianceType::Evi => CovarianceType::Diag,
            CovarianceType::Spherical | CovarianceType::Eii => CovarianceType::Spherical,
            CovarianceType::Tied => CovarianceType::Tied,
        }
    }

    /// What the family holds equal across components and what varies.
    pub fn describe(self) -> &'static str {
        match self {
            CovarianceType::Full => "volumes, shapes and orientations per component",
            CovarianceType::Diag => "diagonal, volumes and shapes per component",
            CovarianceType::Spherical => "spherical, a volume per component",
            CovarianceType::Tied => "one matrix shared by every component",
            CovarianceType::Eii => "spherical, one volume shared by every component",
            CovarianceType::Eei => "one diagonal matrix shared by every component",
            CovarianceType::Vei => "diagonal, one shape, volumes per component",
            CovarianceType::Evi => "diagonal, one volume, shapes per component",
            CovarianceType::Vee => "one shape and orientation, volumes per component",
            CovarianceType::Eve => "one volume and orientation, shapes per component",
            CovarianceType::Vve => "one orientation, volumes and shapes per component",
            CovarianceType::Eev => "one volume and shape, orientations per component",
            CovarianceType::Vev => "one shape, volumes and orientations per component",
            CovarianceType::Evv => "one volume, shapes and orientations per component",
        }
    }

    /// Whether the family constrains its storage beyond scikit-learn's four
    /// (its M-step constrains the estimates of its storage).
    pub fn is_constrained(self) -> bool {
        self.storage() != self
    }

    /// Whether mclust has a conjugate prior for the family (`prior`): all
    /// but EVE, VEE, VVE and EVV.
    pub fn has_prior(self) -> bool {
        !matches!(
            self,
            CovarianceType::Eve | CovarianceType::Vee | CovarianceType::Vve | CovarianceType::Evv
        )
    }

    /// Free parameters of the covariances of `k` components in `d`
    /// dimensions, as mclust counts them (`nVarParams`).
    pub fn n_covariance_parameters(self, k: usize, d: usize) -> usize {
        let orientation = d * d.saturating_sub(1) / 2;
        let shape = d.saturating_sub(1);
        match self {
            CovarianceType::Full => k * d * (d + 1) / 2,
            CovarianceType::Diag => k * d,
            CovarianceType::Spherical => k,
            CovarianceType::Tied => d * (d + 1) / 2,
            CovarianceType::Eii => 1,
            CovarianceType::Eei => d,
            CovarianceType::Vei => k + shape,
            CovarianceType::Evi => 1 + k * shape,
            CovarianceType::Vee => k + shape + orientation,
            CovarianceType::Eve => 1 + k * shape + orientation,
            CovarianceType::Vve => k + k * shape + orientation,
            CovarianceType::Eev => 1 + shape + k * orientation,
            CovarianceType::Vev => k + shape + k * orientation,
            CovarianceType::Evv => 1 + k * shape + k * orientation,
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
        CovarianceType::FAMILIES
            .into_iter()
            .find(|c| c.as_str() == s || c.mclust_name() == s)
            .ok_or_else(|| GmmError::InvalidParam {
                name: "covariance",
                reason: format!(
                    "`{s}` is not one of full, diag, spherical, tied or mclust's families {}",
                    MCLUST_FAMILIES.join(", ")
                ),
            })
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
    /// The storage: full, diag, spherical or tied.
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

    /// Covariances in the storage of the given type from dense
    /// per-component matrices: diag keeps each diagonal, spherical each
    /// diagonal's mean, tied the weight-averaged matrix. (A constrained
    /// family's member of them is `family::from_dense`.)
    pub fn from_dense(
        covariance_type: CovarianceType,
        dense: &[Array2<f64>],
        weights: &[f64],
    ) -> Covariances {
        let k = dense.len();
        let d = dense.first().map_or(0, |m| m.nrows());
        match covariance_type.storage() {
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
            _ => unreachable!("storage is one of the four"),
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
    fn every_family_reads_by_its_names_and_others_are_refused() {
        for c in CovarianceType::FAMILIES {
            assert_eq!(c.mclust_name().parse::<CovarianceType>().unwrap(), c);
            assert_eq!(c.as_str().parse::<CovarianceType>().unwrap(), c);
            let json = format!("\"{}\"", c.mclust_name());
            assert_eq!(serde_json::from_str::<CovarianceType>(&json).unwrap(), c);
            // Written by its own name.
            assert_eq!(serde_json::to_string(&c).unwrap(), format!("\"{c}\""));
            assert_eq!(c.storage().storage(), c.storage());
        }
        assert_eq!(
            CovarianceType::FAMILIES.map(|c| c.mclust_name()),
            MCLUST_FAMILIES
        );
        let err = "fulll".parse::<CovarianceType>().unwrap_err().to_string();
        assert!(
            err.contains("not one of full") && err.contains("EVV"),
            "{err}"
        );
    }

    /// mclust's `nVarParams` for d = 4, G = 3 (mclust 6.0.0).
    #[test]
    fn covariance_parameters_are_counted_as_mclust_counts_them() {
        let want = [1, 3, 4, 6, 10, 12, 10, 12, 16, 18, 22, 24, 28, 30];
        let got = CovarianceType::FAMILIES.map(|c| c.n_covariance_parameters(3, 4));
        assert_eq!(got, want);
    }
}
