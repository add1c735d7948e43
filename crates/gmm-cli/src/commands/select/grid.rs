//! The grid of a selection and its settings, from flags, the `[select]`
//! table and the defaults.

use anyhow::Result;
use gmm_core::{CovarianceType, GmmError, Racing};

use crate::args::SelectArgs;
use crate::config::{ConfigFile, OneOrMany, SettingName, name};
use crate::error::UsageError;

/// The selection's settings that the command line and configs set, for
/// messages (see `config::setting_names`).
const SELECT_NAMES: &[SettingName] = &[
    name("n_components", "components", "select", "components"),
    name("covariance_types", "covariance", "select", "covariance"),
    name("criterion", "criterion", "select", "criterion"),
    name(
        "racing_first_round",
        "racing-first-round",
        "select",
        "racing_first_round",
    ),
    name("racing_keep", "racing-keep", "select", "racing_keep"),
    name("racing_margin", "racing-margin", "select", "racing_margin"),
    name(
        "validation_fraction",
        "validation-fraction",
        "select",
        "validation_fraction",
    ),
];

/// An engine error about a selection setting, told with its flag and key.
pub(super) fn select_error(e: GmmError) -> anyhow::Error {
    crate::config::setting_error_in(e, SELECT_NAMES).into()
}

/// The successive-halving settings from the flags, the `[select]` table
/// and the defaults, in that order (checked with the selection).
pub(super) fn racing_settings(args: &SelectArgs, raw: &crate::config::RawSelect) -> Racing {
    let d = Racing::default();
    Racing {
        first_round: args
            .racing_first_round
            .or(raw.racing_first_round)
            .unwrap_or(d.first_round),
        keep: args.racing_keep.or(raw.racing_keep).unwrap_or(d.keep),
        margin: args.racing_margin.or(raw.racing_margin).unwrap_or(d.margin),
    }
}

/// `1..10` (inclusive), `2,4,8` or `3`.
fn parse_components(text: &str) -> Result<Vec<usize>, String> {
    let bad = || format!("`{text}` is not a range `1..10` or a list `2,4,8` of component counts");
    let ks: Vec<usize> = if let Some((a, b)) = text.split_once("..") {
        let a: usize = a.trim().parse().map_err(|_| bad())?;
        let b: usize = b
            .trim()
            .trim_start_matches('=')
            .parse()
            .map_err(|_| bad())?;
        if a > b {
            return Err(bad());
        }
        (a..=b).collect()
    } else {
        text.split(',')
            .map(|t| t.trim().parse::<usize>().map_err(|_| bad()))
            .collect::<Result<_, _>>()?
    };
    if ks.is_empty() || ks.contains(&0) {
        return Err(format!("`{text}`: component counts must be at least 1"));
    }
    Ok(ks)
}

/// The component counts a selection tries when none are given: 1 to 9,
/// as mclust's `Mclust()`.
pub(crate) const DEFAULT_COMPONENTS: std::ops::RangeInclusive<usize> = 1..=9;

pub(super) fn component_grid(args: &SelectArgs, cfg: &ConfigFile) -> Result<Vec<usize>> {
    let grid = match (
        &args.fit.components,
        &cfg.raw.select.components,
        cfg.raw.engine_value("n_components"),
    ) {
        (Some(flag), _, _) => {
            parse_components(flag).map_err(|e| UsageError(format!("--components: {e}")))?
        }
        (None, Some(OneOrMany::One(k)), _) => vec![*k],
        (None, Some(OneOrMany::Many(ks)), _) => ks.clone(),
        (None, Some(OneOrMany::Text(t)), _) => {
            parse_components(t).map_err(|e| UsageError(format!("[select] components: {e}")))?
        }
        (None, None, Some(k)) => match k.as_integer().and_then(|k| usize::try_from(k).ok()) {
            Some(k) if k > 0 => vec![k],
            _ => {
                return Err(UsageError(format!(
                    "[model] components: `{}` is not a number of components",
                    serde_json::to_string(k).unwrap_or_default()
                ))
                .into());
            }
        },
        // mclust's Mclust() default, G = 1:9.
        (None, None, None) => DEFAULT_COMPONENTS.collect(),
    };
    Ok(grid)
}

/// The one of two settings that is given, with its name; both is an error.
fn one_of<T>(
    a: (Option<T>, &'static str),
    b: (Option<T>, &'static str),
) -> Result<Option<(T, &'static str)>> {
    match (a, b) {
        ((Some(_), a), (Some(_), b)) => Err(UsageError(format!(
            "{a} and {b} both name the grid's families: give one"
        ))
        .into()),
        ((Some(v), a), _) | (_, (Some(v), a)) => Ok(Some((v, a))),
        _ => Ok(None),
    }
}

/// The covariance families of the grid: `--families` or `--covariance`
/// (not both), then `[select] families` or `covariance`, then `[model]
/// covariance`, else scikit-learn's four. `all` stands for mclust's
/// fourteen and `sklearn` for the four, anywhere in a list. With mclust's
/// prior (`--prior`), `all` leaves out the four families mclust has no
/// prior for, as `Mclust()` does, and naming one of them is an error.
pub(super) fn covariance_grid(args: &SelectArgs, cfg: &ConfigFile) -> Result<Vec<CovarianceType>> {
    let prior = args
        .fit
        .prior
        .or_else(|| cfg.raw.engine_value("prior").and_then(|v| v.as_bool()))
        .unwrap_or(false);
    let list = |v: &OneOrMany<String>| -> Vec<String> {
        match v {
            OneOrMany::One(s) | OneOrMany::Text(s) => {
                s.split(',').map(|s| s.trim().to_string()).collect()
            }
            OneOrMany::Many(v) => v.clone(),
        }
    };
    let split = |s: &str| -> Vec<String> { s.split(',').map(|s| s.trim().to_string()).collect() };
    let select = &cfg.raw.select;
    let flags = one_of(
        (args.families.as_deref().map(split), "--families"),
        (args.fit.covariance.as_deref().map(split), "--covariance"),
    )?;
    let keys = || {
        one_of(
            (select.families.as_ref().map(list), "[select] families"),
            (select.covariance.as_ref().map(list), "[select] covariance"),
        )
    };
    let (names, origin) = match flags {
        Some(given) => given,
        None => match keys()? {
            Some(given) => given,
            None => match cfg.raw.engine_value("covariance_type") {
                Some(c) => (
                    vec![c.as_str().map_or_else(
                        || serde_json::to_string(c).unwrap_or_default(),
                        str::to_string,
                    )],
                    "[model] covariance",
                ),
                None => (vec!["sklearn".to_string()], "the default"),
            },
        },
    };
    let mut grid = Vec::new();
    for name in &names {
        let named: Vec<CovarianceType> = match name.as_str() {
            "all" => CovarianceType::FAMILIES
                .into_iter()
                .filter(|f| !prior || f.has_prior())
                .collect(),
            "sklearn" => CovarianceType::ALL.to_vec(),
            other => vec![other.parse().map_err(|e: gmm_core::GmmError| {
                let why = match e {
                    gmm_core::GmmError::InvalidParam { reason, .. } => reason,
                    other => other.to_string(),
                };
                UsageError(format!(
                    "{origin}: {why}; or `all` for all fourteen, `sklearn` for the four"
                ))
            })?],
        };
        if let Some(f) = named.iter().find(|f| prior && !f.has_prior()) {
            return Err(UsageError(format!(
                "{origin}: mclust has no prior for {} (--prior); leave it out, or use `all`, which leaves out the four without one",
                f.mclust_name()
            ))
            .into());
        }
        grid.extend(named);
    }
    Ok(grid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_grids_parse() {
        assert_eq!(parse_components("1..4").unwrap(), vec![1, 2, 3, 4]);
        assert_eq!(parse_components("2, 4,8").unwrap(), vec![2, 4, 8]);
        assert_eq!(parse_components("3").unwrap(), vec![3]);
        assert!(parse_components("0..3").is_err());
        assert!(parse_components("5..2").is_err());
        assert!(parse_components("a").is_err());
    }
}
