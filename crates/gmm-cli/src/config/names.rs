//! Where each setting is set: its flag and its config section and key, for
//! filling the engine's settings, for messages and for run.json's sections.
//!
//! The engine's settings are found, not listed: every flag of `gmm fit`
//! whose name is a field of `gmm_core::FitParams` sets that field, and its
//! config key is the same name in the section of the flag's help heading
//! (`--max-iter`, `help_heading = "Fit"`: field `max_iter`, key `[fit]
//! max_iter`). A new setting therefore needs its field and its flag, and
//! nothing here; only the older names that differ are listed ([`RENAMED`]).

use std::sync::OnceLock;

use clap::Args;
use gmm_core::{FitParams, GmmError};

use crate::args::FitArgs;
use crate::error::UsageError;

/// Where a setting came from, for messages.
pub(crate) fn origin(flag: &str, section: &str, key: &str) -> String {
    format!("--{flag} / [{section}] {key}")
}

/// Where an engine setting is set: its `FitParams` field (or the name the
/// engine's errors give it), its flag (`arg` is the flag's field in
/// [`FitArgs`]), and its config section and key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettingName {
    pub field: &'static str,
    pub arg: &'static str,
    pub flag: &'static str,
    pub section: &'static str,
    pub key: &'static str,
}

impl SettingName {
    /// `--flag / [section] key`, for messages.
    pub fn origin(&self) -> String {
        origin(self.flag, self.section, self.key)
    }
}

/// A setting named by hand (the selection's settings, which have no
/// `FitArgs` field).
pub const fn name(
    field: &'static str,
    flag: &'static str,
    section: &'static str,
    key: &'static str,
) -> SettingName {
    SettingName {
        field,
        arg: "",
        flag,
        section,
        key,
    }
}

/// Flags named otherwise than their setting: (flag's field in `FitArgs`,
/// `FitParams` field or `None` for a flag the command line resolves
/// itself, config key). The names are kept as they were first published.
const RENAMED: &[(&str, Option<&str>, &str)] = &[
    ("components", Some("n_components"), "components"),
    ("covariance", Some("covariance_type"), "covariance"),
    ("checkpoint", Some("checkpoint_every"), "checkpoint_every"),
    ("semi_supervised", None, "mode"),
];

/// Settings outside `FitParams`'s own fields whose errors come from the
/// engine (`SemiSupervised::check`).
const ENGINE_NESTED: &[&str] = &["unlabeled_weight"];

/// The config section of a flag's help heading.
fn section_of_heading(heading: &str) -> &'static str {
    match heading {
        "Data" => "data",
        "Model" => "model",
        "Fit" => "fit",
        "Semi-supervised" => "semi_supervised",
        "Output" => "output",
        other => panic!("help heading `{other}` has no config section"),
    }
}

/// The flags of `gmm fit`, as clap describes them.
fn fit_command() -> &'static clap::Command {
    static COMMAND: OnceLock<clap::Command> = OnceLock::new();
    COMMAND.get_or_init(|| FitArgs::augment_args(clap::Command::new("fit")))
}

/// Every flag of `gmm fit` that has a config key: (flag's field, flag,
/// section, key, `FitParams` field if it is an engine setting).
fn flags() -> &'static [(SettingName, bool)] {
    static FLAGS: OnceLock<Vec<(SettingName, bool)>> = OnceLock::new();
    FLAGS.get_or_init(|| {
        let serde_json::Value::Object(fields) =
            serde_json::to_value(FitParams::default()).expect("settings serialize")
        else {
            unreachable!("FitParams serializes as a map")
        };
        fit_command()
            .get_arguments()
            .filter_map(|a| {
                let (arg, flag) = (a.get_id().as_str(), a.get_long()?);
                let section = section_of_heading(a.get_help_heading()?);
                let (field, key) = match RENAMED.iter().find(|r| r.0 == arg) {
                    Some(&(_, field, key)) => (field, key),
                    None => (Some(arg), arg),
                };
                let engine = field.filter(|f| fields.contains_key(*f) || ENGINE_NESTED.contains(f));
                let name = SettingName {
                    field: engine.unwrap_or(arg),
                    arg,
                    flag,
                    section,
                    key,
                };
                Some((name, engine.is_some()))
            })
            .collect()
    })
}

/// The engine's settings that the command line and configs set (fields
/// of `FitParams`, and `unlabeled_weight`). Messages about a setting name
/// its flag and key from here, the config's engine keys are these, and
/// run.json files each setting under its section and key from here;
/// settings of the engine not listed go to run.json's `engine` section.
pub fn setting_names() -> impl Iterator<Item = &'static SettingName> {
    flags().iter().filter(|f| f.1).map(|f| &f.0)
}

/// The config keys of a section that set engine settings.
pub(crate) fn engine_keys(section: &str) -> impl Iterator<Item = &'static SettingName> {
    setting_names().filter(move |n| n.section == section && !ENGINE_NESTED.contains(&n.field))
}

/// An engine error about a setting, told with the setting's flag and key.
pub fn setting_error(e: GmmError) -> UsageError {
    let names: Vec<SettingName> = setting_names().copied().collect();
    setting_error_in(e, &names)
}

/// An engine error about a setting, told with the flag and key that
/// `names` give it.
pub fn setting_error_in(e: GmmError, names: &[SettingName]) -> UsageError {
    if let GmmError::InvalidParam { name, reason } = &e
        && let Some(n) = names.iter().find(|n| n.field == *name)
    {
        return UsageError(format!("{}: {reason}", n.origin()));
    }
    UsageError(e.to_string())
}

/// An engine error from a fit: its refusals of the initial noise set told
/// with the set's column (also when another rank's, whose rows the message
/// numbers in the whole table), any other as it is.
pub fn fit_error(e: GmmError, data: &gmm_io::load::DataSpec) -> anyhow::Error {
    let Some(c) = &data.noise_init_column else {
        return e.into();
    };
    let prefix = format!(
        "{}",
        GmmError::InitialNoise {
            reason: String::new()
        }
    );
    match e {
        GmmError::InitialNoise { reason } => anyhow::anyhow!("--noise-init-column {c}: {reason}"),
        GmmError::OnRank { message, .. } if message.starts_with(&prefix) => {
            anyhow::anyhow!("--noise-init-column {c}: {}", &message[prefix.len()..])
        }
        e => e.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_settings_are_found_from_the_flags() {
        let find = |field: &str| setting_names().find(|n| n.field == field).copied();
        let n = find("max_iter").unwrap();
        assert_eq!((n.flag, n.section, n.key), ("max-iter", "fit", "max_iter"));
        let n = find("n_components").unwrap();
        assert_eq!(
            (n.flag, n.section, n.key),
            ("components", "model", "components")
        );
        let n = find("checkpoint_every").unwrap();
        assert_eq!((n.flag, n.key), ("checkpoint", "checkpoint_every"));
        let n = find("unlabeled_weight").unwrap();
        assert_eq!(n.section, "semi_supervised");
        // Flags the command line resolves itself are not engine settings.
        for cli in ["threads", "split", "init_model", "semi_supervised", "input"] {
            assert!(find(cli).is_none(), "{cli}");
        }
        // Every engine setting but those only the engine tunes has a flag.
        let named: Vec<&str> = setting_names().map(|n| n.field).collect();
        let serde_json::Value::Object(fields) = serde_json::to_value(FitParams::default()).unwrap()
        else {
            unreachable!()
        };
        let unset: Vec<&String> = fields
            .keys()
            .filter(|f| !named.contains(&f.as_str()))
            .collect();
        assert_eq!(
            unset,
            [
                "init_rows",
                "init_sample_rows",
                "kmeans_max_iter",
                "racing",
                "semi_supervised"
            ]
        );
    }
}
