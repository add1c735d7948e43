//! mclust's noise component from the command line: the model file, the
//! predictions (component -1, `proba_noise`), `gmm predict` and `inspect`
//! on such a model, a semi-supervised fit's classes, `select`, and the
//! settings refused before any work.

use crate::common::*;

const NOISY: &str = "tests/data/mclust/faithful_noisy.csv";

#[test]
fn a_noise_fit_writes_its_noise_in_the_model_and_the_predictions() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    ok(&gmm(&[
        "fit",
        "--input",
        NOISY,
        "-k",
        "2",
        "--noise",
        "--predictions-format",
        "csv",
        "--out",
        s(&run),
    ]));
    let model = read_json(&run.join("model.json"));
    let (w, v) = (
        model["noise"]["weight"].as_f64().unwrap(),
        model["noise"]["volume"].as_f64().unwrap(),
    );
    // mclust's hypvol of the same rows (the fixtures' Vinv).
    let fx = read_json(&root().join("tests/data/mclust/noise/faithful_noisy_VVV_G2.json"));
    let mclust = 1.0 / fx["vinv"].as_f64().unwrap();
    assert!((v - mclust).abs() < 1e-12 * mclust, "{v} against {mclust}");
    assert!((0.1..0.3).contains(&w), "{w}");
    let total: f64 = f64s(&model["weights"]).iter().sum();
    assert!((total + w - 1.0).abs() < 1e-12, "{total} + {w}");
    assert_eq!(
        model["n_parameters"], 13,
        "VVV, K = 2: 11, and the noise's 2"
    );

    let (header, rows) = read_csv(&run.join("predictions.csv"));
    assert_eq!(
        header,
        [
            "component",
            "probability",
            "proba_0",
            "proba_1",
            "proba_noise",
            "uncertainty"
        ]
    );
    assert_eq!(rows.len(), 332);
    let mut noise_rows = 0;
    for r in &rows {
        let p: Vec<f64> = r[2..5].iter().map(|v| v.parse().unwrap()).collect();
        let best = (0..3).fold(0, |b, c| if p[c] > p[b] { c } else { b });
        let want = if best == 2 {
            "-1".to_string()
        } else {
            best.to_string()
        };
        assert_eq!(r[0], want, "{r:?}");
        noise_rows += usize::from(best == 2);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
    // 60 of the rows were drawn uniformly; some fall inside the clusters.
    assert!((30..=80).contains(&noise_rows), "{noise_rows}");

    // `gmm predict` with the model file gives the same predictions.
    let out = tmp.path().join("again.csv");
    ok(&gmm(&[
        "predict",
        "--model",
        s(&run.join("model.json")),
        "--input",
        NOISY,
        "--out",
        s(&out),
    ]));
    assert_eq!(read_csv(&out), (header, rows));

    let summary: serde_json::Value = serde_json::from_str(&ok(&gmm(&[
        "inspect",
        "--json",
        s(&run.join("model.json")),
    ])))
    .unwrap();
    assert_eq!(summary["noise"]["weight"].as_f64(), Some(w));

    // Sampling needs a region the noise does not have: refused, nothing written.
    let sample = tmp.path().join("sample.csv");
    fails(
        &gmm(&[
            "sample",
            "--model",
            s(&run.join("model.json")),
            "--rows",
            "10",
            "--out",
            s(&sample),
        ]),
        2,
        &["has a noise component", "refit without --noise"],
    );
    assert!(!sample.exists());
}

/// Semi-supervised with noise: labeled rows keep their class, and a row
/// the noise explains best has no class.
#[test]
fn a_semi_supervised_noise_fit_gives_noise_rows_no_class() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    ok(&gmm(&[
        "fit",
        "configs/customers-semi.toml",
        "--noise",
        "--out",
        s(&run),
    ]));
    let (header, rows) = read_csv(&run.join("predictions.csv"));
    assert_eq!(&header[..2], ["component", "class"]);
    assert!(header.contains(&"proba_noise".to_string()));
    let noise: Vec<_> = rows.iter().filter(|r| r[0] == "-1").collect();
    assert!(!noise.is_empty(), "the customers have a few stray rows");
    assert!(noise.iter().all(|r| r[1].is_empty()), "{noise:?}");
    assert!(
        rows.iter().filter(|r| r[0] != "-1").all(|r| r[1] == r[0]),
        "component i is class i"
    );
}

#[test]
fn select_with_noise_counts_the_noises_parameters() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("sel");
    ok(&gmm(&[
        "select",
        "--input",
        NOISY,
        "--noise",
        "--covariance",
        "VVV,EII",
        "-k",
        "1..3",
        "--out",
        s(&out),
    ]));
    let sel = read_json(&out.join("selection.json"));
    let cells = sel["cells"].as_array().unwrap();
    let vvv2 = cells
        .iter()
        .find(|c| c["n_components"] == 2 && c["mclust_model"] == "VVV")
        .unwrap();
    assert_eq!(vvv2["n_parameters"], 13);
    let winner = read_json(&out.join("winner/model.json"));
    assert!(winner["noise"]["weight"].as_f64().unwrap() > 0.1);
}

#[test]
fn noise_settings_that_cannot_work_are_refused_before_any_work() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let fit = |extra: &[&str], input: &str| {
        let mut args = vec!["fit", "--input", input, "-k", "2", "--out", s(&run)];
        args.extend_from_slice(extra);
        gmm(&args)
    };
    fails(
        &fit(&["--noise-volume", "10"], NOISY),
        2,
        &["--noise-volume / [model] noise_volume", "turn noise on"],
    );
    fails(
        &fit(&["--noise", "--noise-volume", "0"], NOISY),
        2,
        &["must be a finite number above 0"],
    );
    fails(
        &fit(
            &["--noise", "--missing", "marginalize"],
            "data/customers/with-gaps.csv",
        ),
        2,
        &[
            "noise",
            "cannot integrate out missing values",
            "`drop` missing-value policy",
        ],
    );
    // A noise that takes every row (its volume too small) ends its
    // restart as a degenerate component does.
    fails(
        &fit(
            &["--noise", "--noise-volume", "1e-4", "--n-init", "2"],
            NOISY,
        ),
        1,
        &[
            "all 2 restarts were dropped",
            "the noise component of restart 1 took every row",
            "Give a larger noise volume",
        ],
    );
    // Rows on a line have no volume for the noise to be uniform over.
    let flat = tmp.path().join("flat.csv");
    let rows: String = (0..50)
        .map(|i| format!("{},{}\n", i as f64 * 0.37, 2.0 * i as f64 * 0.37 + 1.0))
        .collect();
    std::fs::write(&flat, format!("a,b\n{rows}")).unwrap();
    fails(
        &fit(&["--noise"], s(&flat)),
        2,
        &["the rows lie in a flat region", "give the noise's volume"],
    );
    assert!(!run.exists());
}

/// One column: the density plot draws the Gaussians, the noise's share of
/// the rows in predictions.
#[test]
fn a_one_column_noise_fit_draws_its_plots() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("one.csv");
    let rows: String = (0..300)
        .map(|i| {
            let t = i as f64;
            let x = (t * 0.37).sin() + if i % 2 == 0 { 0.0 } else { 6.0 };
            format!("{}\n", if i % 25 == 0 { t * 0.1 - 10.0 } else { x })
        })
        .collect();
    std::fs::write(&input, format!("x\n{rows}")).unwrap();
    let run = tmp.path().join("run");
    ok(&gmm(&[
        "fit",
        "--input",
        s(&input),
        "-k",
        "2",
        "--noise",
        "--out",
        s(&run),
    ]));
    assert_svg(&std::fs::read_to_string(run.join("clusters.svg")).unwrap());
    let model = read_json(&run.join("model.json"));
    assert!(model["noise"]["weight"].as_f64().unwrap() > 0.0);
}

/// `gmm select --noise --families all` on faithful with uniform rows picks
/// what `Mclust(X, G = 1:9, initialization = list(noise = ...))` picks
/// (VVE, K = 2; tests/data/mclust/noise/select_faithful_noisy.json, from
/// scripts/mclust_noise_reference.R), with a BIC as high or higher: gmm
/// starts from k-means and its own noise share, mclust from the
/// fixtures' noise set and hierarchical partition.
#[test]
fn select_with_noise_picks_what_mclust_picks() {
    crate::select::picks_what_mclust_picks_on(
        &["faithful_noisy"],
        &[("noise/select", "all")],
        &["--noise", "--n-init", "3"],
    );
}
