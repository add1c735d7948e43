//! Objects at URLs: the stores (one per table or output, from the settings
//! and the environment of the moment), their errors in one line, fetching ranges in parallel pieces,
//! and staging a whole object to a local file.

use std::future::Future;
use std::io::Write;
use std::ops::Range;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::{StreamExt, TryStreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt, ObjectStoreScheme, RetryConfig};
use url::Url;

use super::ObjectStorage;
use crate::error::{IoError, Result};

/// Bytes of one ranged request: larger ranges are split into pieces of
/// this size fetched in parallel.
pub(super) const PIECE: u64 = 8 << 20;
/// Requests in flight for one range list or one download.
pub(super) const PARALLEL: usize = 8;

/// What begins the message of a failed fetch, wherever a decoder wraps it.
pub(crate) const FETCH_FAILED: &str = "reading from object storage failed: ";

/// The runtime the stores' requests run on: gmm's own threads (rayon's)
/// block on it.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .thread_name("gmm-storage")
            .enable_all()
            .build()
            .expect("the object storage runtime starts")
    })
}

pub(crate) fn block_on<F: Future>(f: F) -> F::Output {
    runtime().block_on(f)
}

/// One object of a table, as listed.
#[derive(Debug)]
pub(crate) struct RemoteObject {
    /// The URL, as messages show it.
    pub url: String,
    pub(super) store: Arc<dyn ObjectStore>,
    pub(super) location: ObjectPath,
    pub size: u64,
    /// What says whether the object changed: its ETag and time.
    pub version: String,
}

/// A store and the path of `url` in it.
pub(super) fn store_of(
    url: &Url,
    storage: &ObjectStorage,
) -> Result<(Arc<dyn ObjectStore>, ObjectPath)> {
    let shown = url.as_str();
    let (scheme, path) = ObjectStoreScheme::parse(url)
        .map_err(|e| IoError::read(shown, format!("not an object storage URL ({e})")))?;
    let base = base_of(url, &path);
    // Built anew for each table and output (the objects of a table share
    // theirs), so that credentials changed in a long-lived process (the
    // Python package's) are the ones used.
    let store = build(scheme, &base, storage)
        .map_err(|e| IoError::read(shown, format!("cannot set up its store: {}", one_line(&e))))?;
    Ok((store, path))
}

/// The part of `url` before the key `path`: `s3://bucket`, or for an
/// Azure https URL the account's address and the container.
pub(super) fn base_of(url: &Url, path: &ObjectPath) -> String {
    let authority = &url[..url::Position::BeforePath];
    // The URL's path segments (percent-encoded, as typed) less the key's
    // parts (decoded): what remains names the container, if anything.
    let segments: Vec<&str> = url
        .path_segments()
        .map(|s| s.filter(|p| !p.is_empty()).collect())
        .unwrap_or_default();
    let keep = segments.len().saturating_sub(path.parts().count());
    let before: String = segments[..keep].iter().map(|s| format!("/{s}")).collect();
    format!("{authority}{before}")
}

/// Retries of a failed request: a few, within half a minute, so that a
/// wrong endpoint is an error soon rather than a wait of minutes.
fn retry() -> RetryConfig {
    RetryConfig {
        max_retries: 3,
        retry_timeout: Duration::from_secs(30),
        ..Default::default()
    }
}

/// Request settings: unencrypted requests only to an `http://` endpoint
/// (of `[storage]` or of the cloud's environment variables), or where
/// `AWS_ALLOW_HTTP` or `AZURE_ALLOW_HTTP` allow them.
fn client(storage: &ObjectStorage) -> ClientOptions {
    let env = |k: &str| std::env::var(k).unwrap_or_default();
    let endpoint = storage.endpoint.clone().unwrap_or_else(|| {
        ["AWS_ENDPOINT_URL", "AWS_ENDPOINT", "AZURE_STORAGE_ENDPOINT"]
            .iter()
            .map(|k| env(k))
            .find(|v| !v.is_empty())
            .unwrap_or_default()
    });
    let insecure = endpoint.starts_with("http://")
        || ["AWS_ALLOW_HTTP", "AZURE_ALLOW_HTTP"]
            .iter()
            .any(|k| env(k).eq_ignore_ascii_case("true"));
    ClientOptions::new()
        .with_connect_timeout(Duration::from_secs(10))
        .with_timeout(Duration::from_secs(60))
        .with_allow_http(insecure)
}

fn build(
    scheme: ObjectStoreScheme,
    base: &str,
    storage: &ObjectStorage,
) -> std::result::Result<Arc<dyn ObjectStore>, object_store::Error> {
    use object_store::{aws, azure, gcp, http};
    Ok(match scheme {
        ObjectStoreScheme::AmazonS3 => {
            let mut b = aws::AmazonS3Builder::from_env()
                .with_url(base)
                .with_retry(retry())
                .with_client_options(client(storage));
            if !storage.anonymous {
                for (k, v) in super::aws_profile::settings(storage.profile.as_deref()) {
                    b = b.with_config(k, v);
                }
            }
            if let Some(e) = &storage.endpoint {
                b = b.with_endpoint(e);
            }
            if let Some(r) = &storage.region {
                b = b.with_region(r);
            }
            Arc::new(b.with_skip_signature(storage.anonymous).build()?)
        }
        ObjectStoreScheme::GoogleCloudStorage => {
            let mut b = gcp::GoogleCloudStorageBuilder::from_env()
                .with_url(base)
                .with_retry(retry())
                .with_client_options(client(storage));
            if let Some(e) = &storage.endpoint {
                b = b.with_base_url(e);
            }
            Arc::new(b.with_skip_signature(storage.anonymous).build()?)
        }
        ObjectStoreScheme::MicrosoftAzure => {
            let mut b = azure::MicrosoftAzureBuilder::from_env()
                .with_url(base)
                .with_retry(retry())
                .with_client_options(client(storage));
            if let Some(e) = &storage.endpoint {
                b = b.with_endpoint(e.clone());
            }
            Arc::new(b.with_skip_signature(storage.anonymous).build()?)
        }
        ObjectStoreScheme::Http => Arc::new(
            http::HttpBuilder::new()
                .with_url(base)
                .with_retry(retry())
                .with_client_options(client(storage).with_allow_http(true))
                .build()?,
        ),
        other => {
            return Err(object_store::Error::NotSupported {
                source: format!("{other:?} URLs").into(),
            });
        }
    })
}

/// An error of the object store in one line, with what to do where it is
/// clear.
pub(crate) fn explain(e: &object_store::Error) -> String {
    use object_store::Error as E;
    let text = one_line(e);
    let tag = |name: &str| -> Option<String> {
        let open = format!("<{name}>");
        let start = text.find(&open)? + open.len();
        let end = start + text[start..].find(&format!("</{name}>"))?;
        Some(text[start..end].to_string())
    };
    let code = tag("Code");
    let status = text.find("status code: ").map(|i| {
        text[i + 13..]
            .split(':')
            .next()
            .unwrap_or("")
            .trim()
            .to_string()
    });
    let denied = matches!(e, E::Unauthenticated { .. } | E::PermissionDenied { .. })
        || code.as_deref().is_some_and(|c| {
            matches!(
                c,
                "InvalidAccessKeyId"
                    | "SignatureDoesNotMatch"
                    | "AccessDenied"
                    | "InvalidToken"
                    | "ExpiredToken"
                    | "AuthorizationHeaderMalformed"
            )
        })
        || status
            .as_deref()
            .is_some_and(|s| s.starts_with("401") || s.starts_with("403"));
    if matches!(e, E::NotFound { .. }) {
        return "no such object; check the URL".into();
    }
    if denied {
        let why = code.or(status).unwrap_or_else(|| "refused".into());
        return format!(
            "access denied ({why}); check the credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or AWS_PROFILE; GOOGLE_APPLICATION_CREDENTIALS; AZURE_STORAGE_ACCOUNT_KEY), or set `anonymous = true` in [storage] for a public bucket"
        );
    }
    if let Some(code) = code {
        let message = tag("Message").unwrap_or_default();
        return format!("the server refused the request ({code}: {message})");
    }
    if let Some(status) = status.filter(|s| !s.is_empty()) {
        return format!("the server answered {status}; try again later, or check the endpoint");
    }
    if let Some(i) = text.find("error sending request") {
        return format!(
            "cannot reach the server ({}); check the endpoint ([storage] endpoint, AWS_ENDPOINT_URL) and the network",
            short(&text[i..])
        );
    }
    short(&text)
}

/// An error and its causes in one line.
fn one_line(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// At most 300 characters of a message.
fn short(text: &str) -> String {
    match text.char_indices().nth(300) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text.to_string(),
    }
}

pub(super) fn object_error(url: &str, e: &object_store::Error) -> IoError {
    match e {
        object_store::Error::NotFound { .. } => IoError::NoSuchObject {
            url: url.into(),
            detail: "no such object; check the URL",
        },
        _ => IoError::read(url, explain(e)),
    }
}

impl RemoteObject {
    /// The bytes of `ranges`, in order: each range split into pieces of at
    /// most [`PIECE`] bytes, [`PARALLEL`] requests in flight.
    pub(crate) fn fetch(&self, ranges: &[Range<u64>]) -> std::io::Result<Vec<Bytes>> {
        let mut pieces = Vec::new();
        for (i, r) in ranges.iter().enumerate() {
            let mut s = r.start;
            while s < r.end {
                let e = r.end.min(s + PIECE);
                pieces.push((i, s..e));
                s = e;
            }
        }
        let fetched: Vec<(usize, Bytes)> = block_on(
            futures_util::stream::iter(pieces)
                .map(|(i, r)| async move {
                    let b = self.store.get_range(&self.location, r).await?;
                    Ok::<_, object_store::Error>((i, b))
                })
                .buffered(PARALLEL)
                .try_collect(),
        )
        .map_err(|e| std::io::Error::other(format!("{FETCH_FAILED}{}", explain(&e))))?;
        let mut out: Vec<BytesMut> = ranges
            .iter()
            .map(|r| BytesMut::with_capacity((r.end - r.start) as usize))
            .collect();
        let mut single: Vec<Option<Bytes>> = vec![None; ranges.len()];
        for (i, b) in fetched {
            if out[i].is_empty() && b.len() as u64 == ranges[i].end - ranges[i].start {
                single[i] = Some(b);
            } else {
                out[i].extend_from_slice(&b);
            }
        }
        Ok(out
            .into_iter()
            .zip(single)
            .map(|(m, s)| s.unwrap_or_else(|| m.freeze()))
            .collect())
    }
}

impl RemoteObject {
    /// The bytes of one range (see [`RemoteObject::fetch`]).
    pub(crate) fn fetch_one(&self, range: Range<u64>) -> std::io::Result<Bytes> {
        Ok(self
            .fetch(std::slice::from_ref(&range))?
            .pop()
            .unwrap_or_default())
    }
}

/// The whole object at `url`, by one GET of its key (a model file).
pub(crate) fn get_whole(url: &str, storage: &ObjectStorage) -> Result<Vec<u8>> {
    let parsed =
        Url::parse(url).map_err(|e| IoError::read(url, format!("not a valid URL ({e})")))?;
    let (store, path) = store_of(&parsed, storage)?;
    let got = block_on(async { store.get(&path).await?.bytes().await })
        .map_err(|e| object_error(url, &e))?;
    Ok(got.to_vec())
}

/// A remote object's local copy, removed when dropped.
#[derive(Debug)]
pub(crate) struct Staged(tempfile::TempPath);

impl Staged {
    pub fn path(&self) -> &Path {
        &self.0
    }
}

/// Downloads `obj` to a file of the temporary directory whose name ends as
/// the object's does (its extension tells the format and compression).
pub(crate) fn stage(obj: &RemoteObject) -> Result<Staged> {
    let name = obj.url.rsplit('/').next().unwrap_or("object");
    let werr = |e: std::io::Error| {
        IoError::read(
            &obj.url,
            format!(
                "cannot download it to the temporary directory ({e}); set TMPDIR to a directory with room"
            ),
        )
    };
    let mut file = tempfile::Builder::new()
        .prefix(".gmm-download-")
        .suffix(&format!("-{name}"))
        .tempfile()
        .map_err(werr)?;
    let mut start = 0;
    // A window of pieces at a time: memory stays bounded.
    while start < obj.size {
        let end = obj.size.min(start + PIECE * PARALLEL as u64);
        let part = obj
            .fetch_one(start..end)
            .map_err(|e| IoError::read(&obj.url, e))?;
        file.write_all(&part).map_err(werr)?;
        start = end;
    }
    file.flush().map_err(werr)?;
    Ok(Staged(file.into_temp_path()))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use object_store::memory::InMemory;

    /// An object of `n` bytes (`i % 251`) in a store held in memory.
    pub(crate) fn object(n: usize) -> (RemoteObject, Vec<u8>) {
        let bytes: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let location = ObjectPath::from("t/x.bin");
        block_on(store.put(&location, Bytes::from(bytes.clone()).into())).unwrap();
        let obj = RemoteObject {
            url: "memory:///t/x.bin".into(),
            store,
            location,
            size: n as u64,
            version: String::new(),
        };
        (obj, bytes)
    }

    #[test]
    fn ranges_larger_than_a_piece_come_back_whole_and_in_order() {
        let n = (2 * PIECE + 12_345) as usize;
        let (obj, bytes) = object(n);
        let ranges = [0..n as u64, 7..PIECE + 9, (n - 3) as u64..n as u64, 5..5];
        let got = obj.fetch(&ranges).unwrap();
        for (r, g) in ranges.iter().zip(&got) {
            assert_eq!(&g[..], &bytes[r.start as usize..r.end as usize], "{r:?}");
        }
    }

    #[test]
    fn a_missing_object_is_an_error_naming_it() {
        let (mut obj, _) = object(10);
        obj.location = ObjectPath::from("t/none");
        let e = obj.fetch_one(0..4).unwrap_err().to_string();
        assert!(
            e.starts_with(FETCH_FAILED) && e.contains("no such object"),
            "{e}"
        );
    }
}
