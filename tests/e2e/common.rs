//! Helpers shared by the end-to-end tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Runs `gmm` with `args` from the repository root.
pub fn gmm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gmm"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("gmm runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts success and returns standard output.
#[track_caller]
pub fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "gmm failed ({:?}):\n{}\n{}",
        o.status.code(),
        stderr(o),
        stdout(o)
    );
    stdout(o)
}

/// Asserts the exit code and that standard error contains every needle.
#[track_caller]
pub fn fails(o: &Output, code: i32, needles: &[&str]) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "exit code; stderr:\n{err}");
    for n in needles {
        assert!(err.contains(n), "stderr lacks `{n}`:\n{err}");
    }
    assert!(!err.contains("panicked"), "a panic:\n{err}");
    assert_eq!(
        err.trim().lines().count(),
        1,
        "one-line message expected:\n{err}"
    );
}

/// Reads a CSV file into a header and rows of fields.
pub fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    let rows = lines
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    (header, rows)
}

pub fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(
        &std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap()
}

/// Files in a directory, sorted by name.
pub fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// The elements `<tag ...>` of an SVG document whose attributes contain every
/// one of `attrs` (such as `stroke="#D62728"`).
pub fn svg_elements<'a>(svg: &'a str, tag: &str, attrs: &[&str]) -> Vec<&'a str> {
    svg.split('<')
        .filter(|e| {
            e.strip_prefix(tag)
                .is_some_and(|rest| rest.starts_with([' ', '>', '/']))
                && attrs.iter().all(|a| e.contains(a))
        })
        .collect()
}

/// Asserts that `svg` is one complete SVG document: it opens with `<svg`,
/// closes with `</svg>`, and every text element is closed.
#[track_caller]
pub fn assert_svg(svg: &str) {
    assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(200)]);
    assert!(svg.trim_end().ends_with("</svg>"), "unterminated SVG");
    assert_eq!(svg.matches("<svg").count(), 1);
    assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
    assert!(svg.contains("xmlns=\"http://www.w3.org/2000/svg\""));
}

pub fn f64s(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}
