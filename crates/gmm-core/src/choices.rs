//! The choices among named alternatives that a fit's settings take (how
//! restarts start, how labeled rows are used, what a degenerate component
//! does), each with its name as users spell it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{GmmError, Result};

/// How a restart chooses its starting parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum InitMethod {
    /// k-means++ seeding, a few Lloyd iterations, then parameters from the
    /// hard assignment.
    #[default]
    #[serde(rename = "kmeans")]
    KMeans,
    /// k-means++ seeds as centers, parameters from the nearest-seed assignment.
    #[serde(rename = "kmeans++")]
    KMeansPlusPlus,
    /// Random responsibilities, uniform then normalized per row.
    Random,
    /// K distinct random rows as centers, parameters from the nearest-row assignment.
    RandomFromData,
    /// Random weights, means from N(0, 1), covariances `A A^T` with `A`
    /// standard normal (the tutorial's start; ignores the data's scale).
    RandomParams,
    /// Parameters learned from the labeled rows; with several restarts, also
    /// pooled covariances and k-means seeded at the class means.
    Labeled,
    /// mclust's default: model-based hierarchical agglomeration (VVV) of a
    /// sample of `hc_rows` rows, cut at K clusters, and the family's M-step
    /// from that partition.
    Hc,
}

impl InitMethod {
    pub const ALL: [InitMethod; 7] = [
        InitMethod::KMeans,
        InitMethod::KMeansPlusPlus,
        InitMethod::Random,
        InitMethod::RandomFromData,
        InitMethod::RandomParams,
        InitMethod::Labeled,
        InitMethod::Hc,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InitMethod::KMeans => "kmeans",
            InitMethod::KMeansPlusPlus => "kmeans++",
            InitMethod::Random => "random",
            InitMethod::RandomFromData => "random-from-data",
            InitMethod::RandomParams => "random-params",
            InitMethod::Labeled => "labeled",
            InitMethod::Hc => "hc",
        }
    }
}

impl fmt::Display for InitMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for InitMethod {
    type Err = GmmError;

    fn from_str(s: &str) -> Result<Self> {
        InitMethod::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| GmmError::InvalidParam {
                name: "init",
                reason: format!(
                    "`{s}` is not one of {}",
                    InitMethod::ALL.map(|m| m.as_str()).join(", ")
                ),
            })
    }
}

/// How labeled rows are used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SemiSupervisedMode {
    /// Parameters learned from the labeled rows start EM on the unlabeled rows.
    Init,
    /// Labeled rows stay in every M-step with responsibilities clamped to
    /// their class; unlabeled rows are weighted by `unlabeled_weight`.
    #[default]
    Em,
}

impl SemiSupervisedMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SemiSupervisedMode::Init => "init",
            SemiSupervisedMode::Em => "em",
        }
    }
}

impl fmt::Display for SemiSupervisedMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SemiSupervisedMode {
    type Err = GmmError;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "init" => Ok(SemiSupervisedMode::Init),
            "em" => Ok(SemiSupervisedMode::Em),
            other => Err(GmmError::InvalidParam {
                name: "semi_supervised",
                reason: format!("`{other}` is not one of init, em"),
            }),
        }
    }
}

/// What to do when a component degenerates: its covariance is not positive
/// definite even after `reg_covar` (collinear columns, duplicated rows, a
/// component collapsing onto a point) or it explains no rows any more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum DegeneratePolicy {
    /// Fail, naming the component, restart and iteration.
    Error,
    /// Re-initialize the component at the rows the mixture explains worst,
    /// with the average covariance of the healthy components.
    #[default]
    Reseed,
    /// Give up that restart and go on with the others.
    DropRestart,
}

impl DegeneratePolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            DegeneratePolicy::Error => "error",
            DegeneratePolicy::Reseed => "reseed",
            DegeneratePolicy::DropRestart => "drop-restart",
        }
    }
}

impl fmt::Display for DegeneratePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DegeneratePolicy {
    type Err = GmmError;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "error" => Ok(DegeneratePolicy::Error),
            "reseed" => Ok(DegeneratePolicy::Reseed),
            "drop-restart" => Ok(DegeneratePolicy::DropRestart),
            other => Err(GmmError::InvalidParam {
                name: "on_degenerate",
                reason: format!("`{other}` is not one of error, reseed, drop-restart"),
            }),
        }
    }
}
