//! run.json: the resolved settings, timings, restarts and data of a run.

use crate::common::*;

#[test]
fn run_file_is_complete() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    ok(&gmm(&[
        "fit",
        "configs/customers-semi.toml",
        "--out",
        out.to_str().unwrap(),
        "--threads",
        "2",
        "-q",
    ]));
    let run = read_json(&out.join("run.json"));
    assert_eq!(run["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(run["threads"], 2);
    // Every setting, resolved, in the config file's sections.
    let s = &run["settings"];
    assert!(
        s["config"]
            .as_str()
            .unwrap()
            .ends_with("customers-semi.toml")
    );
    assert!(
        s["data"]["input"]
            .as_str()
            .unwrap()
            .ends_with("unlabeled.csv")
    );
    assert_eq!(s["data"]["columns"], serde_json::json!(["x1", "x2"]));
    assert_eq!(s["data"]["label_column"], "y");
    assert_eq!(s["model"]["covariance"], "full");
    assert_eq!(s["model"]["reg_covar"], 1e-6);
    assert_eq!(s["fit"]["n_init"], 5);
    assert_eq!(s["fit"]["max_iter"], 100);
    assert_eq!(s["fit"]["tol"], 1e-3);
    assert_eq!(s["fit"]["seed"], 0);
    assert_eq!(s["fit"]["threads"], 2);
    assert!(s["fit"]["chunk_rows"].as_u64().unwrap() > 0);
    assert_eq!(s["semi_supervised"]["mode"], "em");
    assert_eq!(s["semi_supervised"]["unlabeled_weight"], 1.0);
    assert_eq!(s["output"]["predictions_format"], "csv");
    assert_eq!(s["output"]["plots"], true);

    for phase in ["load", "fit", "predictions", "plots", "write", "total"] {
        let t = run["timings_seconds"][phase].as_f64().unwrap();
        assert!(t >= 0.0, "{phase}");
    }
    let total = run["timings_seconds"]["total"].as_f64().unwrap();
    let parts: f64 = ["load", "fit", "predictions", "plots", "write"]
        .iter()
        .map(|p| run["timings_seconds"][p].as_f64().unwrap())
        .sum();
    assert!(parts <= total + 1e-9, "{parts} > {total}");
    // Within the fit: the starts of every restart, then the first iteration.
    let t = |p: &str| run["timings_seconds"][p].as_f64().unwrap();
    assert!(t("initialization") >= 0.0 && t("first_iteration") >= 0.0);
    assert!(t("initialization") + t("first_iteration") <= t("fit") + 1e-9);

    assert_eq!(run["data"]["rows"], 1100);
    assert_eq!(run["data"]["input_rows"], 1000);
    assert_eq!(run["data"]["labeled_rows"], 100);
    assert_eq!(run["data"]["n_columns"], 2);

    let model = read_json(&out.join("model.json"));
    let restarts = run["restarts"].as_array().unwrap();
    assert_eq!(restarts.len(), 5);
    let best = run["best_restart"].as_u64().unwrap() as usize;
    let (_, trace) = read_csv(&out.join("trace.csv"));
    for (i, r) in restarts.iter().enumerate() {
        assert_eq!(r["restart"], i);
        assert_eq!(r["chosen"], i == best);
        assert!(r["converged"].is_boolean());
        assert!(!r["init"].as_str().unwrap().is_empty());
        let n_iter = r["n_iter"].as_u64().unwrap();
        // The final log-likelihood is the last point of the restart's trace.
        let last = trace.iter().rfind(|row| row[0] == i.to_string()).unwrap();
        assert_eq!(last[1], n_iter.to_string());
        // (serde_json's reader may round the last bit.)
        let (a, b) = (
            last[2].parse::<f64>().unwrap(),
            r["final_mean_log_likelihood"].as_f64().unwrap(),
        );
        assert!((a - b).abs() <= 4.0 * f64::EPSILON * a.abs(), "{a} vs {b}");
        let events = &r["numerical_events"];
        assert!(events["regularizations"].is_u64());
        assert!(events["reseeded_components"].is_u64());
    }
    assert_eq!(run["result"]["bic"], model["bic"]);
    assert_eq!(run["result"]["n_iter"], model["n_iter"]);
    let outputs: Vec<String> = run["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect();
    for f in files_in(&out) {
        assert!(
            outputs.iter().any(|o| o.ends_with(&f)),
            "{f} not in {outputs:?}"
        );
    }
}
