//! The batch-job log's settings (`--log-format`, `--log-interval`): from
//! the flags, then the environment (`GMM_LOG_FORMAT`, `GMM_LOG_INTERVAL`,
//! set once in a job script), then the config's `[output]` section.

use std::str::FromStr;
use std::time::Duration;

use super::raw::{RawOutput, SecondsValue};
use crate::args::FitArgs;
use crate::error::UsageError;

/// Seconds between heartbeats by default.
pub const DEFAULT_LOG_INTERVAL_SECONDS: f64 = 30.0;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
    /// No log lines.
    None,
}

impl LogFormat {
    pub const NAMES: [&'static str; 3] = ["text", "json", "none"];
}

impl FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            "none" => Ok(LogFormat::None),
            other => Err(format!("`{other}` is not one of text, json, none")),
        }
    }
}

/// The batch-job log's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogSettings {
    pub format: LogFormat,
    /// `None`: phase lines only (an interval of 0).
    pub interval: Option<Duration>,
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            format: LogFormat::Text,
            interval: Some(Duration::from_secs_f64(DEFAULT_LOG_INTERVAL_SECONDS)),
        }
    }
}

impl LogSettings {
    /// Flags over the environment over `[output]`.
    pub(crate) fn resolve(args: &FitArgs, output: &RawOutput) -> Result<Self, UsageError> {
        Self::from_flags(args.log_format.as_ref(), args.log_interval.as_ref(), output)
    }

    /// The flags `format` and `interval` over the environment over
    /// `[output]` (empty for the commands without a config).
    pub fn from_flags(
        format: Option<&String>,
        interval: Option<&String>,
        output: &RawOutput,
    ) -> Result<Self, UsageError> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let format = match (format, env("GMM_LOG_FORMAT"), &output.log_format) {
            (Some(f), _, _) => (f.clone(), "--log-format".to_string()),
            (None, Some(f), _) => (f, "GMM_LOG_FORMAT".to_string()),
            (None, None, Some(f)) => (f.clone(), "[output] log_format".to_string()),
            (None, None, None) => ("text".to_string(), String::new()),
        };
        let format = super::values::parse_choice(&format.0, format.1, &LogFormat::NAMES)?;
        let interval = match (interval, env("GMM_LOG_INTERVAL"), &output.log_interval) {
            (Some(t), _, _) => Some(parse_seconds(t, "--log-interval")?),
            (None, Some(t), _) => Some(parse_seconds(&t, "GMM_LOG_INTERVAL")?),
            (None, None, Some(SecondsValue::Text(t))) => {
                Some(parse_seconds(t, "[output] log_interval")?)
            }
            (None, None, Some(SecondsValue::Seconds(s))) => {
                Some(check_seconds(*s, "[output] log_interval")?)
            }
            (None, None, None) => None,
        };
        Ok(LogSettings {
            format,
            interval: match interval {
                None => LogSettings::default().interval,
                Some(0.0) => None,
                Some(s) => Some(Duration::from_secs_f64(s)),
            },
        })
    }
}

/// Seconds as `30`, `2.5`, `30s`, `5m` or `1h`.
fn parse_seconds(text: &str, what: &str) -> Result<f64, UsageError> {
    let t = text.trim();
    let (number, unit) = match t
        .char_indices()
        .rfind(|(_, c)| c.is_ascii_digit() || *c == '.')
    {
        Some((i, c)) => t.split_at(i + c.len_utf8()),
        None => (t, ""),
    };
    let scale = match unit.trim() {
        "" | "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => f64::NAN,
    };
    let seconds = number.trim().parse::<f64>().map_or(f64::NAN, |n| n * scale);
    if seconds.is_nan() {
        return Err(UsageError(format!(
            "{what}: `{text}` is not a time; give seconds (30, 2.5) or a number with s, m or h (30s, 5m), or 0 for no heartbeat"
        )));
    }
    check_seconds(seconds, what)
}

/// The shortest heartbeat interval: shorter ones would flood the log.
const MIN_INTERVAL_SECONDS: f64 = 0.01;

/// The longest: a week.
const MAX_INTERVAL_SECONDS: f64 = 7.0 * 24.0 * 3600.0;

fn check_seconds(seconds: f64, what: &str) -> Result<f64, UsageError> {
    if !(seconds == 0.0 || (MIN_INTERVAL_SECONDS..=MAX_INTERVAL_SECONDS).contains(&seconds)) {
        return Err(UsageError(format!(
            "{what}: {seconds} is not a heartbeat interval; give seconds from {MIN_INTERVAL_SECONDS} to a week ({MAX_INTERVAL_SECONDS}), or 0 for none"
        )));
    }
    Ok(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_read_with_units() {
        assert_eq!(parse_seconds("30", "x").unwrap(), 30.0);
        assert_eq!(parse_seconds("2.5s", "x").unwrap(), 2.5);
        assert_eq!(parse_seconds("5m", "x").unwrap(), 300.0);
        assert_eq!(parse_seconds("1h", "x").unwrap(), 3600.0);
        assert_eq!(parse_seconds("0", "x").unwrap(), 0.0);
        for bad in ["", "m", "5d", "-3", "inf", "1e400", "1e20", "1e-9", "0.001"] {
            let e = parse_seconds(bad, "--log-interval").unwrap_err();
            assert!(e.0.starts_with("--log-interval: "), "{bad}: {}", e.0);
        }
    }
}
