//! Hive-partitioned datasets: `key=value` directories as columns for ids
//! and kept columns, and `--filter` on them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use gmm_io::arrow::array::{ArrayRef, Float64Array, Int64Array};

use crate::common::*;

/// `sales/day=D/n=N/part-0.parquet` for three days and two values of `n`
/// (an integer key), 200 rows each of two blobs; rows are numbered by
/// `id` in the order a reader lists the files.
fn dataset(dir: &Path) -> PathBuf {
    let root = dir.join("sales");
    let mut rng = Rng(9);
    let mut id = 0i64;
    for day in ["2026-10-31", "2026-11-01", "2026-11-02"] {
        for n in [3, 12] {
            let sub = root.join(format!("day={day}")).join(format!("n={n}"));
            std::fs::create_dir_all(&sub).unwrap();
            let ids: Vec<i64> = (id..id + 200).collect();
            id += 200;
            let x1: Vec<f64> = (0..200)
                .map(|i| 3.0 * (i % 2) as f64 + rng.normal())
                .collect();
            let x2: Vec<f64> = (0..200).map(|_| rng.normal()).collect();
            write_parquet(
                &sub.join("part-0.parquet"),
                vec![
                    ("id", Arc::new(Int64Array::from(ids)) as ArrayRef),
                    ("x1", Arc::new(Float64Array::from(x1)) as ArrayRef),
                    ("x2", Arc::new(Float64Array::from(x2)) as ArrayRef),
                ],
            );
        }
    }
    root
}

fn fit(input: &str, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut a = vec![
        "fit",
        "--input",
        input,
        "-k",
        "2",
        "--id-column",
        "id",
        "--keep-columns",
        "day,n",
        "--predictions-format",
        "csv",
        "--no-plots",
        "--out",
        s(out),
    ];
    a.extend(extra);
    gmm(&a)
}

#[test]
fn partition_directories_are_columns_to_keep_and_to_filter_on() {
    let tmp = tempfile::tempdir().unwrap();
    let root = dataset(tmp.path());
    let all = tmp.path().join("all");
    ok(&fit(s(&root), &all, &[]));
    // Partition columns are not features unless named.
    let model = read_json(&all.join("model.json"));
    assert_eq!(model["columns"], serde_json::json!(["x1", "x2"]));
    let (header, rows) = read_csv(&all.join("predictions.csv"));
    assert_eq!(header[..4], ["id", "day", "n", "component"]);
    assert_eq!(rows.len(), 1200);
    for r in &rows {
        let id: usize = r[0].parse().unwrap();
        let day = ["2026-10-31", "2026-11-01", "2026-11-02"][id / 400];
        let n = ["3", "12"][(id / 200) % 2];
        assert_eq!((r[1].as_str(), r[2].as_str()), (day, n), "row {id}");
    }

    // A filter reads only the files it keeps: the later two days, n = 12.
    let some = tmp.path().join("some");
    let filter = "day >= '2026-11-01' and n > 5";
    ok(&fit(s(&root), &some, &["--filter", filter]));
    let (_, kept) = read_csv(&some.join("predictions.csv"));
    let ids: Vec<usize> = kept.iter().map(|r| r[0].parse().unwrap()).collect();
    let want: Vec<usize> = (600..800).chain(1000..1200).collect();
    assert_eq!(ids, want);
    let run = read_json(&some.join("run.json"));
    assert_eq!(run["settings"]["data"]["filter"], filter);
    assert_eq!(run["data"]["rows"], 400);

    // A glob's partitions start below its literal part.
    let globbed = tmp.path().join("glob");
    let pattern = format!("{}/day=*/n=3/*.parquet", s(&root));
    ok(&fit(
        &pattern,
        &globbed,
        &["--filter", "day = '2026-10-31'"],
    ));
    let (_, g) = read_csv(&globbed.join("predictions.csv"));
    assert_eq!(g.len(), 200);
    assert!(g.iter().all(|r| r[1] == "2026-10-31" && r[2] == "3"));

    // Out of core: the kept partition columns are read again with the ids.
    let cached = tmp.path().join("cached");
    let cache_dir = tmp.path().join("cache");
    ok(&fit(
        s(&root),
        &cached,
        &[
            "--filter",
            filter,
            "--max-memory",
            "1000",
            "--cache-dir",
            s(&cache_dir),
        ],
    ));
    assert_eq!(
        std::fs::read(cached.join("predictions.csv")).unwrap(),
        std::fs::read(some.join("predictions.csv")).unwrap()
    );

    // predict takes the same filter and columns.
    let out = tmp.path().join("p.csv");
    ok(&gmm(&[
        "predict",
        "--model",
        s(&some.join("model.json")),
        "--input",
        s(&root),
        "--filter",
        filter,
        "--id-column",
        "id",
        "--keep-columns",
        "day,n",
        "--out",
        s(&out),
    ]));
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(some.join("predictions.csv")).unwrap()
    );
}

#[test]
fn bad_filters_are_told() {
    let tmp = tempfile::tempdir().unwrap();
    let root = dataset(tmp.path());
    let out = tmp.path().join("x");
    for (filter, code, needle) in [
        ("x3 > 0", 1, "no column `x3` (did you mean `x1`?)"),
        (
            "x1 > 'big'",
            1,
            "column `x1` holds numbers; `big` is not one",
        ),
        ("day > ", 2, "expected a value, found the end"),
        (
            "n = 'three'",
            1,
            "column `n` holds numbers; `three` is not one",
        ),
        ("day = '2030-01-01'", 1, "no file of the 6 passes it"),
    ] {
        let o = fit(s(&root), &out, &["--filter", filter]);
        fails(&o, code, &[needle]);
        assert!(!out.exists());
    }
    // A CSV in a `key=value` directory: partitions are Parquet datasets'.
    let dir = tmp.path().join("run=1");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("points.csv"), "x1,x2\n0.5,1.5\n0.7,1.2\n5.0,4.0\n").unwrap();
    let pattern = format!("{}/*/points.csv", s(tmp.path()));
    ok(&gmm(&[
        "fit",
        "--input",
        &pattern,
        "-k",
        "1",
        "--no-plots",
        "--out",
        s(&out),
    ]));
    assert_eq!(
        read_json(&out.join("model.json"))["columns"],
        serde_json::json!(["x1", "x2"])
    );
}

#[test]
fn filters_on_data_columns_keep_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let root = dataset(tmp.path());
    // Rows by their own values (ids 300 .. 899), and by a partition too.
    let out = tmp.path().join("rows");
    let filter = "id >= 300 and id < 900 and n = 12";
    ok(&fit(s(&root), &out, &["--filter", filter]));
    let (_, rows) = read_csv(&out.join("predictions.csv"));
    let ids: Vec<usize> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    let want: Vec<usize> = (300..400).chain(600..800).collect();
    assert_eq!(ids, want);
    assert_eq!(read_json(&out.join("run.json"))["data"]["rows"], 300);
    // Out of core and predict keep the same rows.
    let cached = tmp.path().join("cached");
    let cache_dir = tmp.path().join("cache");
    ok(&fit(
        s(&root),
        &cached,
        &[
            "--filter",
            filter,
            "--max-memory",
            "1000",
            "--cache-dir",
            s(&cache_dir),
        ],
    ));
    assert_eq!(
        read_json(&cached.join("run.json"))["data"]["storage"]["out_of_core"],
        true
    );
    assert_eq!(
        std::fs::read(cached.join("predictions.csv")).unwrap(),
        std::fs::read(out.join("predictions.csv")).unwrap()
    );
    let predicted = tmp.path().join("p.csv");
    ok(&gmm(&[
        "predict",
        "--model",
        s(&out.join("model.json")),
        "--input",
        s(&root),
        "--filter",
        filter,
        "--id-column",
        "id",
        "--keep-columns",
        "day,n",
        "--out",
        s(&predicted),
    ]));
    assert_eq!(
        std::fs::read(&predicted).unwrap(),
        std::fs::read(out.join("predictions.csv")).unwrap()
    );
    // A CSV file: rows by a text column.
    let csv = tmp.path().join("t.csv");
    let mut text = String::from("id,kind,x1,x2\n");
    let mut rng = Rng(2);
    for i in 0..300 {
        let kind = ["a", "b", "c"][i % 3];
        text.push_str(&format!("{i},{kind},{},{}\n", rng.normal(), rng.normal()));
    }
    std::fs::write(&csv, text).unwrap();
    let out = tmp.path().join("csv");
    ok(&gmm(&[
        "fit",
        "--input",
        s(&csv),
        "--columns",
        "x1,x2",
        "-k",
        "1",
        "--id-column",
        "id",
        "--filter",
        "kind in ('a', 'c') and not id < 30",
        "--predictions-format",
        "csv",
        "--no-plots",
        "--out",
        s(&out),
    ]));
    let (_, rows) = read_csv(&out.join("predictions.csv"));
    let ids: Vec<usize> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    let want: Vec<usize> = (30..300).filter(|i| i % 3 != 1).collect();
    assert_eq!(ids, want);
}
