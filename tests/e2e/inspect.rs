//! `gmm inspect`: the summary of a model file, as text and as JSON.

use crate::common::*;

fn fitted_semi(tmp: &std::path::Path) -> std::path::PathBuf {
    let out = tmp.join("run");
    ok(&gmm(&[
        "fit",
        "configs/customers-semi.toml",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]));
    out.join("model.json")
}

#[test]
fn inspect_summarizes_components_fit_and_provenance() {
    let tmp = tempfile::tempdir().unwrap();
    let model_path = fitted_semi(tmp.path());
    let model = read_json(&model_path);
    let text = ok(&gmm(&["inspect", model_path.to_str().unwrap()]));
    for needle in [
        "format               gmm-model version 1",
        "covariance           full",
        "components           2",
        "columns              x1, x2",
        "classes              0, 1",
        "semi-supervised      em",
        "iterations",
        "BIC",
        "AIC",
        "rows                 1100",
        "component 0: weight",
        ", class 0",
        "component 1: weight",
        "largest correlation",
        "provenance",
        "seed                 0",
        "customers-semi.toml",
        "unlabeled.csv",
    ] {
        assert!(text.contains(needle), "lacks `{needle}`:\n{text}");
    }
    let w0 = model["weights"][0].as_f64().unwrap();
    assert!(
        text.contains(&format!("component 0: weight {w0:.6}")),
        "{text}"
    );
    // One line per column under each component: name, mean, std dev.
    assert_eq!(text.matches("std dev").count(), 2, "{text}");
    let x1_lines: Vec<&str> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("x1 "))
        .collect();
    assert_eq!(x1_lines.len(), 2, "{text}");
    let mean: f64 = x1_lines[0]
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let sd: f64 = x1_lines[0]
        .split_whitespace()
        .nth(2)
        .unwrap()
        .parse()
        .unwrap();
    let want_mean = model["means"][0][0].as_f64().unwrap();
    let want_sd = model["covariances"][0][0][0].as_f64().unwrap().sqrt();
    assert!((mean - want_mean).abs() < 1e-6 * want_mean.abs().max(1.0));
    assert!((sd - want_sd).abs() < 1e-6 * want_sd.max(1.0));

    // `--model` names the file as predict and score do: the same summary.
    let flagged = ok(&gmm(&["inspect", "--model", model_path.to_str().unwrap()]));
    assert_eq!(flagged, text);
    let both = gmm(&[
        "inspect",
        model_path.to_str().unwrap(),
        "--model",
        model_path.to_str().unwrap(),
    ]);
    assert_eq!(both.status.code(), Some(2));
    assert!(
        stderr(&both).contains("cannot be used with"),
        "{}",
        stderr(&both)
    );
    let json = ok(&gmm(&["inspect", model_path.to_str().unwrap(), "--json"]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["format"], "gmm-model");
    assert_eq!(v["version"], 1);
    assert_eq!(v["covariance_type"], "full");
    assert_eq!(v["n_components"], 2);
    assert_eq!(v["columns"], model["columns"]);
    assert_eq!(v["classes"], serde_json::json!(["0", "1"]));
    for k in 0..2 {
        let c = &v["components"][k];
        assert_eq!(c["weight"], model["weights"][k]);
        assert_eq!(c["mean"], model["means"][k]);
        assert_eq!(c["class"], k.to_string());
        let cov = &model["covariances"][k];
        let std = f64s(&c["std"]);
        for j in 0..2 {
            assert_eq!(std[j], cov[j][j].as_f64().unwrap().sqrt());
        }
        let r = cov[0][1].as_f64().unwrap() / (std[0] * std[1]);
        let got = c["largest_correlation"]["value"].as_f64().unwrap();
        assert!((got - r).abs() < 1e-15, "{got} vs {r}");
        assert_eq!(
            c["largest_correlation"]["columns"],
            serde_json::json!(["x1", "x2"])
        );
    }
    for key in [
        "mean_log_likelihood",
        "n_iter",
        "converged",
        "bic",
        "aic",
        "n_rows",
    ] {
        assert_eq!(v[key], model[key], "{key}");
    }
    let p = &v["provenance"];
    assert_eq!(p["seed"], 0);
    assert_eq!(p["version"], env!("CARGO_PKG_VERSION"));
    assert!(
        p["config"]
            .as_str()
            .unwrap()
            .ends_with("customers-semi.toml")
    );
    assert!(p["input"].as_str().unwrap().ends_with("unlabeled.csv"));
    // The day of the fit, no time, and the command that gives the model
    // without the run's own flags, so that refits with the same settings
    // give the same bytes.
    let created = p["created"].as_str().unwrap();
    assert!(
        created.starts_with("20") && created.len() == 10,
        "{created}"
    );
    assert_eq!(
        p["command"],
        format!("gmm fit {}", p["config"].as_str().unwrap()),
        "{p}"
    );
}

#[test]
fn inspect_of_a_diagonal_model_has_no_correlations() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    ok(&gmm(&[
        "fit",
        "configs/customers.toml",
        "--covariance",
        "diag",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]));
    let model = out.join("model.json");
    let text = ok(&gmm(&["inspect", model.to_str().unwrap()]));
    assert!(text.contains("covariance           diag"));
    assert!(!text.contains("largest correlation"), "{text}");
    let v: serde_json::Value =
        serde_json::from_str(&ok(&gmm(&["inspect", model.to_str().unwrap(), "--json"]))).unwrap();
    assert!(v["components"][0]["largest_correlation"].is_null());
    let m = read_json(&model);
    let std = f64s(&v["components"][1]["std"]);
    assert_eq!(std[1], m["covariances"][1][1].as_f64().unwrap().sqrt());
}

#[test]
fn inspect_refuses_what_is_not_a_model() {
    let o = gmm(&["inspect", "data/customers/labeled.csv"]);
    fails(&o, 1, &["labeled.csv"]);
    let o = gmm(&["inspect", "no/such.json"]);
    fails(&o, 1, &["no/such.json"]);
}
