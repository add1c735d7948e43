//! `gmm predict` and `gmm score` on a fitted model.

use crate::common::*;

#[test]
fn predict_and_score_reproduce_the_fit() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    ok(&gmm(&[
        "fit",
        "configs/customers.toml",
        "--out",
        run.to_str().unwrap(),
        "-q",
    ]));
    let model = run.join("model.json");
    let preds = tmp.path().join("p.csv");
    ok(&gmm(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--input",
        "data/customers/unlabeled.csv",
        "--out",
        preds.to_str().unwrap(),
    ]));
    // Predicting the training rows gives the fit's own predictions.
    let (h1, r1) = read_csv(&preds);
    let (h2, r2) = read_csv(&run.join("predictions.csv"));
    assert_eq!(h1, h2);
    assert_eq!(r1, r2);

    let s = ok(&gmm(&[
        "score",
        "--model",
        model.to_str().unwrap(),
        "--input",
        "data/customers/unlabeled.csv",
        "--json",
    ]));
    let v: serde_json::Value = serde_json::from_str(&s).unwrap();
    let m = read_json(&model);
    assert_eq!(v["rows"], 1000);
    assert_eq!(v["mean_log_likelihood"], m["mean_log_likelihood"]);
    assert_eq!(v["bic"], m["bic"]);
}
