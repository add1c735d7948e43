//! What a hostile afternoon found: inputs that were read wrongly or lost
//! without a word, each class checked where it used to slip through. Every
//! case ends with a clear one-line message (exit status as documented and
//! nothing written) or a correct result that says what it did.

use std::sync::Arc;

use gmm_io::arrow::array::{ArrayRef, Float64Array};

use crate::common::*;

/// 300 rows of two clusters in `x1`, `x2`, as CSV lines (no header).
fn blob_lines() -> Vec<String> {
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

/// Whether process `pid` catches SIGTERM yet (Linux: /proc/PID/status).
fn catches_sigterm(pid: u32) -> bool {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return false;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << (15 - 1)) != 0)
}

/// SIGTERM while a command was starting or loading its table ended it by
/// the signal (status 143) with no message, and `predict` said "the fit
/// was interrupted". Every command catches it from the start and ends with
/// 130, naming itself, leaving nothing.
#[test]
fn an_interrupt_at_any_phase_ends_with_130_naming_the_command() {
    use std::process::{Command, Stdio};
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("model");
    ok(&gmm(&[
        "fit",
        "configs/customers.toml",
        "--no-plots",
        "-q",
        "--out",
        s(&model),
    ]));
    let model_json = model.join("model.json");
    let out = tmp.path().join("out.csv");
    let run = tmp.path().join("run");
    // Large enough (1M rows) that every command is still reading it when
    // the signal comes.
    let big = tmp.path().join("big.csv");
    let mut text = String::from("x1,x2\n");
    for i in 0..1_000_000u32 {
        text.push_str(&format!("{},{}\n", i % 1013, i % 997));
    }
    std::fs::write(&big, text).unwrap();
    let input = s(&big);
    let commands: Vec<(&str, Vec<&str>)> = vec![
        (
            "fit",
            vec!["fit", "--input", input, "-k", "2", "--out", s(&run)],
        ),
        (
            "select",
            vec![
                "select",
                "--input",
                input,
                "--components",
                "1..3",
                "--out",
                s(&run),
            ],
        ),
        (
            "predict",
            vec![
                "predict",
                "--model",
                s(&model_json),
                "--input",
                input,
                "--out",
                s(&out),
            ],
        ),
        (
            "score",
            vec!["score", "--model", s(&model_json), "--input", input],
        ),
        (
            "sample",
            vec![
                "sample",
                "--model",
                s(&model_json),
                "-n",
                "100000000",
                "--out",
                s(&out),
            ],
        ),
    ];
    for (name, args) in commands {
        let mut child = Command::new(env!("CARGO_BIN_EXE_gmm"))
            .args(&args)
            .current_dir(root())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        while !catches_sigterm(child.id()) {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            assert!(started.elapsed().as_secs() < 20, "{name}: no handler");
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let killed = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(130), "{name}: {}", stderr(&o));
        fails(&o, 130, &[&format!("gmm {name} was interrupted")]);
        assert!(!run.exists() && !out.exists(), "{name}: nothing written");
    }
}

/// `predict --out a.csv --input a.csv` replaced the table with its
/// predictions; a run directory inside a Parquet dataset's directory made
/// the next read of the dataset fail. Outputs on inputs are refused before
/// any work, and the input is untouched.
#[test]
fn an_output_over_an_input_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("a.csv");
    std::fs::write(&csv, format!("x1,x2\n{}\n", blob_lines().join("\n"))).unwrap();
    let before = std::fs::read(&csv).unwrap();
    let model = tmp.path().join("m");
    ok(&gmm(&[
        "fit",
        "--input",
        s(&csv),
        "-k",
        "2",
        "--no-plots",
        "-q",
        "--out",
        s(&model),
    ]));
    let model_json = model.join("model.json");
    let o = gmm(&[
        "predict",
        "--model",
        s(&model_json),
        "--input",
        s(&csv),
        "--out",
        s(&csv),
    ]);
    fails(&o, 2, &["a.csv", "would write over the input"]);
    assert_eq!(std::fs::read(&csv).unwrap(), before);

    // A run directory inside a dataset directory, and one whose
    // predictions would replace the input.
    let set = tmp.path().join("set");
    std::fs::create_dir(&set).unwrap();
    let mut rng = Rng(5);
    let col = |rng: &mut Rng| {
        Arc::new(Float64Array::from(
            (0..100).map(|_| rng.normal()).collect::<Vec<_>>(),
        )) as ArrayRef
    };
    write_parquet(
        &set.join("part-0.parquet"),
        vec![("x1", col(&mut rng)), ("x2", col(&mut rng))],
    );
    let inside = set.join("run");
    let o = gmm(&["fit", "--input", s(&set), "-k", "2", "--out", s(&inside)]);
    fails(&o, 2, &["inside the input directory"]);
    assert!(!inside.exists());
    let glob = format!("{}/*.parquet", set.display());
    let o = gmm(&[
        "predict",
        "--model",
        s(&model_json),
        "--input",
        &glob,
        "--out",
        s(&set.join("more.parquet")),
    ]);
    fails(&o, 2, &["where the input pattern", "reads"]);
    let o = gmm(&[
        "fit",
        "--input",
        s(&model.join("predictions.parquet")),
        "--columns",
        "proba_0",
        "-k",
        "1",
        "--out",
        s(&model),
    ]);
    fails(
        &o,
        2,
        &["would write over the input", "predictions.parquet"],
    );
}

/// `--id-column component` wrote two columns named `component`, which
/// pandas cannot read: refused, in fit before the work and in predict.
#[test]
fn an_id_column_named_as_an_output_column_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let lines: Vec<String> = blob_lines()
        .iter()
        .enumerate()
        .map(|(i, l)| format!("{l},{i}"))
        .collect();
    let csv = tmp.path().join("ids.csv");
    for id in ["component", "probability", "proba_1"] {
        std::fs::write(&csv, format!("x1,x2,{id}\n{}\n", lines.join("\n"))).unwrap();
        let run = tmp.path().join("run");
        let o = gmm(&[
            "fit",
            "--input",
            s(&csv),
            "--columns",
            "x1,x2",
            "-k",
            "2",
            "--id-column",
            id,
            "--out",
            s(&run),
        ]);
        fails(&o, 2, &[&format!("id column `{id}`"), "rename"]);
        assert!(!run.exists());
    }
    // Named otherwise, the same column is copied through.
    std::fs::write(&csv, format!("x1,x2,proba_7\n{}\n", lines.join("\n"))).unwrap();
    let run = tmp.path().join("run");
    ok(&gmm(&[
        "fit",
        "--input",
        s(&csv),
        "--columns",
        "x1,x2",
        "-k",
        "2",
        "--id-column",
        "proba_7",
        "--no-plots",
        "-q",
        "--predictions-format",
        "csv",
        "--out",
        s(&run),
    ]));
    let (header, _) = read_csv(&run.join("predictions.csv"));
    assert_eq!(header[..3], ["proba_7", "component", "probability"]);
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

/// Messages that were wrong or vague: each now names what is wrong, where,
/// and what to do.
#[test]
fn messages_name_the_file_the_key_and_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("blobs.csv");
    std::fs::write(&csv, format!("x1,x2\n{}\n", blob_lines().join("\n"))).unwrap();
    let run = tmp.path().join("run");
    let fit = |extra: &[&str]| {
        let mut a = vec!["fit", "--input", s(&csv), "-k", "2", "--out", s(&run)];
        a.extend(extra);
        gmm(&a)
    };
    // A quote or a line end cannot be a delimiter.
    fails(&fit(&["--delimiter", "\""]), 2, &["cannot separate fields"]);
    fails(&fit(&["--delimiter", "\n"]), 2, &["cannot separate fields"]);
    // Blanks around a header name: suggested, and shown in backticks.
    let spaced = tmp.path().join("spaced.csv");
    std::fs::write(&spaced, format!(" x1 ,x2\n{}\n", blob_lines().join("\n"))).unwrap();
    let o = gmm(&[
        "fit",
        "--input",
        s(&spaced),
        "--columns",
        "x1,x2",
        "-k",
        "2",
        "--out",
        s(&run),
    ]);
    fails(
        &o,
        1,
        &["did you mean ` x1 `?", "the columns are: ` x1 `, `x2`"],
    );
    // Config values: the file named, the key named, empty paths refused.
    let config = |name: &str, text: &str| {
        let p = tmp.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let head = format!("[data]\ninput = \"{}\"\n", csv.display());
    let c = config(
        "neg.toml",
        &format!("{head}[model]\ncomponents = 2\nreg_covar = -1\n"),
    );
    let o = gmm(&["fit", s(&c), "--out", s(&run)]);
    fails(
        &o,
        2,
        &["neg.toml: --reg-covar / [model] reg_covar", "non-negative"],
    );
    let c = config("k.toml", &format!("{head}[model]\ncomponents = -3\n"));
    let o = gmm(&["fit", s(&c), "--out", s(&run)]);
    fails(
        &o,
        2,
        &[
            "k.toml: --components / [model] components",
            "`-3` is not a whole number",
        ],
    );
    let c = config(
        "dir.toml",
        &format!("{head}[model]\ncomponents = 2\n[output]\ndir = \"\"\n"),
    );
    let o = gmm(&["fit", s(&c)]);
    fails(&o, 2, &["dir.toml: [output] dir is empty"]);
    assert!(!run.exists());
    // A model file whose version is text.
    let model = tmp.path().join("m");
    ok(&gmm(&[
        "fit",
        "--input",
        s(&csv),
        "-k",
        "2",
        "--no-plots",
        "-q",
        "--out",
        s(&model),
    ]));
    let text = std::fs::read_to_string(model.join("model.json")).unwrap();
    let bad = tmp.path().join("bad.json");
    std::fs::write(
        &bad,
        text.replacen("\"version\": 1", "\"version\": \"1\"", 1),
    )
    .unwrap();
    let o = gmm(&["inspect", s(&bad)]);
    fails(
        &o,
        1,
        &["bad.json", "is the text \"1\"; it must be the number 1"],
    );
    // A huge total weight is written as a number people read.
    let heavy = tmp.path().join("heavy.csv");
    let rows: Vec<String> = blob_lines().iter().map(|l| format!("{l},1e140")).collect();
    std::fs::write(&heavy, format!("x1,x2,w\n{}\n", rows.join("\n"))).unwrap();
    let out = ok(&gmm(&[
        "score",
        "--model",
        s(&model.join("model.json")),
        "--input",
        s(&heavy),
        "--weight-column",
        "w",
    ]));
    let line = out.lines().find(|l| l.starts_with("total weight")).unwrap();
    assert!(line.contains("e142") && line.len() < 60, "{line}");
    assert!(out.lines().all(|l| l.len() < 60), "{out}");
}

/// `select --validation-fraction 0.99` on a few rows blamed "0 rows with
/// positive weight"; the cells now say the hold-out left too few rows.
#[test]
fn a_hold_out_that_leaves_too_few_rows_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("few.csv");
    std::fs::write(&csv, "x1,x2\n0,1\n1,0\n2,2\n3,1\n").unwrap();
    let o = gmm(&[
        "select",
        "--input",
        s(&csv),
        "--components",
        "1..2",
        "--validation-fraction",
        "0.99",
        "--out",
        s(&tmp.path().join("sel")),
    ]);
    let err = stderr(&o);
    assert_ne!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("holding out") && err.contains("--validation-fraction"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}
