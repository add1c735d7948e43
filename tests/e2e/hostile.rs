//! What a hostile afternoon found: inputs that were read wrongly or lost
//! without a word, each class checked where it used to slip through. Every
//! case ends with a clear one-line message (exit status as documented and
//! nothing written) or a correct result that says what it did.

use std::sync::Arc;

use gmm_io::arrow::array::{ArrayRef, Float64Array};

use crate::common::*;

/// 300 rows of two clusters in `x1`, `x2`, as CSV lines (no header).
pub fn blob_lines() -> Vec<String> {
    let mut rng = Rng(11);
    (0..300)
        .map(|i| {
            let c = if i % 2 == 0 { 0.0 } else { 5.0 };
            format!("{:.6},{:.6}", c + rng.normal(), c + rng.normal())
        })
        .collect()
}

/// A column that is numbers but for one odd token in its first rows was
/// taken as text and left out of the features, and the fit went on with
/// the others. Now the odd value is an error naming file, column, row and
/// value; a column of real text is left out and said so.
#[test]
fn a_numeric_column_with_an_odd_value_is_an_error_not_a_dropped_column() {
    let tmp = tempfile::tempdir().unwrap();
    let with_odd = |odd: &str| {
        let mut lines = blob_lines();
        let (x1, _) = lines[6].split_once(',').unwrap();
        lines[6] = format!("{x1},{odd}");
        format!("x1,x2\n{}\n", lines.join("\n"))
    };
    for odd in ["NA", "0x10", "1_000", "n/a", "Infinity"] {
        let mut lines = blob_lines();
        // Data row 7 (1-based, the header not counted).
        let (x1, _) = lines[6].split_once(',').unwrap();
        lines[6] = format!("{x1},{odd}");
        let path = tmp.path().join("odd.csv");
        std::fs::write(&path, format!("x1,x2\n{}\n", lines.join("\n"))).unwrap();
        let out = tmp.path().join("run");
        let o = gmm(&["fit", "--input", s(&path), "-k", "2", "--out", s(&out)]);
        let shown = if odd == "Infinity" {
            "(inf)".to_string()
        } else {
            format!("`{odd}`")
        };
        fails(&o, 1, &["odd.csv", "`x2`", "row 7", &shown]);
        assert!(!out.exists(), "{odd}: nothing written");
    }
    // Blanks around a number are the number (Arrow's reader trims them):
    // the same fit as without them, on both columns.
    let mut models = Vec::new();
    for (name, value) in [("spaced", " 1.5 "), ("plain", "1.5")] {
        let path = tmp.path().join(format!("{name}.csv"));
        std::fs::write(&path, with_odd(value)).unwrap();
        let out = tmp.path().join(name);
        ok(&gmm(&[
            "fit",
            "--input",
            s(&path),
            "-k",
            "2",
            "--no-plots",
            "-q",
            "--out",
            s(&out),
        ]));
        let run = read_json(&out.join("run.json"));
        assert_eq!(run["data"]["columns"], serde_json::json!(["x1", "x2"]));
        models.push(read_json(&out.join("model.json"))["means"].clone());
    }
    assert_eq!(models[0], models[1]);

    // A text column is not a feature, and the fit says so.
    let mut lines = blob_lines();
    for (i, l) in lines.iter_mut().enumerate() {
        *l = format!("{l},name{i}");
    }
    let path = tmp.path().join("named.csv");
    std::fs::write(&path, format!("x1,x2,who\n{}\n", lines.join("\n"))).unwrap();
    let out = tmp.path().join("named");
    let text = ok(&gmm(&[
        "fit",
        "--input",
        s(&path),
        "-k",
        "2",
        "--no-plots",
        "--out",
        s(&out),
    ]));
    assert!(
        text.lines()
            .any(|l| l.starts_with("skipped columns") && l.contains("who (string")),
        "{text}"
    );
    let run = read_json(&out.join("run.json"));
    assert_eq!(run["data"]["columns"], serde_json::json!(["x1", "x2"]));
    assert_eq!(run["data"]["skipped_columns"][0]["column"], "who");
    assert_eq!(run["data"]["skipped_columns"][0]["data_type"], "string");
}

/// Two columns of one name: the first was read for both, and the model
/// file was then refused by gmm's own predict. Refused up front, in every
/// format.
#[test]
fn duplicate_column_names_are_refused_in_every_format() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("dup.csv");
    let lines = blob_lines();
    std::fs::write(&csv, format!("x,x\n{}\n", lines.join("\n"))).unwrap();
    let mut rng = Rng(3);
    let col = |rng: &mut Rng| {
        Arc::new(Float64Array::from(
            (0..100).map(|_| rng.normal()).collect::<Vec<_>>(),
        )) as ArrayRef
    };
    let parquet = tmp.path().join("dup.parquet");
    write_parquet(
        &parquet,
        vec![
            ("x", col(&mut rng)),
            ("y", col(&mut rng)),
            ("x", col(&mut rng)),
        ],
    );
    for (path, needle) in [(&csv, "columns 1 and 2"), (&parquet, "columns 1 and 3")] {
        for columns in [None, Some("y")] {
            let out = tmp.path().join("run");
            let mut args = vec!["fit", "--input", s(path), "-k", "2", "--out", s(&out)];
            if let Some(c) = columns.filter(|_| path == &parquet) {
                args.extend(["--columns", c]);
            }
            let o = gmm(&args);
            fails(&o, 1, &[s(path), needle, "both named `x`"]);
            assert!(!out.exists());
        }
    }
}

/// Rows uniformly weighted 1e-20 fitted with a mean log-likelihood of
/// -2211 instead of -3.47 (and 1e-310 gave covariances equal to
/// reg_covar): only the weights' ratios may matter. Weights too small or
/// too large to compute with are refused, naming what to do.
#[test]
fn the_size_of_uniform_weights_does_not_change_the_fit() {
    let tmp = tempfile::tempdir().unwrap();
    let lines = blob_lines();
    let fit = |w: &str| {
        let path = tmp.path().join(format!("w{w}.csv"));
        let rows: Vec<String> = lines.iter().map(|l| format!("{l},{w}")).collect();
        std::fs::write(&path, format!("x1,x2,w\n{}\n", rows.join("\n"))).unwrap();
        let out = tmp.path().join(format!("run{w}"));
        let o = gmm(&[
            "fit",
            "--input",
            s(&path),
            "--weight-column",
            "w",
            "-k",
            "2",
            "--no-plots",
            "--json",
            "--out",
            s(&out),
        ]);
        (o, out)
    };
    let (o, _) = fit("1");
    let unit: serde_json::Value = serde_json::from_str(&ok(&o)).unwrap();
    for w in ["1e-20", "1e20"] {
        let (o, _) = fit(w);
        let scaled: serde_json::Value = serde_json::from_str(&ok(&o)).unwrap();
        let (a, b) = (
            unit["mean_log_likelihood"].as_f64().unwrap(),
            scaled["mean_log_likelihood"].as_f64().unwrap(),
        );
        assert!((a - b).abs() < 1e-9 * a.abs(), "weight {w}: {a} vs {b}");
        let flat = |v: &serde_json::Value| -> Vec<f64> {
            v.as_array().unwrap().iter().flat_map(f64s).collect()
        };
        let (ma, mb) = (flat(&unit["means"]), flat(&scaled["means"]));
        for (x, y) in ma.iter().zip(&mb) {
            assert!((x - y).abs() < 1e-9 * (1.0 + x.abs()), "weight {w}: means");
        }
    }
    let (o, out) = fit("1e-310");
    fails(
        &o,
        1,
        &["weights add up to", "only their ratios matter", "multiply"],
    );
    assert!(!out.exists());
}

/// Values around 1e154 (whose squares overflow) panicked in every
/// initialization and in `select`. They are refused with the row, column
/// and what to do.
#[test]
fn values_too_large_to_square_are_refused_not_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let mut lines = blob_lines();
    lines[41] = "3e154,1.0".into();
    let path = tmp.path().join("huge.csv");
    std::fs::write(&path, format!("x1,x2\n{}\n", lines.join("\n"))).unwrap();
    let out = tmp.path().join("run");
    for init in [
        "kmeans",
        "kmeans++",
        "random",
        "random-from-data",
        "random-params",
    ] {
        let o = gmm(&[
            "fit",
            "--input",
            s(&path),
            "-k",
            "2",
            "--init",
            init,
            "--out",
            s(&out),
        ]);
        fails(
            &o,
            1,
            &["huge.csv", "`x1`", "row 42", "too large", "rescale"],
        );
        assert!(!out.exists());
    }
    let o = gmm(&[
        "select",
        "--input",
        s(&path),
        "--components",
        "1..3",
        "--out",
        s(&out),
    ]);
    fails(&o, 1, &["huge.csv", "`x1`", "too large"]);
    assert!(!out.exists());
}

/// `--n-init 1000000000000` aborted on a 416 TB allocation, `--threads
/// 100000` spent minutes starting threads: absurd counts are usage errors
/// naming the limit, before any work.
#[test]
fn absurd_counts_are_refused_naming_the_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let base = ["fit", "configs/customers.toml", "--out", s(&out)];
    for (flag, value, needles) in [
        (
            "--n-init",
            "1000000000000",
            ["--n-init / [fit] n_init", "100000"],
        ),
        (
            "-k",
            "1000000000000",
            ["--components / [model] components", "100000"],
        ),
        (
            "--chunk-rows",
            "1000000000000",
            ["--chunk-rows / [fit] chunk_rows", "16777216"],
        ),
        ("--threads", "100000", ["--threads", "4096"]),
    ] {
        let mut args = base.to_vec();
        args.extend([flag, value]);
        let started = std::time::Instant::now();
        let o = gmm(&args);
        fails(&o, 2, &needles);
        assert!(started.elapsed().as_secs() < 10, "{flag}: refused at once");
        assert!(!out.exists());
    }
}

/// `/dev/zero` (or any file without line ends) read as CSV grew memory
/// without bound. A device or pipe is refused, and a line past 64 MiB ends
/// the read with a message.
#[test]
fn a_file_without_line_ends_is_refused_not_read_forever() {
    let tmp = tempfile::tempdir().unwrap();
    let zero = tmp.path().join("zero.csv");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let run = tmp.path().join("run");
    let started = std::time::Instant::now();
    let o = gmm(&["fit", "--input", s(&zero), "-k", "2", "--out", s(&run)]);
    fails(&o, 1, &["zero.csv", "not a regular file"]);
    let long = tmp.path().join("long.csv");
    std::fs::write(&long, vec![b'7'; (64 << 20) + 1024]).unwrap();
    let o = gmm(&["fit", "--input", s(&long), "-k", "2", "--out", s(&run)]);
    fails(&o, 1, &["long.csv", "runs past 64 MiB"]);
    assert!(started.elapsed().as_secs() < 30);
    assert!(!run.exists());
}

/// Refitting a converged model with `--init-model` and `--max-iter 1`
/// never reported convergence although the log-likelihood did not move;
/// scikit-learn's warm start does. The warm restart's first iteration is
/// compared with the lower bound the model file records.
#[test]
fn a_warm_start_from_a_converged_model_converges_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let first = tmp.path().join("first");
    ok(&gmm(&[
        "fit",
        "configs/customers.toml",
        "--semi-supervised",
        "off",
        "--n-init",
        "1",
        "--tol",
        "1e-8",
        "--max-iter",
        "500",
        "--no-plots",
        "-q",
        "--out",
        s(&first),
    ]));
    assert_eq!(read_json(&first.join("model.json"))["converged"], true);
    let again = tmp.path().join("again");
    let text = ok(&gmm(&[
        "fit",
        "configs/customers.toml",
        "--semi-supervised",
        "off",
        "--init-model",
        s(&first.join("model.json")),
        "--n-init",
        "1",
        "--max-iter",
        "1",
        "--no-plots",
        "--json",
        "--out",
        s(&again),
    ]));
    let summary: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(summary["converged"], true, "{text}");
    assert_eq!(summary["n_iter"], 1);
}

/// A component held positive definite only by reg_covar (here: one that
/// sits on 30 identical rows) is flagged in the selection table and
/// selection.csv, where a criterion could otherwise reward it unseen.
#[test]
fn components_at_the_variance_floor_are_flagged_in_select() {
    let tmp = tempfile::tempdir().unwrap();
    let mut lines = blob_lines();
    let clean = lines.clone();
    lines.extend(std::iter::repeat_n("12.5,-7.25".to_string(), 30));
    for (name, rows, floored) in [("floor", &lines, "true"), ("clean", &clean, "false")] {
        let csv = tmp.path().join(format!("{name}.csv"));
        std::fs::write(&csv, format!("x1,x2\n{}\n", rows.join("\n"))).unwrap();
        let out = tmp.path().join(name);
        let text = ok(&gmm(&[
            "select",
            "--input",
            s(&csv),
            "--components",
            "3",
            "--covariance",
            "full",
            "--n-init",
            "3",
            "-q",
            "--out",
            s(&out),
        ]));
        let (header, body) = read_csv(&out.join("selection.csv"));
        let col = header
            .iter()
            .position(|h| h == "at_variance_floor")
            .unwrap();
        assert_eq!(body[0][col], floored, "{name}: {text}");
        assert_eq!(text.contains("variance floor"), floored == "true", "{text}");
    }
}

/// A damaged Parquet file whose decoder panics (a negative column start,
/// found by the cargo-fuzz target `parquet_reader`): gmm-io turns the panic
/// into an error, and the panic hook stayed loud anyway, printing "internal
/// error ... this is a bug in gmm" before the real message (and, under
/// MPI, aborting the job). One line now, the file's.
#[test]
fn a_decoder_panic_on_a_damaged_file_is_one_error_line() {
    let tmp = tempfile::tempdir().unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_gmm"))
        .env("GMM_LOG_FORMAT", "none")
        .args([
            "fit",
            "--input",
            "tests/data/corrupt/negative-column-start.parquet",
            "-k",
            "2",
            "--columns",
            "x1",
            "--label-column",
            "label_dict",
            "--out",
            s(&tmp.path().join("run")),
        ])
        .current_dir(root())
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap();
    fails(
        &o,
        1,
        &["negative-column-start.parquet: cannot decode the file"],
    );
    assert!(!stderr(&o).contains("internal error"), "{}", stderr(&o));
}

/// A damaged page header that sends the decoder past the end of the file:
/// the parquet crate's reader for files asked the OS for one byte at a
/// time there (about 400,000 `read` calls, 12 s for this 6 KB file, found
/// by the cargo-fuzz target `parquet_reader`). gmm's reader stops at the
/// file's length; the file is refused with one line.
#[test]
fn a_page_that_reads_past_the_end_is_one_error_line() {
    let tmp = tempfile::tempdir().unwrap();
    let o = gmm(&[
        "fit",
        "--input",
        s(&root().join("tests/data/corrupt/page-past-the-end.parquet")),
        "-k",
        "2",
        "--out",
        s(&tmp.path().join("run")),
    ]);
    fails(
        &o,
        1,
        &["page-past-the-end.parquet: cannot decode the Parquet data"],
    );
    assert!(!tmp.path().join("run").exists());
}
