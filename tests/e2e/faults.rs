//! Numerical trouble and interruptions, end to end: each degeneracy policy
//! does what it says and reports it, and a fit stopped by SIGTERM leaves
//! only its checkpoint, from which `--resume` reaches the uninterrupted
//! result bit for bit.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

/// Two round blobs of 150 rows each, and 20 copies of one far point: a
/// component that lands on the copies has a zero covariance, which is not
/// positive definite when `reg_covar` is 0.
fn duplicated_rows(dir: &Path) -> PathBuf {
    let mut rng = Rng(11);
    let mut text = String::from("x1,x2\n");
    for i in 0..300 {
        let c = 6.0 * (i % 2) as f64;
        text += &format!("{},{}\n", c + rng.normal(), c + rng.normal());
    }
    for _ in 0..20 {
        text += "20,20\n";
    }
    let path = dir.join("duplicated.csv");
    std::fs::write(&path, text).unwrap();
    path
}

/// The same column twice: every full covariance is singular.
fn identical_columns(dir: &Path) -> PathBuf {
    let mut rng = Rng(12);
    let mut text = String::from("x1,x2\n");
    for i in 0..300 {
        let v = 6.0 * (i % 2) as f64 + rng.normal();
        text += &format!("{v},{v}\n");
    }
    let path = dir.join("identical.csv");
    std::fs::write(&path, text).unwrap();
    path
}

/// `gmm fit` of 3 full components with no regularization.
fn fit_unregularized(input: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "fit",
        "--input",
        s(input),
        "-k",
        "3",
        "--reg-covar",
        "0",
        "--no-plots",
        "--out",
        s(out),
        "-q",
    ];
    args.extend_from_slice(extra);
    gmm(&args)
}

/// The (component, restart, iteration) of a degeneracy message.
fn degenerate_at(message: &str) -> (usize, usize, usize) {
    let number_after = |marker: &str| -> usize {
        let rest = &message[message
            .find(marker)
            .unwrap_or_else(|| panic!("no `{marker}` in: {message}"))
            + marker.len()..];
        rest[..rest.find(|c: char| !c.is_ascii_digit()).unwrap()]
            .parse()
            .unwrap()
    };
    (
        number_after("component "),
        number_after(" of restart "),
        number_after("became degenerate at iteration "),
    )
}

/// The scikit-learn users' advice every degeneracy message ends with.
const ADVICE: [&str; 3] = [
    "Increase reg_covar",
    "lower the number of components",
    "another covariance type",
];

#[test]
fn error_policy_fails_naming_component_restart_iteration_and_the_advice() {
    let tmp = tempfile::tempdir().unwrap();
    let dup = duplicated_rows(tmp.path());
    let same = identical_columns(tmp.path());
    let out = tmp.path().join("run");

    // k-means puts a centre on the copies: degenerate at the start.
    let o = fit_unregularized(&dup, &out, &["--on-degenerate", "error", "--n-init", "2"]);
    fails(&o, 1, &ADVICE);
    let (component, restart, iteration) = degenerate_at(&stderr(&o));
    assert!(component < 3 && restart < 2, "{}", stderr(&o));
    assert_eq!(iteration, 0, "{}", stderr(&o));
    assert!(!out.exists());

    // From rows drawn at random, restart 0 stays healthy and restart 1
    // collapses onto the copies during EM.
    let o = fit_unregularized(
        &dup,
        &out,
        &[
            "--on-degenerate",
            "error",
            "--init",
            "random-from-data",
            "--n-init",
            "2",
        ],
    );
    fails(&o, 1, &ADVICE);
    let (component, restart, iteration) = degenerate_at(&stderr(&o));
    assert!(component < 3, "{}", stderr(&o));
    assert_eq!((restart, iteration > 0), (1, true), "{}", stderr(&o));
    assert!(!out.exists());

    // Collinear columns, the policy from a config file.
    let cfg = tmp.path().join("strict.toml");
    std::fs::write(&cfg, "[fit]\non_degenerate = \"error\"\n").unwrap();
    let o = fit_unregularized(&same, &out, &[s(&cfg)]);
    fails(&o, 1, &ADVICE);
    degenerate_at(&stderr(&o));
    assert!(!out.exists());
}

#[test]
fn reseed_policy_recovers_and_counts_every_reseed() {
    let tmp = tempfile::tempdir().unwrap();
    let dup = duplicated_rows(tmp.path());
    let out = tmp.path().join("run");
    let summary = ok(&fit_unregularized(
        &dup,
        &out,
        &["--on-degenerate", "reseed", "--n-init", "2"],
    ));
    assert!(summary.contains("component(s) re-seeded"), "{summary}");
    let run = read_json(&out.join("run.json"));
    let restarts = run["restarts"].as_array().unwrap();
    assert_eq!(restarts.len(), 2);
    let reseeded: Vec<u64> = restarts
        .iter()
        .map(|r| {
            r["numerical_events"]["reseeded_components"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert!(reseeded.iter().any(|&n| n > 0), "{reseeded:?}");
    for r in restarts {
        assert_ne!(r["numerical_events"]["ending"], "dropped", "{r}");
    }
    // A usable model: weights of a distribution, finite parameters.
    let model = read_json(&out.join("model.json"));
    let w = f64s(&model["weights"]);
    assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-9 && w.iter().all(|&v| v > 0.0));
    assert!(model["mean_log_likelihood"].as_f64().unwrap().is_finite());

    // reseed is the default policy.
    let default = tmp.path().join("default");
    ok(&fit_unregularized(&dup, &default, &["--n-init", "2"]));
    // The same model; only the command recorded differs (the flag given).
    let without_command = |p: &std::path::Path| {
        let mut m = read_json(p);
        m["provenance"]["command"] = serde_json::Value::Null;
        m
    };
    assert_eq!(
        without_command(&default.join("model.json")),
        without_command(&out.join("model.json"))
    );

    // Collinear columns: every component degenerates again after a
    // re-seed, so each restart is given up rather than re-seeded forever.
    let same = identical_columns(tmp.path());
    let o = fit_unregularized(&same, &tmp.path().join("same"), &["--n-init", "2"]);
    let mut needles = vec![
        "all 2 restarts were dropped as degenerate",
        "every component degenerate again after re-seeding",
    ];
    needles.extend(ADVICE);
    fails(&o, 1, &needles);
    assert!(!tmp.path().join("same").exists());
}

#[test]
fn drop_restart_policy_drops_and_reports_or_fails_when_all_are_dropped() {
    let tmp = tempfile::tempdir().unwrap();
    let dup = duplicated_rows(tmp.path());
    let out = tmp.path().join("run");
    let summary = ok(&fit_unregularized(
        &dup,
        &out,
        &[
            "--on-degenerate",
            "drop-restart",
            "--init",
            "random-from-data",
            "--n-init",
            "4",
        ],
    ));
    let run = read_json(&out.join("run.json"));
    let restarts = run["restarts"].as_array().unwrap();
    let dropped: Vec<&serde_json::Value> = restarts
        .iter()
        .filter(|r| r["numerical_events"]["ending"] == "dropped")
        .collect();
    assert!(
        !dropped.is_empty() && dropped.len() < restarts.len(),
        "{restarts:?}"
    );
    for r in &dropped {
        let note = r["numerical_events"]["note"].as_str().unwrap();
        assert!(note.contains("became degenerate at iteration"), "{note}");
        assert_eq!(r["chosen"], false);
        let line = format!("restart {:<3} dropped: ", r["restart"].as_u64().unwrap());
        assert!(
            summary.contains(&line),
            "summary lacks `{line}`:\n{summary}"
        );
    }
    let chosen = restarts.iter().find(|r| r["chosen"] == true).unwrap();
    assert_ne!(chosen["numerical_events"]["ending"], "dropped");

    // k-means starts every restart on the copies: all are dropped.
    let o = fit_unregularized(
        &dup,
        &tmp.path().join("all"),
        &["--on-degenerate", "drop-restart", "--n-init", "3"],
    );
    let mut needles = vec!["all 3 restarts were dropped as degenerate"];
    needles.extend(ADVICE);
    fails(&o, 1, &needles);
    assert!(!tmp.path().join("all").exists());
}

/// Waits for `child` to end, at most `limit`.
fn wait_for(child: &mut std::process::Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

#[test]
fn sigterm_leaves_only_the_checkpoint_and_resume_gives_the_uninterrupted_result() {
    let tmp = tempfile::tempdir().unwrap();
    // 200,000 rows drawn from the customers' mixture: seconds of EM.
    let customers = tmp.path().join("customers");
    ok(&gmm(&[
        "fit",
        "configs/customers.toml",
        "--no-plots",
        "--out",
        s(&customers),
        "-q",
    ]));
    let table = tmp.path().join("table.parquet");
    ok(&gmm(&[
        "sample",
        "--model",
        s(&customers.join("model.json")),
        "-n",
        "200000",
        "--seed",
        "5",
        "--out",
        s(&table),
        "-q",
    ]));
    let args = |out: &Path, extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = [
            "fit",
            "--input",
            s(&table),
            "--columns",
            "x1,x2",
            "-k",
            "2",
            "--n-init",
            "2",
            "--tol",
            "0",
            "--max-iter",
            "100",
            "--seed",
            "3",
            "--predictions-format",
            "csv",
            "--no-plots",
            "-q",
            "--out",
            s(out),
        ]
        .iter()
        .map(|a| a.to_string())
        .collect();
        a.extend(extra.iter().map(|e| e.to_string()));
        a
    };
    let run_gmm = |args: Vec<String>| gmm(&args.iter().map(String::as_str).collect::<Vec<_>>());

    let reference = tmp.path().join("reference");
    ok(&run_gmm(args(&reference, &[])));

    // The same fit, with a checkpoint every 2 iterations, stopped by SIGTERM
    // as soon as the first checkpoint is there.
    let run = tmp.path().join("run");
    let mut child = Command::new(env!("CARGO_BIN_EXE_gmm"))
        .args(args(&run, &["--checkpoint", "2"]))
        .current_dir(root())
        .env("GMM_LOG_FORMAT", "none")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let checkpoint = run.join("checkpoint.json");
    let started = Instant::now();
    while !checkpoint.exists() {
        if let Some(status) = child.try_wait().unwrap() {
            let o = child.wait_with_output().unwrap();
            panic!(
                "gmm ended ({status}) before its first checkpoint:\n{}",
                stderr(&o)
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "no checkpoint after 300 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let killed = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(killed.success());
    let signalled = Instant::now();
    let Some(status) = wait_for(&mut child, Duration::from_secs(20)) else {
        child.kill().unwrap();
        panic!("gmm still running 20 s after SIGTERM");
    };
    eprintln!(
        "gmm stopped {:.3} s after SIGTERM",
        signalled.elapsed().as_secs_f64()
    );
    let o = child.wait_with_output().unwrap();
    assert!(
        !status.success(),
        "the fit ended before SIGTERM arrived; give it more rows"
    );
    fails(
        &o,
        130,
        &["the fit was interrupted", "checkpoint.json", "--resume"],
    );
    assert_eq!(files_in(&run), ["checkpoint.json"], "only the checkpoint");
    let saved = read_json(&checkpoint);
    assert_eq!(saved["format"], "gmm-checkpoint");
    let at = saved["iteration"].as_u64().unwrap();
    assert!((2..100).contains(&at), "checkpoint after iteration {at}");

    // Resumed, with another thread count: the uninterrupted result.
    let kept = std::fs::read(&checkpoint).unwrap();
    ok(&run_gmm(args(
        &run,
        &["--checkpoint", "2", "--resume", "--threads", "1"],
    )));
    assert_eq!(
        without_day(&run.join("model.json")),
        without_day(&reference.join("model.json"))
    );
    assert!(
        std::fs::read(run.join("predictions.csv")).unwrap()
            == std::fs::read(reference.join("predictions.csv")).unwrap(),
        "predictions differ"
    );
    assert_eq!(
        std::fs::read(run.join("trace.csv")).unwrap(),
        std::fs::read(reference.join("trace.csv")).unwrap()
    );
    assert!(
        !checkpoint.exists(),
        "a complete run removes its checkpoint"
    );

    // A checkpoint of other settings, or one that is not a checkpoint, is
    // refused, and nothing is written.
    std::fs::write(&checkpoint, &kept).unwrap();
    let before = snapshot(&run);
    let o = run_gmm(args(&run, &["--resume", "--reg-covar", "1e-5"]));
    fails(
        &o,
        1,
        &[
            "checkpoint.json",
            "other settings or data",
            "without --resume",
        ],
    );
    assert!(snapshot(&run) == before);
    std::fs::write(&checkpoint, "{\"format\": \"gmm-checkpoint\"").unwrap();
    let before = snapshot(&run);
    let o = run_gmm(args(&run, &["--resume"]));
    fails(&o, 1, &["checkpoint.json", "not a gmm checkpoint"]);
    assert!(snapshot(&run) == before);
}
