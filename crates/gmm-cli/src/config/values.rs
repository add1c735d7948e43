//! Values of settings written as text: choices among names, sizes,
//! delimiters.

use std::str::FromStr;

use gmm_core::Precision;
use gmm_io::suggest::closest;

use crate::error::UsageError;

/// `value` as one of `choices`, or a message naming the setting `what` and
/// the closest choice.
pub(crate) fn parse_choice<T: FromStr>(
    value: &str,
    what: String,
    choices: &[&str],
) -> Result<T, UsageError> {
    value.parse::<T>().map_err(|_| {
        let hint = closest(value, choices.iter().copied())
            .map(|c| format!(" (did you mean `{c}`?)"))
            .unwrap_or_default();
        UsageError(format!(
            "{what}: `{value}` is not one of {}{hint}",
            choices.join(", ")
        ))
    })
}

/// Parses what to do with missing values, `error` or `drop`, for the
/// setting `what`.
pub fn parse_missing(value: &str, what: String) -> Result<gmm_io::Missing, UsageError> {
    parse_choice(value, what, &gmm_io::Missing::NAMES)
}

/// Parses a precision, `f64` or `f32`, for the setting `what`.
pub fn parse_precision(value: &str, what: String) -> Result<Precision, UsageError> {
    parse_choice(value, what, &Precision::NAMES)
}

/// Parses a size: bytes (`1048576`), or a number with a unit, `K`, `M`,
/// `G`, `T` and `KiB` .. `TiB` counting in powers of 1024, `KB` .. `TB` in
/// powers of 1000 (`512MiB`, `8GB`, `2G`, `1.5 GiB`); `unlimited` for no
/// limit. Case is ignored.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("unlimited") {
        return Ok(u64::MAX);
    }
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = (&t[..split], t[split..].trim());
    let scale: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "t" | "tib" => 1 << 40,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        _ => return Err(format!("`{text}` has an unknown unit `{unit}`")),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size"))?;
    let bytes = value * scale as f64;
    if !(bytes.is_finite() && bytes < u64::MAX as f64) {
        return Err(format!("`{text}` is too large"));
    }
    Ok(bytes.round() as u64)
}

pub fn parse_delimiter(s: &str) -> Result<u8, UsageError> {
    match s {
        "\\t" | "\t" | "tab" => Ok(b'\t'),
        // The quote, line ends and other control characters structure CSV
        // itself; as delimiters they would split it wrongly.
        "\"" | "\n" | "\r" => Err(UsageError(format!(
            "delimiter {s:?} cannot separate fields: CSV uses it for quotes or line ends; give `,`, `;`, `|` or \\t"
        ))),
        s if s.len() == 1 && s.is_ascii() && !s.as_bytes()[0].is_ascii_control() => {
            Ok(s.as_bytes()[0])
        }
        _ => Err(UsageError(format!(
            "delimiter {s:?} must be one printable ASCII character (or \\t)"
        ))),
    }
}

/// Parses a `--filter` expression for the setting `what`.
pub fn parse_filter(text: &str, what: String) -> Result<gmm_io::Filter, UsageError> {
    gmm_io::Filter::parse(text).map_err(|e| UsageError(format!("{what} {text:?}: {e}")))
}
