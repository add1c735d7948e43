//! The TOML config file as written (`RawConfig`): sections and keys as
//! serde reads them, unknown keys refused with the file, line, section and
//! closest valid key; paths relative to the config file. The keys of the
//! engine's settings are not typed here: they are those of
//! [`super::names::setting_names`], kept as TOML values in
//! [`RawConfig::engine`] until the settings are filled.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use gmm_io::suggest::closest;
use serde::Deserialize;

use super::names::engine_keys;
use crate::error::UsageError;

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub data: RawData,
    #[serde(default)]
    pub model: RawModel,
    #[serde(default)]
    pub fit: RawFit,
    #[serde(default)]
    pub semi_supervised: RawSemi,
    #[serde(default)]
    pub output: RawOutput,
    #[serde(default)]
    pub select: RawSelect,
    /// Object storage: endpoint, region, anonymous access, AWS profile.
    #[serde(default)]
    pub storage: gmm_io::ObjectStorage,
    /// The values of the engine's settings, by `FitParams` field, from the
    /// `[model]`, `[fit]` and `[semi_supervised]` sections.
    #[serde(skip)]
    pub engine: BTreeMap<&'static str, toml::Value>,
    /// The 1-based line of each of those keys, where it is written as
    /// `key = value`.
    #[serde(skip)]
    pub engine_lines: BTreeMap<&'static str, usize>,
}

impl RawConfig {
    /// The config's value of an engine setting (a `FitParams` field).
    pub fn engine_value(&self, field: &str) -> Option<&toml::Value> {
        self.engine.get(field)
    }

    /// `line N: ` for an engine setting's key, or nothing.
    pub fn engine_line(&self, field: &str) -> String {
        self.engine_lines
            .get(field)
            .map(|l| format!("line {l}: "))
            .unwrap_or_default()
    }
}

/// The `[select]` section, read by `gmm select`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSelect {
    /// `"1..10"`, `"2,4,8"`, `[2, 4, 8]` or one number.
    pub components: Option<OneOrMany<usize>>,
    /// `"full,diag"`, `["full", "diag"]` or one type.
    pub covariance: Option<OneOrMany<String>>,
    /// `"all"`, `"sklearn"` or a list, as `covariance`.
    pub families: Option<OneOrMany<String>>,
    pub criterion: Option<String>,
    pub racing: Option<bool>,
    /// Successive halving: the first cut after this many iterations.
    pub racing_first_round: Option<usize>,
    /// The fraction of running restarts kept at each cut.
    pub racing_keep: Option<f64>,
    /// Restarts within this mean log-likelihood per row of the leader go on.
    pub racing_margin: Option<f64>,
    pub validation_fraction: Option<f64>,
}

/// A TOML value given as one item, a list, or (for text) a comma list.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
    Text(String),
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawData {
    pub input: Option<String>,
    pub columns: Option<Vec<String>>,
    pub label_column: Option<String>,
    pub weight_column: Option<String>,
    pub noise_init_column: Option<String>,
    /// One column, or a list.
    pub id_column: Option<OneOrMany<String>>,
    pub keep_columns: Option<Vec<String>>,
    pub labeled: Option<String>,
    pub delimiter: Option<String>,
    /// `"8GiB"`, `"512MB"` or a number of bytes.
    pub max_memory: Option<SizeValue>,
    pub cache_dir: Option<String>,
    /// `"f64"` or `"f32"`.
    pub precision: Option<String>,
    /// `"error"` or `"drop"`.
    pub missing: Option<String>,
    /// Partition values to keep, as `--filter`.
    pub filter: Option<String>,
}

/// A size in the config: a number of bytes, or text with a unit.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum SizeValue {
    Bytes(u64),
    Text(String),
}

// The next three sections also hold engine settings' keys, which serde
// skips here and `parse_config` checks and keeps in `RawConfig::engine`.

/// The `[model]` section's keys besides the engine's (none).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct RawModel {}

/// The `[fit]` section's keys besides the engine's.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct RawFit {
    pub init_model: Option<String>,
    pub threads: Option<usize>,
    pub split: Option<String>,
}

/// The `[semi_supervised]` section's keys besides the engine's.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct RawSemi {
    pub mode: Option<String>,
    pub unlabeled_weight: Option<f64>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutput {
    pub dir: Option<String>,
    pub predictions_format: Option<String>,
    pub plots: Option<bool>,
    /// `"text"`, `"json"` or `"none"`.
    pub log_format: Option<String>,
    /// Seconds, or text such as `"5m"`.
    pub log_interval: Option<SecondsValue>,
}

/// A time in the config: seconds, or text with a unit.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum SecondsValue {
    Seconds(f64),
    Text(String),
}

/// A config file's contents and where it lives.
#[derive(Debug, Default, Clone)]
pub struct ConfigFile {
    pub path: Option<PathBuf>,
    pub raw: RawConfig,
}

impl ConfigFile {
    /// Reads and parses a config; unknown keys are errors naming the file,
    /// line and closest valid key.
    pub fn load(path: &Path) -> Result<ConfigFile, UsageError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            UsageError(format!(
                "{}: cannot read the config file: {e}",
                path.display()
            ))
        })?;
        let raw =
            parse_config(&text).map_err(|e| UsageError(format!("{}: {e}", path.display())))?;
        Ok(ConfigFile {
            path: Some(path.to_path_buf()),
            raw,
        })
    }

    /// A path from the config, relative to the config file's directory.
    pub fn resolve(&self, p: &str) -> String {
        match &self.path {
            Some(cfg) if Path::new(p).is_relative() && !gmm_io::storage::is_url(p) => {
                let base = cfg.parent().unwrap_or(Path::new(""));
                clean_path(&base.join(p)).to_string_lossy().into_owned()
            }
            _ => p.to_string(),
        }
    }
}

/// Removes `.` and `name/..` pairs without touching the file system, so
/// that `configs/../data/x.csv` reads `data/x.csv`.
fn clean_path(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.is_empty() {
        PathBuf::from(".")
    } else {
        out.iter().collect()
    }
}

/// Parses config text; errors say `line N: ...`. Every mistake of the file
/// is reported at once (only a TOML syntax error stops at the first).
pub fn parse_config(text: &str) -> Result<RawConfig, String> {
    let table = toml::from_str::<toml::Table>(text).map_err(|e| describe_toml_error(text, &e))?;
    let sections: [(&str, &[&str], KeyCheck); 7] = [
        ("data", serde_fields::<RawData>(), check_key::<RawData>),
        ("model", serde_fields::<RawModel>(), check_key::<RawModel>),
        ("fit", serde_fields::<RawFit>(), check_key::<RawFit>),
        (
            "semi_supervised",
            serde_fields::<RawSemi>(),
            check_key::<RawSemi>,
        ),
        (
            "output",
            serde_fields::<RawOutput>(),
            check_key::<RawOutput>,
        ),
        (
            "select",
            serde_fields::<RawSelect>(),
            check_key::<RawSelect>,
        ),
        (
            "storage",
            serde_fields::<gmm_io::ObjectStorage>(),
            check_key::<gmm_io::ObjectStorage>,
        ),
    ];
    let mut errors = Vec::new();
    let mut engine = BTreeMap::new();
    let mut engine_lines = BTreeMap::new();
    for (section, value) in &table {
        let Some((_, typed, check)) = sections.iter().find(|(s, ..)| s == section) else {
            let names: Vec<&str> = sections.iter().map(|(s, ..)| *s).collect();
            let line = section_line(text, section);
            errors.push(unknown_name(line, "section", section, None, &names));
            continue;
        };
        let toml::Value::Table(keys) = value else {
            let line = section_line(text, section);
            let at = line.map(|l| format!("line {l}: ")).unwrap_or_default();
            errors.push(format!(
                "{at}`{section}` must be a section, written `[{section}]` on a line of its own"
            ));
            continue;
        };
        for (key, value) in keys {
            let line = key_line(text, section, key);
            if typed.contains(&key.as_str()) {
                if let Err(msg) = check(key, value) {
                    let at = line.map(|l| format!("line {l}: ")).unwrap_or_default();
                    errors.push(format!("{at}[{section}] {key}: {}", in_words(&msg)));
                }
                continue;
            }
            match engine_keys(section).find(|n| n.key == key) {
                Some(n) => {
                    engine.insert(n.field, value.clone());
                    if let Some(l) = line {
                        engine_lines.insert(n.field, l);
                    }
                }
                None => {
                    let valid: Vec<&str> = typed
                        .iter()
                        .copied()
                        .chain(engine_keys(section).map(|n| n.key))
                        .collect();
                    errors.push(unknown_name(line, "key", key, Some(section), &valid));
                }
            }
        }
    }
    if !errors.is_empty() {
        // In the file's order: the sections are read sorted by name.
        errors.sort_by_key(|e| line_of(e));
        return Err(errors.join("; "));
    }
    // Each key was read on its own above; the whole file now reads too.
    let mut raw = toml::from_str::<RawConfig>(text).map_err(|e| describe_toml_error(text, &e))?;
    raw.engine = engine;
    raw.engine_lines = engine_lines;
    Ok(raw)
}

/// Reads one key of a section into the section's type: `Err` is serde's
/// message for its value.
type KeyCheck = fn(&str, &toml::Value) -> Result<(), String>;

fn check_key<T: serde::de::DeserializeOwned>(key: &str, value: &toml::Value) -> Result<(), String> {
    let one = toml::Table::from_iter([(key.to_string(), value.clone())]);
    T::deserialize(toml::Value::Table(one))
        .map(|_| ())
        .map_err(|e| e.message().trim().to_string())
}

/// The line a message starts with (`line N: `), for sorting.
fn line_of(message: &str) -> usize {
    message
        .strip_prefix("line ")
        .and_then(|m| m.split(':').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(usize::MAX)
}

/// The 1-based line of a `[section]` header.
fn section_line(text: &str, section: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let t = l.trim();
            t.starts_with('[') && t.trim_matches(['[', ']']).trim() == section
        })
        .map(|i| i + 1)
}

/// The 1-based line of `key = ` in `[section]`, if it is written so.
fn key_line(text: &str, section: &str, key: &str) -> Option<usize> {
    let mut inside = false;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            inside = t.trim_matches(['[', ']']).trim() == section;
        } else if inside
            && let Some(rest) = t.strip_prefix(key).or_else(|| {
                t.strip_prefix(&format!("\"{key}\""))
                    .or_else(|| t.strip_prefix(&format!("'{key}'")))
            })
            && rest.trim_start().starts_with('=')
        {
            return Some(i + 1);
        }
    }
    None
}

/// `unknown key `x` in [section]; did you mean `y`?`, after `line N: `.
fn unknown_name(
    line: Option<usize>,
    what: &str,
    name: &str,
    section: Option<&str>,
    valid: &[&str],
) -> String {
    let at = line.map(|l| format!("line {l}: ")).unwrap_or_default();
    let place = section.map(|s| format!(" in [{s}]")).unwrap_or_default();
    let hint = match closest(name, valid.iter().copied()) {
        Some(c) => format!("; did you mean `{c}`?"),
        None => {
            let all: Vec<String> = valid.iter().map(|v| format!("`{v}`")).collect();
            format!("; valid {what}s: {}", all.join(", "))
        }
    };
    format!("{at}unknown {what} `{name}`{place}{hint}")
}

/// The field names serde reads for the struct `T`: what its derived
/// `Deserialize` asks of a deserializer.
fn serde_fields<T: serde::de::DeserializeOwned>() -> &'static [&'static str] {
    use serde::de::{Error as _, Visitor, value::Error};
    struct Probe<'a>(&'a mut &'static [&'static str]);
    impl<'de> serde::Deserializer<'de> for Probe<'_> {
        type Error = Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Error> {
            Err(Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Error> {
            *self.0 = fields;
            Err(Error::custom("fields read"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map
            enum identifier ignored_any
        }
    }
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Probe(&mut fields));
    fields
}

fn describe_toml_error(text: &str, e: &toml::de::Error) -> String {
    let line = e
        .span()
        .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
    let msg = e.message().trim();
    let at = line.map(|l| format!("line {l}: ")).unwrap_or_default();
    // serde: "unknown field `n_inits`, expected one of `init`, `n_init`, ..."
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        let key = rest.split('`').next().unwrap_or("");
        let valid: Vec<&str> = msg
            .split("expected ")
            .nth(1)
            .map(|s| s.split('`').skip(1).step_by(2).collect())
            .unwrap_or_default();
        // A `[section]` header is itself the unknown key at the top level.
        let is_section = line
            .and_then(|l| text.lines().nth(l - 1))
            .is_some_and(|l| l.trim_start().starts_with('['));
        let section = line
            .and_then(|l| section_of(text, l))
            .filter(|_| !is_section);
        let what = if is_section { "section" } else { "key" };
        return unknown_name(line, what, key, section.as_deref(), &valid);
    }
    // A value of the wrong type: name its section and key, and say in words
    // what it should be.
    let key = line
        .and_then(|l| text.lines().nth(l - 1))
        .and_then(|l| l.split_once('='))
        .map(|(k, _)| k.trim().trim_matches(['"', '\'']).to_string())
        .filter(|k| !k.is_empty() && !k.starts_with('['));
    let place = match (key, line.and_then(|l| section_of(text, l))) {
        (Some(k), Some(s)) => format!("[{s}] {k}: "),
        (Some(k), None) => format!("{k}: "),
        _ => String::new(),
    };
    format!("{at}{place}{}", in_words(msg))
}

/// serde's names of types, as the config's readers know them.
fn in_words(msg: &str) -> String {
    if msg.contains("untagged enum SizeValue") {
        return "expected a size, such as \"8GiB\" or \"512MB\", or a number of bytes".into();
    }
    if msg.contains("untagged enum SecondsValue") {
        return "expected seconds, such as 30, or text such as \"5m\"".into();
    }
    if msg.contains("untagged enum OneOrMany") {
        return "expected one value, a list such as [2, 4, 8], or text such as \"1..10\"".into();
    }
    let mut m = msg.to_string();
    for (from, to) in [
        ("expected usize", "expected a whole number, 0 or more"),
        ("expected u64", "expected a whole number, 0 or more"),
        ("expected f64", "expected a number"),
        ("expected a string", "expected text in quotes"),
        ("expected a boolean", "expected true or false"),
        (
            "expected a sequence",
            "expected a list such as [\"x1\", \"x2\"]",
        ),
    ] {
        m = m.replace(from, to);
    }
    m
}

/// The `[section]` in force at a 1-based line.
fn section_of(text: &str, line: usize) -> Option<String> {
    text.lines()
        .take(line)
        .filter_map(|l| {
            let t = l.trim();
            (t.starts_with('[') && t.ends_with(']'))
                .then(|| t.trim_matches(['[', ']']).trim().to_string())
        })
        .last()
}
