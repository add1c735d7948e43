//! `mpirun -np N gmm fit` and `gmm select` (the `mpi` feature): 1, 2 and 3
//! processes, splitting the rows, the restarts or the grid's cells, write
//! the model, predictions and trace of a single process, byte for byte; a
//! failure on one rank ends every rank with its message and no output.
//! `scripts/test_mpi.sh` installs Open MPI and runs these.

use std::path::Path;
use std::process::{Command, Output};

use gmm_io::arrow::array::{ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray};

use crate::common::*;

fn mpirun(np: usize, args: &[&str]) -> Output {
    // A session directory of its own: Open MPI 4 creates and removes
    // /tmp/ompi.<host>.<uid> per job, and two jobs started at once (tests
    // run in parallel) can fail with "mkdir ... File exists".
    let session = tempfile::tempdir().unwrap();
    Command::new("mpirun")
        .args([
            "--allow-run-as-root",
            "--oversubscribe",
            "-np",
            &np.to_string(),
        ])
        .arg(env!("CARGO_BIN_EXE_gmm"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env("GMM_LOG_FORMAT", "none")
        // Open MPI looks for a network; loopback is all these tests need.
        .env("OMPI_MCA_btl", "self,vader")
        .env("OMPI_MCA_btl_vader_single_copy_mechanism", "none")
        .env("OMPI_MCA_rmaps_base_oversubscribe", "1")
        .env("OMPI_MCA_orte_tmpdir_base", session.path())
        .output()
        .expect("mpirun runs (scripts/install_mpi.sh installs it)")
}

/// 6,000 weighted rows of three blobs in 3 columns with ids, a few
/// labels and a few unlabeled rows marked `outlier` (and in `mislabeled`,
/// the same rows and labeled row 5957), as a Parquet file of several row
/// groups.
fn table(dir: &Path) -> std::path::PathBuf {
    let mut rng = Rng(7);
    let n = 6000;
    let (mut x1, mut x2, mut x3, mut w, mut id, mut y) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    let (mut outlier, mut mislabeled) = (vec![], vec![]);
    for i in 0..n {
        let c = (rng.next_u64() % 3) as f64;
        x1.push(4.0 * c + rng.normal());
        x2.push(-3.0 * c + 0.7 * rng.normal());
        x3.push(1e4 + c * c + 2.0 * rng.normal());
        w.push(0.5 + rng.uniform());
        id.push(1_000_000 + i as i64);
        y.push((i % 37 == 0).then(|| format!("c{}", c as usize)));
        outlier.push(i % 23 == 5 && i % 37 != 0);
        mislabeled.push(i % 23 == 5 && i % 37 != 0 || i == 5957);
    }
    let path = dir.join("blobs.parquet");
    let batch = gmm_io::arrow::array::RecordBatch::try_from_iter(vec![
        ("id", std::sync::Arc::new(Int64Array::from(id)) as ArrayRef),
        (
            "x1",
            std::sync::Arc::new(Float64Array::from(x1)) as ArrayRef,
        ),
        (
            "x2",
            std::sync::Arc::new(Float64Array::from(x2)) as ArrayRef,
        ),
        (
            "x3",
            std::sync::Arc::new(Float64Array::from(x3)) as ArrayRef,
        ),
        ("w", std::sync::Arc::new(Float64Array::from(w)) as ArrayRef),
        ("y", std::sync::Arc::new(StringArray::from(y)) as ArrayRef),
        (
            "outlier",
            std::sync::Arc::new(BooleanArray::from(outlier)) as ArrayRef,
        ),
        (
            "mislabeled",
            std::sync::Arc::new(BooleanArray::from(mislabeled)) as ArrayRef,
        ),
    ])
    .unwrap();
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(700))
        .build();
    let file = std::fs::File::create(&path).unwrap();
    let mut wr = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), Some(props)).unwrap();
    wr.write(&batch).unwrap();
    wr.close().unwrap();
    path
}

/// `gmm fit` of the blobs of [`table`] with weights and ids, K = `k`, and
/// then `extra`.
fn blobs_fit<'a>(t: &'a str, k: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec![
        "fit",
        "--input",
        t,
        "--columns",
        "x*",
        "--weight-column",
        "w",
        "--id-column",
        "id",
        "--keep-columns",
        "w,x1",
        "-k",
        k,
    ];
    a.extend(extra);
    a
}

fn check_ranks(args: &[&str], predictions: &str, what: &str) {
    check_ranks_with(args, &[], predictions, what);
}

/// The single process runs `args`; the ranks run `args` and `rank_args`.
fn check_ranks_with(args: &[&str], rank_args: &[&str], predictions: &str, what: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let single = tmp.path().join("single");
    let mut a: Vec<&str> = args.to_vec();
    a.extend(["--out", s(&single), "-q"]);
    ok(&gmm(&a));
    for np in [1, 2, 3] {
        let out = tmp.path().join(format!("np{np}"));
        let mut a: Vec<&str> = args.to_vec();
        a.extend(rank_args);
        a.extend(["--out", s(&out), "-q", "--threads", "1"]);
        let o = mpirun(np, &a);
        assert!(
            o.status.success(),
            "{what}: mpirun -np {np} failed: {}",
            stderr(&o)
        );
        assert_same_run(&single, &out, predictions);
        let run = read_json(&out.join("run.json"));
        assert_eq!(run["data"]["processes"], np, "{what}: {run}");
        let cached = rank_args.contains(&"--max-memory");
        assert_eq!(
            run["data"]["storage"]["out_of_core"], cached,
            "{what}: {run}"
        );
    }
}

#[test]
fn mpi_ranks_give_the_single_process_model_unsupervised() {
    let tmp = tempfile::tempdir().unwrap();
    let t = table(tmp.path());
    // scikit-learn's four, and two of mclust's families whose M-steps
    // iterate (one held as full, one as diag).
    for covariance in ["full", "diag", "spherical", "tied", "VVE", "VEI"] {
        check_ranks(
            &blobs_fit(
                s(&t),
                "3",
                &[
                    "--covariance",
                    covariance,
                    "--n-init",
                    "3",
                    "--seed",
                    "5",
                    "--chunk-rows",
                    "256",
                ],
            ),
            "predictions.parquet",
            covariance,
        );
    }
}

#[test]
fn mpi_ranks_give_the_single_process_model_semi_supervised_from_csv() {
    // The customer example: a CSV input (every rank parses it and keeps its
    // share) and a separate labeled table that lands on the last ranks.
    check_ranks(
        &["fit", "configs/customers-semi.toml", "--chunk-rows", "128"],
        "predictions.csv",
        "customers-semi",
    );
}

#[test]
fn mpi_ranks_with_labels_in_the_input() {
    let tmp = tempfile::tempdir().unwrap();
    let t = table(tmp.path());
    check_ranks(
        &[
            "fit",
            "--input",
            s(&t),
            "--columns",
            "x*",
            "--label-column",
            "y",
            "-k",
            "4",
            "--n-init",
            "2",
            "--chunk-rows",
            "512",
        ],
        "predictions.parquet",
        "labels in the input",
    );
}

#[test]
fn mpi_ranks_read_their_shares_from_the_out_of_core_cache() {
    // The single process holds the table in memory; the ranks, with a tiny
    // budget, read their shares from the cache rank 0 builds (and, on the
    // next run, reuses).
    let tmp = tempfile::tempdir().unwrap();
    let t = table(tmp.path());
    let cache = tmp.path().join("cache");
    for round in 0..2 {
        check_ranks_with(
            &blobs_fit(
                s(&t),
                "4",
                &[
                    "--label-column",
                    "y",
                    "--n-init",
                    "2",
                    "--chunk-rows",
                    "256",
                ],
            ),
            &["--max-memory", "1K", "--cache-dir", s(&cache)],
            "predictions.parquet",
            &format!("out of core, round {round}"),
        );
    }
    let caches: Vec<_> = std::fs::read_dir(&cache).unwrap().collect();
    assert_eq!(caches.len(), 1, "one cache, built once: {caches:?}");
    // The customer example: CSV input and a labeled table, through the cache.
    check_ranks_with(
        &["fit", "configs/customers-semi.toml", "--chunk-rows", "128"],
        &["--max-memory", "1K", "--cache-dir", s(&cache)],
        "predictions.csv",
        "customers-semi, out of core",
    );
}

/// The initial noise set: the ranks gather the rows out of it for the
/// starts and sum its share over their rows, in memory and from the cache.
#[test]
fn mpi_ranks_start_the_noise_from_the_initial_set_as_the_single_process_does() {
    let tmp = tempfile::tempdir().unwrap();
    let t = table(tmp.path());
    let cache = tmp.path().join("cache");
    let args = blobs_fit(
        s(&t),
        "3",
        &[
            "--noise",
            "--noise-init-column",
            "outlier",
            "--label-column",
            "y",
            "--n-init",
            "2",
            "--chunk-rows",
            "256",
        ],
    );
    check_ranks(&args, "predictions.parquet", "initial noise set");
    check_ranks_with(
        &args,
        &["--max-memory", "1K", "--cache-dir", s(&cache)],
        "predictions.parquet",
        "initial noise set, out of core",
    );
    // A labeled row in the set, in the last rank's share: every rank ends
    // with one message, in memory and out of core.
    let mut bad = args.clone();
    let at = bad.iter().position(|a| *a == "outlier").unwrap();
    bad[at] = "mislabeled";
    let out = tmp.path().join("bad");
    bad.extend(["--out", s(&out), "-q"]);
    for extra in [
        &[][..],
        &["--max-memory", "1K", "--cache-dir", s(&cache)][..],
    ] {
        let o = mpirun(3, &[&bad[..], extra].concat());
        assert!(!o.status.success());
        let err = stderr(&o);
        assert!(
            err.contains(
                "--noise-init-column mislabeled: the row at index 5957 (counting from 0) is labeled"
            ),
            "{err}"
        );
        assert_eq!(err.matches("error:").count(), 1, "one message: {err}");
        assert!(!out.exists(), "no output");
    }
}

#[test]
fn mpi_ranks_hold_f32_rows_as_the_single_process_does() {
    // Each rank reads its share as f32, in memory or from an f32 cache.
    let tmp = tempfile::tempdir().unwrap();
    let t = table(tmp.path());
    let cache = tmp.path().join("cache");
    let args = blobs_fit(
        s(&t),
        "3",
        &[
            "--label-column",
            "y",
            "--precision",
            "f32",
            "--chunk-rows",
            "256",
        ],
    );
    check_ranks(&args, "predictions.parquet", "f32");
    check_ranks_with(
        &args,
        &["--max-memory", "1K", "--cache-dir", s(&cache)],
        "predictions.parquet",
        "f32, out of core",
    );
}

#[test]
fn mpi_a_bad_value_on_one_rank_ends_every_rank_with_its_message() {
    // A NaN in the share of rank 2 only (Parquet shares are read apart).
    let tmp = tempfile::tempdir().unwrap();
    let x1: Vec<f64> = (0..3000).map(|i| (i % 5) as f64).collect();
    let x2: Vec<f64> = (0..3000)
        .map(|i| if i == 2500 { f64::NAN } else { (i % 7) as f64 })
        .collect();
    let path = tmp.path().join("bad.parquet");
    let batch = gmm_io::arrow::array::RecordBatch::try_from_iter(vec![
        (
            "x1",
            std::sync::Arc::new(Float64Array::from(x1)) as ArrayRef,
        ),
        (
            "x2",
            std::sync::Arc::new(Float64Array::from(x2)) as ArrayRef,
        ),
    ])
    .unwrap();
    // Row groups of 500 rows: ranks 0 and 1 (rows 0..2048) never decode row 2500.
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(500))
        .build();
    let file = std::fs::File::create(&path).unwrap();
    let mut wr = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), Some(props)).unwrap();
    wr.write(&batch).unwrap();
    wr.close().unwrap();
    let out = tmp.path().join("run");
    let o = mpirun(
        3,
        &[
            "fit",
            "--input",
            s(&path),
            "-k",
            "2",
            "--chunk-rows",
            "256",
            "--out",
            s(&out),
            "-q",
        ],
    );
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("rank 2") && err.contains("x2") && err.contains("non-finite"),
        "{err}"
    );
    assert_eq!(err.matches("error:").count(), 1, "one message: {err}");
    assert!(!out.exists(), "no output");
}

#[test]
fn mpi_only_fit_and_select_run_under_mpirun() {
    let o = mpirun(2, &["inspect", "model.json"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("only `gmm fit` and `gmm select` run under mpirun"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn mpi_restarts_spread_among_ranks_give_the_single_process_model() {
    let tmp = tempfile::tempdir().unwrap();
    let t = table(tmp.path());
    // A single process takes no --split (it is refused without mpirun).
    let spread = ["--split", "restarts"];
    for covariance in ["full", "spherical"] {
        check_ranks_with(
            &blobs_fit(
                s(&t),
                "3",
                &["--covariance", covariance, "--n-init", "5", "--seed", "9"],
            ),
            &spread,
            "predictions.parquet",
            covariance,
        );
    }
    check_ranks_with(
        &["fit", "configs/customers-semi.toml", "--n-init", "4"],
        &spread,
        "predictions.csv",
        "customers-semi, restarts spread",
    );
}

/// selection.csv without its seconds column.
fn selection_without_seconds(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("selection.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let sec = header.iter().position(|h| *h == "seconds").unwrap();
    std::iter::once(text.lines().next().unwrap().to_string())
        .chain(lines.map(|l| {
            l.split(',')
                .enumerate()
                .filter(|(i, _)| *i != sec)
                .map(|(_, v)| v)
                .collect::<Vec<_>>()
                .join(",")
        }))
        .collect()
}

#[test]
fn mpi_select_spreads_the_cells_and_gives_the_single_process_selection() {
    let tmp = tempfile::tempdir().unwrap();
    let t = table(tmp.path());
    let args = [
        "select",
        "--input",
        s(&t),
        "--columns",
        "x*",
        "--components",
        "1..4",
        "--covariance",
        "full,diag,tied",
        "--n-init",
        "2",
        "--validation-fraction",
        "0.2",
    ];
    let single = tmp.path().join("single");
    let mut a: Vec<&str> = args.to_vec();
    a.extend(["--out", s(&single), "-q"]);
    ok(&gmm(&a));
    for np in [1, 2, 3] {
        let out = tmp.path().join(format!("np{np}"));
        let mut a: Vec<&str> = args.to_vec();
        a.extend(["--out", s(&out), "-q", "--threads", "1"]);
        let o = mpirun(np, &a);
        assert!(o.status.success(), "mpirun -np {np}: {}", stderr(&o));
        assert_eq!(
            selection_without_seconds(&single),
            selection_without_seconds(&out),
            "np {np}"
        );
        assert_same_run(
            &single.join("winner"),
            &out.join("winner"),
            "predictions.parquet",
        );
    }
}

/// The ranks' fits of the table with gaps under `--missing policy`, in
/// memory and out of core, are the single process's; returns the args.
fn check_missing_policy(dir: &Path, policy: &str) -> Vec<String> {
    let (gaps, _, _) = crate::missing::tables(dir);
    let cache = dir.join("cache");
    let args: Vec<String> = [
        "fit",
        "--input",
        s(&gaps),
        "--columns",
        "a,b,c",
        "--id-column",
        "id",
        "-k",
        "3",
        "--missing",
        policy,
        "--chunk-rows",
        "128",
        "--predictions-format",
        "csv",
    ]
    .map(String::from)
    .to_vec();
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    check_ranks(&a, "predictions.csv", &format!("{policy}, in memory"));
    check_ranks_with(
        &a,
        &["--max-memory", "1000", "--cache-dir", s(&cache)],
        "predictions.csv",
        &format!("{policy}, out of core"),
    );
    args
}

#[test]
fn mpi_ranks_leave_out_the_rows_a_single_process_leaves_out() {
    let tmp = tempfile::tempdir().unwrap();
    check_missing_policy(tmp.path(), "drop");
}

#[test]
fn mpi_ranks_integrate_out_what_a_single_process_integrates_out() {
    let tmp = tempfile::tempdir().unwrap();
    let args = check_missing_policy(tmp.path(), "marginalize");
    let (_, _, missing) = crate::missing::tables(tmp.path());
    // Every rank counts the incomplete rows of the whole table.
    let out = tmp.path().join("np3");
    let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
    a.extend(["--out", s(&out), "-q", "--threads", "1"]);
    let o = mpirun(3, &a);
    assert!(o.status.success(), "{}", stderr(&o));
    let run = read_json(&out.join("run.json"));
    assert_eq!(run["data"]["rows_incomplete"], missing.len(), "{run}");
}
