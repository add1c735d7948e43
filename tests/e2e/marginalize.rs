//! `--missing marginalize`: rows that miss a feature value stay in the fit
//! with the missing values integrated out, every row is predicted, and
//! `predict` and `score` integrate them out too; in memory and out of core.
//! (The numbers themselves are checked against a NumPy reference in
//! gmm-core's `tests/missing.rs`.)

use crate::common::*;
use crate::missing::{fit, params as model, tables};

#[test]
fn incomplete_rows_are_fitted_predicted_and_scored() {
    let tmp = tempfile::tempdir().unwrap();
    let (gaps, complete, missing) = tables(tmp.path());
    let marg = ["--missing", "marginalize"];

    let run = tmp.path().join("marginalize");
    let printed = fit(&gaps, &run, &marg);
    assert!(
        printed.contains(&format!(
            "rows incomplete      {} (missing values integrated out)",
            missing.len()
        )),
        "{printed}"
    );
    let json = read_json(&run.join("run.json"));
    assert_eq!(json["data"]["rows_incomplete"], missing.len());
    assert_eq!(json["data"]["rows_dropped"], 0);
    assert_eq!(json["settings"]["data"]["missing"], "marginalize");
    assert_eq!(read_json(&run.join("model.json"))["n_rows"], 3000);

    // Every row has a prediction, and `predict` gives the same ones.
    let (header, rows) = read_csv(&run.join("predictions.csv"));
    assert_eq!(header[..3], ["id", "component", "probability"]);
    assert_eq!(rows.len(), 3000);
    assert!(rows.iter().all(|r| r.iter().all(|v| !v.is_empty())));
    let predicted = tmp.path().join("p.csv");
    let mut a = vec!["predict", "--model"];
    let m = run.join("model.json");
    a.extend([s(&m), "--input", s(&gaps), "--out", s(&predicted)]);
    a.extend(["--id-column", "id"]);
    a.extend(marg);
    ok(&gmm(&a));
    let (_, again) = read_csv(&predicted);
    assert_eq!(again, rows);
    // Without the option, `predict` refuses the gaps, pointing to it.
    let o = gmm(&a[..a.len() - 2]);
    fails(&o, 1, &["gaps.csv", "--missing marginalize"]);

    // `score` of the fitted rows is the fit's mean log-likelihood.
    let mut a = vec!["score", "--json", "--model", s(&m), "--input", s(&gaps)];
    a.extend(marg);
    let scored: serde_json::Value = serde_json::from_str(&ok(&gmm(&a))).unwrap();
    assert_eq!(scored["n_rows"], 3000);
    assert_eq!(scored["n_rows_incomplete"], missing.len());
    let fitted = read_json(&m)["mean_log_likelihood"].as_f64().unwrap();
    let got = scored["mean_log_likelihood"].as_f64().unwrap();
    assert!(
        (got - fitted).abs() <= 1e-12 * fitted.abs(),
        "{got} vs {fitted}"
    );

    // Out of core: the same model and predictions, bit for bit.
    let cached = tmp.path().join("cached");
    let cache = tmp.path().join("cache");
    let mut extra = vec!["--max-memory", "1000", "--cache-dir", s(&cache)];
    extra.extend(marg);
    fit(&gaps, &cached, &extra);
    let json = read_json(&cached.join("run.json"));
    assert_eq!(json["data"]["storage"]["out_of_core"], true);
    assert_eq!(json["data"]["rows_incomplete"], missing.len());
    assert_eq!(model(&cached)["means"], model(&run)["means"]);
    assert_eq!(model(&cached)["covariances"], model(&run)["covariances"]);
    assert_eq!(
        std::fs::read(cached.join("predictions.csv")).unwrap(),
        std::fs::read(run.join("predictions.csv")).unwrap()
    );

    // A table without gaps: the option changes nothing.
    let (plain, marked) = (tmp.path().join("plain"), tmp.path().join("marked"));
    fit(&complete, &plain, &[]);
    fit(&complete, &marked, &marg);
    assert_eq!(model(&plain)["means"], model(&marked)["means"]);
    assert_eq!(model(&plain)["covariances"], model(&marked)["covariances"]);
}

#[test]
fn a_column_with_no_value_is_refused_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("empty_column.csv");
    let mut text = String::from("a,b,c\n");
    for i in 0..50 {
        text.push_str(&format!("{},NaN,{}\n", i % 7, (i * 3) % 11));
    }
    std::fs::write(&input, text).unwrap();
    let out = tmp.path().join("run");
    let o = gmm(&[
        "fit",
        "--input",
        s(&input),
        "-k",
        "2",
        "--missing",
        "marginalize",
        "--out",
        s(&out),
    ]);
    fails(&o, 1, &["empty_column.csv", "column `b`", "no value"]);
    assert!(!out.join("model.json").exists());
}
