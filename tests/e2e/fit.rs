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
    assert_eq!(header, ["component", "probability", "proba_0", "proba_1"]);
    assert_eq!(rows.len(), 1000, "one row per input row");
    for r in &rows {
        let p0: f64 = r[2].parse().unwrap();
        let p1: f64 = r[3].parse().unwrap();
        assert!((p0 + p1 - 1.0).abs() < 1e-12);
        let c: usize = r[0].parse().unwrap();
        assert_eq!(c, usize::from(p1 > p0));
        assert_eq!(r[1].parse::<f64>().unwrap(), p0.max(p1));
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
