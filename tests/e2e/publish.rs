//! How a run directory is published: as one unit, with gmm's own earlier
//! files replaced or retired and foreign files left alone, into a place
//! checked before any work, and without leftovers of killed runs.

use crate::common::*;

fn fit(out: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "fit",
        "configs/customers.toml",
        "-q",
        "--n-init",
        "2",
        "--out",
        s(out),
    ];
    args.extend(extra);
    gmm(&args)
}

/// A second fit with another predictions format or without plots left the
/// first run's predictions.csv and SVGs beside the new files. gmm's own
/// earlier outputs go with the run; foreign files stay.
#[test]
fn a_new_run_retires_the_old_runs_files_and_keeps_foreign_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    ok(&fit(&run, &["--predictions-format", "csv"]));
    std::fs::write(run.join("notes.txt"), "mine").unwrap();
    assert!(run.join("trace.svg").exists() && run.join("predictions.csv").exists());
    ok(&fit(
        &run,
        &["--no-plots", "--predictions-format", "parquet"],
    ));
    assert_eq!(
        files_in(&run),
        [
            "model.json",
            "notes.txt",
            "predictions.parquet",
            "run.json",
            "trace.csv"
        ]
    );
    let listed: Vec<String> = read_json(&run.join("run.json"))["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            std::path::Path::new(p.as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(
        listed,
        ["predictions.parquet", "model.json", "trace.csv", "run.json"]
    );
}

/// An --out that is a file, lies under a file, or cannot be written was
/// found only after the whole fit, with a raw OS error. It is refused first,
/// in one line, with nothing created.
#[test]
fn an_unusable_out_is_refused_before_any_work() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("taken");
    std::fs::write(&file, "x").unwrap();
    let o = fit(&file, &[]);
    fails(&o, 2, &["--out", "is a file"]);
    let under = file.join("run");
    let o = fit(&under, &[]);
    fails(&o, 2, &["--out", "lies under the file"]);
    // /proc takes no new files, whoever runs the test.
    let o = fit(std::path::Path::new("/proc/gmm-run"), &[]);
    fails(&o, 2, &["--out", "cannot write in /proc"]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
}

/// A run killed while writing left `.predictions.parquet.tmp-PID` behind;
/// the next run in that directory removes it.
#[test]
fn temporaries_of_a_killed_run_are_cleaned_by_the_next() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    std::fs::create_dir(&run).unwrap();
    // No process has this id (above the kernel's largest pid).
    let left = run.join(".predictions.parquet.tmp-4194305");
    std::fs::write(&left, "half a file").unwrap();
    ok(&fit(&run, &["--no-plots"]));
    assert!(!left.exists());
    assert!(files_in(&run).iter().all(|f| !f.starts_with('.')));
}
