//! The command line itself: help, version, exit codes, quiet standard error.

use crate::common::*;

#[test]
fn help_reads_like_a_manual() {
    let top = ok(&gmm(&["--help"]));
    for needle in [
        "Usage: gmm",
        "fit",
        "predict",
        "score",
        "sample",
        "inspect",
        "Exit status",
        "gmm fit configs/customers.toml",
    ] {
        assert!(top.contains(needle), "gmm --help lacks `{needle}`:\n{top}");
    }
    for (cmd, needles) in [
        (
            "fit",
            &[
                "Examples:",
                "--no-plots",
                "trace.svg",
                "clusters.svg",
                "run.json",
            ][..],
        ),
        ("predict", &["Examples:", "--id-column", "proba_0"][..]),
        ("score", &["Examples:", "BIC"][..]),
        (
            "sample",
            &["Examples:", "--rows", "--seed", "component", "65536"][..],
        ),
        ("inspect", &["Examples:", "--json", "provenance"][..]),
    ] {
        let help = ok(&gmm(&[cmd, "--help"]));
        for n in needles {
            assert!(help.contains(n), "gmm {cmd} --help lacks `{n}`:\n{help}");
        }
        // `gmm help CMD` says the same.
        assert_eq!(ok(&gmm(&["help", cmd])), help);
    }
}

#[test]
fn version_is_the_crate_version() {
    let v = ok(&gmm(&["--version"]));
    assert_eq!(v.trim(), format!("gmm {}", env!("CARGO_PKG_VERSION")));
    let v = ok(&gmm(&["inspect", "--version"]));
    assert!(v.contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn usage_errors_exit_with_2() {
    let o = gmm(&["fit", "--no-such-flag"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--no-such-flag"), "{}", stderr(&o));
    assert!(stdout(&o).is_empty());

    let o = gmm(&["frobnicate"]);
    assert_eq!(o.status.code(), Some(2));

    // A SIMD cap the kernels do not take is refused, not ignored.
    let o = gmm_with_env(
        &["inspect", "no-such-model.json"],
        &[("GMM_SIMD", "avx512")],
    );
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(stderr(&o).contains("GMM_SIMD=avx512"), "{}", stderr(&o));

    let o = gmm(&[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("Usage"));

    let o = gmm(&["fit", "-k", "2"]);
    fails(&o, 2, &["no input table", "--input"]);

    let o = gmm(&["fit", "--input", "data/customers/unlabeled.csv"]);
    fails(&o, 2, &["number of components", "-k"]);

    let o = gmm(&[
        "fit",
        "--input",
        "data/customers/unlabeled.csv",
        "-k",
        "two",
    ]);
    assert_eq!(o.status.code(), Some(2));

    let o = gmm(&[
        "fit",
        "--input",
        "data/customers/unlabeled.csv",
        "-k",
        "2",
        "--quiet",
        "--verbose",
    ]);
    assert_eq!(o.status.code(), Some(2));

    let o = gmm(&["sample", "--out", "x.csv", "-n", "3"]);
    assert_eq!(o.status.code(), Some(2), "missing --model");
}

#[test]
fn data_errors_exit_with_1() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let o = gmm(&[
        "fit",
        "--input",
        "data/no-such-table.csv",
        "-k",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    fails(&o, 1, &["no-such-table.csv"]);
    assert!(!out.exists());
    // More components than rows.
    let o = gmm(&[
        "fit",
        "--input",
        "data/customers/labeled.csv",
        "--columns",
        "x1,x2",
        "--semi-supervised",
        "off",
        "-k",
        "1000",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(matches!(o.status.code(), Some(1) | Some(2)), "{o:?}");
    assert!(!stderr(&o).contains("panicked"));
    assert!(!out.exists());
}

#[test]
fn standard_error_is_silent_when_not_a_terminal_and_verbose_logs_iterations() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    // Standard error is a pipe here: no progress display, nothing at all.
    let o = gmm(&[
        "fit",
        "configs/customers.toml",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    let json = ok(&o);
    assert_eq!(stderr(&o), "", "nothing drawn on a pipe");
    let v: serde_json::Value = serde_json::from_str(&json).expect("stdout is JSON");
    assert_eq!(v["n_components"], 2);

    let o = gmm(&[
        "fit",
        "configs/customers.toml",
        "--out",
        out.to_str().unwrap(),
        "--json",
        "--verbose",
    ]);
    let json = ok(&o);
    serde_json::from_str::<serde_json::Value>(&json).expect("stdout stays JSON");
    let err = stderr(&o);
    let run = read_json(&out.join("run.json"));
    // One line per iteration of every restart.
    let iterations: u64 = run["restarts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["n_iter"].as_u64().unwrap())
        .sum();
    let logged = err
        .lines()
        .filter(|l| l.contains(" iteration ") && l.contains("mean log-likelihood"))
        .count() as u64;
    assert_eq!(logged, iterations, "{err}");
    assert!(err.contains("loaded 1,000 rows x 2 columns"), "{err}");
    assert!(err.contains("restart 0: initialized by"), "{err}");
}

/// `--split` needs processes to share the work: one process refuses it,
/// and a build without MPI started as several copies by a launcher says
/// so instead of running the same fit once per copy.
#[test]
#[cfg(not(feature = "mpi"))]
fn split_and_launchers_without_mpi_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let input = "data/customers/unlabeled.csv";
    let o = gmm(&[
        "fit",
        "--input",
        input,
        "-k",
        "2",
        "--split",
        "rows",
        "--out",
        s(&out),
    ]);
    fails(&o, 2, &["--split", "mpirun", "without MPI"]);
    let o = gmm(&[
        "select",
        "--input",
        input,
        "--components",
        "1,2",
        "--split",
        "restarts",
        "--out",
        s(&out),
    ]);
    fails(&o, 2, &["--split", "mpirun"]);
    assert!(!out.exists());
    let o = gmm_with_env(
        &["fit", "--input", input, "-k", "2", "--out", s(&out)],
        &[("OMPI_COMM_WORLD_SIZE", "3")],
    );
    fails(
        &o,
        2,
        &[
            "without MPI",
            "3 copies",
            "OMPI_COMM_WORLD_SIZE=3",
            "--features gmm-cli/mpi",
        ],
    );
    assert!(!out.exists());
    // One copy (a Slurm step of one task, say) runs as usual.
    let o = gmm_with_env(
        &["fit", "--input", input, "-k", "2", "--out", s(&out), "-q"],
        &[("SLURM_STEP_NUM_TASKS", "1")],
    );
    ok(&o);
}
