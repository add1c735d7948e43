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
        (
            "x1 > 0",
            1,
            "`x1` is not a partition column (the partition columns are `day`, `n`)",
        ),
        ("day > ", 2, "expected a value, found the end"),
        (
            "n = 'three'",
            1,
            "column `n` holds integers; `three` is not one",
        ),
        ("day = '2030-01-01'", 1, "no file of the 6 passes it"),
    ] {
        let o = fit(s(&root), &out, &["--filter", filter]);
        fails(&o, code, &[needle]);
        assert!(!out.exists());
    }
    // A table without partition directories has nothing to filter on.
    let flat = tmp.path().join("flat.csv");
    std::fs::write(
        &flat,
        "id,x1,x2,day,n\n1,0.5,1.5,a,1\n2,0.7,1.2,b,2\n3,5.0,4.0,c,3\n",
    )
    .unwrap();
    let o = gmm(&[
        "fit",
        "--input",
        s(&flat),
        "--columns",
        "x1,x2",
        "-k",
        "1",
        "--filter",
        "day = 'a'",
        "--out",
        s(&out),
    ]);
    fails(&o, 1, &["no partition directories"]);
}
