//! The same config and seed give byte-identical results, whatever the
//! thread count and however the chunks of work are scheduled, run after run.

use std::path::Path;

use crate::common::*;

/// 20,000 weighted rows of four blobs in three columns, with an id column:
/// twenty chunks of work for every pass.
fn blobs(dir: &Path) -> std::path::PathBuf {
    let mut rng = Rng(99);
    let mut text = String::from("id,x1,x2,x3,w\n");
    for i in 0..20_000 {
        let c = (rng.next_u64() % 4) as f64;
        let w = 0.5 + rng.uniform();
        text += &format!(
            "{i},{},{},{},{w}\n",
            3.0 * c + rng.normal(),
            -2.0 * c + 0.5 * rng.normal(),
            1e3 + c * c + 2.0 * rng.normal(),
        );
    }
    let path = dir.join("blobs.csv");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn same_seed_gives_the_same_bytes_for_1_2_and_7_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let table = blobs(tmp.path());
    let cfg = tmp.path().join("blobs.toml");
    std::fs::write(
        &cfg,
        "[data]\ninput = \"blobs.csv\"\ncolumns = [\"x*\"]\nweight_column = \"w\"\nid_column = \"id\"\n\
         [model]\ncomponents = 4\ncovariance = \"full\"\n\
         [fit]\ninit = \"kmeans++\"\nn_init = 3\nseed = 42\ntol = 1e-6\n\
         [output]\nplots = false\n",
    )
    .unwrap();
    assert!(table.exists());
    for format in ["parquet", "csv"] {
        let predictions = format!("predictions.{format}");
        let first = tmp.path().join(format!("{format}-1"));
        for (i, threads) in ["1", "2", "7", "7", "1"].iter().enumerate() {
            let out = tmp.path().join(format!("{format}-{threads}-{i}"));
            ok(&gmm(&[
                "fit",
                s(&cfg),
                "--threads",
                threads,
                "--predictions-format",
                format,
                "--out",
                s(&out),
                "-q",
            ]));
            let run = read_json(&out.join("run.json"));
            assert_eq!(run["threads"], threads.parse::<u64>().unwrap());
            if i == 0 {
                std::fs::rename(&out, &first).unwrap();
            } else {
                assert_same_run(&first, &out, &predictions);
            }
        }
    }
    // The model file holds the day of the fit, and neither the time nor
    // the command line.
    let model = read_json(&tmp.path().join("csv-1/model.json"));
    let created = model["provenance"]["created"].as_str().unwrap();
    assert!(
        created.len() == 10
            && created
                .chars()
                .enumerate()
                .all(|(i, c)| if i == 4 || i == 7 {
                    c == '-'
                } else {
                    c.is_ascii_digit()
                }),
        "{created}"
    );
    // The command that gives the model, without the threads, output and
    // display flags that differed between the runs.
    let cfg = cfg.canonicalize().unwrap();
    assert_eq!(
        model["provenance"]["command"],
        format!("gmm fit {}", cfg.display())
    );
    assert_eq!(model["provenance"]["config"], cfg.display().to_string());
    assert_eq!(
        model["provenance"]["input"],
        cfg.with_file_name("blobs.csv").display().to_string()
    );
    assert_eq!(model["n_rows"], 20_000);
}

/// The same fit started from two working directories, with paths typed
/// relative to each (through a link in one), writes the same model file:
/// the provenance holds canonical paths and the command that gives it.
#[test]
fn the_same_fit_from_two_working_directories_writes_the_same_model() {
    let tmp = tempfile::tempdir().unwrap();
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::os::unix::fs::symlink(root().join("data"), elsewhere.join("linked-data")).unwrap();
    let run = |cwd: &Path, args: &[&str]| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_gmm"))
            .args(args)
            .current_dir(cwd)
            .env("GMM_LOG_FORMAT", "none")
            .output()
            .unwrap();
        ok(&o);
    };
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    // The second run also copies a column into its predictions, which
    // does not change the model.
    for (cwd, data, out, threads, keep) in [
        (root(), "data/customers".to_string(), &a, "1", "--no-plots"),
        (
            elsewhere.clone(),
            "linked-data/customers/../customers".into(),
            &b,
            "2",
            "--keep-columns=x1",
        ),
    ] {
        run(
            &cwd,
            &[
                "fit",
                "--input",
                &format!("{data}/unlabeled.csv"),
                "--labeled",
                &format!("{data}/labeled.csv"),
                "--label-column",
                "y",
                "-k",
                "2",
                "--n-init",
                "3",
                "--threads",
                threads,
                keep,
                "--out",
                s(out),
            ],
        );
    }
    let (ma, mb) = (
        std::fs::read_to_string(a.join("model.json")).unwrap(),
        std::fs::read_to_string(b.join("model.json")).unwrap(),
    );
    assert_eq!(
        without_day(&a.join("model.json")),
        without_day(&b.join("model.json"))
    );
    let p = &read_json(&a.join("model.json"))["provenance"];
    let data = root().join("data/customers");
    assert_eq!(p["input"], data.join("unlabeled.csv").display().to_string());
    assert_eq!(p["labeled"], data.join("labeled.csv").display().to_string());
    assert_eq!(
        p["command"],
        format!(
            "gmm fit --components 2 --input {} --label-column y --labeled {} --n-init 3",
            data.join("unlabeled.csv").display(),
            data.join("labeled.csv").display()
        )
    );
    // Bytes too, on the same day.
    if p["created"] == read_json(&b.join("model.json"))["provenance"]["created"] {
        assert_eq!(ma, mb);
    }
}

#[test]
fn semi_supervised_fits_do_not_depend_on_the_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let first = tmp.path().join("1");
    for threads in ["1", "2", "7"] {
        let out = tmp.path().join(threads);
        ok(&gmm(&[
            "fit",
            "configs/customers-semi.toml",
            "--threads",
            threads,
            "--chunk-rows",
            "64",
            "--no-plots",
            "--out",
            s(&out),
            "-q",
        ]));
        assert_same_run(&first, &out, "predictions.csv");
    }
}
