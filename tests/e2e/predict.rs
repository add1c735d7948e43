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
    assert_eq!(v["n_rows"], 1000);
    assert_eq!(v["mean_log_likelihood"], m["mean_log_likelihood"]);
    assert_eq!(v["bic"], m["bic"]);
}

/// Any numeric type stands for any other: a model fitted on `float64`
/// columns predicts and scores a table whose columns are `int64` and
/// `float32` (the text-column case is refused in `bad_input.rs`).
#[test]
fn predict_and_score_accept_other_numeric_types() {
    use std::sync::Arc;

    use gmm_io::arrow::array::{ArrayRef, Float32Array, Float64Array, Int64Array};

    let tmp = tempfile::tempdir().unwrap();
    // Whole numbers, so the int64 and float32 copies hold the same values.
    let mut rng = Rng(3);
    let x1: Vec<f64> = (0..300)
        .map(|i| (rng.normal() * 3.0 + if i % 2 == 0 { 10.0 } else { -10.0 }).round())
        .collect();
    let x2: Vec<f64> = (0..300).map(|_| (rng.normal() * 3.0).round()).collect();
    let f64s = tmp.path().join("f64.parquet");
    write_parquet(
        &f64s,
        vec![
            ("x1", Arc::new(Float64Array::from(x1.clone())) as ArrayRef),
            ("x2", Arc::new(Float64Array::from(x2.clone())) as ArrayRef),
        ],
    );
    let mixed = tmp.path().join("mixed.parquet");
    write_parquet(
        &mixed,
        vec![
            (
                "x1",
                Arc::new(Int64Array::from_iter_values(x1.iter().map(|&v| v as i64))) as ArrayRef,
            ),
            (
                "x2",
                Arc::new(Float32Array::from_iter_values(x2.iter().map(|&v| v as f32))) as ArrayRef,
            ),
        ],
    );
    let run = tmp.path().join("run");
    ok(&gmm(&[
        "fit",
        "--input",
        s(&f64s),
        "-k",
        "2",
        "--no-plots",
        "--out",
        s(&run),
        "-q",
    ]));
    let model = run.join("model.json");
    assert_eq!(
        read_json(&model)["column_types"],
        serde_json::json!(["float64", "float64"])
    );
    let mut outs = Vec::new();
    for (input, name) in [(&f64s, "a.csv"), (&mixed, "b.csv")] {
        let out = tmp.path().join(name);
        ok(&gmm(&[
            "predict",
            "--model",
            s(&model),
            "--input",
            s(input),
            "--out",
            s(&out),
        ]));
        outs.push(read_csv(&out));
    }
    assert_eq!(outs[0], outs[1]);
    let score = |input: &std::path::Path| {
        ok(&gmm(&[
            "score",
            "--model",
            s(&model),
            "--input",
            s(input),
            "--json",
        ]))
    };
    assert_eq!(score(&f64s), score(&mixed).replace("mixed", "f64"));
}
