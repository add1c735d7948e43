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
    // A kept column named as one the winner's predictions write: refused
    // before any cell is fitted.
    let named = tmp.path().join("named.csv");
    let rows: String = (0..50)
        .map(|i| format!("{},{},{i}\n", i % 7, i % 5))
        .collect();
    std::fs::write(&named, format!("a,b,proba_noise\n{rows}")).unwrap();
    fails(
        &gmm(&[
            "select",
            "--input",
            s(&named),
            "--columns",
            "a,b",
            "--noise",
            "--components",
            "2..3",
            "--keep-columns",
            "proba_noise",
            "--out",
            s(&run),
        ]),
        2,
        &[
            "column `proba_noise` is copied into the predictions",
            "proba_0 .. proba_2, proba_noise",
        ],
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

/// faithful with uniform rows and a column `outlier` marking the fixture's
/// initial noise set (TRUE/FALSE, as R writes it), as CSV at `dir`; and
/// the fixture of `family`, G = 2.
fn with_outlier_column(
    dir: &std::path::Path,
    family: &str,
) -> (std::path::PathBuf, serde_json::Value) {
    let fx = read_json(&root().join(format!(
        "tests/data/mclust/noise/faithful_noisy_{family}_G2.json"
    )));
    let set: Vec<u64> = fx["noise_rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_u64().unwrap())
        .collect();
    let (header, rows) = read_csv(&root().join(NOISY));
    let mut text = format!("{},outlier\n", header.join(","));
    for (i, r) in rows.iter().enumerate() {
        let flag = if set.contains(&(i as u64)) {
            "TRUE"
        } else {
            "FALSE"
        };
        text.push_str(&format!("{},{flag}\n", r.join(",")));
    }
    let path = dir.join("noisy.csv");
    std::fs::write(&path, text).unwrap();
    (path, fx)
}

/// `--noise-init-column` is mclust's `initialization = list(noise = ...)`:
/// with `--init hc`, gmm starts where `Mclust()` does (the Gaussians from
/// `hclass(hc(X[-noise, ]), G)`, the noise weight the set's share) and
/// reaches mclust's fit. The out-of-core cache carries the flags: the same
/// fit, bit for bit, from a Parquet table of booleans.
#[test]
fn an_initial_noise_column_starts_the_noise_as_mclust_does() {
    let tmp = tempfile::tempdir().unwrap();
    for family in ["VVV", "EEI"] {
        let (input, fx) = with_outlier_column(tmp.path(), family);
        let run = tmp.path().join(format!("run-{family}"));
        let args = |input: &str, out: &std::path::Path| {
            let mut a = vec![
                "fit",
                "--input",
                input,
                "-k",
                "2",
                "--covariance",
                family,
                "--noise",
                "--noise-init-column",
                "outlier",
                "--init",
                "hc",
                "--reg-covar",
                "0",
                "--tol",
                "1e-14",
                "--max-iter",
                "100000",
                "--out",
                s(out),
            ]
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>();
            a.push("-q".into());
            a
        };
        let a = args(s(&input), &run);
        ok(&gmm(&a.iter().map(String::as_str).collect::<Vec<_>>()));
        let model = read_json(&run.join("model.json"));
        let n = 332.0;
        let loglik = model["mean_log_likelihood"].as_f64().unwrap() * n;
        let want = fx["result"]["loglik"].as_f64().unwrap();
        assert!(
            (loglik - want).abs() < 1e-8 * want.abs(),
            "{family}: {loglik} against mclust's {want}"
        );
        let w = model["noise"]["weight"].as_f64().unwrap();
        let mclust_w = fx["result"]["noise_weight"].as_f64().unwrap();
        assert!(
            (w - mclust_w).abs() < 1e-6,
            "{family}: noise weight {w} against {mclust_w}"
        );
        let run_json = read_json(&run.join("run.json"));
        assert_eq!(run_json["settings"]["data"]["noise_init_column"], "outlier");
    }

    // The same rows as Parquet with a boolean column, through the cache.
    let (header, rows) = read_csv(&root().join(NOISY));
    let (_, fx) = with_outlier_column(tmp.path(), "VVV");
    let set: Vec<u64> = fx["noise_rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_u64().unwrap())
        .collect();
    use gmm_io::arrow::array::{ArrayRef, BooleanArray, Float64Array};
    let column = |j: usize| -> ArrayRef {
        std::sync::Arc::new(Float64Array::from(
            rows.iter()
                .map(|r| r[j].parse::<f64>().unwrap())
                .collect::<Vec<_>>(),
        ))
    };
    let flags: ArrayRef = std::sync::Arc::new(BooleanArray::from(
        (0..rows.len())
            .map(|i| set.contains(&(i as u64)))
            .collect::<Vec<_>>(),
    ));
    let parquet = tmp.path().join("noisy.parquet");
    write_parquet(
        &parquet,
        vec![
            (&header[0], column(0)),
            (&header[1], column(1)),
            ("outlier", flags),
        ],
    );
    let cached = tmp.path().join("cached");
    let cache = tmp.path().join("cache");
    let base = [
        "fit",
        "--input",
        s(&parquet),
        "-k",
        "2",
        "--noise",
        "--noise-init-column",
        "outlier",
        "--n-init",
        "3",
        "-q",
    ];
    let in_memory = tmp.path().join("memory");
    ok(&gmm(&[&base[..], &["--out", s(&in_memory)]].concat()));
    ok(&gmm(&[
        &base[..],
        &[
            "--out",
            s(&cached),
            "--max-memory",
            "1K",
            "--cache-dir",
            s(&cache),
        ],
    ]
    .concat()));
    let run_json = read_json(&cached.join("run.json"));
    assert_eq!(run_json["data"]["storage"]["out_of_core"], true);
    let strip = |p: &std::path::Path| {
        let mut m = read_json(&p.join("model.json"));
        m["provenance"] = serde_json::Value::Null;
        m
    };
    assert_eq!(strip(&in_memory), strip(&cached));
    // Without the column the start differs.
    let plain = tmp.path().join("plain");
    ok(&gmm(&[
        "fit",
        "--input",
        s(&parquet),
        "--columns",
        "eruptions,waiting",
        "-k",
        "2",
        "--noise",
        "--n-init",
        "3",
        "-q",
        "--out",
        s(&plain),
    ]));
    assert_ne!(strip(&in_memory)["noise"], strip(&plain)["noise"]);
}

/// A flag that is not true or false, a labeled row in the set, a set of
/// no row or every row, the column without `--noise` or as a feature: a
/// one-line error naming the column (and row), nothing written.
#[test]
fn initial_noise_columns_that_cannot_work_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let write = |name: &str, flags: &dyn Fn(usize) -> String, labels: bool| {
        let path = tmp.path().join(name);
        let mut text = String::from(if labels {
            "x,y,outlier,label\n"
        } else {
            "x,y,outlier\n"
        });
        for i in 0..60 {
            let (x, y) = (
                (i % 7) as f64 + 0.1 * i as f64,
                (i % 5) as f64 - 0.05 * i as f64,
            );
            let label = if labels {
                if i == 4 {
                    ",a"
                } else if i == 9 {
                    ",b"
                } else {
                    ","
                }
            } else {
                ""
            };
            text.push_str(&format!("{x},{y},{}{label}\n", flags(i)));
        }
        std::fs::write(&path, text).unwrap();
        path
    };
    let fit = |input: &std::path::Path, extra: &[&str]| {
        let mut a = vec![
            "fit",
            "--input",
            s(input),
            "--columns",
            "x,y",
            "-k",
            "2",
            "--out",
            s(&run),
        ];
        a.extend_from_slice(extra);
        gmm(&a)
    };
    let noise = ["--noise", "--noise-init-column", "outlier"];
    let bad = write(
        "bad.csv",
        &|i| (if i == 6 { "maybe" } else { "false" }).into(),
        false,
    );
    fails(
        &fit(&bad, &noise),
        1,
        &[
            "bad.csv",
            "initial noise column `outlier`, data row 7",
            "`maybe` is neither true nor false",
        ],
    );
    let empty = write(
        "empty.csv",
        &|i| (if i == 6 { "" } else { "1" }).into(),
        false,
    );
    fails(
        &fit(&empty, &noise),
        1,
        &["data row 7", "the value is missing"],
    );
    let labeled = write(
        "labeled.csv",
        &|i| (if i == 4 { "1" } else { "0" }).into(),
        true,
    );
    fails(
        &fit(
            &labeled,
            &[&noise[..], &["--label-column", "label"]].concat(),
        ),
        1,
        &["--noise-init-column outlier: the row at index 4 (counting from 0) is labeled"],
    );
    let none = write("none.csv", &|_| "0".into(), false);
    fails(
        &fit(&none, &noise),
        1,
        &["--noise-init-column outlier", "holds no row with weight"],
    );
    let all = write("all.csv", &|_| "1".into(), false);
    fails(
        &fit(&all, &noise),
        1,
        &[
            "--noise-init-column outlier",
            "every row with weight is in the set",
        ],
    );
    let some = write("some.csv", &|i| (i % 9 == 0).to_string(), false);
    fails(
        &fit(&some, &["--noise-init-column", "outlier"]),
        2,
        &[
            "--noise-init-column / [data] noise_init_column",
            "add --noise",
        ],
    );
    fails(
        &gmm(&[
            "fit",
            "--input",
            s(&some),
            "--columns",
            "x,y,outlier",
            "-k",
            "2",
            "--noise",
            "--noise-init-column",
            "outlier",
            "--out",
            s(&run),
        ]),
        1,
        &["`outlier` marks the initial noise set and cannot also be a feature"],
    );
    assert!(!run.exists());
    // Left to the default, the features leave the column out.
    ok(&gmm(&[
        "fit",
        "--input",
        s(&some),
        "-k",
        "2",
        "--noise",
        "--noise-init-column",
        "outlier",
        "--out",
        s(&run),
        "-q",
    ]));
    assert_eq!(
        read_json(&run.join("model.json"))["columns"],
        serde_json::json!(["x", "y"])
    );
}
