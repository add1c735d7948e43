//! `gmm select`: the grid recovers the number of components and the
//! covariance structure of data drawn from known mixtures, racing keeps the
//! winner, and the outputs are complete.

use std::path::Path;

use gmm_core::{CovarianceType, Covariances, GaussianMixture};
use ndarray::{Array1, Array2, Array3, array};

use crate::common::*;

/// Rows drawn from `model`, written as CSV with columns x0..x{d-1}.
fn write_sample(model: &GaussianMixture, n: usize, seed: u64, path: &Path) {
    let (x, _) = model.sample(n, seed);
    let d = x.ncols();
    let mut text = (0..d)
        .map(|j| format!("x{j}"))
        .collect::<Vec<_>>()
        .join(",")
        + "\n";
    for row in x.outer_iter() {
        text.push_str(
            &row.iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(","),
        );
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}

fn select(input: &Path, out: &Path, extra: &[&str]) -> serde_json::Value {
    let n_init = if extra.contains(&"--n-init") {
        None
    } else {
        Some("4")
    };
    let mut args = vec![
        "select",
        "--input",
        input.to_str().unwrap(),
        "--components",
        "1..5",
        "--seed",
        "1",
        "--out",
        out.to_str().unwrap(),
        "-q",
        "--json",
    ];
    if let Some(n) = n_init {
        args.extend_from_slice(&["--n-init", n]);
    }
    args.extend_from_slice(extra);
    let stdout = ok(&gmm(&args));
    serde_json::from_str(&stdout).unwrap()
}

fn winner(v: &serde_json::Value) -> (u64, String) {
    (
        v["winner"]["n_components"].as_u64().unwrap(),
        v["winner"]["covariance_type"].as_str().unwrap().to_string(),
    )
}

/// Truths of several shapes, and what selection must find.
fn truths() -> Vec<(&'static str, GaussianMixture, u64, CovarianceType)> {
    let spherical = GaussianMixture::new(
        array![0.3, 0.3, 0.4],
        array![[0.0, 0.0], [8.0, 0.0], [0.0, 8.0]],
        Covariances::Spherical(array![1.0, 0.6, 1.4]),
    )
    .unwrap();
    // Two elongated, differently oriented clusters.
    let full = GaussianMixture::new(
        array![0.5, 0.5],
        array![[0.0, 0.0], [6.0, 1.0]],
        Covariances::Full(
            Array3::from_shape_vec((2, 2, 2), vec![3.0, 2.5, 2.5, 3.0, 3.0, -2.5, -2.5, 3.0])
                .unwrap(),
        ),
    )
    .unwrap();
    // Axis-aligned clusters with unequal variances per column.
    let diag = GaussianMixture::new(
        Array1::from(vec![0.25; 4]),
        array![
            [0.0, 0.0, 0.0],
            [10.0, 0.0, 0.0],
            [0.0, 10.0, 0.0],
            [0.0, 0.0, 10.0]
        ],
        Covariances::Diag(array![
            [4.0, 0.3, 1.0],
            [0.3, 4.0, 1.0],
            [1.0, 0.3, 4.0],
            [0.5, 2.0, 0.3]
        ]),
    )
    .unwrap();
    // One correlated covariance shared by three clusters.
    let tied = GaussianMixture::new(
        array![0.3, 0.4, 0.3],
        array![[0.0, 0.0], [7.0, -3.0], [-7.0, 3.0]],
        Covariances::Tied(Array2::from_shape_vec((2, 2), vec![2.0, 1.4, 1.4, 2.0]).unwrap()),
    )
    .unwrap();
    vec![
        ("spherical", spherical, 3, CovarianceType::Spherical),
        ("full", full, 2, CovarianceType::Full),
        ("diag", diag, 4, CovarianceType::Diag),
        ("tied", tied, 3, CovarianceType::Tied),
    ]
}

#[test]
fn selection_recovers_k_and_covariance_type() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, truth, k, ct) in truths() {
        let input = tmp.path().join(format!("{name}.csv"));
        write_sample(&truth, 3000, 5, &input);
        let out = tmp.path().join(format!("sel-{name}"));
        let v = select(&input, &out, &[]);
        assert_eq!(
            winner(&v),
            (k, ct.as_str().to_string()),
            "{name}: {}",
            serde_json::to_string_pretty(&v["cells"]).unwrap()
        );
        // 5 K x 4 covariance types, each row complete.
        let cells = v["cells"].as_array().unwrap();
        assert_eq!(cells.len(), 20);
        let (header, rows) = read_csv(&out.join("selection.csv"));
        for col in [
            "k",
            "covariance",
            "log_likelihood",
            "bic",
            "aic",
            "icl",
            "n_parameters",
            "n_iter",
            "converged",
            "seconds",
        ] {
            assert!(header.iter().any(|h| h == col), "selection.csv lacks {col}");
        }
        assert_eq!(rows.len(), 20);
        // BIC = -2 log L + p ln n for every cell.
        for c in cells {
            let (ll, p, bic) = (
                c["log_likelihood"].as_f64().unwrap(),
                c["n_parameters"].as_f64().unwrap(),
                c["bic"].as_f64().unwrap(),
            );
            assert!(
                (bic - (-2.0 * ll + p * 3000f64.ln())).abs() < 1e-8 * bic.abs(),
                "{c}"
            );
            assert!(
                c["icl"].as_f64().unwrap() >= bic - 1e-9 * bic.abs(),
                "ICL = BIC + 2 entropy >= BIC"
            );
        }
        assert!(
            std::fs::read_to_string(out.join("bic.svg"))
                .unwrap()
                .starts_with("<svg")
        );
        for f in [
            "model.json",
            "predictions.parquet",
            "run.json",
            "trace.svg",
            "clusters.svg",
        ] {
            assert!(out.join("winner").join(f).exists(), "{name}: winner/{f}");
        }
        let model = read_json(&out.join("winner/model.json"));
        assert_eq!(model["weights"].as_array().unwrap().len() as u64, k);
        assert_eq!(model["covariance_type"], ct.as_str());
    }
}

#[test]
fn racing_picks_the_same_winner_as_running_every_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, truth, _, _) = truths().remove(2);
    let input = tmp.path().join("diag.csv");
    write_sample(&truth, 4000, 9, &input);
    let raced = select(
        &input,
        &tmp.path().join("raced"),
        &["--n-init", "8", "--init", "random-from-data"],
    );
    let full = select(
        &input,
        &tmp.path().join("full"),
        &["--n-init", "8", "--init", "random-from-data", "--no-racing"],
    );
    assert_eq!(winner(&raced), winner(&full));
    // The same restart wins the winning cell, to the last bit.
    let model = |run: &str| read_json(&tmp.path().join(run).join("winner/model.json"));
    let (m_raced, m_full) = (model("raced"), model("full"));
    for key in [
        "weights",
        "means",
        "covariances",
        "mean_log_likelihood",
        "n_iter",
        "bic",
    ] {
        assert_eq!(m_raced[key], m_full[key], "winner/model.json `{key}`");
    }
    assert_eq!(
        m_raced["provenance"]["best_restart"],
        m_full["provenance"]["best_restart"]
    );
    let iterations = |v: &serde_json::Value| -> u64 {
        v["cells"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["restart_iterations"].as_u64().unwrap())
            .sum()
    };
    assert!(
        iterations(&raced) < iterations(&full),
        "racing ran {} iterations, not fewer than {}",
        iterations(&raced),
        iterations(&full)
    );
    let raced_out: u64 = raced["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["restarts_raced"].as_u64().unwrap())
        .sum();
    assert!(raced_out > 0);
    assert_eq!(raced["racing"]["first_round"], 5);
    assert_eq!(full["racing"], false);

    // Earlier, harder cuts: the settings are used, and they save more.
    let hard = select(
        &input,
        &tmp.path().join("hard"),
        &[
            "--n-init",
            "8",
            "--init",
            "random-from-data",
            "--racing-first-round",
            "2",
            "--racing-keep",
            "0.25",
        ],
    );
    assert_eq!(hard["racing"]["first_round"], 2);
    assert_eq!(hard["racing"]["keep"], 0.25);
    assert!(
        iterations(&hard) < iterations(&raced),
        "first round 2 ran {} iterations, not fewer than {}",
        iterations(&hard),
        iterations(&raced)
    );
}

#[test]
fn held_out_rows_are_scored_per_cell() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, truth, _, _) = truths().remove(0);
    let input = tmp.path().join("s.csv");
    write_sample(&truth, 2000, 3, &input);
    let v = select(
        &input,
        &tmp.path().join("v"),
        &["--validation-fraction", "0.25", "--covariance", "spherical"],
    );
    let cells = v["cells"].as_array().unwrap();
    let held: Vec<f64> = cells
        .iter()
        .map(|c| c["validation_log_likelihood"].as_f64().unwrap())
        .collect();
    // The true K explains held-out rows far better than K = 1.
    assert!(held[2] > held[0] + 0.5, "{held:?}");
    // The winner's model file counts the rows it was fitted on, as its
    // BIC does: the held-out ones are not among them.
    let m = read_json(&tmp.path().join("v/winner/model.json"));
    let n = m["n_rows"].as_f64().unwrap();
    assert!(n > 1300.0 && n < 1700.0, "{n}");
    let (ll, p) = (
        m["mean_log_likelihood"].as_f64().unwrap(),
        m["n_parameters"].as_f64().unwrap(),
    );
    let bic = m["bic"].as_f64().unwrap();
    assert!(
        (bic - (-2.0 * ll * n + p * n.ln())).abs() < 1e-9 * bic.abs(),
        "{m}"
    );
}

#[test]
fn bad_grids_are_usage_errors() {
    let o = gmm(&[
        "select",
        "--input",
        "data/customers/unlabeled.csv",
        "--components",
        "5..2",
    ]);
    fails(&o, 2, &["--components", "5..2"]);
    let o = gmm(&[
        "select",
        "--input",
        "data/customers/unlabeled.csv",
        "--components",
        "1..3",
        "--covariance",
        "full,blob",
    ]);
    fails(&o, 2, &["`blob`"]);
    let o = gmm(&[
        "fit",
        "--input",
        "data/customers/unlabeled.csv",
        "--components",
        "1..3",
    ]);
    fails(&o, 2, &["gmm select"]);
    for (flag, value, needle) in [
        ("--racing-keep", "0", "--racing-keep"),
        ("--racing-keep", "1.5", "--racing-keep"),
        ("--racing-first-round", "0", "--racing-first-round"),
        ("--racing-margin", "-1", "--racing-margin"),
    ] {
        let arg = format!("{flag}={value}");
        let o = gmm(&[
            "select",
            "--input",
            "data/customers/unlabeled.csv",
            "--components",
            "1..2",
            &arg,
        ]);
        fails(&o, 2, &[needle]);
    }
}

/// `gmm fit`'s flags that a selection cannot use are not offered by
/// `gmm select --help`; given anyway (or as config keys), they are refused
/// by name, and nothing is written.
#[test]
fn select_offers_only_the_flags_it_uses() {
    let help = ok(&gmm(&["select", "--help"]));
    let fit_help = ok(&gmm(&["fit", "--help"]));
    for flag in ["--init-model", "--checkpoint", "--resume", "--split"] {
        assert!(!help.contains(flag), "select --help offers {flag}");
        assert!(fit_help.contains(flag), "fit --help lacks {flag}");
    }
    for flag in ["--n-init", "--criterion", "--racing-keep", "--input"] {
        assert!(help.contains(flag), "select --help lacks {flag}");
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("sel");
    let base = [
        "select",
        "--input",
        "data/customers/unlabeled.csv",
        "--components",
        "1..2",
        "--out",
        s(&out),
    ];
    for extra in [
        &["--init-model", "m.json"][..],
        &["--checkpoint", "2"],
        &["--resume"],
        &["--split", "restarts"],
    ] {
        let mut a = base.to_vec();
        a.extend_from_slice(extra);
        let o = gmm(&a);
        fails(&o, 2, &[extra[0], "gmm fit, not gmm select"]);
        assert!(!out.exists());
    }
    for (key, line) in [
        ("[fit] init_model", "[fit]\ninit_model = \"m.json\"\n"),
        ("[fit] checkpoint_every", "[fit]\ncheckpoint_every = 3\n"),
        ("[fit] split", "[fit]\nsplit = \"rows\"\n"),
    ] {
        let cfg = tmp.path().join("c.toml");
        std::fs::write(&cfg, line).unwrap();
        let mut a = base.to_vec();
        a.insert(1, s(&cfg));
        let o = gmm(&a);
        fails(&o, 2, &["c.toml", key, "gmm fit, not gmm select"]);
        assert!(!out.exists());
    }
}

/// A selection on a handful of rows picks a model with as many parameters
/// as rows and a component at the variance floor: it says so, on standard
/// error, under the cells of the table, and in the JSON summary. A sound
/// fit says nothing.
#[test]
fn suspicious_winners_are_warned_about() {
    let tmp = tempfile::tempdir().unwrap();
    let five = tmp.path().join("five.csv");
    std::fs::write(&five, "a,b\n1,2\n2,3.5\n3,1\n4,4\n5,0.5\n").unwrap();
    let out = tmp.path().join("sel");
    let args = [
        "select",
        "--input",
        s(&five),
        "--components",
        "1..5",
        "--out",
        s(&out),
    ];
    let o = gmm(&args);
    let table = ok(&o);
    let err = stderr(&o);
    assert!(err.contains("warning: the model has"), "{err}");
    assert!(err.contains("parameters for 5 rows"), "{err}");
    assert!(err.contains("variance floor"), "{err}");
    assert!(
        table.contains("parameters for 5 rows: as many as the rows or more"),
        "{table}"
    );
    let v = read_json(&out.join("selection.json"));
    assert_eq!(v["warnings"].as_array().unwrap().len(), 2, "{v}");

    let fit = tmp.path().join("fit");
    let o = gmm(&[
        "fit",
        "--input",
        s(&five),
        "-k",
        "3",
        "--out",
        s(&fit),
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&ok(&o)).unwrap();
    assert!(
        v["warnings"][0]
            .as_str()
            .unwrap()
            .contains("parameters for 5 rows"),
        "{v}"
    );
    assert!(stderr(&o).contains("warning: the model has"));

    let o = gmm(&[
        "fit",
        "configs/customers.toml",
        "--out",
        s(&tmp.path().join("c")),
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&ok(&o)).unwrap();
    assert_eq!(v["warnings"], serde_json::json!([]));
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
}

/// mclust's names of the four covariance types read as gmm's; its other
/// ten families fit by name; a selection reports each cell's mclust name
/// and BIC with mclust's sign.
#[test]
fn mclust_names_and_bic_sign() {
    let tmp = tempfile::tempdir().unwrap();
    let input = "data/customers/unlabeled.csv";
    let fit = |cov: &str, out: &Path| {
        gmm(&[
            "fit",
            "--input",
            input,
            "-k",
            "2",
            "--covariance",
            cov,
            "--out",
            s(out),
        ])
    };
    for (gmm_name, mclust) in [
        ("full", "VVV"),
        ("diag", "VVI"),
        ("spherical", "VII"),
        ("tied", "EEE"),
    ] {
        let (a, b) = (tmp.path().join(gmm_name), tmp.path().join(mclust));
        ok(&fit(gmm_name, &a));
        ok(&fit(mclust, &b));
        let without_provenance = |p: &Path| {
            let mut m = read_json(&p.join("model.json"));
            m["provenance"] = serde_json::Value::Null;
            m
        };
        assert_eq!(without_provenance(&a), without_provenance(&b), "{mclust}");
        let shown = ok(&gmm(&["inspect", s(&b.join("model.json"))]));
        assert!(
            shown.contains(&format!("{gmm_name} (mclust's {mclust})")),
            "{shown}"
        );
    }
    // mclust's other families fit by their own names; their model files
    // say so and hold each covariance's volume, shape and orientation.
    for other in ["EVV", "VEI", "EII"] {
        let dir = tmp.path().join(other);
        ok(&fit(other, &dir));
        let m = read_json(&dir.join("model.json"));
        assert_eq!(m["covariance_type"], other);
        let dec = &m["decomposition"];
        assert_eq!(dec["scale"].as_array().unwrap().len(), 2, "{m}");
        assert_eq!(dec["orientation"][0].as_array().unwrap().len(), 2, "{m}");
        let shown = ok(&gmm(&["inspect", s(&dir.join("model.json"))]));
        assert!(shown.contains(other), "{shown}");
    }
    let o = fit("VVX", &tmp.path().join("VVX"));
    fails(&o, 2, &["VVX", "EVV"]);
    let out = tmp.path().join("sel");
    let o = gmm(&[
        "select",
        "--input",
        input,
        "--components",
        "1..3",
        "--covariance",
        "VVV,EEE",
        "--predictions-format",
        "csv",
        "--out",
        s(&out),
    ]);
    ok(&o);
    let (header, rows) = read_csv(&out.join("selection.csv"));
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert_eq!(rows.len(), 6);
    for r in &rows {
        let bic: f64 = r[col("bic")].parse().unwrap();
        let mclust: f64 = r[col("bic_mclust")].parse().unwrap();
        assert_eq!(mclust, -bic);
        let expected = if r[col("covariance")] == "full" {
            "VVV"
        } else {
            "EEE"
        };
        assert_eq!(r[col("mclust_model")], expected);
    }
    let v = read_json(&out.join("selection.json"));
    for c in v["cells"].as_array().unwrap() {
        assert_eq!(
            c["bic_mclust"].as_f64().unwrap(),
            -c["bic"].as_f64().unwrap()
        );
    }
    // mclust's ICL of the winner, from its predictions: BIC in mclust's
    // sign plus twice the log posterior of each row's component.
    let w = &v["winner"];
    let cell = v["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["n_components"] == w["n_components"] && c["covariance_type"] == w["covariance_type"]
        })
        .unwrap();
    let (header, preds) = read_csv(&out.join("winner/predictions.csv"));
    let p = header.iter().position(|h| h == "probability").unwrap();
    let map: f64 = preds
        .iter()
        .map(|r| r[p].parse::<f64>().unwrap().ln())
        .sum();
    let want = cell["bic_mclust"].as_f64().unwrap() + 2.0 * map;
    let got = cell["icl_mclust"].as_f64().unwrap();
    assert!((got - want).abs() < 1e-9 * want.abs(), "{got} vs {want}");

    // Without a grid, mclust's: K = 1..9 for every covariance type.
    let all = tmp.path().join("all");
    ok(&gmm(&[
        "select",
        "--input",
        input,
        "--n-init",
        "1",
        "--out",
        s(&all),
    ]));
    let v = read_json(&all.join("selection.json"));
    let cells = v["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 9 * 4);
    assert_eq!(
        cells
            .iter()
            .map(|c| c["n_components"].as_u64().unwrap())
            .max(),
        Some(9)
    );
}

/// On R's faithful, iris and mclust's diabetes, `gmm select` over the four
/// families (and over all fourteen, `--families all`) and K = 1..9 picks
/// the model mclust's `Mclust()` picks over the same families (EEE, K = 3;
/// VVV, K = 2, and VEV, K = 2 over all fourteen; VVV, K = 3), with a BIC
/// (mclust's sign) at least as high (tests/data/mclust/select_*.json,
/// written by scripts/mclust_reference.R). Run as mclust runs: without
/// regularization (mclust has none), every restart to convergence (no
/// racing), to mclust's convergence (tol 1e-8; gmm's default 1e-3 stops
/// earlier).
#[test]
fn select_picks_what_mclust_picks() {
    let grids = [("select", "sklearn"), ("select_all", "all")];
    picks_what_mclust_picks(&grids, &["--n-init", "10"]);
}

/// From mclust's own start (`--init hc`: the same agglomeration of the
/// same rows, see crates/gmm-core/tests/mclust_hc.rs), one restart per
/// cell is enough: `gmm select --families all` picks `Mclust()`'s model.
#[test]
fn select_from_mclusts_start_picks_what_mclust_picks() {
    picks_what_mclust_picks(&[("select_all", "all")], &["--init", "hc", "--n-init", "1"]);
}

/// With mclust's conjugate prior (`--prior`, `Mclust(..., prior =
/// priorControl())`), over the ten families that have one (`all` leaves
/// out the other four, as `Mclust()` does), from mclust's start: the same
/// picks (EEE, K = 3; VEV, K = 2; VVV, K = 4), with a BIC as high or higher
/// (tests/data/mclust/prior/select_*.json, from
/// scripts/mclust_prior_reference.R).
#[test]
fn select_with_the_prior_picks_what_mclust_picks() {
    picks_what_mclust_picks(
        &[("prior/select", "all")],
        &["--prior", "--init", "hc", "--n-init", "1"],
    );
}

/// The hc start's sample must hold the grid's largest K: refused before
/// any cell is fitted, with nothing written; `--prior` refuses a family
/// that mclust has no prior for by name.
#[test]
fn hc_rows_and_prior_are_checked_before_any_cell() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("sel");
    let o = gmm(&[
        "select",
        "--input",
        "tests/data/mclust/faithful.csv",
        "--components",
        "1..6",
        "--init",
        "hc",
        "--hc-rows",
        "4",
        "--out",
        s(&out),
    ]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("4 rows cannot be cut into 6 clusters (the grid's largest K)"),
        "{err}"
    );
    assert!(!err.contains("K=1"), "no cell was fitted: {err}");
    assert!(!out.exists());
    let o = gmm(&[
        "select",
        "--input",
        "tests/data/mclust/faithful.csv",
        "--covariance",
        "VVV,EVV",
        "--prior",
        "--out",
        s(&out),
    ]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("mclust has no prior for EVV"));
    assert!(!out.exists());
}

fn picks_what_mclust_picks(grids: &[(&str, &str)], start: &[&str]) {
    picks_what_mclust_picks_on(&["faithful", "iris", "diabetes"], grids, start);
}

/// [`picks_what_mclust_picks`] on the data sets `sets`.
pub(crate) fn picks_what_mclust_picks_on(sets: &[&str], grids: &[(&str, &str)], start: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    for (&(prefix, families), &set) in grids
        .iter()
        .flat_map(|g| sets.iter().map(move |set| (g, set)))
    {
        let want = read_json(&root().join(format!("tests/data/mclust/{prefix}_{set}.json")));
        let out = tmp
            .path()
            .join(format!("{}_{set}", prefix.replace('/', "_")));
        let input = format!("tests/data/mclust/{set}.csv");
        let mut args = vec!["select", "--input", &input, "--families", families];
        args.extend_from_slice(start);
        args.extend_from_slice(&[
            "--tol",
            "1e-8",
            "--max-iter",
            "10000",
            "--reg-covar",
            "0",
            "--no-racing",
            "--out",
            s(&out),
            "--json",
        ]);
        let o = gmm(&args);
        let v: serde_json::Value = serde_json::from_str(&ok(&o)).unwrap();
        let w = &v["winner"];
        assert_eq!(
            (&w["n_components"], &w["covariance_type"]),
            (&want["n_components"], &want["covariance_type"]),
            "{set}: gmm picked {w}, mclust {want}"
        );
        let cell = v["cells"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| {
                c["n_components"] == w["n_components"]
                    && c["covariance_type"] == w["covariance_type"]
            })
            .unwrap();
        let (got, theirs) = (
            cell["bic_mclust"].as_f64().unwrap(),
            want["bic"].as_f64().unwrap(),
        );
        assert!(
            got >= theirs - 1e-12 * theirs.abs(),
            "{set}: gmm's BIC {got} below mclust's {theirs}"
        );
    }
}
