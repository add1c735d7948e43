//! Model-selection settings: the grid of component counts and covariance
//! types, the criterion that picks the winner, racing and held-out rows.
//! Each cell of the grid is a fit with [`crate::FitParams`] whose
//! `n_components` and `covariance_type` the cell sets.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::covariance::CovarianceType;
use crate::error::{GmmError, Result};
use crate::params::Racing;

/// Which number picks the winner of a selection (lower is better for all
/// three).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Criterion {
    /// Bayesian information criterion, `-2 ln L + p ln n`.
    #[default]
    Bic,
    /// Akaike information criterion, `-2 ln L + 2 p`.
    Aic,
    /// Integrated completed likelihood: BIC plus twice the classification
    /// entropy.
    Icl,
}

impl Criterion {
    pub const ALL: [Criterion; 3] = [Criterion::Bic, Criterion::Aic, Criterion::Icl];

    pub fn as_str(self) -> &'static str {
        match self {
            Criterion::Bic => "bic",
            Criterion::Aic => "aic",
            Criterion::Icl => "icl",
        }
    }
}

impl fmt::Display for Criterion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Criterion {
    type Err = GmmError;

    fn from_str(s: &str) -> Result<Self> {
        Criterion::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| GmmError::InvalidParam {
                name: "criterion",
                reason: format!("`{s}` is not one of bic, aic, icl"),
            })
    }
}

/// Everything a selection over a grid can be told, besides the settings of
/// each fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SelectParams {
    /// The component counts of the grid, ascending, each once.
    pub n_components: Vec<usize>,
    /// The covariance types of the grid, each once.
    pub covariance_types: Vec<CovarianceType>,
    pub criterion: Criterion,
    /// Successive halving of each cell's restarts (on by default).
    pub racing: Option<Racing>,
    /// Hold out this fraction of the rows (chosen by seed and row) and
    /// score each cell on them.
    pub validation_fraction: Option<f64>,
}

impl Default for SelectParams {
    fn default() -> Self {
        SelectParams {
            n_components: Vec::new(),
            covariance_types: CovarianceType::ALL.to_vec(),
            criterion: Criterion::default(),
            racing: Some(Racing::default()),
            validation_fraction: None,
        }
    }
}

impl SelectParams {
    /// Sorts and deduplicates the grid, and checks every value; the error
    /// names the field.
    pub fn check(mut self) -> Result<SelectParams> {
        let bad = |name: &'static str, reason: String| Err(GmmError::InvalidParam { name, reason });
        self.n_components.sort_unstable();
        self.n_components.dedup();
        if self.n_components.is_empty() || self.n_components[0] == 0 {
            return bad("n_components", "component counts must be at least 1".into());
        }
        let mut types = Vec::new();
        for t in self.covariance_types {
            if !types.contains(&t) {
                types.push(t);
            }
        }
        if types.is_empty() {
            return bad("covariance_types", "give at least one".into());
        }
        self.covariance_types = types;
        if let Some(r) = &self.racing {
            r.check()?;
        }
        if let Some(f) = self.validation_fraction
            && !(f > 0.0 && f < 1.0)
        {
            return bad(
                "validation_fraction",
                format!("{f} must be between 0 and 1"),
            );
        }
        Ok(self)
    }

    /// The grid's cells, covariance type by covariance type, K ascending.
    pub fn cells(&self) -> Vec<(CovarianceType, usize)> {
        self.covariance_types
            .iter()
            .flat_map(|&c| self.n_components.iter().map(move |&k| (c, k)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_is_sorted_and_checked() {
        let p = SelectParams {
            n_components: vec![3, 1, 3, 2],
            covariance_types: vec![CovarianceType::Diag, CovarianceType::Diag],
            ..SelectParams::default()
        }
        .check()
        .unwrap();
        assert_eq!(p.n_components, [1, 2, 3]);
        assert_eq!(p.covariance_types, [CovarianceType::Diag]);
        assert_eq!(p.cells().len(), 3);
        let zero = SelectParams {
            n_components: vec![0, 2],
            ..SelectParams::default()
        };
        assert!(matches!(
            zero.check(),
            Err(GmmError::InvalidParam {
                name: "n_components",
                ..
            })
        ));
        let keep = SelectParams {
            n_components: vec![2],
            racing: Some(Racing {
                keep: 0.0,
                ..Racing::default()
            }),
            ..SelectParams::default()
        };
        assert!(matches!(
            keep.check(),
            Err(GmmError::InvalidParam {
                name: "racing_keep",
                ..
            })
        ));
        let holdout = SelectParams {
            n_components: vec![2],
            validation_fraction: Some(1.0),
            ..SelectParams::default()
        };
        assert!(holdout.check().is_err());
        let text = serde_json::to_string(&SelectParams::default()).unwrap();
        let back: SelectParams = serde_json::from_str(&text).unwrap();
        assert_eq!(back, SelectParams::default());
        assert_eq!("icl".parse::<Criterion>().unwrap(), Criterion::Icl);
        assert!("bicc".parse::<Criterion>().is_err());
    }
}
