//! Tables and outputs in object storage, against the real S3 server that
//! `scripts/test_s3.sh` starts on 127.0.0.1 (moto's, with authentication
//! enforced). Each test uploads its tables under a prefix of its own, runs
//! `gmm` on the URLs, and checks that it gives what the same run on the
//! local files gives, byte for byte; bad URLs and credentials give one-line
//! errors and write nothing. Run by `bash scripts/test_s3.sh`; ignored by a
//! plain `cargo test`, which has no server.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use gmm_io::arrow::array::{ArrayRef, Float64Array, Int64Array};
use gmm_io::storage::{Upload, download_file, upload_file};

use crate::common::*;

mod inputs;
mod outputs;

/// The test server's bucket and a prefix of this test's own.
pub struct Bucket {
    prefix: String,
}

impl Bucket {
    pub fn new(test: &str) -> Bucket {
        let bucket = std::env::var("GMM_TEST_S3_BUCKET").unwrap_or_else(|_| {
            panic!("GMM_TEST_S3_BUCKET is not set: run bash scripts/test_s3.sh")
        });
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        Bucket {
            prefix: format!("s3://{bucket}/{test}-{}-{nanos}", std::process::id()),
        }
    }

    /// The URL of `key` under the prefix.
    pub fn url(&self, key: &str) -> String {
        format!("{}/{key}", self.prefix)
    }

    /// Uploads a local file to `key`.
    pub fn put(&self, local: &Path, key: &str) -> String {
        let url = self.url(key);
        upload_file(
            local,
            &Upload {
                url: url.clone(),
                storage: Default::default(),
            },
        )
        .unwrap_or_else(|e| panic!("upload {url}: {e}"));
        url
    }

    /// Uploads every file under `dir` (relative paths as keys under `key`).
    pub fn put_dir(&self, dir: &Path, key: &str) -> String {
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    let rel = p
                        .strip_prefix(dir)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/");
                    self.put(&p, &format!("{key}/{rel}"));
                }
            }
        }
        self.url(key)
    }

    /// Downloads `key` to a local file.
    pub fn get(&self, key: &str, to: &Path) {
        download_file(&self.url(key), &Default::default(), to)
            .unwrap_or_else(|e| panic!("download {key}: {e}"));
    }

    /// Whether `key` holds an object; any error but its absence fails.
    pub fn exists(&self, key: &str) -> bool {
        let tmp = tempfile::tempdir().unwrap();
        match download_file(&self.url(key), &Default::default(), &tmp.path().join("x")) {
            Ok(()) => true,
            Err(gmm_io::IoError::NoSuchObject { .. }) => false,
            Err(e) => panic!("{key}: {e}"),
        }
    }
}

/// A model file without what names its run (the input's path and the
/// day).
pub fn model_without_provenance(path: &Path) -> serde_json::Value {
    let mut v = read_json(path);
    v.as_object_mut().unwrap().remove("provenance");
    v
}

#[track_caller]
pub fn same_file(a: &Path, b: &Path) {
    assert!(
        std::fs::read(a).unwrap() == std::fs::read(b).unwrap(),
        "{} and {} differ",
        a.display(),
        b.display()
    );
}

/// `n` rows of two blobs in columns `id`, `x1`, `x2`, as Parquet with row
/// groups of `group` rows.
pub fn blobs(path: &Path, n: usize, group: usize, seed: u64) {
    use gmm_io::arrow::array::RecordBatch;
    let mut rng = Rng(seed);
    let x1: Vec<f64> = (0..n)
        .map(|i| 4.0 * (i % 2) as f64 + rng.normal())
        .collect();
    let x2: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
    let batch = RecordBatch::try_from_iter([
        (
            "id",
            Arc::new(Int64Array::from_iter_values(0..n as i64)) as ArrayRef,
        ),
        ("x1", Arc::new(Float64Array::from(x1)) as ArrayRef),
        ("x2", Arc::new(Float64Array::from(x2)) as ArrayRef),
    ])
    .unwrap();
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(group))
        .build();
    let file = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

pub fn fit_args<'a>(input: &'a str, out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec![
        "fit",
        "--input",
        input,
        "-k",
        "2",
        "--no-plots",
        "--out",
        out,
    ];
    a.extend(extra);
    a
}

/// `sales/day=D/part-0.parquet` for three days, with a `_SUCCESS` marker and
/// a hidden file the readers skip.
pub fn partitioned(dir: &Path) -> PathBuf {
    let root = dir.join("sales");
    for (i, day) in ["2026-10-31", "2026-11-01", "2026-11-02"]
        .iter()
        .enumerate()
    {
        let sub = root.join(format!("day={day}"));
        std::fs::create_dir_all(&sub).unwrap();
        blobs(&sub.join("part-0.parquet"), 300, 100, i as u64);
    }
    std::fs::write(root.join("_SUCCESS"), "").unwrap();
    std::fs::write(root.join("day=2026-11-01/.part-0.parquet.crc"), "x").unwrap();
    root
}
