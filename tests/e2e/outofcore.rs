//! Out-of-core fits: data past `--max-memory` is converted once into a
//! memory-mapped cache file and streamed every iteration; the model and
//! predictions are byte for byte those of the in-memory fit, the cache is
//! reused while the input is unchanged and rebuilt when it changes.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use gmm_io::arrow::array::{ArrayRef, Float64Array, Int64Array};

use crate::common::*;

/// Rows of three blobs in three columns, with ids and weights, as CSV and
/// Parquet: several chunks of work per pass.
struct Blobs {
    id: Vec<i64>,
    x: [Vec<f64>; 3],
    w: Vec<f64>,
}

fn blobs(n: usize, seed: u64) -> Blobs {
    let mut rng = Rng(seed);
    let mut b = Blobs {
        id: Vec::new(),
        x: [Vec::new(), Vec::new(), Vec::new()],
        w: Vec::new(),
    };
    for i in 0..n {
        let c = (rng.next_u64() % 3) as f64;
        b.id.push(1_000 + i as i64);
        b.x[0].push(3.0 * c + rng.normal());
        b.x[1].push(-2.0 * c + 0.5 * rng.normal());
        b.x[2].push(1e3 + c * c + 2.0 * rng.normal());
        b.w.push(0.5 + rng.uniform());
    }
    b
}

fn write_blobs_csv(path: &Path, b: &Blobs) {
    let mut text = String::from("id,x1,x2,x3,w\n");
    for i in 0..b.id.len() {
        text += &format!(
            "{},{},{},{},{}\n",
            b.id[i], b.x[0][i], b.x[1][i], b.x[2][i], b.w[i]
        );
    }
    std::fs::write(path, text).unwrap();
}

fn write_blobs_parquet(path: &Path, b: &Blobs) {
    let f = |v: &Vec<f64>| Arc::new(Float64Array::from(v.clone())) as ArrayRef;
    write_parquet(
        path,
        vec![
            ("id", Arc::new(Int64Array::from(b.id.clone())) as ArrayRef),
            ("x1", f(&b.x[0])),
            ("x2", f(&b.x[1])),
            ("x3", f(&b.x[2])),
            ("w", f(&b.w)),
        ],
    );
}

/// A small labeled table: rows near two of the blobs, labels `a` and `b`.
fn write_survey(path: &Path) {
    let mut rng = Rng(5);
    let mut text = String::from("x1,x2,x3,y\n");
    for i in 0..60 {
        let c = (i % 2) as f64;
        text += &format!(
            "{},{},{},{}\n",
            3.0 * c + rng.normal(),
            -2.0 * c + 0.5 * rng.normal(),
            1e3 + c * c + 2.0 * rng.normal(),
            if c == 0.0 { "a" } else { "b" }
        );
    }
    std::fs::write(path, text).unwrap();
}

/// `gmm fit` on `input` with the given extra flags into `out`.
fn fit(input: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "fit",
        "--input",
        s(input),
        "--columns",
        "x1,x2,x3",
        "-k",
        "3",
        "--n-init",
        "2",
        "--seed",
        "7",
        "--tol",
        "1e-6",
        "--chunk-rows",
        "1000",
        "--no-plots",
        "--out",
        s(out),
    ];
    args.extend_from_slice(extra);
    gmm(&args)
}

fn storage(out: &Path) -> serde_json::Value {
    read_json(&out.join("run.json"))["data"]["storage"].clone()
}

fn cache_files(dir: &Path) -> Vec<String> {
    files_in(dir)
        .into_iter()
        .filter(|f| f.ends_with(".gmmcache"))
        .collect()
}

#[test]
fn out_of_core_fit_equals_the_in_memory_fit_for_csv_and_parquet() {
    let tmp = tempfile::tempdir().unwrap();
    let b = blobs(12_000, 21);
    let csv = tmp.path().join("blobs.csv");
    write_blobs_csv(&csv, &b);
    let parquet = tmp.path().join("blobs.parquet");
    write_blobs_parquet(&parquet, &b);
    let cache = tmp.path().join("cache");
    let weighted = ["--weight-column", "w", "--id-column", "id"];

    for input in [&csv, &parquet] {
        let name = input.extension().unwrap().to_str().unwrap();
        let mem = tmp.path().join(format!("{name}-mem"));
        let mut flags = weighted.to_vec();
        flags.extend(["--max-memory", "unlimited", "-q"]);
        ok(&fit(input, &mem, &flags));
        assert_eq!(storage(&mem)["out_of_core"], false);

        let ooc = tmp.path().join(format!("{name}-ooc"));
        let mut flags = weighted.to_vec();
        flags.extend(["--max-memory", "1KiB", "--cache-dir", s(&cache), "-v"]);
        let o = fit(input, &ooc, &flags);
        ok(&o);
        let log = stderr(&o);
        assert!(log.contains("out of core"), "{log}");
        assert!(log.contains("cache: building"), "{log}");
        assert!(log.contains("cache: built"), "{log}");
        let st = storage(&ooc);
        assert_eq!(st["out_of_core"], true, "{st}");
        assert_eq!(st["max_memory"], 1024);
        assert_eq!(st["cache"]["reused"], false);
        assert!(st["estimated_bytes"].as_u64().unwrap() > 1024);
        let path = PathBuf::from(st["cache"]["path"].as_str().unwrap());
        assert!(
            path.starts_with(&cache) && path.exists(),
            "{}",
            path.display()
        );
        assert_same_run(&mem, &ooc, "predictions.parquet");

        // Again: the cache is reused, and the bytes are the same.
        let again = tmp.path().join(format!("{name}-again"));
        let o = fit(input, &again, &flags);
        ok(&o);
        assert!(stderr(&o).contains("cache: reusing"), "{}", stderr(&o));
        assert!(!stderr(&o).contains("cache: building"));
        let st = storage(&again);
        assert_eq!(st["cache"]["reused"], true, "{st}");
        assert_eq!(st["cache"]["path"], path.to_str().unwrap());
        assert_same_run(&mem, &again, "predictions.parquet");
    }
    // One cache per input, nothing else left in the directory.
    assert_eq!(cache_files(&cache).len(), 2, "{:?}", files_in(&cache));
    assert_eq!(files_in(&cache).len(), 2, "{:?}", files_in(&cache));
}

#[test]
fn out_of_core_semi_supervised_fit_equals_the_in_memory_fit() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("blobs.parquet");
    write_blobs_parquet(&input, &blobs(5_000, 8));
    let survey = tmp.path().join("survey.csv");
    write_survey(&survey);
    // Weights in the input only: the labeled rows weigh 1.
    let semi = [
        "--labeled",
        s(&survey),
        "--label-column",
        "y",
        "--weight-column",
        "w",
        "-q",
    ];
    let mem = tmp.path().join("mem");
    let mut flags = semi.to_vec();
    flags.extend(["--max-memory", "64GiB"]);
    ok(&fit(&input, &mem, &flags));
    let model = read_json(&mem.join("model.json"));
    assert_eq!(model["classes"], serde_json::json!(["a", "b"]));
    assert_eq!(model["semi_supervised"]["n_labeled"], 60);

    // Without --cache-dir: .gmm-cache beside the run directory.
    let runs = tmp.path().join("runs");
    let ooc = runs.join("ooc");
    let mut flags = semi.to_vec();
    flags.extend(["--max-memory", "1KiB"]);
    ok(&fit(&input, &ooc, &flags));
    assert_eq!(storage(&ooc)["out_of_core"], true);
    assert_eq!(cache_files(&runs.join(".gmm-cache")).len(), 1);
    assert_same_run(&mem, &ooc, "predictions.parquet");
    let again = runs.join("again");
    ok(&fit(&input, &again, &flags));
    assert_eq!(storage(&again)["cache"]["reused"], true);
    assert_same_run(&mem, &again, "predictions.parquet");

    // A label column inside the input (some rows null), with weights, as CSV.
    let mut text = String::from("x1,x2,x3,w,y\n");
    let mut rng = Rng(3);
    for i in 0..4_000 {
        let c = (i % 2) as f64;
        let y = match i % 10 {
            0 => "1",
            5 => "2",
            _ => "",
        };
        text += &format!(
            "{},{},{},{},{y}\n",
            4.0 * c + rng.normal(),
            rng.normal(),
            -c + rng.normal(),
            0.5 + rng.uniform()
        );
    }
    let labeled_input = tmp.path().join("labeled.csv");
    std::fs::write(&labeled_input, text).unwrap();
    let flags = ["--label-column", "y", "--weight-column", "w", "-q"];
    let mem = tmp.path().join("col-mem");
    ok(&fit(&labeled_input, &mem, &flags));
    let ooc = tmp.path().join("col-ooc");
    let mut more = flags.to_vec();
    more.extend(["--max-memory", "1KiB"]);
    ok(&fit(&labeled_input, &ooc, &more));
    assert_eq!(storage(&ooc)["out_of_core"], true);
    assert_eq!(
        read_json(&ooc.join("model.json"))["classes"],
        serde_json::json!(["1", "2"])
    );
    assert_same_run(&mem, &ooc, "predictions.parquet");
}

#[test]
fn a_changed_input_rebuilds_the_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("blobs.csv");
    write_blobs_csv(&input, &blobs(3_000, 1));
    let cache = tmp.path().join("cache");
    let flags = ["--max-memory", "1KiB", "--cache-dir", s(&cache), "-q"];
    let first = tmp.path().join("first");
    ok(&fit(&input, &first, &flags));
    assert_eq!(storage(&first)["cache"]["reused"], false);

    // Other rows in the same file: the same cache file, rebuilt.
    write_blobs_csv(&input, &blobs(3_500, 2));
    let second = tmp.path().join("second");
    ok(&fit(&input, &second, &flags));
    let st = storage(&second);
    assert_eq!(st["cache"]["reused"], false, "{st}");
    assert!(
        st["cache"]["built_because"]
            .as_str()
            .unwrap()
            .contains("input changed"),
        "{st}"
    );
    assert_eq!(st["cache"]["path"], storage(&first)["cache"]["path"]);
    assert_eq!(cache_files(&cache).len(), 1);
    assert_eq!(read_json(&second.join("model.json"))["n_rows"], 3_500);
    let mem = tmp.path().join("mem");
    ok(&fit(&input, &mem, &["--max-memory", "unlimited", "-q"]));
    assert_same_run(&mem, &second, "predictions.parquet");

    // Other columns: another cache beside it.
    let third = tmp.path().join("third");
    let mut more = flags.to_vec();
    more.extend(["--weight-column", "w"]);
    ok(&fit(&input, &third, &more));
    assert_eq!(storage(&third)["cache"]["reused"], false);
    assert_eq!(cache_files(&cache).len(), 2);
}

#[test]
fn out_of_core_select_equals_the_in_memory_select() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("blobs.parquet");
    write_blobs_parquet(&input, &blobs(4_000, 4));
    let select = |out: &Path, budget: &str| {
        ok(&gmm(&[
            "select",
            "--input",
            s(&input),
            "--columns",
            "x1,x2,x3",
            "--components",
            "2..3",
            "--covariance",
            "full,diag,EVE,VEI",
            "--n-init",
            "2",
            "--seed",
            "3",
            "--no-plots",
            "--max-memory",
            budget,
            "--out",
            s(out),
            "-q",
        ]));
    };
    let mem = tmp.path().join("mem");
    select(&mem, "unlimited");
    let ooc = tmp.path().join("ooc");
    select(&ooc, "1KiB");
    // Every figure of every cell but its time.
    let without_seconds = |dir: &Path| {
        let (header, rows) = read_csv(&dir.join("selection.csv"));
        let at = header.iter().position(|h| h == "seconds").unwrap();
        rows.into_iter()
            .map(|mut r| {
                r.remove(at);
                r
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(without_seconds(&mem), without_seconds(&ooc));
    assert_same_run(
        &mem.join("winner"),
        &ooc.join("winner"),
        "predictions.parquet",
    );
    assert_eq!(storage(&ooc.join("winner"))["out_of_core"], true);
}

#[test]
fn a_bad_memory_budget_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("blobs.csv");
    write_blobs_csv(&input, &blobs(100, 1));
    let out = tmp.path().join("out");
    for bad in ["lots", "12XB", "-1G"] {
        fails(
            &fit(&input, &out, &[&format!("--max-memory={bad}")]),
            2,
            &["--max-memory", bad],
        );
    }
    let cfg = tmp.path().join("job.toml");
    std::fs::write(&cfg, "[data]\nmax_memory = \"2 parsecs\"\n").unwrap();
    fails(
        &gmm(&["fit", s(&cfg), "--input", s(&input), "-k", "2"]),
        2,
        &["[data] max_memory", "2 parsecs"],
    );
    std::fs::write(&cfg, "[data]\nmax_memroy = \"2GiB\"\n").unwrap();
    fails(
        &gmm(&["fit", s(&cfg), "--input", s(&input), "-k", "2"]),
        2,
        &["did you mean `max_memory`"],
    );
    assert!(!out.exists());
}

/// An unusable cache directory is an error naming it, before any fit.
#[test]
fn an_unwritable_cache_directory_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("blobs.csv");
    write_blobs_csv(&input, &blobs(100, 1));
    // A file where the directory should be.
    let blocked = tmp.path().join("blocked");
    std::fs::write(&blocked, "").unwrap();
    let out = tmp.path().join("out");
    let o = fit(
        &input,
        &out,
        &["--max-memory", "1KiB", "--cache-dir", s(&blocked)],
    );
    fails(&o, 1, &["blocked", "--cache-dir"]);
    assert!(!out.exists());
}

/// A cache damaged in place (bytes overwritten, same length) was reused and
/// gave a wrong model; an input replaced by other rows of the same size and
/// modification time (`cp -p`, `rsync -a`) reused the stale cache. The cache
/// carries a checksum of its contents and its fingerprint samples the
/// input's bytes: both cases rebuild, and the fit is that of the data as
/// it is.
#[test]
fn a_damaged_cache_or_a_same_size_replacement_is_rebuilt() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("blobs.csv");
    write_blobs_csv(&input, &blobs(3_000, 1));
    let cache = tmp.path().join("cache");
    let flags = ["--max-memory", "1KiB", "--cache-dir", s(&cache), "-q"];
    let first = tmp.path().join("first");
    ok(&fit(&input, &first, &flags));

    let file = cache.join(&cache_files(&cache)[0]);
    let mut bytes = std::fs::read(&file).unwrap();
    let at = 128 + (bytes.len() - 128) / 3;
    bytes[at..at + 64].fill(0x55);
    std::fs::write(&file, &bytes).unwrap();
    let second = tmp.path().join("second");
    ok(&fit(&input, &second, &flags));
    let st = storage(&second);
    assert_eq!(st["cache"]["reused"], false, "{st}");
    assert!(
        st["cache"]["built_because"]
            .as_str()
            .unwrap()
            .contains("checksum"),
        "{st}"
    );
    assert_same_run(&first, &second, "predictions.parquet");

    // Two rows swapped: the same size, the modification time put back.
    let modified = std::fs::metadata(&input).unwrap().modified().unwrap();
    let text = std::fs::read_to_string(&input).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.swap(10, 2_000);
    let swapped = lines.join("\n") + "\n";
    assert_eq!(swapped.len(), text.len());
    std::fs::write(&input, swapped).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&input)
        .unwrap()
        .set_modified(modified)
        .unwrap();
    let third = tmp.path().join("third");
    ok(&fit(&input, &third, &flags));
    let st = storage(&third);
    assert_eq!(st["cache"]["reused"], false, "{st}");
    let mem = tmp.path().join("mem");
    ok(&fit(&input, &mem, &["--max-memory", "unlimited", "-q"]));
    assert_same_run(&mem, &third, "predictions.parquet");
}
