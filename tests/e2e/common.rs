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

/// Runs `gmm` with `args` from the repository root. Its standard error is
/// not a terminal, where `fit` and `select` would write a batch log: the
/// tests of other things turn it off (`tests/e2e/logs.rs` tests it).
pub fn gmm(args: &[&str]) -> Output {
    gmm_with_env(args, &[("GMM_LOG_FORMAT", "none")])
}

/// Runs `gmm` with `args` and environment variables `env`.
pub fn gmm_with_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gmm"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env_remove("GMM_LOG_FORMAT")
        .env_remove("GMM_LOG_INTERVAL")
        .envs(env.iter().copied())
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

/// Every file under `dir` (relative path -> bytes), or an empty map when
/// `dir` does not exist: what a failed run must leave unchanged.
pub fn snapshot(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut std::collections::BTreeMap<PathBuf, Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.map(|e| e.unwrap()) {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                let rel = p.strip_prefix(base).unwrap().to_path_buf();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// A small deterministic generator (SplitMix64 and Box-Muller), so the tests
/// need nothing but the crates they build with.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    pub fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// Writes one record batch of the named columns to a Parquet file.
pub fn write_parquet(path: &Path, columns: Vec<(&str, gmm_io::arrow::array::ArrayRef)>) {
    use gmm_io::arrow::array::RecordBatch;
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

/// Every record batch of a Parquet file.
pub fn read_parquet(path: &Path) -> Vec<gmm_io::arrow::array::RecordBatch> {
    let file = std::fs::File::open(path).unwrap();
    parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap()
        .map(|b| b.unwrap())
        .collect()
}

/// Path as a `&str` for an argument list.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A model file's text without the day of its fit, the one thing two fits
/// on either side of midnight may differ in.
pub fn without_day(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let at = text.find("\"created\": \"").expect("provenance.created") + 12;
    format!("{}{}", &text[..at], &text[at + 10..])
}

/// Checks that two run directories hold the same model (to the day of the
/// fit, its only date), predictions and trace, byte for byte.
#[track_caller]
pub fn assert_same_run(a: &Path, b: &Path, predictions: &str) {
    assert_eq!(
        without_day(&a.join("model.json")),
        without_day(&b.join("model.json")),
        "model.json: {} vs {}",
        a.display(),
        b.display()
    );
    for file in [predictions, "trace.csv"] {
        assert!(
            std::fs::read(a.join(file)).unwrap() == std::fs::read(b.join(file)).unwrap(),
            "{file} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}
