//! The engine's settings filled from flags over config keys over
//! `FitParams::default()`, generically: each setting of
//! [`setting_names`] is looked up by its flag and its key, and read with
//! `FitParams`'s own serde, so a new setting needs no code here.

use gmm_core::FitParams;
use gmm_io::suggest::closest;
use serde_json::{Map, Value};

use super::names::setting_names;
use crate::args::FitArgs;
use crate::error::UsageError;

/// `FitParams` with every setting that a flag or the config gives, values
/// read as the type reads them; not yet checked (`check_values`).
pub(super) fn engine_params(
    args: &FitArgs,
    cfg: &super::ConfigFile,
) -> Result<FitParams, UsageError> {
    let raw = &cfg.raw;
    let flags = flag_values(args);
    let Value::Object(mut merged) =
        serde_json::to_value(FitParams::default()).expect("settings serialize")
    else {
        unreachable!("FitParams serializes as a map")
    };
    // Every bad value at once, not one per run.
    let mut bad = Vec::new();
    for n in setting_names() {
        let Some(default) = merged.get(n.field) else {
            continue; // a setting nested in another (unlabeled_weight)
        };
        let flag = flags.get(n.arg).filter(|v| !v.is_null());
        let given = match flag {
            Some(v) => v.clone(),
            None => match raw.engine_value(n.field) {
                // JSON holds no infinity: such a value goes on as text.
                Some(toml::Value::Float(f)) if !f.is_finite() => Value::String(f.to_string()),
                Some(v) => serde_json::to_value(v)
                    .map_err(|e| UsageError(format!("{}: {e}", n.origin())))?,
                None => continue,
            },
        };
        // Where a bad value came from: the config file, or a flag.
        let file = match (flag, &cfg.path) {
            (None, Some(p)) => format!("{}: {}", p.display(), raw.engine_line(n.field)),
            _ => String::new(),
        };
        let value = as_number_if_numeric(given, default);
        // Read alone first, so that a bad value is told with its setting.
        let mut alone = Map::new();
        alone.insert(n.field.to_string(), value.clone());
        if let Err(e) = serde_json::from_value::<FitParams>(Value::Object(alone)) {
            bad.push(format!(
                "{file}{}: {}",
                n.origin(),
                describe_value_error(&value, &e.to_string())
            ));
            continue;
        }
        merged.insert(n.field.to_string(), value);
    }
    if !bad.is_empty() {
        return Err(UsageError(bad.join("; ")));
    }
    serde_json::from_value(Value::Object(merged)).map_err(|e| UsageError(e.to_string()))
}

/// The flags as their values serialize, by `FitArgs` field (`null`: not
/// given).
pub(super) fn flag_values(args: &FitArgs) -> Map<String, Value> {
    let Value::Object(flags) = serde_json::to_value(args).expect("flags serialize") else {
        unreachable!("FitArgs serializes as a map")
    };
    flags
}

/// An engine error about a setting, told with its flag and key, and with
/// the config file's name when the value came from it.
pub(super) fn in_config_file(
    e: gmm_core::GmmError,
    args: &FitArgs,
    cfg: &super::ConfigFile,
) -> UsageError {
    let from_file = match (&e, &cfg.path) {
        (gmm_core::GmmError::InvalidParam { name, .. }, Some(path)) => setting_names()
            .find(|n| n.field == *name)
            .filter(|n| {
                let flag_given = flag_values(args).get(n.arg).is_some_and(|v| !v.is_null());
                !flag_given && cfg.raw.engine_value(n.field).is_some()
            })
            .map(|n| format!("{}: {}", path.display(), cfg.raw.engine_line(n.field))),
        _ => None,
    };
    let err = super::setting_error(e);
    match from_file {
        Some(place) => UsageError(format!("{place}{}", err.0)),
        None => err,
    }
}

/// Text given for a numeric setting (a flag typed as text, such as
/// `--components`, which `gmm select` reads as a range) read as a number.
fn as_number_if_numeric(value: Value, default: &Value) -> Value {
    match (&value, default) {
        (Value::String(s), Value::Number(_)) => {
            serde_json::from_str::<serde_json::Number>(s.trim()).map_or(value, Value::Number)
        }
        _ => value,
    }
}

/// serde's complaint about a value in the words of the other messages.
fn describe_value_error(value: &Value, message: &str) -> String {
    let shown = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    // "unknown variant `fulll`, expected one of `full`, `diag`, ..."
    if message.starts_with("unknown variant") {
        let choices: Vec<&str> = message
            .split("expected ")
            .nth(1)
            .map(|s| s.split('`').skip(1).step_by(2).collect())
            .unwrap_or_default();
        let hint = closest(&shown, choices.iter().copied())
            .map(|c| format!(" (did you mean `{c}`?)"))
            .unwrap_or_default();
        // Other names of the same choices (mclust's, in capitals) after.
        let (names, aliases): (Vec<&str>, Vec<&str>) = choices
            .iter()
            .partition(|c| c.chars().any(|ch| ch.is_lowercase()));
        let aliases = if aliases.is_empty() || names.is_empty() {
            String::new()
        } else {
            format!(" (or {})", aliases.join(", "))
        };
        let names = if names.is_empty() {
            choices.clone()
        } else {
            names
        };
        return format!(
            "`{shown}` is not one of {}{aliases}{hint}",
            names.join(", ")
        );
    }
    if shown.parse::<f64>().is_ok_and(|f| !f.is_finite()) {
        return format!("`{shown}` is not a finite number");
    }
    let expected = message.split("expected ").nth(1).unwrap_or("");
    let wanted = match expected.split_whitespace().next().unwrap_or("") {
        "usize" | "u64" | "u32" => "a whole number, 0 or more",
        "f64" | "f32" => "a number",
        _ => return format!("`{shown}`: {message}"),
    };
    format!("`{shown}` is not {wanted}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_config;

    fn params(args: FitArgs, config: &str) -> Result<FitParams, String> {
        let cfg = super::super::ConfigFile {
            path: None,
            raw: parse_config(config).unwrap(),
        };
        engine_params(&args, &cfg).map_err(|e| e.0)
    }

    #[test]
    fn flags_over_keys_over_defaults() {
        let p = params(FitArgs::default(), "[fit]\nn_init = 4\ntol = 0.5\n").unwrap();
        assert_eq!((p.n_init, p.tol, p.max_iter), (4, 0.5, 100));
        let args = FitArgs {
            n_init: Some(7),
            components: Some(" 3".into()),
            init: Some("kmeans++".into()),
            ..FitArgs::default()
        };
        let p = params(args, "[fit]\nn_init = 4\n[model]\ncomponents = 2\n").unwrap();
        assert_eq!(p.n_init, 7);
        assert_eq!(p.n_components, 3);
        assert_eq!(p.init, Some(gmm_core::InitMethod::KMeansPlusPlus));
        let p = params(FitArgs::default(), "[fit]\ncheckpoint_every = 5\n").unwrap();
        assert_eq!(p.checkpoint_every, Some(5));
    }

    #[test]
    fn every_bad_value_is_reported_at_once() {
        let err = params(FitArgs::default(), "[fit]\nn_init = \"x\"\ntol = \"y\"\n").unwrap_err();
        assert_eq!(
            err,
            "--n-init / [fit] n_init: `x` is not a whole number, 0 or more; --tol / [fit] tol: `y` is not a number"
        );
    }

    #[test]
    fn bad_values_name_the_setting() {
        let err = params(FitArgs::default(), "[fit]\nn_init = -1\n").unwrap_err();
        assert_eq!(
            err,
            "--n-init / [fit] n_init: `-1` is not a whole number, 0 or more"
        );
        let err = params(FitArgs::default(), "[fit]\non_degenerate = \"resed\"\n").unwrap_err();
        assert_eq!(
            err,
            "--on-degenerate / [fit] on_degenerate: `resed` is not one of error, reseed, drop-restart (did you mean `reseed`?)"
        );
        let err = params(FitArgs::default(), "[model]\nreg_covar = \"big\"\n").unwrap_err();
        assert_eq!(
            err,
            "--reg-covar / [model] reg_covar: `big` is not a number"
        );
    }
}
