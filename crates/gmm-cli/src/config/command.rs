//! What a model file's provenance says of its run: input paths as absolute,
//! canonical paths, and the command line that gives the same model.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::args::FitArgs;

/// `gmm fit` settings that change where and how a run reports (or how fast
/// it goes), not the model it writes: left out of the provenance's command.
const NOT_THE_MODEL: &[&str] = &[
    "config",
    "out",
    "threads",
    "quiet",
    "verbose",
    "json",
    "log_interval",
    "log_format",
    "no_plots",
    "predictions_format",
    "max_memory",
    "cache_dir",
    "checkpoint",
    "resume",
    // Every split gives the single process's model.
    "split",
    // Columns copied into the predictions, not fitted.
    "id_column",
    "keep_columns",
];

/// Settings whose value is a file or table, written as absolute paths.
const PATHS: &[&str] = &["input", "labeled", "init_model"];

/// An input path as an absolute, canonical one (symbolic links and `..`
/// resolved), so that the same run started from another directory records
/// the same path. URLs are kept as written; for a glob, the directory
/// before its first pattern character is made canonical.
pub fn canonical_input(path: &str) -> String {
    if path.contains("://") {
        return path.to_string();
    }
    // An existing file whose name holds `*`, `?` or `[` is read as it is
    // (gmm-io globs only paths that do not exist).
    if let Ok(exact) = std::fs::canonicalize(path) {
        return exact.display().to_string();
    }
    let pattern = path.find(['*', '?', '[']).unwrap_or(path.len());
    // The part up to the separator before the first pattern character.
    let (fixed, rest) = match path[..pattern].rfind('/') {
        Some(i) if pattern < path.len() => (&path[..i.max(1)], &path[i.max(1)..]),
        None if pattern < path.len() => (".", path),
        _ => (path, ""),
    };
    let rest = rest.trim_start_matches('/');
    let base = std::fs::canonicalize(fixed)
        .or_else(|_| std::path::absolute(fixed))
        .unwrap_or_else(|_| PathBuf::from(fixed));
    let full = if rest.is_empty() {
        base
    } else {
        base.join(rest)
    };
    full.display().to_string()
}

/// A config file's path as [`canonical_input`] writes an input's.
pub fn canonical_path(path: &Path) -> String {
    canonical_input(&path.display().to_string())
}

/// The command line of a run as its model file records it: `gmm`, the
/// subcommand, the config (canonical), then every setting given as a flag
/// that shapes the model, in a fixed order, inputs as canonical paths.
/// Runs that differ only in their working directory, output, threads or
/// display record the same command; `extra` holds a subcommand's own
/// flags (`gmm select`'s grid and criterion), already as words.
pub fn model_command(subcommand: &str, args: &FitArgs, extra: &[String]) -> String {
    let mut words = vec!["gmm".to_string(), subcommand.to_string()];
    if let Some(config) = &args.config {
        words.push(canonical_path(config));
    }
    for (field, value) in super::engine::flag_values(args) {
        if NOT_THE_MODEL.contains(&field.as_str()) {
            continue;
        }
        let flag = format!("--{}", field.replace('_', "-"));
        let text = match value {
            Value::Null | Value::Bool(false) => continue,
            Value::Bool(true) => {
                words.push(flag);
                continue;
            }
            Value::String(s) if PATHS.contains(&field.as_str()) => canonical_input(&s),
            Value::String(s) => s,
            Value::Array(items) => items
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join(","),
            other => other.to_string(),
        };
        words.push(flag);
        words.push(text);
    }
    words.extend(extra.iter().cloned());
    shlex::try_join(words.iter().map(String::as_str)).unwrap_or_else(|_| words.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_and_urls_keep_their_patterns() {
        assert_eq!(canonical_input("s3://b/x/*.parquet"), "s3://b/x/*.parquet");
        let here = std::fs::canonicalize(".").unwrap();
        let glob = canonical_input("src/*.rs");
        assert_eq!(glob, here.join("src/*.rs").display().to_string());
        assert_eq!(
            canonical_input("x*.csv"),
            here.join("x*.csv").display().to_string()
        );
        assert_eq!(
            canonical_input("src/../src/main.rs"),
            here.join("src/main.rs").display().to_string()
        );
    }

    #[test]
    fn the_command_leaves_out_what_does_not_shape_the_model() {
        let a = FitArgs {
            input: Some("src/../src/main.rs".into()),
            components: Some("3".into()),
            columns: Some(vec!["x1".into(), "x 2".into()]),
            threads: Some(7),
            out: Some("somewhere".into()),
            tol: Some(1e-4),
            resume: true,
            json: true,
            ..FitArgs::default()
        };
        let here = std::fs::canonicalize(".").unwrap();
        assert_eq!(
            model_command("fit", &a, &[]),
            format!(
                "gmm fit --columns 'x1,x 2' --components 3 --input {} --tol 0.0001",
                here.join("src/main.rs").display()
            )
        );
    }
}
