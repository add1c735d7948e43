//! `gmm sample`: rows drawn from a model, and fitted back.

use std::path::Path;

use gmm_core::{Covariances, GaussianMixture};
use gmm_io::{FitSummary, ModelFile};
use ndarray::{Array3, array};

use crate::common::*;

/// A known model: two well separated components in two columns.
fn known_model() -> GaussianMixture {
    let mut cov = Array3::zeros((2, 2, 2));
    cov.index_axis_mut(ndarray::Axis(0), 0)
        .assign(&array![[1.0, 0.3], [0.3, 0.5]]);
    cov.index_axis_mut(ndarray::Axis(0), 1)
        .assign(&array![[0.8, -0.2], [-0.2, 1.2]]);
    GaussianMixture::new(
        array![0.3, 0.7],
        array![[-2.0, 0.0], [3.0, 1.0]],
        Covariances::Full(cov),
    )
    .unwrap()
}

fn write_model(dir: &Path) -> std::path::PathBuf {
    let summary = FitSummary {
        mean_log_likelihood: 0.0,
        n_iter: 0,
        converged: true,
        bic: 0.0,
        aic: 0.0,
        n_rows: 0,
        total_weight: None,
        reg_covar: 0.0,
    };
    let file = ModelFile::new(&known_model(), vec!["a".into(), "b".into()], &summary);
    let path = dir.join("known.json");
    std::fs::write(&path, file.to_json()).unwrap();
    path
}

#[test]
fn sample_then_fit_recovers_the_model() {
    let tmp = tempfile::tempdir().unwrap();
    let model = write_model(tmp.path());
    let sample = tmp.path().join("sample.csv");
    ok(&gmm(&[
        "sample",
        "--model",
        model.to_str().unwrap(),
        "-n",
        "20000",
        "--seed",
        "11",
        "--out",
        sample.to_str().unwrap(),
    ]));
    let (header, rows) = read_csv(&sample);
    assert_eq!(header, ["a", "b", "component"]);
    assert_eq!(rows.len(), 20000);
    let drawn_0 = rows.iter().filter(|r| r[2] == "0").count() as f64 / 20000.0;
    assert!((drawn_0 - 0.3).abs() < 0.02, "{drawn_0}");

    let out = tmp.path().join("run");
    ok(&gmm(&[
        "fit",
        "--input",
        sample.to_str().unwrap(),
        "--columns",
        "a,b",
        "-k",
        "2",
        "--n-init",
        "3",
        "--predictions-format",
        "csv",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]));
    let fitted = read_json(&out.join("model.json"));
    let w = f64s(&fitted["weights"]);
    // Components may come out in either order: match them by the first mean.
    let order: [usize; 2] = if fitted["means"][0][0].as_f64().unwrap() < 0.0 {
        [0, 1]
    } else {
        [1, 0]
    };
    let truth = known_model();
    for (k, &f) in order.iter().enumerate() {
        assert!(
            (w[f] - truth.weights()[k]).abs() < 0.02,
            "weight {k}: {} vs {}",
            w[f],
            truth.weights()[k]
        );
        let mean = f64s(&fitted["means"][f]);
        for (j, m) in mean.iter().enumerate() {
            let want = truth.means()[(k, j)];
            assert!((m - want).abs() < 0.05, "mean {k},{j}: {m} vs {want}");
        }
        let cov = &fitted["covariances"][f];
        let want = truth.covariances().dense(k, 2);
        for i in 0..2 {
            for j in 0..2 {
                let got = cov[i][j].as_f64().unwrap();
                assert!((got - want[(i, j)]).abs() < 0.06, "cov {k} {i}{j}: {got}");
            }
        }
    }
    // Nearly every row is predicted to come from the component that drew it.
    let (_, preds) = read_csv(&out.join("predictions.csv"));
    let agree = rows
        .iter()
        .zip(&preds)
        .filter(|(s, p)| order[s[2].parse::<usize>().unwrap()].to_string() == p[0])
        .count();
    assert!(agree as f64 / 20000.0 > 0.99, "{agree}");
}

#[test]
fn samples_are_reproducible_and_the_same_in_every_format() {
    let tmp = tempfile::tempdir().unwrap();
    let model = write_model(tmp.path());
    let mut scores = Vec::new();
    // More than one block of 65536 rows.
    for name in ["s.parquet", "s.csv", "s.arrow", "again.parquet"] {
        let path = tmp.path().join(name);
        ok(&gmm(&[
            "sample",
            "--model",
            model.to_str().unwrap(),
            "-n",
            "70000",
            "--seed",
            "5",
            "--out",
            path.to_str().unwrap(),
        ]));
        let s = ok(&gmm(&[
            "score",
            "--model",
            model.to_str().unwrap(),
            "--input",
            path.to_str().unwrap(),
            "--json",
        ]));
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["n_rows"], 70000, "{name}");
        scores.push(v["mean_log_likelihood"].as_f64().unwrap());
    }
    assert!(scores.windows(2).all(|w| w[0] == w[1]), "{scores:?}");

    // The first block is the model's own sample with the seed; the second
    // block differs from it.
    let (header, rows) = read_csv(&tmp.path().join("s.csv"));
    assert_eq!(header, ["a", "b", "component"]);
    let (x, labels) = known_model().sample(65536, 5);
    for i in [0, 1, 30000, 65535] {
        assert_eq!(rows[i][0].parse::<f64>().unwrap(), x[(i, 0)], "row {i}");
        assert_eq!(rows[i][1].parse::<f64>().unwrap(), x[(i, 1)], "row {i}");
        assert_eq!(rows[i][2], labels[i].to_string());
    }
    assert_ne!(rows[65536][0], rows[0][0]);
}

#[test]
fn sample_refuses_bad_requests() {
    let tmp = tempfile::tempdir().unwrap();
    let model = write_model(tmp.path());
    let m = model.to_str().unwrap();
    let bad_ext = tmp.path().join("s.txt");
    let o = gmm(&[
        "sample",
        "--model",
        m,
        "-n",
        "10",
        "--out",
        bad_ext.to_str().unwrap(),
    ]);
    fails(&o, 2, &["s.txt"]);
    assert!(!bad_ext.exists());
    let out = tmp.path().join("s.csv");
    let o = gmm(&[
        "sample",
        "--model",
        m,
        "-n",
        "0",
        "--out",
        out.to_str().unwrap(),
    ]);
    fails(&o, 2, &["at least 1"]);
    let o = gmm(&[
        "sample",
        "--model",
        m,
        "-n",
        "10",
        "--component-column",
        "a",
        "--out",
        out.to_str().unwrap(),
    ]);
    fails(&o, 2, &["`a`", "--component-column"]);
    let o = gmm(&[
        "sample",
        "--model",
        "no/such/model.json",
        "-n",
        "10",
        "--out",
        out.to_str().unwrap(),
    ]);
    fails(&o, 1, &["no/such/model.json"]);
    assert!(!out.exists());
}
