//! What a hostile afternoon found: inputs that were read wrongly or lost
//! without a word, each class checked where it used to slip through. Every
//! case ends with a clear one-line message (exit status as documented and
//! nothing written) or a correct result that says what it did.

use crate::common::*;

/// 300 rows of two clusters in `x1`, `x2`, as CSV lines (no header).
fn blob_lines() -> Vec<String> {
    let mut rng = Rng(11);
    (0..300)
        .map(|i| {
            let c = if i % 2 == 0 { 0.0 } else { 5.0 };
            format!("{:.6},{:.6}", c + rng.normal(), c + rng.normal())
        })
        .collect()
}

/// Rows uniformly weighted 1e-20 fitted with a mean log-likelihood of
/// -2211 instead of -3.47 (and 1e-310 gave covariances equal to
/// reg_covar): only the weights' ratios may matter. Weights too small or
/// too large to compute with are refused, naming what to do.
#[test]
fn the_size_of_uniform_weights_does_not_change_the_fit() {
    let tmp = tempfile::tempdir().unwrap();
    let lines = blob_lines();
    let fit = |w: &str| {
        let path = tmp.path().join(format!("w{w}.csv"));
        let rows: Vec<String> = lines.iter().map(|l| format!("{l},{w}")).collect();
        std::fs::write(&path, format!("x1,x2,w\n{}\n", rows.join("\n"))).unwrap();
        let out = tmp.path().join(format!("run{w}"));
        let o = gmm(&[
            "fit",
            "--input",
            s(&path),
            "--weight-column",
            "w",
            "-k",
            "2",
            "--no-plots",
            "--json",
            "--out",
            s(&out),
        ]);
        (o, out)
    };
    let (o, _) = fit("1");
    let unit: serde_json::Value = serde_json::from_str(&ok(&o)).unwrap();
    for w in ["1e-20", "1e20"] {
        let (o, _) = fit(w);
        let scaled: serde_json::Value = serde_json::from_str(&ok(&o)).unwrap();
        let (a, b) = (
            unit["mean_log_likelihood"].as_f64().unwrap(),
            scaled["mean_log_likelihood"].as_f64().unwrap(),
        );
        assert!((a - b).abs() < 1e-9 * a.abs(), "weight {w}: {a} vs {b}");
        let flat = |v: &serde_json::Value| -> Vec<f64> {
            v.as_array().unwrap().iter().flat_map(f64s).collect()
        };
        let (ma, mb) = (flat(&unit["means"]), flat(&scaled["means"]));
        for (x, y) in ma.iter().zip(&mb) {
            assert!((x - y).abs() < 1e-9 * (1.0 + x.abs()), "weight {w}: means");
        }
    }
    let (o, out) = fit("1e-310");
    fails(
        &o,
        1,
        &["weights add up to", "only their ratios matter", "multiply"],
    );
    assert!(!out.exists());
}

/// `--n-init 1000000000000` aborted on a 416 TB allocation, `--threads
/// 100000` spent minutes starting threads: absurd counts are usage errors
/// naming the limit, before any work.
#[test]
fn absurd_counts_are_refused_naming_the_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let base = ["fit", "configs/customers.toml", "--out", s(&out)];
    for (flag, value, needles) in [
        (
            "--n-init",
            "1000000000000",
            ["--n-init / [fit] n_init", "100000"],
        ),
        (
            "-k",
            "1000000000000",
            ["--components / [model] components", "100000"],
        ),
        (
            "--chunk-rows",
            "1000000000000",
            ["--chunk-rows / [fit] chunk_rows", "16777216"],
        ),
        ("--threads", "100000", ["--threads", "4096"]),
    ] {
        let mut args = base.to_vec();
        args.extend([flag, value]);
        let started = std::time::Instant::now();
        let o = gmm(&args);
        fails(&o, 2, &needles);
        assert!(started.elapsed().as_secs() < 10, "{flag}: refused at once");
        assert!(!out.exists());
    }
}
