//! The out-of-core cache: what it holds is what `read_all` reads, bit for
//! bit, in every format; it is reused while the input is unchanged, and
//! refused and rebuilt when the input changes or the file is damaged; a
//! failed build leaves nothing behind.

mod common;

use std::path::{Path, PathBuf};

use common::{Sample, write_csv, write_ipc, write_parquet, write_text};
use gmm_core::UNLABELED;
use gmm_io::{CachePart, CachePlan, Classes, ColumnSpec, IoError, TableSource, label_values};

const N: usize = 1_500;

fn spec(label: Option<&str>, weight: Option<&str>) -> ColumnSpec {
    ColumnSpec {
        features: Sample::feature_names(),
        label: label.map(str::to_string),
        weight: weight.map(str::to_string),
        id: None,
    }
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Files in a directory, hidden ones included.
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn tables(dir: &Path, sample: &Sample) -> Vec<PathBuf> {
    let b = &sample.batch;
    let parquet = dir.join("t.parquet");
    // Several row groups and batches of uneven size.
    write_parquet(&parquet, &[b.slice(0, 700), b.slice(700, N - 700)], 250);
    let ipc = dir.join("t.arrow");
    write_ipc(&ipc, b, 400, false);
    let csv = dir.join("t.csv");
    write_csv(&csv, b);
    vec![parquet, ipc, csv]
}

#[test]
fn cache_holds_what_read_all_reads_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let sample = Sample::new(N, 7);
    for path in tables(dir.path(), &sample) {
        let what = path.display().to_string();
        let src = TableSource::open(&path, None).unwrap();
        let proj = src.project(&spec(Some("label_int"), Some("w"))).unwrap();
        let table = src.read_all(&proj).unwrap();
        let cache_dir = dir.path().join("cache");
        let plan = CachePlan::new(
            &cache_dir,
            vec![CachePart {
                source: &src,
                projection: &proj,
            }],
        )
        .unwrap();
        assert!(plan.open().unwrap_err().contains("no cache yet"), "{what}");
        let mut seen = 0;
        let cache = plan
            .open_or_build(&mut |rows| {
                seen = rows;
                true
            })
            .unwrap();
        assert_eq!(seen, N, "{what}: progress reaches every row");
        assert!(!cache.reused());
        assert_eq!(cache.path(), plan.path());
        assert!(cache.path().starts_with(&cache_dir));
        assert_eq!((cache.n_rows(), cache.n_features()), (N, proj.n_features()));
        assert_eq!(
            bits((*cache.values()).as_ref()),
            bits(&table.x),
            "{what}: values"
        );
        assert_eq!(
            bits((*cache.weights().unwrap()).as_ref()),
            bits(table.weights.as_ref().unwrap()),
            "{what}: weights"
        );
        let values = label_values("label_int", table.labels.as_ref().unwrap()).unwrap();
        let classes = Classes::from_values(&values);
        assert_eq!(
            (*cache.labels().unwrap()).as_ref(),
            classes.encode(&values).unwrap(),
            "{what}: label codes"
        );
        let meta = cache.meta();
        assert_eq!(meta.classes.as_deref(), Some(classes.names()));
        assert_eq!(meta.columns, table.columns);
        assert_eq!(meta.column_types, table.column_types);
        assert_eq!(meta.part_rows, [N]);
        assert_eq!(
            meta.part_labeled,
            [values.iter().filter(|v| v.is_some()).count()]
        );
        let values_before = bits((*cache.values()).as_ref());
        drop(cache);

        // Opened again: reused, the same bytes.
        let again = plan.open_or_build(&mut |_| panic!("rebuilt")).unwrap();
        assert!(again.reused(), "{what}");
        assert_eq!(bits((*again.values()).as_ref()), values_before);
        // Only the cache file is left: no temporary files.
        assert_eq!(entries(&cache_dir).len(), 1, "{:?}", entries(&cache_dir));
        std::fs::remove_dir_all(&cache_dir).unwrap();
    }
}

#[test]
fn stacked_tables_keep_their_order_and_fill_weights_and_labels() {
    let dir = tempfile::tempdir().unwrap();
    let sample = Sample::new(N, 11);
    let input = dir.path().join("input.parquet");
    write_parquet(&input, &[sample.batch.slice(0, 1_000)], 300);
    let labeled = dir.path().join("labeled.csv");
    write_csv(&labeled, &sample.batch.slice(1_000, N - 1_000));

    let src = TableSource::open(&input, None).unwrap();
    let proj = src.project(&spec(None, None)).unwrap();
    let lsrc = TableSource::open(&labeled, None).unwrap();
    let lproj = lsrc.project(&spec(Some("label_str"), Some("w"))).unwrap();
    let plan = CachePlan::new(
        &dir.path().join("c"),
        vec![
            CachePart {
                source: &src,
                projection: &proj,
            },
            CachePart {
                source: &lsrc,
                projection: &lproj,
            },
        ],
    )
    .unwrap();
    let cache = plan.build(&mut |_| true).unwrap();
    let mut x = src.read_all(&proj).unwrap().x;
    let lt = lsrc.read_all(&lproj).unwrap();
    x.extend_from_slice(&lt.x);
    assert_eq!(bits((*cache.values()).as_ref()), bits(&x));
    // The input has no weights: 1 for its rows, then the labeled table's.
    let mut w = vec![1.0; 1_000];
    w.extend_from_slice(lt.weights.as_ref().unwrap());
    assert_eq!(bits((*cache.weights().unwrap()).as_ref()), bits(&w));
    // The input has no labels: unlabeled rows, then the labeled table's codes.
    let lv = label_values("label_str", lt.labels.as_ref().unwrap()).unwrap();
    let classes = Classes::from_values(&lv);
    let mut codes = vec![UNLABELED; 1_000];
    codes.extend(classes.encode(&lv).unwrap());
    assert_eq!((*cache.labels().unwrap()).as_ref(), codes);
    assert_eq!(cache.meta().part_rows, [1_000, N - 1_000]);
    assert_eq!(cache.meta().part_labeled[0], 0);
}

#[test]
fn truncated_cache_is_refused_and_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let sample = Sample::new(N, 3);
    let path = dir.path().join("t.parquet");
    write_parquet(&path, std::slice::from_ref(&sample.batch), 500);
    let src = TableSource::open(&path, None).unwrap();
    let proj = src.project(&spec(None, Some("w"))).unwrap();
    let parts = vec![CachePart {
        source: &src,
        projection: &proj,
    }];
    let plan = CachePlan::new(&dir.path().join("c"), parts).unwrap();
    let good = bits((*plan.build(&mut |_| true).unwrap().values()).as_ref());
    let len = std::fs::metadata(plan.path()).unwrap().len();

    for cut in [len - 1, len / 2, 100, 0] {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(plan.path())
            .unwrap();
        f.set_len(cut).unwrap();
        drop(f);
        let why = plan.open().unwrap_err();
        assert!(why.contains("truncated"), "{cut} bytes: {why}");
        let rebuilt = plan.open_or_build(&mut |_| true).unwrap();
        assert!(!rebuilt.reused(), "{cut} bytes");
        assert_eq!(bits((*rebuilt.values()).as_ref()), good);
        assert_eq!(std::fs::metadata(plan.path()).unwrap().len(), len);
    }

    // Not a cache at all.
    std::fs::write(plan.path(), vec![7u8; 4096]).unwrap();
    assert!(plan.open().unwrap_err().contains("not a gmm cache"));
    assert!(!plan.open_or_build(&mut |_| true).unwrap().reused());
}

#[test]
fn changed_input_or_columns_miss_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let sample = Sample::new(N, 5);
    let path = dir.path().join("t.csv");
    write_csv(&path, &sample.batch);
    let cache_dir = dir.path().join("c");
    let plan_for = |spec: &ColumnSpec| {
        let src = TableSource::open(&path, None).unwrap();
        let proj = src.project(spec).unwrap();
        let plan = CachePlan::new(
            &cache_dir,
            vec![CachePart {
                source: &src,
                projection: &proj,
            }],
        )
        .unwrap();
        (plan.path().to_path_buf(), plan.fingerprint().to_string())
    };
    let s = spec(None, None);
    let src = TableSource::open(&path, None).unwrap();
    let proj = src.project(&s).unwrap();
    let plan = CachePlan::new(
        &cache_dir,
        vec![CachePart {
            source: &src,
            projection: &proj,
        }],
    )
    .unwrap();
    plan.build(&mut |_| true).unwrap();
    assert!(plan.open().is_ok());
    let (path0, fp0) = plan_for(&s);
    assert_eq!(
        (path0.as_path(), fp0.as_str()),
        (plan.path(), plan.fingerprint())
    );

    // Other columns, another order, a weight column: another cache.
    let mut reordered = s.clone();
    reordered.features.reverse();
    for other in [
        spec(None, Some("w")),
        reordered,
        spec(Some("label_int"), None),
    ] {
        let (p, fp) = plan_for(&other);
        assert_ne!(p, path0, "{other:?}");
        assert_ne!(fp, fp0);
    }

    // The same file rewritten with other values: the same name, but the
    // fingerprint no longer matches and the cache is rebuilt.
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.truncate(N / 2);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let (p, fp) = plan_for(&s);
    assert_eq!(p, path0);
    assert_ne!(fp, fp0);
    let src = TableSource::open(&path, None).unwrap();
    let proj = src.project(&s).unwrap();
    let changed = CachePlan::new(
        &cache_dir,
        vec![CachePart {
            source: &src,
            projection: &proj,
        }],
    )
    .unwrap();
    assert!(
        changed.open().unwrap_err().contains("input changed"),
        "{:?}",
        changed.open().map(|c| c.path().to_path_buf())
    );
    let rebuilt = changed.open_or_build(&mut |_| true).unwrap();
    assert!(!rebuilt.reused());
    assert_eq!(rebuilt.n_rows(), N / 2 - 1);
    assert_eq!(
        bits((*rebuilt.values()).as_ref()),
        bits(&src.read_all(&proj).unwrap().x)
    );
}

#[test]
fn failed_build_names_the_row_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // Past the first batch of 65,536 rows, so that rows are counted over
    // the table, not the batch.
    let n = 70_000;
    let bad_value = 66_001;
    let mut text = String::from("x,y\n");
    for i in 1..=n {
        let x = if i == bad_value {
            "NaN".to_string()
        } else {
            (i % 17).to_string()
        };
        // Labels read as floating point (from the first rows), one of them not a class.
        let y = match i {
            1..=10 => "0.0",
            68_000 => "1.5",
            _ => "",
        };
        text += &format!("{x},{y}\n");
    }
    let path = write_text(dir.path(), "bad.csv", &text);
    let src = TableSource::open(&path, None).unwrap();
    let cache_dir = dir.path().join("c");
    let build = |label: Option<&str>| {
        let proj = src
            .project(&ColumnSpec {
                features: vec!["x".into()],
                label: label.map(str::to_string),
                ..Default::default()
            })
            .unwrap();
        let plan = CachePlan::new(
            &cache_dir,
            vec![CachePart {
                source: &src,
                projection: &proj,
            }],
        )
        .unwrap();
        plan.build(&mut |_| true).unwrap_err()
    };
    match build(None) {
        IoError::NonFinite { row, count, .. } => assert_eq!((row, count), (bad_value, 1)),
        e => panic!("{e}"),
    }
    assert_eq!(entries(&cache_dir), Vec::<String>::new());

    // A label that is not a class, named by its row in the table.
    std::fs::write(&path, text.replace("NaN,", "1,")).unwrap();
    let src2 = TableSource::open(&path, None).unwrap();
    let proj = src2
        .project(&ColumnSpec {
            features: vec!["x".into()],
            label: Some("y".into()),
            ..Default::default()
        })
        .unwrap();
    let plan = CachePlan::new(
        &cache_dir,
        vec![CachePart {
            source: &src2,
            projection: &proj,
        }],
    )
    .unwrap();
    let e = plan.build(&mut |_| true).unwrap_err().to_string();
    assert!(e.contains("data row 68000"), "{e}");
    assert!(e.contains("bad.csv"), "{e}");
    assert_eq!(entries(&cache_dir), Vec::<String>::new());
}

#[test]
fn row_estimates_are_close() {
    let dir = tempfile::tempdir().unwrap();
    let sample = Sample::new(N, 9);
    for path in tables(dir.path(), &sample) {
        let est = TableSource::open(&path, None)
            .unwrap()
            .estimated_rows()
            .unwrap();
        // Exact for Parquet and small CSV files; within a factor for IPC.
        assert!(
            (N / 4..=N * 4).contains(&est),
            "{}: {est} rows estimated",
            path.display()
        );
    }
    // A CSV larger than the sampled MiB.
    let mut text = String::from("a,b\n");
    for i in 0..200_000 {
        text += &format!("{i},{}\n", i % 7);
    }
    let path = write_text(dir.path(), "big.csv", &text);
    let est = TableSource::open(&path, None)
        .unwrap()
        .estimated_rows()
        .unwrap();
    assert!(
        (180_000..=220_000).contains(&est),
        "{est} rows estimated for 200,000"
    );
}
