//! The out-of-core cache: what it holds is what `read_all` reads, bit for
//! bit, in every format; it is reused while the input is unchanged, and
//! refused and rebuilt when the input changes or the file is damaged; a
//! failed build leaves nothing behind.

mod common;

use std::path::{Path, PathBuf};

use common::{Sample, write_csv, write_ipc, write_parquet, write_text};
use gmm_core::Precision;
use gmm_core::UNLABELED;
use gmm_io::{
    CachePart, CachePlan, Classes, ColumnSpec, IoError, RowValues, TableSource, label_values,
};

const N: usize = 1_500;

fn spec(label: Option<&str>, weight: Option<&str>) -> ColumnSpec {
    ColumnSpec {
        features: Sample::feature_names(),
        label: label.map(str::to_string),
        weight: weight.map(str::to_string),
        ..Default::default()
    }
}

fn bits<'a>(v: impl Into<gmm_core::Values<'a>>) -> Vec<u64> {
    v.into().iter().map(|x| x.to_bits()).collect()
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
        assert_eq!(bits(cache.values()), bits(&table.x), "{what}: values");
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
        let values_before = bits(cache.values());
        drop(cache);

        // Opened again: reused, the same bytes.
        let again = plan.open_or_build(&mut |_| panic!("rebuilt")).unwrap();
        assert!(again.reused(), "{what}");
        assert_eq!(bits(again.values()), values_before);
        // Only the cache file is left: no temporary files.
        assert_eq!(entries(&cache_dir).len(), 1, "{:?}", entries(&cache_dir));
        std::fs::remove_dir_all(&cache_dir).unwrap();
    }
}

/// Under `f32` precision, every format reads (whole and batch by batch)
/// and caches the values rounded to the nearest `f32`; the cache takes half
/// the room, lives beside the `f64` cache of the same table under its own
/// name, and is reused.
#[test]
fn f32_rows_read_and_cache_as_the_rounded_values() {
    let dir = tempfile::tempdir().unwrap();
    let sample = Sample::new(N, 5);
    for path in tables(dir.path(), &sample) {
        let what = path.display().to_string();
        let src = TableSource::open(&path, None).unwrap();
        let wide = src.project(&spec(None, Some("w"))).unwrap();
        let narrow = wide.clone().with_precision(Precision::F32);
        assert_eq!(
            src.project(&ColumnSpec {
                precision: Precision::F32,
                ..spec(None, Some("w"))
            })
            .unwrap(),
            narrow
        );
        let exact = src.read_all(&wide).unwrap();
        let rounded: Vec<f32> = exact.x.values().iter().map(|v| v as f32).collect();
        let table = src.read_all(&narrow).unwrap();
        assert_eq!(table.x, RowValues::F32(rounded.clone()), "{what}: read_all");
        assert_eq!(table.weights, exact.weights, "{what}: weights stay f64");
        let batched: Vec<f64> = src
            .batches(&narrow, 333)
            .unwrap()
            .flat_map(|b| b.unwrap().x)
            .collect();
        assert_eq!(bits(&batched), bits(&rounded[..]), "{what}: batches");
        let d = narrow.n_features();
        let rows = src.read_rows(&narrow, 100..900).unwrap();
        assert_eq!(
            bits(&rows.x),
            bits(&rounded[100 * d..900 * d]),
            "{what}: read_rows"
        );

        let cache_dir = dir.path().join("cache");
        let plan = |proj| {
            CachePlan::new(
                &cache_dir,
                vec![CachePart {
                    source: &src,
                    projection: proj,
                }],
            )
            .unwrap()
        };
        let (p64, p32) = (plan(&wide), plan(&narrow));
        assert_ne!(p64.path(), p32.path(), "{what}: one cache per precision");
        let c64 = p64.open_or_build(&mut |_| true).unwrap();
        let c32 = p32.open_or_build(&mut |_| true).unwrap();
        assert_eq!(c32.precision(), Precision::F32);
        assert_eq!(
            bits(c32.values()),
            bits(&rounded[..]),
            "{what}: cached values"
        );
        assert_eq!(bits(c64.values()), bits(&exact.x), "{what}: the f64 cache");
        // 4 bytes a value saved (the descriptions differ by a few bytes).
        let saved = c64
            .file_bytes()
            .abs_diff(c32.file_bytes() + 4 * (N * d) as u64);
        assert!(
            saved < 64,
            "{what}: {} vs {} bytes",
            c64.file_bytes(),
            c32.file_bytes()
        );
        let part = c32.dataset(10..20).unwrap();
        assert_eq!(part.precision(), Precision::F32);
        assert_eq!(
            bits(part.values()),
            bits(&rounded[10 * d..20 * d]),
            "{what}: a share"
        );
        drop(c32);
        let again = p32.open_or_build(&mut |_| panic!("rebuilt")).unwrap();
        assert!(
            again.reused() && again.precision() == Precision::F32,
            "{what}"
        );
        std::fs::remove_dir_all(&cache_dir).unwrap();
    }
}

/// A value beyond the largest `f32` is refused under `f32`, naming the
/// column and row, and read under `f64`.
#[test]
fn values_beyond_f32_are_refused_under_f32() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_text(dir.path(), "big.csv", "a,b\n1,2\n3,1e39\n5,-1e100\n");
    let src = TableSource::open(&path, None).unwrap();
    let spec = ColumnSpec {
        features: vec!["a".into(), "b".into()],
        precision: Precision::F32,
        ..Default::default()
    };
    let proj = src.project(&spec).unwrap();
    let err = src.read_all(&proj).unwrap_err();
    assert!(
        matches!(
            err,
            IoError::TooLargeForF32 {
                row: 2,
                count: 2,
                ..
            }
        ),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("`b`") && text.contains("--precision f64"),
        "{text}"
    );
    // Past 1e150, f64 would refuse it as well: the f64 message.
    let huge = write_text(dir.path(), "huge.csv", "a\n1\n1e200\n");
    let hsrc = TableSource::open(&huge, None).unwrap();
    let narrow = ColumnSpec {
        features: vec!["a".into()],
        precision: Precision::F32,
        ..Default::default()
    };
    let err = hsrc.read_all(&hsrc.project(&narrow).unwrap()).unwrap_err();
    assert!(matches!(err, IoError::TooLarge { row: 2, .. }), "{err}");
    let proj = src
        .project(&ColumnSpec {
            precision: Precision::F64,
            ..spec
        })
        .unwrap();
    assert_eq!(src.read_all(&proj).unwrap().n_rows, 3);
    // Weights stay f64: past 1e150 they are too large in any precision.
    let path = write_text(dir.path(), "w.csv", "a,w\n1,1e39\n2,1e160\n");
    let src = TableSource::open(&path, None).unwrap();
    let spec = ColumnSpec {
        features: vec!["a".into()],
        weight: Some("w".into()),
        precision: Precision::F32,
        ..Default::default()
    };
    let err = src.read_all(&src.project(&spec).unwrap()).unwrap_err();
    assert!(matches!(err, IoError::TooLarge { row: 2, .. }), "{err}");
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
    x.extend_from(&lt.x);
    assert_eq!(bits(cache.values()), bits(&x));
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
    let good = bits(plan.build(&mut |_| true).unwrap().values());
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
        assert_eq!(bits(rebuilt.values()), good);
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
        bits(rebuilt.values()),
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
