//! Where each setting is set: its flag and its config section and key,
//! for messages and for run.json's sections.

use gmm_core::GmmError;

use crate::error::UsageError;

/// Where a setting came from, for messages.
pub(crate) fn origin(flag: &str, section: &str, key: &str) -> String {
    format!("--{flag} / [{section}] {key}")
}

/// Where an engine setting is set: its `FitParams` field (or the name the
/// engine's errors give it), its flag, and its config section and key.
pub struct SettingName {
    pub field: &'static str,
    pub flag: &'static str,
    pub section: &'static str,
    pub key: &'static str,
}

pub const fn name(
    field: &'static str,
    flag: &'static str,
    section: &'static str,
    key: &'static str,
) -> SettingName {
    SettingName {
        field,
        flag,
        section,
        key,
    }
}

/// The engine's settings that the command line and configs set. Messages
/// about a setting name its flag and key from here, and run.json files
/// each setting under its section and key from here; settings of the
/// engine not listed go to run.json's `engine` section.
pub const SETTING_NAMES: &[SettingName] = &[
    name("n_components", "components", "model", "components"),
    name("covariance_type", "covariance", "model", "covariance"),
    name("reg_covar", "reg-covar", "model", "reg_covar"),
    name("init", "init", "fit", "init"),
    name("n_init", "n-init", "fit", "n_init"),
    name("max_iter", "max-iter", "fit", "max_iter"),
    name("tol", "tol", "fit", "tol"),
    name("seed", "seed", "fit", "seed"),
    name("chunk_rows", "chunk-rows", "fit", "chunk_rows"),
    name("on_degenerate", "on-degenerate", "fit", "on_degenerate"),
    name("checkpoint_every", "checkpoint", "fit", "checkpoint_every"),
    name("max_seconds", "max-seconds", "fit", "max_seconds"),
    name(
        "unlabeled_weight",
        "unlabeled-weight",
        "semi_supervised",
        "unlabeled_weight",
    ),
];

/// An engine error about a setting, told with the setting's flag and key.
pub fn setting_error(e: GmmError) -> UsageError {
    setting_error_in(e, SETTING_NAMES)
}

/// An engine error about a setting, told with the flag and key that
/// `names` give it.
pub fn setting_error_in(e: GmmError, names: &[SettingName]) -> UsageError {
    if let GmmError::InvalidParam { name, reason } = &e
        && let Some(n) = names.iter().find(|n| n.field == *name)
    {
        return UsageError(format!("{}: {reason}", origin(n.flag, n.section, n.key)));
    }
    UsageError(e.to_string())
}
