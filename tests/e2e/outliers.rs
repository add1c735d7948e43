//! One far value must not spoil the fit of the other rows. A value of 1e20
//! in a column (or a constant column near 2^62) made every component look
//! singular: rows were shifted by the column means, which the far value
//! drags away from the others, the statistics' fixed point was scaled to
//! it, and the singular-variance floor was the column's largest magnitude.
//! Now each component is computed at the scale of its own values.

use std::sync::Arc;

use gmm_io::arrow::array::{ArrayRef, Float64Array, Int64Array};

use crate::common::*;
use crate::hostile::blob_lines;

const TYPES: [&str; 4] = ["full", "diag", "spherical", "tied"];

/// `gmm fit --json` of `input` with K = 3, and its model file.
fn fit(input: &std::path::Path, covariance: &str) -> (serde_json::Value, serde_json::Value) {
    let out = input.with_extension(format!("run-{covariance}"));
    let o = gmm(&[
        "fit",
        "--input",
        s(input),
        "-k",
        "3",
        "--covariance",
        covariance,
        "--n-init",
        "3",
        "--seed",
        "0",
        "--no-plots",
        "--json",
        "--out",
        s(&out),
    ]);
    let summary = serde_json::from_str(&ok(&o)).unwrap();
    (summary, read_json(&out.join("model.json")))
}

#[test]
fn one_far_outlier_leaves_the_other_components_alone() {
    let tmp = tempfile::tempdir().unwrap();
    for covariance in TYPES {
        let mut fits = Vec::new();
        for far in ["1e8", "1e14", "1e20"] {
            let mut lines = blob_lines();
            let (_, x2) = lines[3].split_once(',').unwrap();
            lines[3] = format!("{far},{x2}");
            let path = tmp.path().join(format!("far{far}.csv"));
            std::fs::write(&path, format!("x1,x2\n{}\n", lines.join("\n"))).unwrap();
            let (summary, model) = fit(&path, covariance);
            let mll = summary["mean_log_likelihood"].as_f64().unwrap();
            // The outlier takes a component of its own; the clusters keep
            // their spread in x1 (it was reg_covar, or the fit failed).
            let means: Vec<Vec<f64>> = model["means"]
                .as_array()
                .unwrap()
                .iter()
                .map(f64s)
                .collect();
            let bulk: Vec<usize> = (0..3).filter(|&k| means[k][0].abs() < 100.0).collect();
            assert_eq!(bulk.len(), 2, "{covariance} {far}: {means:?}");
            if covariance == "diag" {
                for &k in &bulk {
                    let v = f64s(&model["covariances"][k])[0];
                    assert!((0.5..2.0).contains(&v), "{far}: variance {v}");
                }
            }
            fits.push((far, mll));
        }
        // The same fit whatever the outlier's magnitude.
        for (far, mll) in &fits {
            let first = fits[0].1;
            assert!(
                (mll - first).abs() <= 1e-9 * first.abs(),
                "{covariance}: {far} gives {mll}, 1e8 gives {first}"
            );
        }
    }
}

#[test]
fn a_constant_column_near_2_pow_62_fits_as_one_near_5() {
    let tmp = tempfile::tempdir().unwrap();
    let lines = blob_lines();
    let column = |i: usize| -> Vec<f64> {
        lines
            .iter()
            .map(|l| l.split(',').nth(i).unwrap().parse().unwrap())
            .collect()
    };
    let (x1, x2) = (column(0), column(1));
    let table = |name: &str, constant: ArrayRef| {
        let path = tmp.path().join(format!("{name}.parquet"));
        let f = |v: &[f64]| Arc::new(Float64Array::from(v.to_vec())) as ArrayRef;
        write_parquet(
            &path,
            vec![("x1", f(&x1)), ("x2", f(&x2)), ("id", constant)],
        );
        path
    };
    let small = table("small", Arc::new(Int64Array::from(vec![5i64; x1.len()])));
    let large = table(
        "large",
        Arc::new(Int64Array::from(vec![1i64 << 62; x1.len()])),
    );
    for covariance in TYPES {
        let (a, _) = fit(&small, covariance);
        let (b, _) = fit(&large, covariance);
        assert_eq!(
            a["mean_log_likelihood"], b["mean_log_likelihood"],
            "{covariance}"
        );
        assert_eq!(a["weights"], b["weights"], "{covariance}");
    }
}
