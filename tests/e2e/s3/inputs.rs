//! Tables read from object storage: each as the same file on disk.

use std::path::Path;

use super::*;

#[test]
#[ignore = "needs the S3 server of scripts/test_s3.sh"]
fn semi_supervised_fit_predict_and_score_read_objects_as_files() {
    let b = Bucket::new("customers");
    let data = root().join("data/customers");
    let unlabeled = b.put(&data.join("unlabeled.csv"), "unlabeled.csv");
    let labeled = b.put(&data.join("labeled.csv"), "labeled.csv");
    let tmp = tempfile::tempdir().unwrap();
    let (local, remote) = (tmp.path().join("local"), tmp.path().join("remote"));
    let local_labeled = data.join("labeled.csv");
    let local_unlabeled = data.join("unlabeled.csv");
    let semi = |labeled: &str| {
        vec![
            "--labeled".to_string(),
            labeled.to_string(),
            "--label-column".into(),
            "y".into(),
        ]
    };
    let l = semi(s(&local_labeled));
    let l: Vec<&str> = l.iter().map(String::as_str).collect();
    ok(&gmm(&fit_args(s(&local_unlabeled), s(&local), &l)));
    let r = semi(&labeled);
    let r: Vec<&str> = r.iter().map(String::as_str).collect();
    ok(&gmm(&fit_args(&unlabeled, s(&remote), &r)));
    // Semi-supervised: the classes of the labels come through.
    assert!(read_json(&remote.join("model.json"))["classes"].is_array());
    assert_eq!(
        model_without_provenance(&local.join("model.json")),
        model_without_provenance(&remote.join("model.json"))
    );
    same_file(
        &local.join("predictions.parquet"),
        &remote.join("predictions.parquet"),
    );
    same_file(&local.join("trace.csv"), &remote.join("trace.csv"));
    // The model file names the object it was fitted on.
    let provenance = read_json(&remote.join("model.json"))["provenance"].to_string();
    assert!(provenance.contains(&unlabeled), "{provenance}");

    // predict: from an object, to an object.
    let model = remote.join("model.json");
    let out = b.url("predicted/p.parquet");
    let o = gmm(&[
        "predict",
        "--model",
        s(&model),
        "--input",
        &unlabeled,
        "--out",
        &out,
    ]);
    assert!(ok(&o).contains(&format!("wrote 1000 predictions to {out}")));
    let local_pred = tmp.path().join("p.parquet");
    ok(&gmm(&[
        "predict",
        "--model",
        s(&model),
        "--input",
        s(&data.join("unlabeled.csv")),
        "--out",
        s(&local_pred),
    ]));
    let fetched = tmp.path().join("fetched.parquet");
    b.get("predicted/p.parquet", &fetched);
    same_file(&local_pred, &fetched);

    // score: the same numbers.
    let local_score = ok(&gmm(&[
        "score",
        "--model",
        s(&model),
        "--input",
        s(&data.join("unlabeled.csv")),
    ]));
    let remote_score = ok(&gmm(&[
        "score",
        "--model",
        s(&model),
        "--input",
        &unlabeled,
    ]));
    assert_eq!(
        local_score.replace(s(&data.join("unlabeled.csv")), "X"),
        remote_score.replace(&unlabeled, "X")
    );
}

#[test]
#[ignore = "needs the S3 server of scripts/test_s3.sh"]
fn a_hive_partitioned_dataset_by_prefix_and_by_glob_with_a_filter() {
    let b = Bucket::new("hive");
    let tmp = tempfile::tempdir().unwrap();
    let local = partitioned(tmp.path());
    let url = b.put_dir(&local, "sales");
    let run = |input: &str, out: &Path| {
        ok(&gmm(&fit_args(
            input,
            s(out),
            &[
                "--columns",
                "x1,x2",
                "--id-column",
                "id,day",
                "--filter",
                "day >= '2026-11-01' and x2 < 1.5",
                "--predictions-format",
                "csv",
            ],
        )))
    };
    let (a, c, d) = (
        tmp.path().join("a"),
        tmp.path().join("c"),
        tmp.path().join("d"),
    );
    run(s(&local), &a);
    run(&url, &c);
    run(&format!("{url}/day=2026-11-0*/*.parquet"), &d);
    // A trailing slash names the prefix even where an object has its name;
    // an empty object (a directory's marker) stands for what is under it.
    std::fs::write(tmp.path().join("junk"), "not a table").unwrap();
    b.put(&tmp.path().join("junk"), "sales");
    let f = tmp.path().join("f");
    run(&format!("{url}/"), &f);
    std::fs::write(tmp.path().join("empty"), "").unwrap();
    let marked = b.put_dir(&local, "marked");
    b.put(&tmp.path().join("empty"), "marked");
    let g = tmp.path().join("g");
    run(&marked, &g);
    for other in [&c, &d, &f, &g] {
        same_file(&a.join("predictions.csv"), &other.join("predictions.csv"));
        same_file(&a.join("trace.csv"), &other.join("trace.csv"));
    }
    let (header, rows) = read_csv(&c.join("predictions.csv"));
    assert_eq!(&header[..2], ["id", "day"]);
    assert!(rows.iter().all(|r| r[1] != "2026-10-31"));
    // A glob matching directories reads the Parquet objects under them.
    let e = tmp.path().join("e");
    ok(&gmm(&fit_args(
        &format!("{url}/day=*"),
        s(&e),
        &["--columns", "x1,x2"],
    )));
    let rows = read_json(&e.join("model.json"))["n_rows"].as_u64().unwrap();
    assert_eq!(rows, 900);
}

#[test]
#[ignore = "needs the S3 server of scripts/test_s3.sh"]
fn a_large_object_is_read_in_ranges_and_through_the_cache() {
    let b = Bucket::new("large");
    let tmp = tempfile::tempdir().unwrap();
    // 1.2M rows in one row group: each column chunk is 9.6 MB, fetched in
    // two pieces, and the table is three times the memory budget below.
    let file = tmp.path().join("big.parquet");
    blobs(&file, 1_200_000, 1_200_000, 5);
    let url = b.put(&file, "big.parquet");
    let extra = [
        "--columns",
        "x1,x2",
        "--max-iter",
        "3",
        "--n-init",
        "1",
        "--max-memory",
        "8MiB",
    ];
    let (a, c) = (tmp.path().join("a"), tmp.path().join("c"));
    let cache = tmp.path().join("cache");
    let mut args = fit_args(s(&file), s(&a), &extra);
    args.extend(["--cache-dir", s(&cache)]);
    ok(&gmm(&args));
    let mut args = fit_args(&url, s(&c), &extra);
    args.extend(["--cache-dir", s(&cache)]);
    ok(&gmm(&args));
    assert_eq!(
        model_without_provenance(&a.join("model.json")),
        model_without_provenance(&c.join("model.json"))
    );
    same_file(
        &a.join("predictions.parquet"),
        &c.join("predictions.parquet"),
    );
    let run = read_json(&c.join("run.json"));
    assert_eq!(
        run["data"]["storage"]["out_of_core"], true,
        "{}",
        run["data"]
    );
    // The object's cache is reused by the next run, as a file's is.
    let again = tmp.path().join("again");
    let mut args = fit_args(&url, s(&again), &extra);
    args.extend(["--cache-dir", s(&cache)]);
    ok(&gmm(&args));
    let run = read_json(&again.join("run.json"));
    assert_eq!(
        run["data"]["storage"]["cache"]["reused"], true,
        "{}",
        run["data"]
    );
}

#[test]
#[ignore = "needs the S3 server of scripts/test_s3.sh"]
fn compressed_csv_and_arrow_objects_are_downloaded_and_read() {
    let b = Bucket::new("formats");
    let tmp = tempfile::tempdir().unwrap();
    let csv = root().join("data/customers/unlabeled.csv");
    let gz = tmp.path().join("unlabeled.csv.gz");
    {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(
            std::fs::File::create(&gz).unwrap(),
            flate2::Compression::default(),
        );
        e.write_all(&std::fs::read(&csv).unwrap()).unwrap();
        e.finish().unwrap();
    }
    let url = b.put(&gz, "unlabeled.csv.gz");
    let (a, c) = (tmp.path().join("a"), tmp.path().join("c"));
    ok(&gmm(&fit_args(s(&csv), s(&a), &[])));
    ok(&gmm(&fit_args(&url, s(&c), &[])));
    same_file(
        &a.join("predictions.parquet"),
        &c.join("predictions.parquet"),
    );
    // An Arrow file written by gmm's own predictions, read back remotely.
    let arrow = tmp.path().join("p.arrow");
    ok(&gmm(&[
        "predict",
        "--model",
        s(&a.join("model.json")),
        "--input",
        s(&csv),
        "--out",
        s(&arrow),
        "--keep-columns",
        "x1,x2",
    ]));
    let aurl = b.put(&arrow, "p.arrow");
    let d = tmp.path().join("d");
    ok(&gmm(&fit_args(&aurl, s(&d), &["--columns", "x1,x2"])));
    same_file(&a.join("trace.csv"), &d.join("trace.csv"));
}
