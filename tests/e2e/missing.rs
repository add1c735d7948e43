//! `--missing drop`: rows that miss a feature value (an empty CSV field, a
//! null, a NaN) are left out of the fit, counted, and predicted as null
//! rows, in memory, out of core and in `predict` and `score`.

use std::path::{Path, PathBuf};

use crate::common::*;

/// 3,000 rows of three blobs with an id; about one row in ten misses a
/// value (an empty field or `NaN`, in any column). Also writes the same
/// table without those rows. Returns (with gaps, complete, ids of the
/// rows with gaps).
pub(crate) fn tables(dir: &Path) -> (PathBuf, PathBuf, Vec<usize>) {
    let mut rng = Rng(3);
    let (mut gaps, mut complete) = (String::from("id,a,b,c\n"), String::from("id,a,b,c\n"));
    let mut missing = Vec::new();
    for i in 0..3000 {
        let c = (i % 3) as f64;
        let v: Vec<String> = (0..3)
            .map(|_| format!("{:.5}", 2.0 * c + rng.normal()))
            .collect();
        if rng.uniform() < 0.1 {
            let mut v = v.clone();
            let j = (rng.next_u64() % 3) as usize;
            v[j] = if i % 2 == 0 {
                String::new()
            } else {
                "NaN".into()
            };
            gaps.push_str(&format!("{i},{}\n", v.join(",")));
            missing.push(i);
        } else {
            gaps.push_str(&format!("{i},{}\n", v.join(",")));
            complete.push_str(&format!("{i},{}\n", v.join(",")));
        }
    }
    let (a, b) = (dir.join("gaps.csv"), dir.join("complete.csv"));
    std::fs::write(&a, gaps).unwrap();
    std::fs::write(&b, complete).unwrap();
    (a, b, missing)
}

pub(crate) fn fit(input: &Path, out: &Path, extra: &[&str]) -> String {
    let mut a = vec![
        "fit",
        "--input",
        s(input),
        "--columns",
        "a,b,c",
        "--id-column",
        "id",
        "-k",
        "3",
        "--predictions-format",
        "csv",
        "--no-plots",
        "--out",
        s(out),
    ];
    a.extend(extra);
    ok(&gmm(&a))
}

/// A model file's parameters and figures, without its provenance.
pub(crate) fn params(dir: &Path) -> serde_json::Value {
    let mut m = read_json(&dir.join("model.json"));
    m.as_object_mut().unwrap().remove("provenance");
    m
}

/// The same JSON but for numbers, which agree to `tol` relative.
#[track_caller]
fn assert_close(a: &serde_json::Value, b: &serde_json::Value, tol: f64, at: &str) {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!(
                (x - y).abs() <= tol * x.abs().max(y.abs()).max(1.0),
                "{at}: {x} vs {y}"
            );
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{at}");
            for (i, (x, y)) in x.iter().zip(y).enumerate() {
                assert_close(x, y, tol, &format!("{at}[{i}]"));
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            assert_eq!(
                x.keys().collect::<Vec<_>>(),
                y.keys().collect::<Vec<_>>(),
                "{at}"
            );
            for (k, v) in x {
                assert_close(v, &y[k], tol, &format!("{at}.{k}"));
            }
        }
        _ => assert_eq!(a, b, "{at}"),
    }
}

#[test]
fn dropped_rows_are_left_out_counted_and_predicted_as_nulls() {
    let tmp = tempfile::tempdir().unwrap();
    let (gaps, complete, missing) = tables(tmp.path());
    assert!(missing.len() > 200);

    // The default refuses, pointing to the option.
    let o = gmm(&[
        "fit",
        "--input",
        s(&gaps),
        "--columns",
        "a,b,c",
        "-k",
        "3",
        "--out",
        s(&tmp.path().join("refused")),
    ]);
    fails(&o, 1, &["gaps.csv", "missing", "--missing drop"]);

    // From the same start, leaving the rows out is fitting the rows that
    // are complete (to rounding: the rows' chunks differ).
    let reference = tmp.path().join("reference");
    fit(&complete, &reference, &[]);
    let start = reference.join("model.json");
    let (with_gaps, without) = (tmp.path().join("drop"), tmp.path().join("complete"));
    let printed = fit(
        &gaps,
        &with_gaps,
        &["--missing", "drop", "--init-model", s(&start)],
    );
    fit(&complete, &without, &["--init-model", s(&start)]);
    assert_close(&params(&with_gaps), &params(&without), 1e-12, "model");
    assert_eq!(params(&with_gaps)["n_rows"], 3000 - missing.len());
    assert!(
        printed.contains(&format!(
            "rows dropped         {} (a feature value missing)",
            missing.len()
        )),
        "{printed}"
    );
    let run = read_json(&with_gaps.join("run.json"));
    assert_eq!(run["data"]["rows_dropped"], missing.len());
    assert_eq!(run["data"]["weighted"], false);
    assert_eq!(run["settings"]["data"]["missing"], "drop");
    assert!(params(&with_gaps).get("total_weight").is_none());

    // One prediction row per input row: nulls for the rows left out, the
    // complete table's predictions for the others.
    let (header, rows) = read_csv(&with_gaps.join("predictions.csv"));
    let (_, want) = read_csv(&without.join("predictions.csv"));
    assert_eq!(header[..3], ["id", "component", "probability"]);
    assert_eq!(rows.len(), 3000);
    let mut want = want.iter();
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r[0], i.to_string());
        if missing.binary_search(&i).is_ok() {
            assert!(r[1..].iter().all(String::is_empty), "row {i}: {r:?}");
        } else {
            let want = want.next().unwrap();
            assert_eq!(r[..2], want[..2], "row {i}");
            for (x, y) in r[2..].iter().zip(&want[2..]) {
                let (x, y): (f64, f64) = (x.parse().unwrap(), y.parse().unwrap());
                assert!((x - y).abs() <= 1e-9, "row {i}: {x} vs {y}");
            }
        }
    }

    // Out of core: the same model and predictions.
    let cached = tmp.path().join("cached");
    let cache_dir = tmp.path().join("cache");
    fit(
        &gaps,
        &cached,
        &[
            "--missing",
            "drop",
            "--init-model",
            s(&start),
            "--max-memory",
            "1000",
            "--cache-dir",
            s(&cache_dir),
        ],
    );
    assert_eq!(
        read_json(&cached.join("run.json"))["data"]["storage"]["out_of_core"],
        true
    );
    assert_eq!(params(&cached), params(&with_gaps));
    assert_eq!(
        std::fs::read(cached.join("predictions.csv")).unwrap(),
        std::fs::read(with_gaps.join("predictions.csv")).unwrap()
    );
    // The cache of the default policy is another file.
    let o = gmm(&[
        "fit",
        "--input",
        s(&gaps),
        "--columns",
        "a,b,c",
        "-k",
        "3",
        "--max-memory",
        "1000",
        "--cache-dir",
        s(&cache_dir),
        "--out",
        s(&tmp.path().join("refused2")),
    ]);
    fails(&o, 1, &["--missing drop"]);

    // predict and score leave the same rows out.
    let preds = tmp.path().join("p.csv");
    let said = ok(&gmm(&[
        "predict",
        "--model",
        s(&with_gaps.join("model.json")),
        "--input",
        s(&gaps),
        "--id-column",
        "id",
        "--missing",
        "drop",
        "--out",
        s(&preds),
    ]));
    assert_eq!(
        said.trim(),
        format!("wrote 3000 predictions to {}", s(&preds))
    );
    assert_eq!(
        std::fs::read(&preds).unwrap(),
        std::fs::read(with_gaps.join("predictions.csv")).unwrap()
    );
    let score = |input: &Path, extra: &[&str]| {
        let mut a = vec!["score", "--model", s(&start), "--input", s(input), "--json"];
        a.extend(extra);
        serde_json::from_str::<serde_json::Value>(&ok(&gmm(&a))).unwrap()
    };
    let dropped = score(&gaps, &["--missing", "drop"]);
    let whole = score(&complete, &[]);
    assert_eq!(dropped["n_rows"], whole["n_rows"]);
    assert_eq!(dropped["n_rows_dropped"], missing.len());
    assert_close(
        &dropped["mean_log_likelihood"],
        &whole["mean_log_likelihood"],
        1e-12,
        "mean",
    );
    assert_close(&dropped["bic"], &whole["bic"], 1e-12, "bic");
    let o = gmm(&["score", "--model", s(&start), "--input", s(&gaps)]);
    fails(&o, 1, &["--missing drop"]);
}

#[test]
fn a_table_of_nothing_but_gaps_and_bad_values_are_still_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = write(tmp.path(), "holes.csv", "a,b\n1,\n,2\nNaN,3\n");
    let o = gmm(&[
        "fit",
        "--input",
        s(&empty),
        "-k",
        "1",
        "--missing",
        "drop",
        "--out",
        s(&tmp.path().join("x")),
    ]);
    fails(
        &o,
        1,
        &["holes.csv", "every row (3) misses a feature value"],
    );
    assert!(!tmp.path().join("x").exists());
    // Infinity is not missing.
    let inf = write(tmp.path(), "inf.csv", "a,b\n1,2\n3,inf\n5,6\n");
    let o = gmm(&[
        "fit",
        "--input",
        s(&inf),
        "-k",
        "1",
        "--missing",
        "drop",
        "--out",
        s(&tmp.path().join("y")),
    ]);
    fails(&o, 1, &["inf.csv", "`b`", "non-finite"]);
    let o = gmm(&[
        "fit",
        "--input",
        s(&inf),
        "-k",
        "1",
        "--missing",
        "skip",
        "--out",
        s(&tmp.path().join("y")),
    ]);
    fails(
        &o,
        2,
        &["--missing / [data] missing: `skip` is not one of error, drop"],
    );
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn parquet_rows_left_out_in_both_precisions_and_a_user_weight_of_minus_zero_is_kept() {
    use gmm_io::arrow::array::{ArrayRef, Float64Array};
    use std::sync::Arc;
    let tmp = tempfile::tempdir().unwrap();
    let mut rng = Rng(8);
    let n = 2000;
    let x1: Vec<Option<f64>> = (0..n)
        .map(|i| (i % 11 != 3).then(|| 4.0 * (i % 2) as f64 + rng.normal()))
        .collect();
    let x2: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
    // Row 5 weighs -0.0 (a user's zero): it is predicted, not left out.
    let w: Vec<f64> = (0..n).map(|i| if i == 5 { -0.0 } else { 1.0 }).collect();
    let pq = tmp.path().join("gaps.parquet");
    write_parquet(
        &pq,
        vec![
            ("x1", Arc::new(Float64Array::from(x1.clone())) as ArrayRef),
            ("x2", Arc::new(Float64Array::from(x2)) as ArrayRef),
            ("w", Arc::new(Float64Array::from(w)) as ArrayRef),
        ],
    );
    let missing: Vec<usize> = (0..n).filter(|&i| x1[i].is_none()).collect();
    for precision in ["f64", "f32"] {
        let out = tmp.path().join(precision);
        ok(&gmm(&[
            "fit",
            "--input",
            s(&pq),
            "--columns",
            "x1,x2",
            "--weight-column",
            "w",
            "-k",
            "2",
            "--missing",
            "drop",
            "--precision",
            precision,
            "--predictions-format",
            "csv",
            "--no-plots",
            "--out",
            s(&out),
        ]));
        let run = read_json(&out.join("run.json"));
        assert_eq!(run["data"]["rows_dropped"], missing.len(), "{precision}");
        assert_eq!(
            read_json(&out.join("model.json"))["n_rows"],
            n - missing.len()
        );
        let (_, rows) = read_csv(&out.join("predictions.csv"));
        for (i, r) in rows.iter().enumerate() {
            let left_out = missing.binary_search(&i).is_ok();
            assert_eq!(r[0].is_empty(), left_out, "{precision} row {i}: {r:?}");
        }
    }
}
