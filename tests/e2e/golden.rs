//! Golden outputs: representative runs of every command, saved from the
//! binary before the workspace was restructured, must come out byte for byte
//! the same (model files without their provenance, predictions, traces,
//! samples, selection tables, scores), under 1 and 3 threads.
//!
//! `GMM_BLESS=1 cargo test --release --workspace --test e2e golden` rewrites
//! `tests/golden/` from the current binary: do it only when an output is
//! meant to change, and say why in the commit.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use gmm_io::arrow::array::{ArrayRef, Float64Array, Int64Array};

use crate::common::*;

/// One run: a name, the arguments (`{out}` is the run's output directory or
/// file, `{data}` the folder of generated inputs, `{golden}` the golden
/// folder, relative to the repository root where `gmm` runs) and the files it writes that are compared.
struct Case {
    name: &'static str,
    args: &'static [&'static str],
    files: &'static [&'static str],
}

const FIT_FILES: &[&str] = &["model.json", "predictions.csv", "trace.csv"];

const CASES: &[Case] = &[
    Case {
        name: "customers-full",
        args: &["fit", "configs/customers.toml", "--out", "{out}"],
        files: FIT_FILES,
    },
    Case {
        name: "customers-diag",
        args: &[
            "fit",
            "configs/customers.toml",
            "--covariance",
            "diag",
            "--out",
            "{out}",
        ],
        files: FIT_FILES,
    },
    Case {
        name: "customers-spherical",
        args: &[
            "fit",
            "configs/customers.toml",
            "--covariance",
            "spherical",
            "--init",
            "random-from-data",
            "--out",
            "{out}",
        ],
        files: FIT_FILES,
    },
    Case {
        name: "customers-tied",
        args: &[
            "fit",
            "configs/customers.toml",
            "--covariance",
            "tied",
            "--init",
            "kmeans++",
            "--out",
            "{out}",
        ],
        files: FIT_FILES,
    },
    Case {
        name: "customers-semi-em",
        args: &["fit", "configs/customers-semi.toml", "--out", "{out}"],
        files: FIT_FILES,
    },
    Case {
        name: "customers-semi-init",
        args: &[
            "fit",
            "configs/customers-semi.toml",
            "--semi-supervised",
            "init",
            "--covariance",
            "diag",
            "--out",
            "{out}",
        ],
        files: FIT_FILES,
    },
    Case {
        name: "blobs3d-random",
        args: &[
            "fit",
            "--input",
            "tests/data/blobs3d.csv",
            "-k",
            "3",
            "--init",
            "random",
            "--n-init",
            "4",
            "--seed",
            "7",
            "--tol",
            "1e-6",
            "--predictions-format",
            "csv",
            "--out",
            "{out}",
        ],
        files: FIT_FILES,
    },
    Case {
        name: "weighted-parquet",
        args: &[
            "fit",
            "--input",
            "{data}/blobs.parquet",
            "--weight-column",
            "w",
            "--id-column",
            "id",
            "--columns",
            "x1,x2,x3",
            "-k",
            "3",
            "--covariance",
            "diag",
            "--n-init",
            "3",
            "--chunk-rows",
            "200",
            "--predictions-format",
            "csv",
            "--out",
            "{out}",
        ],
        files: FIT_FILES,
    },
    Case {
        name: "weighted-parquet-out-of-core",
        args: &[
            "fit",
            "--input",
            "{data}/blobs.parquet",
            "--weight-column",
            "w",
            "--id-column",
            "id",
            "--columns",
            "x1,x2,x3",
            "-k",
            "3",
            "--covariance",
            "diag",
            "--n-init",
            "3",
            "--chunk-rows",
            "200",
            "--max-memory",
            "4KiB",
            "--cache-dir",
            "{data}/cache",
            "--predictions-format",
            "csv",
            "--out",
            "{out}",
        ],
        files: FIT_FILES,
    },
    Case {
        name: "select",
        args: &[
            "select",
            "--input",
            "tests/data/blobs3d.csv",
            "--components",
            "1..4",
            "--covariance",
            "full,diag,spherical,tied",
            "--n-init",
            "3",
            "--seed",
            "3",
            "--out",
            "{out}",
        ],
        files: &["selection.csv", "winner/model.json", "winner/trace.csv"],
    },
    Case {
        name: "predict",
        args: &[
            "predict",
            "--model",
            "{golden}/customers-semi-em/model.json",
            "--input",
            "data/customers/labeled.csv",
            "--out",
            "{out}/predictions.csv",
        ],
        files: &["predictions.csv"],
    },
    Case {
        name: "score",
        args: &[
            "score",
            "--model",
            "{golden}/blobs3d-random/model.json",
            "--input",
            "tests/data/blobs3d.csv",
            "--json",
        ],
        files: &["stdout.json"],
    },
    Case {
        name: "sample",
        args: &[
            "sample",
            "--model",
            "{golden}/customers-tied/model.json",
            "--rows",
            "500",
            "--seed",
            "11",
            "--out",
            "{out}/sample.csv",
        ],
        files: &["sample.csv"],
    },
];

fn golden_dir() -> PathBuf {
    root().join("tests/golden")
}

/// The weighted three-blob table, as Parquet with an id column.
fn write_inputs(dir: &Path) {
    let mut rng = Rng(2024);
    let n = 1500;
    let (mut id, mut x1, mut x2, mut x3, mut w) = (vec![], vec![], vec![], vec![], vec![]);
    for i in 0..n {
        let c = (rng.next_u64() % 3) as f64;
        id.push(10_000 + i as i64);
        x1.push(3.0 * c + rng.normal());
        x2.push(-2.0 * c + 0.5 * rng.normal());
        x3.push(1e3 + c * c + 2.0 * rng.normal());
        w.push(0.25 + 2.0 * rng.uniform());
    }
    let f = |v: Vec<f64>| Arc::new(Float64Array::from(v)) as ArrayRef;
    write_parquet(
        &dir.join("blobs.parquet"),
        vec![
            ("id", Arc::new(Int64Array::from(id)) as ArrayRef),
            ("x1", f(x1)),
            ("x2", f(x2)),
            ("x3", f(x3)),
            ("w", f(w)),
        ],
    );
}

/// What is compared of a file: a model file without its provenance (the
/// day, paths and version of the fit), a selection table without its
/// timings, anything else as it is.
fn comparable(name: &str, bytes: Vec<u8>) -> Vec<u8> {
    if name.ends_with("model.json") {
        let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        v.as_object_mut().unwrap().remove("provenance");
        return serde_json::to_vec_pretty(&v).unwrap();
    }
    if name == "selection.csv" {
        let text = String::from_utf8(bytes).unwrap();
        let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
        let keep: Vec<usize> = (0..header.len())
            .filter(|&i| !header[i].contains("seconds"))
            .collect();
        let mut out = String::new();
        for line in text.lines() {
            let fields: Vec<&str> = line.split(',').collect();
            out += &keep
                .iter()
                .map(|&i| fields[i])
                .collect::<Vec<_>>()
                .join(",");
            out.push('\n');
        }
        return out.into_bytes();
    }
    bytes
}

/// Runs one case with `threads` threads; returns each compared file.
fn run(case: &Case, threads: &str, data: &Path, out: &Path) -> Vec<(String, Vec<u8>)> {
    let args: Vec<String> = case
        .args
        .iter()
        .map(|a| {
            a.replace("{out}", s(out))
                .replace("{data}", s(data))
                .replace("{golden}", "tests/golden")
        })
        .collect();
    std::fs::create_dir_all(out).unwrap();
    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
    args.extend(["--threads", threads, "-q"]);
    let stdout = ok(&gmm(&args));
    case.files
        .iter()
        .map(|f| {
            let bytes = if *f == "stdout.json" {
                stdout.clone().into_bytes()
            } else {
                std::fs::read(out.join(f)).unwrap_or_else(|e| panic!("{}: {f}: {e}", case.name))
            };
            (f.to_string(), comparable(f, bytes))
        })
        .collect()
}

#[test]
fn outputs_match_the_golden_files() {
    let bless = std::env::var_os("GMM_BLESS").is_some();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    write_inputs(&data);
    for case in CASES {
        for threads in ["1", "3"] {
            let out = tmp.path().join(format!("{}-{threads}", case.name));
            let files = run(case, threads, &data, &out);
            for (name, bytes) in files {
                let path = golden_dir().join(case.name).join(&name);
                if bless && threads == "1" {
                    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                    std::fs::write(&path, &bytes).unwrap();
                    continue;
                }
                let want = std::fs::read(&path).unwrap_or_else(|e| {
                    panic!(
                        "{}: {e} (GMM_BLESS=1 writes the golden files)",
                        path.display()
                    )
                });
                assert!(
                    want == bytes,
                    "{} with {threads} threads: {name} differs from {}",
                    case.name,
                    path.display()
                );
            }
        }
    }
}
