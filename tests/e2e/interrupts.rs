//! Ctrl-C and SIGTERM at any phase: every command catches them from its
//! start and ends with status 130, naming itself, leaving nothing.

use crate::common::*;

/// Whether process `pid` catches SIGTERM yet (Linux: /proc/PID/status).
fn catches_sigterm(pid: u32) -> bool {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return false;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << (15 - 1)) != 0)
}

/// SIGTERM while a command was starting or loading its table ended it by
/// the signal (status 143) with no message, and `predict` said "the fit
/// was interrupted". Every command catches it from the start and ends with
/// 130, naming itself, leaving nothing.
#[test]
fn an_interrupt_at_any_phase_ends_with_130_naming_the_command() {
    use std::process::{Command, Stdio};
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("model");
    ok(&gmm(&[
        "fit",
        "configs/customers.toml",
        "--no-plots",
        "-q",
        "--out",
        s(&model),
    ]));
    let model_json = model.join("model.json");
    let out = tmp.path().join("out.csv");
    let run = tmp.path().join("run");
    // Large enough (1M rows) that every command is still reading it when
    // the signal comes.
    let big = tmp.path().join("big.csv");
    let mut text = String::from("x1,x2\n");
    for i in 0..1_000_000u32 {
        text.push_str(&format!("{},{}\n", i % 1013, i % 997));
    }
    std::fs::write(&big, text).unwrap();
    let input = s(&big);
    let commands: Vec<(&str, Vec<&str>)> = vec![
        (
            "fit",
            vec!["fit", "--input", input, "-k", "2", "--out", s(&run)],
        ),
        (
            "select",
            vec![
                "select",
                "--input",
                input,
                "--components",
                "1..3",
                "--out",
                s(&run),
            ],
        ),
        (
            "predict",
            vec![
                "predict",
                "--model",
                s(&model_json),
                "--input",
                input,
                "--out",
                s(&out),
            ],
        ),
        (
            "score",
            vec!["score", "--model", s(&model_json), "--input", input],
        ),
        (
            "sample",
            vec![
                "sample",
                "--model",
                s(&model_json),
                "-n",
                "100000000",
                "--out",
                s(&out),
            ],
        ),
    ];
    for (name, args) in commands {
        let mut child = Command::new(env!("CARGO_BIN_EXE_gmm"))
            .args(&args)
            .current_dir(root())
            .env("GMM_LOG_FORMAT", "none")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        while !catches_sigterm(child.id()) {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            assert!(started.elapsed().as_secs() < 20, "{name}: no handler");
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let killed = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(130), "{name}: {}", stderr(&o));
        fails(&o, 130, &[&format!("gmm {name} was interrupted")]);
        assert!(!run.exists() && !out.exists(), "{name}: nothing written");
    }
}
