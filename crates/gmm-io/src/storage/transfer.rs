//! Outputs to object storage: a local file uploaded in parts once it is
//! complete, and the objects a run directory no longer holds deleted; a
//! download for tests and tools.

use std::path::Path;

use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use url::Url;

use super::ObjectStorage;
use super::remote::{PARALLEL, PIECE, block_on, explain, get_whole, store_of};
use crate::error::{IoError, Result};

/// A local file to be uploaded to a URL once it is complete.
#[derive(Debug, Clone)]
pub struct Upload {
    pub url: String,
    pub storage: ObjectStorage,
}

/// Uploads the local file `from` to `to.url` (in parts of [`PIECE`]
/// bytes, [`PARALLEL`] at a time); the object appears only when every part
/// is in, and a failed upload is aborted.
pub fn upload_file(from: &Path, to: &Upload) -> Result<()> {
    use std::io::Read;
    let url = Url::parse(&to.url)
        .map_err(|e| IoError::read(&to.url, format!("not a valid URL ({e})")))?;
    let (store, path) = store_of(&url, &to.storage)?;
    if path.as_ref().is_empty() || to.url.ends_with('/') {
        return Err(IoError::read(
            &to.url,
            "names a bucket or a directory; give the object's full name (s3://bucket/dir/file.parquet)",
        ));
    }
    let fail = |e: &object_store::Error| match e {
        // A write finds no object only when the bucket is not there.
        object_store::Error::NotFound { .. } => IoError::write(
            &to.url,
            "the bucket does not exist; check the URL, or create the bucket",
        ),
        _ => IoError::write(&to.url, explain(e)),
    };
    block_on(async {
        let upload = store.put_multipart(&path).await.map_err(|e| fail(&e))?;
        // Parts of 8 MiB, larger for files past 70 GiB: a multipart upload
        // holds at most 10,000 parts.
        let size = std::fs::metadata(from).map_or(0, |m| m.len());
        let part = PIECE.max(size.div_ceil(9_000)) as usize;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, part);
        let mut file = std::fs::File::open(from).map_err(|e| IoError::read(from, e))?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(IoError::read(from, e));
                }
            };
            if let Err(e) = writer.wait_for_capacity(PARALLEL).await {
                let _ = writer.abort().await;
                return Err(fail(&e));
            }
            writer.write(&buf[..n]);
        }
        writer.finish().await.map_err(|e| fail(&e))?;
        Ok(())
    })
}

/// Downloads the object at `url` to the local file `to` (tests and tools:
/// the loader reads objects itself).
pub fn download_file(url: &str, storage: &ObjectStorage, to: &Path) -> Result<()> {
    let bytes = get_whole(url, storage)?;
    std::fs::write(to, bytes).map_err(|e| IoError::write(to, e))
}

/// Checks, before any work, that the bucket of `to.url` exists and that the
/// credentials may list it: a job's output would otherwise fail only at
/// its end.
pub(crate) fn check_reachable(to: &Upload) -> Result<()> {
    let url = Url::parse(&to.url)
        .map_err(|e| IoError::write(&to.url, format!("not a valid URL ({e})")))?;
    let (store, path) = store_of(&url, &to.storage)?;
    let prefix = (!path.as_ref().is_empty()).then_some(&path);
    match block_on(store.list_with_delimiter(prefix)) {
        Ok(_) => Ok(()),
        Err(object_store::Error::NotFound { .. }) => Err(IoError::write(
            &to.url,
            "the bucket does not exist; check the URL, or create the bucket",
        )),
        Err(e) => {
            let text = explain(&e);
            // Keys that may write but not list: the upload will tell.
            if text.contains("(AccessDenied)") {
                return Ok(());
            }
            Err(IoError::write(&to.url, text))
        }
    }
}

/// Deletes the object at `to.url` if there is one.
pub(crate) fn delete_object(to: &Upload) -> Result<()> {
    let url = Url::parse(&to.url)
        .map_err(|e| IoError::write(&to.url, format!("not a valid URL ({e})")))?;
    let (store, path) = store_of(&url, &to.storage)?;
    match block_on(store.delete(&path)) {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
        Err(e) => Err(IoError::write(&to.url, explain(&e))),
    }
}
