//! `gmm fit`'s flags as a selection sees them: those it refuses, and the
//! words of its own flags in the model file's command.

use crate::args::SelectArgs;
use crate::config::ConfigFile;
use crate::error::UsageError;

/// `gmm select`'s own flags as given, for the model file's command.
pub(super) fn select_words(args: &SelectArgs) -> Vec<String> {
    let mut words = Vec::new();
    let mut flag = |name: &str, value: Option<String>| {
        if let Some(v) = value {
            words.extend([format!("--{name}"), v]);
        }
    };
    flag("criterion", args.criterion.clone());
    flag("families", args.families.clone());
    flag(
        "racing-first-round",
        args.racing_first_round.map(|v| v.to_string()),
    );
    flag("racing-keep", args.racing_keep.map(|v| v.to_string()));
    flag("racing-margin", args.racing_margin.map(|v| v.to_string()));
    flag(
        "validation-fraction",
        args.validation_fraction.map(|v| v.to_string()),
    );
    if args.no_racing {
        words.push("--no-racing".into());
    }
    words
}

/// `gmm fit`'s settings that a selection has no use for (its help hides
/// the flags): given as a flag or in the config, each is refused by name.
pub(super) fn refuse_fit_only(args: &SelectArgs, cfg: &ConfigFile) -> Result<(), UsageError> {
    let (a, raw) = (&args.fit, &cfg.raw.fit);
    let given = [
        (
            "--init-model",
            a.init_model.is_some(),
            "[fit] init_model",
            raw.init_model.is_some(),
        ),
        (
            "--checkpoint",
            a.checkpoint.is_some(),
            "[fit] checkpoint_every",
            cfg.raw.engine_value("checkpoint_every").is_some(),
        ),
        ("--resume", a.resume, "", false),
        (
            "--split",
            a.split.is_some(),
            "[fit] split",
            raw.split.is_some(),
        ),
    ];
    for (flag, by_flag, key, by_key) in given {
        let why = match flag {
            "--init-model" => "every cell starts from its own initializations",
            "--split" => "under mpirun a selection shares out the cells of its grid",
            _ => "a selection cannot be checkpointed",
        };
        if by_flag {
            return Err(UsageError(format!(
                "{flag} applies to gmm fit, not gmm select ({why}); leave it out"
            )));
        }
        if by_key {
            return Err(UsageError(format!(
                "{}: {key} applies to gmm fit, not gmm select ({why}); remove it or use a config for gmm fit",
                cfg.path
                    .as_ref()
                    .map_or("the config".into(), |p| p.display().to_string())
            )));
        }
    }
    Ok(())
}
