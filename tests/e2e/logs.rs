//! Batch-job logs: with standard error not a terminal (as here), `fit` and
//! `select` write a line per phase and heartbeats, as text or JSON lines.

use std::path::Path;

use crate::common::*;

/// 40,000 rows of four blobs in four columns, as CSV.
fn blobs(dir: &Path) -> std::path::PathBuf {
    let mut rng = Rng(11);
    let mut text = String::from("a,b,c,d\n");
    for i in 0..40_000 {
        let c = (i % 4) as f64;
        let row: Vec<String> = (0..4)
            .map(|_| format!("{:.5}", 2.0 * c + rng.normal()))
            .collect();
        text.push_str(&row.join(","));
        text.push('\n');
    }
    let path = dir.join("blobs.csv");
    std::fs::write(&path, text).unwrap();
    path
}

/// A fit of `table` into `out` with the log's environment `env`.
fn fit(table: &Path, out: &Path, extra: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut args = vec![
        "fit",
        "--input",
        s(table),
        "-k",
        "6",
        "--n-init",
        "3",
        "--max-iter",
        "150",
        "--tol",
        "0",
        "--out",
        s(out),
    ];
    args.extend(extra);
    gmm_with_env(&args, env)
}

fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn fit_logs_its_phases_and_heartbeats_as_json_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let table = blobs(tmp.path());
    let o = fit(
        &table,
        &tmp.path().join("run"),
        &["--log-format", "json", "--log-interval", "0.02"],
        &[],
    );
    ok(&o);
    let lines = json_lines(&stderr(&o));
    let phases: Vec<&str> = lines
        .iter()
        .filter(|l| l["event"] != "heartbeat")
        .map(|l| l["phase"].as_str().unwrap())
        .collect();
    assert_eq!(
        phases,
        [
            "load",
            "initialize",
            "em",
            "predictions",
            "plots",
            "write",
            "done"
        ]
    );
    for l in &lines {
        assert_eq!(l["command"], "fit");
        assert!(l["time"].as_str().unwrap().ends_with('Z'), "{l}");
        assert!(l["elapsed_s"].as_f64().unwrap() >= 0.0);
    }
    let elapsed = |l: &serde_json::Value| l["elapsed_s"].as_f64().unwrap();
    assert!(lines.windows(2).all(|w| elapsed(&w[0]) <= elapsed(&w[1])));
    let done = lines.last().unwrap();
    assert_eq!(done["event"], "done");
    // Heartbeats every 0.02 s: a fit of a few tenths of a second has some,
    // and EM's tell the iteration, the best objective and the pass's rate.
    if elapsed(done) >= 0.3 {
        let em: Vec<&serde_json::Value> = lines
            .iter()
            .filter(|l| l["event"] == "heartbeat" && l["phase"] == "em")
            .collect();
        assert!(!em.is_empty(), "no heartbeat during EM: {lines:?}");
        for h in em {
            assert!(h["iteration"].as_u64().unwrap() <= 150, "{h}");
            assert_eq!(h["max_iter"], 150);
            assert_eq!(h["n_init"], 3);
            assert!(h["best_mean_log_likelihood"].as_f64().unwrap() < 0.0);
            assert!(h.get("message").is_none());
        }
    }
}

#[test]
fn text_logs_by_default_and_none_when_asked_or_quiet() {
    let tmp = tempfile::tempdir().unwrap();
    let table = blobs(tmp.path());
    // Not a terminal, nothing said: text lines.
    let o = fit(&table, &tmp.path().join("a"), &["--log-interval", "0"], &[]);
    let text = stderr(ok_and(&o));
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].contains(" gmm fit: load: reading "), "{text}");
    assert!(
        lines[1].contains(" gmm fit: initialize: starting 3 restarts"),
        "{text}"
    );
    assert!(
        lines[2].contains(" gmm fit: em: up to 150 iterations of 3 restarts"),
        "{text}"
    );
    assert!(
        lines.last().unwrap().contains(" gmm fit: done in "),
        "{text}"
    );
    assert!(
        !text.contains("heartbeat") && !text.contains("elapsed"),
        "interval 0: phases only"
    );
    // --quiet, the environment, and the flag over the environment.
    for (extra, env) in [
        (&["--quiet"][..], &[][..]),
        (&[][..], &[("GMM_LOG_FORMAT", "none")][..]),
        (
            &["--log-format", "none"][..],
            &[("GMM_LOG_FORMAT", "json")][..],
        ),
    ] {
        let o = fit(&table, &tmp.path().join("b"), extra, env);
        assert_eq!(stderr(ok_and(&o)), "", "{extra:?} {env:?}");
    }
    // The environment over the config.
    let config = tmp.path().join("c.toml");
    std::fs::write(
        &config,
        "[output]\nlog_format = \"none\"\nlog_interval = \"5m\"\n",
    )
    .unwrap();
    let o = fit(&table, &tmp.path().join("c"), &[s(&config)], &[]);
    assert_eq!(stderr(ok_and(&o)), "");
    let o = fit(
        &table,
        &tmp.path().join("c"),
        &[s(&config)],
        &[("GMM_LOG_FORMAT", "json")],
    );
    assert_eq!(json_lines(&stderr(ok_and(&o)))[0]["phase"], "load");
}

/// Asserts success, returning the output.
#[track_caller]
fn ok_and(o: &std::process::Output) -> &std::process::Output {
    ok(o);
    o
}

#[test]
fn a_failure_ends_the_log_with_its_message_and_bad_settings_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let table = blobs(tmp.path());
    let o = fit(&table, &tmp.path().join("x"), &["--columns", "a,zz"], &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1));
    let lines: Vec<&str> = err.lines().collect();
    assert!(lines[0].contains("gmm fit: load: reading"), "{err}");
    assert!(
        lines.last().unwrap().starts_with("error: ") && lines.last().unwrap().contains("`zz`"),
        "{err}"
    );
    assert!(!err.contains("done"), "{err}");

    for (flag, value, needle) in [
        (
            "--log-format",
            "xml",
            "--log-format: `xml` is not one of text, json, none",
        ),
        (
            "--log-interval",
            "soon",
            "--log-interval: `soon` is not a time",
        ),
        (
            "--log-interval=-1",
            "",
            "--log-interval: -1 is not a heartbeat interval",
        ),
    ] {
        let args: Vec<&str> = [flag, value]
            .into_iter()
            .filter(|a| !a.is_empty())
            .collect();
        let o = fit(&table, &tmp.path().join("y"), &args, &[]);
        fails(&o, 2, &[needle]);
    }
    let o = fit(
        &table,
        &tmp.path().join("y"),
        &[],
        &[("GMM_LOG_FORMAT", "yaml")],
    );
    fails(
        &o,
        2,
        &["GMM_LOG_FORMAT: `yaml` is not one of text, json, none"],
    );
    assert!(!tmp.path().join("y").exists());
}

#[test]
fn select_names_the_cell_of_each_line() {
    let tmp = tempfile::tempdir().unwrap();
    let table = blobs(tmp.path());
    let o = gmm_with_env(
        &[
            "select",
            "--input",
            s(&table),
            "--components",
            "2,3",
            "--covariance",
            "diag",
            "--n-init",
            "2",
            "--log-format",
            "json",
            "--out",
            s(&tmp.path().join("sel")),
        ],
        &[],
    );
    ok(&o);
    let lines = json_lines(&stderr(&o));
    let cells: Vec<(String, String)> = lines
        .iter()
        .filter(|l| l["event"] == "phase")
        .map(|l| {
            (
                l["phase"].as_str().unwrap().to_string(),
                l["cell"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("load", ""),
        ("cell", "K=2 diag"),
        ("initialize", "K=2 diag"),
        ("em", "K=2 diag"),
        ("cell", "K=3 diag"),
        ("initialize", "K=3 diag"),
        ("em", "K=3 diag"),
        ("predictions", ""),
        ("plots", ""),
        ("write", ""),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(cells, want);
    assert_eq!(lines.last().unwrap()["event"], "done");
}

#[test]
fn predict_and_score_log_their_pass() {
    let tmp = tempfile::tempdir().unwrap();
    let table = blobs(tmp.path());
    let run = tmp.path().join("run");
    ok(&fit(&table, &run, &["--log-format", "none"], &[]));
    let model = run.join("model.json");
    let out = tmp.path().join("p.parquet");
    for (command, extra) in [("predict", vec!["--out", s(&out)]), ("score", vec![])] {
        let mut args = vec![command, "--model", s(&model), "--input", s(&table)];
        args.extend(extra);
        args.extend(["--log-format", "json", "--log-interval", "0"]);
        let o = gmm_with_env(&args, &[]);
        ok(&o);
        let lines = json_lines(&stderr(&o));
        let events: Vec<(&str, &str)> = lines
            .iter()
            .map(|l| (l["event"].as_str().unwrap(), l["phase"].as_str().unwrap()))
            .collect();
        assert_eq!(events, [("phase", command), ("done", "done")], "{command}");
        assert!(lines.iter().all(|l| l["command"] == command));
        // --quiet says nothing.
        let mut quiet = args.clone();
        quiet.push("--quiet");
        assert_eq!(stderr(&gmm_with_env(&quiet, &[])), "", "{command}");
    }
}
