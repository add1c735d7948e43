//! Tables and outputs in object storage: `s3://`, `gs://`, `az://` and
//! `http(s)://` URLs, read and written through the object_store crate
//! (cargo feature `cloud`, on in the `gmm` command).
//!
//! - Parquet is read in ranges: the footer, then for each row group only
//!   the column chunks a job selects, fetched in parallel pieces
//!   ([`RemoteReader`]); nothing is downloaded whole.
//! - CSV and Arrow IPC files have no such structure: each is downloaded
//!   once to the temporary directory (`TMPDIR`) and read from there, and
//!   the copy is removed when the table is dropped.
//! - An output at a URL is written to a local file first and uploaded
//!   when it is complete, so a failed job leaves no object behind.
//!
//! Credentials come from each cloud's environment variables and files
//! (`AWS_*` and `~/.aws/credentials`/`~/.aws/config`; `GOOGLE_*` and
//! gcloud's application-default credentials; `AZURE_*` and the Azure
//! CLI's login); [`ObjectStorage`] holds what a config's `[storage]` section may
//! add.

#[cfg(feature = "cloud")]
mod aws_profile;
#[cfg(feature = "cloud")]
mod list;
#[cfg(feature = "cloud")]
mod reader;
#[cfg(feature = "cloud")]
mod remote;
#[cfg(feature = "cloud")]
mod transfer;

use serde::Deserialize;

#[cfg(feature = "cloud")]
pub(crate) use list::list;
#[cfg(feature = "cloud")]
pub(crate) use reader::RemoteReader;
#[cfg(feature = "cloud")]
pub(crate) use remote::{FETCH_FAILED, RemoteObject, Staged, stage};
#[cfg(feature = "cloud")]
pub use transfer::{Upload, download_file, upload_file};

/// Settings of object storage: a config's `[storage]` section. Each is
/// optional; the cloud's own environment variables and files give the
/// rest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectStorage {
    /// Another endpoint than the cloud's own: an S3-compatible server
    /// (MinIO, Ceph, a test server), an Azure or GCS emulator. An
    /// `http://` endpoint allows unencrypted requests.
    pub endpoint: Option<String>,
    /// The region of S3 buckets (default: `AWS_REGION`, the profile's
    /// region, else `us-east-1`).
    pub region: Option<String>,
    /// Unsigned requests, for public buckets: no credentials are looked up.
    #[serde(default)]
    pub anonymous: bool,
    /// The profile of `~/.aws/credentials` and `~/.aws/config` (default:
    /// `AWS_PROFILE`, else `default`).
    pub profile: Option<String>,
}

/// The URL schemes read as object storage.
pub const SCHEMES: &[&str] = &[
    "s3", "s3a", "gs", "az", "abfs", "abfss", "azure", "http", "https",
];

/// Whether `text` is an object-storage URL (`s3://bucket/key`, ...)
/// rather than a local path.
pub fn is_url(text: &str) -> bool {
    text.split_once("://")
        .is_some_and(|(scheme, _)| SCHEMES.iter().any(|s| s.eq_ignore_ascii_case(scheme)))
}

/// The text of a small file (a model file) at a path or a URL.
pub(crate) fn read_text(path: &std::path::Path, storage: &ObjectStorage) -> crate::Result<String> {
    let shown = path.to_string_lossy();
    if !is_url(&shown) {
        return std::fs::read_to_string(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => crate::IoError::NotFound {
                path: path.to_path_buf(),
            },
            _ => crate::IoError::read(path, e),
        });
    }
    String::from_utf8(read_object(&shown, storage)?)
        .map_err(|_| crate::IoError::read(path, "not UTF-8 text"))
}

/// The bytes of the one object at `url` (its key as written: no globs,
/// no prefixes).
fn read_object(url: &str, storage: &ObjectStorage) -> crate::Result<Vec<u8>> {
    #[cfg(feature = "cloud")]
    {
        remote::get_whole(url, storage)
    }
    #[cfg(not(feature = "cloud"))]
    {
        let _ = storage;
        Err(no_cloud(url))
    }
}

/// Whether this build reads and writes object storage (feature `cloud`).
pub const CLOUD: bool = cfg!(feature = "cloud");

/// Where an output goes: a local path, or a URL (an object, or for a run
/// directory a prefix) that it is uploaded to once complete. An output at
/// a URL is written first to a directory of the temporary directory
/// (`TMPDIR`), removed when this is dropped.
#[derive(Debug)]
pub struct OutputPlace {
    local: std::path::PathBuf,
    #[cfg(feature = "cloud")]
    remote: Option<(Upload, tempfile::TempDir)>,
}

impl OutputPlace {
    /// The place of `out`, as given on the command line. A URL names an
    /// object (`s3://bucket/dir/predictions.parquet`) or, for a run
    /// directory, a prefix; its local file keeps the object's name.
    pub fn new(out: &std::path::Path, storage: &ObjectStorage) -> crate::Result<Self> {
        let text = out.to_string_lossy();
        if !is_url(&text) {
            return Ok(OutputPlace {
                local: out.to_path_buf(),
                #[cfg(feature = "cloud")]
                remote: None,
            });
        }
        #[cfg(feature = "cloud")]
        {
            let upload = Upload {
                url: text.to_string(),
                storage: storage.clone(),
            };
            // The bucket and the credentials, before any work.
            transfer::check_reachable(&upload)?;
            let dir = tempfile::Builder::new()
                .prefix(".gmm-upload-")
                .tempdir()
                .map_err(|e| {
                    crate::IoError::write(
                        out,
                        format!("cannot create its local copy in the temporary directory ({e}); set TMPDIR to a directory with room"),
                    )
                })?;
            let name = text
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or("out");
            Ok(OutputPlace {
                local: dir.path().join(name),
                remote: Some((upload, dir)),
            })
        }
        #[cfg(not(feature = "cloud"))]
        {
            let _ = storage;
            Err(no_cloud(&text))
        }
    }

    /// Where the output is written.
    pub fn local(&self) -> &std::path::Path {
        &self.local
    }

    /// Whether the output goes to object storage.
    pub fn is_remote(&self) -> bool {
        #[cfg(feature = "cloud")]
        return self.remote.is_some();
        #[cfg(not(feature = "cloud"))]
        false
    }

    /// Uploads the written file, when it goes to a URL.
    pub fn publish_file(&self) -> crate::Result<()> {
        #[cfg(feature = "cloud")]
        if let Some((upload, _)) = &self.remote {
            upload_file(&self.local, upload)?;
        }
        Ok(())
    }

    /// Uploads the written directory, when it goes to a URL: each of its
    /// files (recursively) to the prefix followed by its relative path.
    /// A `model.json` says that the rest is there: an earlier run's is
    /// deleted first and the new one uploaded last, and if an upload
    /// fails, the objects this call uploaded are deleted again, so the
    /// prefix then holds no model. Objects of the names `known` (a run
    /// directory's files) that this run did not write are deleted once
    /// the model is in, as a local run directory retires them.
    pub fn publish_dir(&self, known: &[&str]) -> crate::Result<()> {
        #[cfg(feature = "cloud")]
        if let Some((upload, _)) = &self.remote {
            let mut files = Vec::new();
            files_under(&self.local, &self.local, &mut files)
                .map_err(|e| crate::IoError::read(&self.local, e))?;
            let is_model = |rel: &str| rel == "model.json" || rel.ends_with("/model.json");
            files.sort_by_key(|rel| (is_model(rel), rel.clone()));
            let base = upload.url.trim_end_matches('/');
            let at = |rel: &str| Upload {
                url: format!("{base}/{rel}"),
                storage: upload.storage.clone(),
            };
            for rel in files.iter().filter(|r| is_model(r)) {
                transfer::delete_object(&at(rel))?;
            }
            let mut done: Vec<&String> = Vec::new();
            for rel in &files {
                if let Err(e) = upload_file(&self.local.join(rel), &at(rel)) {
                    for d in done {
                        let _ = transfer::delete_object(&at(d));
                    }
                    return Err(e);
                }
                done.push(rel);
            }
            for name in known {
                let stale = !files
                    .iter()
                    .any(|f| f == name || f.starts_with(&format!("{name}/")));
                if stale {
                    transfer::delete_object(&at(name))?;
                }
            }
        }
        let _ = known;
        Ok(())
    }
}

/// The files under `dir`, as paths relative to `root` with `/`.
#[cfg(feature = "cloud")]
fn files_under(
    root: &std::path::Path,
    dir: &std::path::Path,
    out: &mut Vec<String>,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let p = entry?.path();
        if p.is_dir() {
            files_under(root, &p, out)?;
        } else if let Ok(rel) = p.strip_prefix(root) {
            let parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push(parts.join("/"));
        }
    }
    Ok(())
}

/// The message for a URL in a build without object storage.
#[cfg(not(feature = "cloud"))]
pub(crate) fn no_cloud(url: &str) -> crate::IoError {
    crate::IoError::read(
        url,
        "this build of gmm has no object storage; build it with the cargo feature `cloud` (the default of the gmm command)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths() {
        for u in [
            "s3://b/k.parquet",
            "S3://b/k",
            "gs://b/x",
            "az://c/x",
            "abfss://c@a.dfs.core.windows.net/x",
            "https://h/x.csv",
        ] {
            assert!(is_url(u), "{u}");
        }
        for p in [
            "data/x.parquet",
            "/abs/s3://x",
            "file://x",
            "c:\\x",
            "s3:/x",
        ] {
            assert!(!is_url(p), "{p}");
        }
    }
}
