//! `--precision f32`: rows held (and cached) as `f32`. The fit in memory and
//! out of core are the same to the byte, predict and score reproduce it
//! with the same flag, the result lies within `f32` rounding of the `f64`
//! fit, and a bad value is a usage error.

use crate::common::*;

fn fit(out: &std::path::Path, extra: &[&str]) -> String {
    let mut args = vec![
        "fit",
        "configs/customers.toml",
        "--out",
        s(out),
        "-q",
        "--no-plots",
    ];
    args.extend_from_slice(extra);
    ok(&gmm(&args))
}

/// Every number of a nested JSON array.
fn flat(v: &serde_json::Value) -> Vec<f64> {
    match v {
        serde_json::Value::Array(a) => a.iter().flat_map(flat).collect(),
        x => vec![x.as_f64().unwrap()],
    }
}

#[test]
fn f32_fits_alike_in_memory_and_out_of_core_and_near_the_f64_fit() {
    let tmp = tempfile::tempdir().unwrap();
    let (wide, mem, ooc) = (
        tmp.path().join("f64"),
        tmp.path().join("f32"),
        tmp.path().join("f32-ooc"),
    );
    let cache = tmp.path().join("cache");
    fit(&wide, &["--max-memory", "1KiB", "--cache-dir", s(&cache)]);
    fit(&mem, &["--precision", "f32"]);
    fit(
        &ooc,
        &[
            "--precision",
            "f32",
            "--max-memory",
            "1KiB",
            "--cache-dir",
            s(&cache),
        ],
    );
    assert_same_run(&mem, &ooc, "predictions.csv");
    for (dir, want) in [(&wide, "f64"), (&mem, "f32"), (&ooc, "f32")] {
        let run = read_json(&dir.join("run.json"));
        assert_eq!(run["data"]["precision"], want, "{}", dir.display());
        assert_eq!(run["settings"]["data"]["precision"], want);
    }
    // An f64 model file says nothing of precision (it reads as before).
    let m = read_json(&wide.join("model.json"));
    assert!(m["provenance"].get("precision").is_none(), "{m}");
    // One cache per precision; the f32 one holds 4 bytes a value less.
    let bytes = |dir: &std::path::Path| {
        read_json(&dir.join("run.json"))["data"]["storage"]["cache"]["bytes"]
            .as_u64()
            .unwrap()
    };
    let values = 1000 * 2;
    let saved = bytes(&wide) - bytes(&ooc);
    assert!(saved.abs_diff(4 * values) < 64, "{saved} bytes saved");
    assert_eq!(files_in(&cache).len(), 2, "{:?}", files_in(&cache));

    // Within the rounding of the input to f32 (2^-24 relative).
    let (a, b) = (
        read_json(&wide.join("model.json")),
        read_json(&mem.join("model.json")),
    );
    for key in ["weights", "means", "covariances"] {
        let (x, y) = (flat(&a[key]), flat(&b[key]));
        let worst = x
            .iter()
            .zip(&y)
            .map(|(p, q)| (p - q).abs() / p.abs().max(1e-3))
            .fold(0.0, f64::max);
        assert!(worst > 0.0 && worst < 1e-6, "{key}: {worst:e}");
    }
    let (la, lb) = (
        a["mean_log_likelihood"].as_f64().unwrap(),
        b["mean_log_likelihood"].as_f64().unwrap(),
    );
    assert!(((la - lb) / la).abs() < 1e-7, "{la} vs {lb}");
}

#[test]
fn predict_and_score_with_f32_reproduce_an_f32_fit() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    fit(&run, &["--precision", "f32"]);
    let model = run.join("model.json");
    let preds = tmp.path().join("p.csv");
    ok(&gmm(&[
        "predict",
        "--model",
        s(&model),
        "--input",
        "data/customers/unlabeled.csv",
        "--precision",
        "f32",
        "--out",
        s(&preds),
    ]));
    assert_eq!(read_csv(&preds), read_csv(&run.join("predictions.csv")));
    // The model file says how its rows were held; predict follows it by
    // default, and --precision f64 overrides it.
    let m = read_json(&model);
    assert_eq!(m["provenance"]["precision"], "f32");
    let default = tmp.path().join("default.csv");
    let wide = tmp.path().join("wide.csv");
    for (out, extra) in [(&default, vec![]), (&wide, vec!["--precision", "f64"])] {
        let mut args = vec![
            "predict",
            "--model",
            s(&model),
            "--input",
            "data/customers/unlabeled.csv",
            "--out",
            s(out),
        ];
        args.extend(extra);
        ok(&gmm(&args));
    }
    assert_eq!(read_csv(&default), read_csv(&preds));
    assert_ne!(
        read_csv(&wide),
        read_csv(&preds),
        "f64 rows give other digits"
    );
    // score follows the model's precision too, with or without the flag.
    for extra in [&["--precision", "f32"][..], &[][..]] {
        let mut args = vec![
            "score",
            "--model",
            s(&model),
            "--input",
            "data/customers/unlabeled.csv",
            "--json",
        ];
        args.extend(extra);
        let v: serde_json::Value = serde_json::from_str(&ok(&gmm(&args))).unwrap();
        let m = read_json(&model);
        assert_eq!(
            v["mean_log_likelihood"], m["mean_log_likelihood"],
            "{extra:?}"
        );
    }
}

#[test]
fn precision_comes_from_the_config_and_bad_values_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("c.toml");
    let input = root().join("data/customers/unlabeled.csv");
    std::fs::write(
        &config,
        format!(
            "[data]\ninput = {:?}\ncolumns = [\"x1\", \"x2\"]\nprecision = \"f32\"\n[model]\ncomponents = 2\n",
            s(&input)
        ),
    )
    .unwrap();
    let run = tmp.path().join("run");
    ok(&gmm(&[
        "fit",
        s(&config),
        "--out",
        s(&run),
        "-q",
        "--no-plots",
    ]));
    assert_eq!(read_json(&run.join("run.json"))["data"]["precision"], "f32");
    let bad = tmp.path().join("bad");
    fails(
        &gmm(&["fit", s(&config), "--precision", "f16", "--out", s(&bad)]),
        2,
        &["--precision / [data] precision", "`f16`", "f64, f32"],
    );
    assert!(!bad.exists(), "nothing written");
    fails(
        &gmm(&[
            "predict",
            "--model",
            s(&run.join("model.json")),
            "--input",
            "data/customers/unlabeled.csv",
            "--precision",
            "double",
            "--out",
            s(&tmp.path().join("p.csv")),
        ]),
        2,
        &["--precision", "`double`"],
    );
}
