//! A config file (`raw`) merged with flags and validated once into
//! [`FitSettings`], the options the commands run with: the engine's
//! settings (`gmm_core::FitParams`) and what only the command line has.

mod command;
mod engine;
mod log;
mod names;
mod raw;
mod values;

use std::path::PathBuf;
use std::str::FromStr;

use gmm_core::{FitParams, Precision, SemiSupervised, SemiSupervisedMode};
use gmm_io::OutputFormat;

pub use command::{canonical_input, canonical_path, model_command};
pub use log::{DEFAULT_LOG_INTERVAL_SECONDS, LogFormat, LogSettings};
use names::origin;
pub use names::{SettingName, fit_error, name, setting_error, setting_error_in, setting_names};
pub use raw::{
    ConfigFile, OneOrMany, RawConfig, RawData, RawFit, RawModel, RawOutput, RawSelect, RawSemi,
    SizeValue, parse_config,
};
use values::parse_choice;
pub use values::{parse_delimiter, parse_filter, parse_missing, parse_precision, parse_size};

use crate::args::FitArgs;
use crate::error::UsageError;

/// How labeled rows are used.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SemiChoice {
    /// Unsupervised even if labels are present.
    Off,
    Mode(SemiSupervisedMode),
}

/// Data settings, validated: what a job reads, as gmm-io's loader takes it
/// (`cache_dir` `None`: `.gmm-cache` beside the run directory).
pub type DataSettings = gmm_io::load::DataSpec;

/// Everything `gmm fit` runs with: the engine's settings, and what only the
/// command line has (files, threads, output).
#[derive(Debug, Clone, PartialEq)]
pub struct FitSettings {
    pub config_path: Option<PathBuf>,
    pub data: DataSettings,
    /// The engine's settings, checked on their own. Semi-supervision and a
    /// warm-start model are filled in once the data is read
    /// (`commands::fit::fit_params`).
    pub params: FitParams,
    /// The model file a warm start reads.
    pub init_model: Option<String>,
    pub threads: Option<usize>,
    /// Go on from the run directory's checkpoint.
    pub resume: bool,
    /// Under mpirun, what the processes share out.
    pub split: Split,
    /// `None`: semi-supervised (em) when labels are given.
    pub semi: Option<SemiChoice>,
    pub unlabeled_weight: f64,
    /// The run directory; for an `--out` URL, its local copy (see
    /// `out_url`).
    pub out: PathBuf,
    /// The URL (`s3://bucket/runs/x`) the run directory is uploaded to
    /// once complete.
    pub out_url: Option<String>,
    pub predictions_format: OutputFormat,
    pub plots: bool,
    /// The command line that gives this run's model, for its provenance
    /// (see [`model_command`]); set by the subcommand.
    pub command: Option<String>,
    /// The batch-job log (when standard error is not a terminal).
    pub log: LogSettings,
}

/// What the processes of an MPI job share out in `gmm fit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Split {
    /// Each process reads and fits its share of the rows.
    #[default]
    Rows,
    /// Each process holds the whole table and runs its share of the
    /// restarts.
    Restarts,
}

impl Split {
    pub fn as_str(self) -> &'static str {
        match self {
            Split::Rows => "rows",
            Split::Restarts => "restarts",
        }
    }
}

impl FromStr for Split {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "rows" => Ok(Split::Rows),
            "restarts" => Ok(Split::Restarts),
            _ => Err(()),
        }
    }
}

impl FitSettings {
    /// Merges flags over the config and validates every value once.
    pub fn resolve(args: &FitArgs, cfg: &ConfigFile) -> Result<FitSettings, UsageError> {
        let raw = &cfg.raw;
        // An empty path would resolve to the config's own folder (or the
        // working directory) and be written into or read from silently.
        let flag_out = args.out.as_ref().map(|p| p.to_string_lossy().into_owned());
        let paths = [
            ("--input", "[data] input", &args.input, &raw.data.input),
            (
                "--labeled",
                "[data] labeled",
                &args.labeled,
                &raw.data.labeled,
            ),
            (
                "--cache-dir",
                "[data] cache_dir",
                &args.cache_dir,
                &raw.data.cache_dir,
            ),
            ("--out", "[output] dir", &flag_out, &raw.output.dir),
            (
                "--init-model",
                "[fit] init_model",
                &args.init_model,
                &raw.fit.init_model,
            ),
        ];
        for (flag, key, given, configured) in paths {
            if given.as_deref().is_some_and(|p| p.trim().is_empty()) {
                return Err(UsageError(format!(
                    "{flag} is empty; give a path, or leave the flag out"
                )));
            }
            if configured.as_deref().is_some_and(|p| p.trim().is_empty()) {
                let file = cfg
                    .path
                    .as_ref()
                    .map(|p| format!("{}: ", p.display()))
                    .unwrap_or_default();
                return Err(UsageError(format!(
                    "{file}{key} is empty; give a path, or leave the key out"
                )));
            }
        }
        let path = |flag: &Option<String>, cfg_value: &Option<String>| -> Option<String> {
            flag.clone()
                .or_else(|| cfg_value.as_deref().map(|p| cfg.resolve(p)))
        };
        let input = path(&args.input, &raw.data.input).ok_or_else(|| {
            UsageError("no input table: give --input or [data] input in the config".into())
        })?;
        let delimiter = args
            .delimiter
            .clone()
            .or(raw.data.delimiter.clone())
            .map(|d| parse_delimiter(&d))
            .transpose()?;
        let data = DataSettings {
            input,
            columns: args
                .columns
                .clone()
                .or(raw.data.columns.clone())
                .unwrap_or_default(),
            label_column: args.label_column.clone().or(raw.data.label_column.clone()),
            weight_column: args
                .weight_column
                .clone()
                .or(raw.data.weight_column.clone()),
            noise_init_column: args
                .noise_init_column
                .clone()
                .or(raw.data.noise_init_column.clone()),
            id_columns: match (&args.id_column, &raw.data.id_column) {
                (Some(ids), _) => ids.clone(),
                (None, Some(OneOrMany::One(id) | OneOrMany::Text(id))) => vec![id.clone()],
                (None, Some(OneOrMany::Many(ids))) => ids.clone(),
                (None, None) => Vec::new(),
            },
            keep_columns: args
                .keep_columns
                .clone()
                .or(raw.data.keep_columns.clone())
                .unwrap_or_default(),
            labeled: path(&args.labeled, &raw.data.labeled),
            delimiter,
            max_memory: match (&args.max_memory, &raw.data.max_memory) {
                (Some(t), _) | (None, Some(SizeValue::Text(t))) => Some(parse_size(t).map_err(|e| {
                    UsageError(format!(
                        "{}: {e}; give bytes with a unit, such as 512MiB, 8GB or 2G (K, M, G, T and KiB .. TiB count in 1024s, KB .. TB in 1000s), or `unlimited`",
                        origin("max-memory", "data", "max_memory")
                    ))
                })?),
                (None, Some(SizeValue::Bytes(b))) => Some(*b),
                (None, None) => None,
            },
            cache_dir: path(&args.cache_dir, &raw.data.cache_dir).map(PathBuf::from),
            precision: match args.precision.as_ref().or(raw.data.precision.as_ref()) {
                Some(p) => parse_precision(p, origin("precision", "data", "precision"))?,
                None => Precision::F64,
            },
            missing: match args.missing.as_ref().or(raw.data.missing.as_ref()) {
                Some(m) => parse_missing(m, origin("missing", "data", "missing"))?,
                None => gmm_io::Missing::Error,
            },
            filter: args
                .filter
                .as_ref()
                .or(raw.data.filter.as_ref())
                .map(|f| parse_filter(f, origin("filter", "data", "filter")))
                .transpose()?,
            object_storage: raw.storage.clone(),
        };
        if let Some(c) = &args.components
            && c.trim().parse::<usize>().is_err()
        {
            return Err(UsageError(format!(
                "--components: `{c}` is not one number of components (gmm select takes a range or a list)"
            )));
        }
        if args.components.is_none() && raw.engine_value("n_components").is_none() {
            return Err(UsageError(
                "the number of components is not set: give -k/--components or [model] components"
                    .into(),
            ));
        }
        let threads = args.threads.or(raw.fit.threads).filter(|&t| t > 0);
        let params = engine::engine_params(args, cfg)?;
        params
            .check_values()
            .map_err(|e| engine::in_config_file(e, args, cfg))?;
        if let (Some(c), false) = (&data.noise_init_column, params.noise) {
            return Err(UsageError(format!(
                "{}: column `{c}` marks the rows the noise component starts from, and this fit has no noise component; add --noise ([model] noise = true), or leave the column out",
                origin("noise-init-column", "data", "noise_init_column")
            )));
        }
        let split = match args.split.as_ref().or(raw.fit.split.as_ref()) {
            Some(v) => parse_choice(v, origin("split", "fit", "split"), &["rows", "restarts"])?,
            None => Split::Rows,
        };
        let semi = match args
            .semi_supervised
            .as_ref()
            .or(raw.semi_supervised.mode.as_ref())
        {
            None => None,
            Some(s) if s == "off" || s == "none" => Some(SemiChoice::Off),
            Some(s) => Some(SemiChoice::Mode(parse_choice(
                s,
                origin("semi-supervised", "semi_supervised", "mode"),
                &["em", "init", "off"],
            )?)),
        };
        let unlabeled_weight = args
            .unlabeled_weight
            .or(raw.semi_supervised.unlabeled_weight)
            .unwrap_or(SemiSupervised::default().unlabeled_weight);
        SemiSupervised {
            unlabeled_weight,
            ..SemiSupervised::default()
        }
        .check()
        .map_err(setting_error)?;
        let out = args
            .out
            .clone()
            .or_else(|| {
                raw.output
                    .dir
                    .as_deref()
                    .map(|d| PathBuf::from(cfg.resolve(d)))
            })
            .unwrap_or_else(|| PathBuf::from("gmm-run"));
        let predictions_format = match args
            .predictions_format
            .as_ref()
            .or(raw.output.predictions_format.as_ref())
        {
            Some(f) => parse_choice(
                f,
                origin("predictions-format", "output", "predictions_format"),
                &["parquet", "csv", "arrow"],
            )?,
            None => OutputFormat::Parquet,
        };
        Ok(FitSettings {
            config_path: cfg.path.clone(),
            data,
            params,
            init_model: path(&args.init_model, &raw.fit.init_model),
            threads,
            resume: args.resume,
            split,
            semi,
            unlabeled_weight,
            out,
            out_url: None,
            predictions_format,
            plots: !args.no_plots && raw.output.plots.unwrap_or(true),
            log: LogSettings::resolve(args, &raw.output)?,
            command: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gmm_core::CovarianceType;
    use std::path::Path;

    #[test]
    fn unknown_key_names_line_section_and_suggestion() {
        let text = "[model]\ncomponents = 2\n\n[fit]\nn_inits = 10\n";
        let err = parse_config(text).unwrap_err();
        assert!(err.contains("line 5"), "{err}");
        assert!(err.contains("`n_inits`"), "{err}");
        assert!(err.contains("[fit]"), "{err}");
        assert!(err.contains("did you mean `n_init`"), "{err}");
    }

    #[test]
    fn sizes_take_units() {
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("8GB"), Ok(8_000_000_000));
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert_eq!(parse_size("1.5 gib"), Ok(3 << 29));
        assert_eq!(parse_size("1KiB"), Ok(1024));
        assert_eq!(parse_size("unlimited"), Ok(u64::MAX));
        for bad in ["", "12XB", "-1G", "G", "1e99T", "1..2M"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        let args = FitArgs {
            input: Some("a.csv".into()),
            components: Some("2".into()),
            max_memory: Some("lots".into()),
            ..FitArgs::default()
        };
        let err = FitSettings::resolve(&args, &ConfigFile::default()).unwrap_err();
        assert!(err.0.contains("--max-memory"), "{}", err.0);
        let cfg = ConfigFile {
            path: Some(PathBuf::from("conf/job.toml")),
            raw: parse_config("[data]\nmax_memory = 4096\ncache_dir = \"cache\"\n").unwrap(),
        };
        let args = FitArgs {
            max_memory: None,
            ..args
        };
        let s = FitSettings::resolve(&args, &cfg).unwrap();
        assert_eq!(s.data.max_memory, Some(4096));
        assert_eq!(s.data.cache_dir, Some(PathBuf::from("conf/cache")));
        let cfg = ConfigFile {
            raw: parse_config("[data]\nmax_memory = \"2 MiB\"\n").unwrap(),
            ..cfg
        };
        assert_eq!(
            FitSettings::resolve(&args, &cfg).unwrap().data.max_memory,
            Some(2 << 20)
        );
    }

    #[test]
    fn every_mistake_of_a_file_is_reported_at_once() {
        let text = "[data]\ncolumns = \"x1\"\nmax_memory = true\n[output]\nplots = \"no\"\n\
                    [select]\ncomponents = -3\n[fit]\nthreads = 1.5\n[modle]\n";
        let err = parse_config(text).unwrap_err();
        for part in [
            "line 2: [data] columns: invalid type: string \"x1\", expected a list",
            "line 3: [data] max_memory: expected a size",
            "line 5: [output] plots: ",
            "expected true or false",
            "line 7: [select] components: ",
            "line 9: [fit] threads: ",
            "line 10: unknown section `modle`; did you mean `model`?",
        ] {
            assert!(err.contains(part), "{part} in {err}");
        }
        let at = |l: &str| err.find(l).unwrap();
        assert!(at("line 3:") < at("line 5:") && at("line 7:") < at("line 9:"));
        let err = parse_config("data = 3\n").unwrap_err();
        assert!(err.contains("`data` must be a section"), "{err}");
    }

    #[test]
    fn unknown_section_is_refused() {
        let err = parse_config("[modle]\ncomponents = 2\n").unwrap_err();
        assert!(err.contains("`modle`") && err.contains("`model`"), "{err}");
    }

    #[test]
    fn flags_override_config_and_paths_are_relative_to_it() {
        let raw = parse_config(
            "[data]\ninput = \"x.csv\"\n[model]\ncomponents = 3\ncovariance = \"diag\"\n",
        )
        .unwrap();
        let cfg = ConfigFile {
            path: Some(PathBuf::from("configs/a.toml")),
            raw,
        };
        let args = FitArgs {
            components: Some("5".into()),
            ..Default::default()
        };
        let s = FitSettings::resolve(&args, &cfg).unwrap();
        assert_eq!(s.params.n_components, 5);
        assert_eq!(s.params.covariance_type, CovarianceType::Diag);
        assert_eq!(Path::new(&s.data.input), Path::new("configs/x.csv"));
    }

    #[test]
    fn bad_values_name_their_setting() {
        let cfg = ConfigFile {
            path: None,
            raw: parse_config("[model]\ncomponents = 2\ncovariance = \"fulll\"\n").unwrap(),
        };
        let args = FitArgs {
            input: Some("x.csv".into()),
            ..Default::default()
        };
        let err = FitSettings::resolve(&args, &cfg).unwrap_err().0;
        assert!(
            err.contains("covariance") && err.contains("did you mean `full`"),
            "{err}"
        );
    }

    #[test]
    fn plots_follow_the_config_unless_switched_off() {
        let resolve = |text: &str, no_plots: bool| {
            let cfg = ConfigFile {
                path: None,
                raw: parse_config(text).unwrap(),
            };
            let args = FitArgs {
                input: Some("x.csv".into()),
                components: Some("2".into()),
                no_plots,
                ..Default::default()
            };
            FitSettings::resolve(&args, &cfg).unwrap().plots
        };
        assert!(resolve("", false));
        assert!(!resolve("", true));
        assert!(!resolve("[output]\nplots = false\n", false));
        assert!(!resolve("[output]\nplots = true\n", true));
    }
}
