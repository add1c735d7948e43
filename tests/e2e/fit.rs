//! `gmm fit` on the customer example.

use crate::common::*;

#[test]
fn semi_supervised_customer_example_writes_a_complete_run() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let stdout = ok(&gmm(&[
        "fit",
        "configs/customers-semi.toml",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]));
    assert!(stdout.contains("converged            true"), "{stdout}");
    assert_eq!(
        files_in(&out),
        [
            "clusters.svg",
            "model.json",
            "predictions.csv",
            "run.json",
            "trace.csv",
            "trace.svg"
        ]
    );

    let model = read_json(&out.join("model.json"));
    assert_eq!(model["format"], "gmm-model");
    assert_eq!(model["version"], 1);
    assert_eq!(model["covariance_type"], "full");
    assert_eq!(model["columns"], serde_json::json!(["x1", "x2"]));
    assert_eq!(model["classes"], serde_json::json!(["0", "1"]));
    assert_eq!(model["n_rows"], 1100);
    let w: Vec<f64> = model["weights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    // Class 0 customers sit at negative x, class 1 at positive x.
    assert!(
        model["means"][0][0].as_f64().unwrap() < 0.0
            && model["means"][1][0].as_f64().unwrap() > 0.0
    );

    let (header, rows) = read_csv(&out.join("predictions.csv"));
    // The class of each row's component beside it, as the labels were
    // written (integers).
    assert_eq!(
        header,
        [
            "component",
            "class",
            "probability",
            "proba_0",
            "proba_1",
            "uncertainty"
        ]
    );
    // mclust's uncertainty: 1 - the row's largest probability.
    for r in &rows {
        let p: f64 = r[2].parse().unwrap();
        let u: f64 = r[5].parse().unwrap();
        assert!((u - (1.0 - p)).abs() < 1e-12, "{r:?}");
    }
    assert_eq!(model["label_type"], "Int64");
    assert_eq!(rows.len(), 1000, "one row per input row");
    for r in &rows {
        let p0: f64 = r[3].parse().unwrap();
        let p1: f64 = r[4].parse().unwrap();
        assert!((p0 + p1 - 1.0).abs() < 1e-12);
        let c: usize = r[0].parse().unwrap();
        assert_eq!(c, usize::from(p1 > p0));
        assert_eq!(r[1], model["classes"][c].as_str().unwrap());
        assert_eq!(r[2].parse::<f64>().unwrap(), p0.max(p1));
    }

    let (header, trace) = read_csv(&out.join("trace.csv"));
    assert_eq!(header, ["restart", "iteration", "mean_log_likelihood"]);
    assert!(!trace.is_empty());
    let run = read_json(&out.join("run.json"));
    assert_eq!(run["settings"]["model"]["components"], 2);
    assert_eq!(run["restarts"].as_array().unwrap().len(), 5);
}

#[test]
fn flags_reproduce_the_tutorial_and_agree_with_scikit_learn() {
    // The tutorial's recipe by flags alone; scikit-learn's labels for the
    // same start are in the reference fixture.
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    ok(&gmm(&[
        "fit",
        "--input",
        "data/customers/unlabeled.csv",
        "--labeled",
        "data/customers/labeled.csv",
        "--columns",
        "x1,x2",
        "--label-column",
        "y",
        "-k",
        "2",
        "--semi-supervised",
        "init",
        "--predictions-format",
        "csv",
        "--out",
        out.to_str().unwrap(),
    ]));
    let fixture = read_json(&root().join("tests/data/sklearn/semi_init_customers.json"));
    let want: Vec<u64> = fixture["result"]["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    let (_, rows) = read_csv(&out.join("predictions.csv"));
    let got: Vec<u64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    assert_eq!(got, want, "labels agree with scikit-learn on every row");
    let model = read_json(&out.join("model.json"));
    let want_means = &fixture["result"]["means"];
    for k in 0..2 {
        for j in 0..2 {
            let (g, w) = (
                model["means"][k][j].as_f64().unwrap(),
                want_means[k][j].as_f64().unwrap(),
            );
            assert!((g - w).abs() <= 1e-9 * w.abs(), "mean {k},{j}: {g} vs {w}");
        }
    }
    assert_eq!(model["n_rows"], 1000, "init mode fits the unlabeled rows");
}

#[test]
fn every_shipped_config_runs() {
    let tmp = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(root().join("configs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if name.starts_with("large") {
            // Needs a generated table; covered by its own test.
            continue;
        }
        let out = tmp.path().join(&name);
        // Model-selection configs are run by `gmm select`.
        let text = std::fs::read_to_string(&path).unwrap();
        let select = text.lines().any(|l| l.trim() == "[select]");
        let command = if select { "select" } else { "fit" };
        ok(&gmm(&[
            command,
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "-q",
        ]));
        let model = if select {
            out.join("winner/model.json")
        } else {
            out.join("model.json")
        };
        assert!(model.exists(), "{name}");
    }
}

#[test]
fn unknown_config_key_is_a_usage_error_with_a_suggestion() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("bad.toml");
    std::fs::write(&cfg, "[data]\ninput = \"x.csv\"\n\n[fit]\nn_inits = 10\n").unwrap();
    let out = tmp.path().join("run");
    let o = gmm(&["fit", cfg.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    fails(
        &o,
        2,
        &["bad.toml", "line 5", "`n_inits`", "did you mean `n_init`"],
    );
    assert!(!out.exists(), "no output on error");
}

#[test]
fn missing_column_names_the_closest() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let o = gmm(&[
        "fit",
        "--input",
        "data/customers/unlabeled.csv",
        "--columns",
        "x1,X2",
        "-k",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    fails(
        &o,
        1,
        &["unlabeled.csv", "no column `X2`", "did you mean `x2`"],
    );
    assert!(!out.exists());
}

/// `max_seconds`: a budget that runs out stops every restart after its
/// iteration and keeps the best so far, from the flag or the config, and
/// says so in the summary and run.json.
#[test]
fn a_time_budget_stops_the_fit_and_says_why() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("budget.toml");
    std::fs::write(
        &config,
        format!(
            "[data]\ninput = \"{}\"\n[model]\ncomponents = 3\n[fit]\nn_init = 3\ntol = 0.0\nmax_iter = 100000\nmax_seconds = 1e-9\n",
            root().join("tests/data/blobs3d.csv").display()
        ),
    )
    .unwrap();
    let from_config = tmp.path().join("config");
    let from_flag = tmp.path().join("flag");
    let base = ["--no-plots", "--predictions-format", "csv"];
    let mut args = vec!["fit", s(&config), "--out", s(&from_config)];
    args.extend(base);
    let stdout = ok(&gmm(&args));
    assert!(
        stdout.contains("stopped early") && stdout.contains("max_seconds"),
        "{stdout}"
    );
    let mut args = vec![
        "fit",
        "--input",
        "tests/data/blobs3d.csv",
        "-k",
        "3",
        "--n-init",
        "3",
        "--tol",
        "0",
        "--max-iter",
        "100000",
        "--max-seconds",
        "1e-9",
        "--out",
        s(&from_flag),
    ];
    args.extend(base);
    ok(&gmm(&args));
    for dir in [&from_config, &from_flag] {
        let run = read_json(&dir.join("run.json"));
        assert_eq!(run["settings"]["fit"]["max_seconds"], 1e-9);
        let reason = run["result"]["stop_reason"].as_str().unwrap();
        assert!(
            reason.contains("max_seconds") && reason.contains("3 restart(s)"),
            "{reason}"
        );
        assert_eq!(run["result"]["converged"], false);
        for r in run["restarts"].as_array().unwrap() {
            assert_eq!(r["numerical_events"]["ending"], "time_limit", "{r}");
            assert_eq!(r["n_iter"], 1, "{r}");
            // The budget bounds the k-means starts too: no Lloyd iteration
            // begins after it ran out.
            assert_eq!(r["init"], "kmeans (0 Lloyd iterations)", "{r}");
        }
        assert_eq!(read_json(&dir.join("model.json"))["converged"], false);
    }
    // Without a budget the same fit runs on and records no reason.
    let full = tmp.path().join("full");
    ok(&gmm(&[
        "fit",
        "--input",
        "tests/data/blobs3d.csv",
        "-k",
        "3",
        "--n-init",
        "3",
        "--max-iter",
        "5",
        "--no-plots",
        "--out",
        s(&full),
    ]));
    let run = read_json(&full.join("run.json"));
    assert!(run["result"]["stop_reason"].is_null());
    assert_eq!(
        run["settings"]["fit"]["max_seconds"],
        serde_json::Value::Null
    );
    // A budget that is not a positive number of seconds is refused up front.
    for (bad, why) in [
        ("0", "positive number of seconds"),
        ("-1", "positive number of seconds"),
        ("inf", "not a finite number"),
    ] {
        let o = gmm(&[
            "fit",
            "--input",
            "tests/data/blobs3d.csv",
            "-k",
            "3",
            &format!("--max-seconds={bad}"),
            "--out",
            s(&tmp.path().join("bad")),
        ]);
        fails(&o, 2, &["--max-seconds / [fit] max_seconds", why]);
    }
}
