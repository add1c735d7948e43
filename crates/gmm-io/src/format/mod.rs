//! The three input formats, one module each with its schema, its reader and
//! the diagnosis of its errors: [`csv`], [`ipc`] (Arrow IPC / Feather v2)
//! and [`parquet`]. What they share lives here: the format of a path, one
//! file of a table, and decoder panics turned into errors.

pub(crate) mod compressed;
pub(crate) mod csv;
pub(crate) mod ipc;
pub(crate) mod parquet;
mod parquet_file;

use std::path::{Path, PathBuf};

use ::parquet::arrow::arrow_reader::ArrowReaderMetadata;
use arrow::array::RecordBatch;

use crate::error::{IoError, Result};

/// File formats, chosen by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    Parquet,
    ArrowIpc,
    Csv,
}

impl InputFormat {
    /// The format of a path by its extension (`.parquet`/`.pq`, `.arrow`/
    /// `.feather`/`.ipc`/`.arrows`, `.csv`/`.tsv`, and CSV compressed with
    /// gzip or zstd: `.csv.gz`, `.tsv.zst`, ...).
    pub fn from_path(path: &Path) -> Result<Self> {
        let ext = lower_extension(path);
        let unsupported = |extension: String| IoError::UnsupportedFormat {
            path: path.to_path_buf(),
            extension,
            choices: ".parquet, .arrow, .feather, .ipc, .csv or .tsv (CSV may be compressed: .csv.gz, .csv.zst)",
        };
        if compressed::Compression::of_extension(&ext).is_some() {
            // Only CSV is read compressed: the binary formats compress
            // inside the file.
            let inner = lower_extension(Path::new(path.file_stem().unwrap_or_default()));
            return match inner.as_str() {
                "csv" | "tsv" => Ok(InputFormat::Csv),
                _ => Err(unsupported(format!("{inner}.{ext}"))),
            };
        }
        match ext.as_str() {
            "parquet" | "pq" => Ok(InputFormat::Parquet),
            "arrow" | "feather" | "ipc" | "arrows" => Ok(InputFormat::ArrowIpc),
            "csv" | "tsv" => Ok(InputFormat::Csv),
            _ => Err(unsupported(ext)),
        }
    }
}

/// The last extension of `path`, lower-cased (empty when none).
pub(crate) fn lower_extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// One file of a table with what is known of it before reading.
#[derive(Debug, Clone)]
pub(crate) struct SourceFile {
    /// The file's path, or an object's URL: what messages name.
    pub path: PathBuf,
    /// Parquet footer metadata, read once.
    pub parquet: Option<ArrowReaderMetadata>,
    /// An Arrow IPC stream rather than an IPC file.
    pub ipc_stream: bool,
    /// An object in object storage, read in ranges (Parquet).
    #[cfg(feature = "cloud")]
    pub remote: Option<std::sync::Arc<crate::storage::RemoteObject>>,
    /// The local copy of an object (CSV, Arrow IPC), read in its place.
    #[cfg(feature = "cloud")]
    pub staged: Option<std::sync::Arc<crate::storage::Staged>>,
}

impl SourceFile {
    /// A local file.
    pub fn local(path: PathBuf) -> Self {
        SourceFile {
            path,
            parquet: None,
            ipc_stream: false,
            #[cfg(feature = "cloud")]
            remote: None,
            #[cfg(feature = "cloud")]
            staged: None,
        }
    }

    /// Where the file's bytes are read: the path, or an object's local
    /// copy.
    pub fn local_path(&self) -> &Path {
        #[cfg(feature = "cloud")]
        if let Some(s) = &self.staged {
            return s.path();
        }
        &self.path
    }

    /// Whether the file is an object in object storage.
    pub fn is_remote(&self) -> bool {
        #[cfg(feature = "cloud")]
        return self.remote.is_some();
        #[cfg(not(feature = "cloud"))]
        false
    }

    /// The file's size and what changes when it is rewritten, for the
    /// out-of-core cache's check that its input is the same.
    pub fn stamp(&self) -> std::io::Result<(u64, String)> {
        #[cfg(feature = "cloud")]
        if let Some(r) = &self.remote {
            return Ok((r.size, r.version.clone()));
        }
        let meta = std::fs::metadata(self.local_path())?;
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        Ok((meta.len(), modified.to_string()))
    }
}

/// Decoded Arrow batches with the index of the file each came from.
pub(crate) type RawBatches<'a> = Box<dyn Iterator<Item = Result<(usize, RecordBatch)>> + Send + 'a>;

/// Runs a decoder step, turning a panic into an error naming the file:
/// the Arrow IPC reader, for one, panics on some corrupt buffer offsets
/// instead of returning an error.
pub(crate) fn no_panic<T>(path: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    CATCHING.with(|c| c.set(c.get() + 1));
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    CATCHING.with(|c| c.set(c.get() - 1));
    caught.unwrap_or_else(|payload| {
        let why = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "the decoder failed".into());
        Err(IoError::read(
            path,
            format!("cannot decode the file ({why}); it is corrupt or truncated"),
        ))
    })
}

thread_local! {
    /// How many `no_panic` calls this thread is inside.
    static CATCHING: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Whether this thread is running a file decoder whose panics gmm-io
/// turns into errors (a damaged file): a panic hook should stay quiet, as
/// the panic is not a bug of the program and the error follows.
pub fn catching_decoder_panics() -> bool {
    CATCHING.with(|c| c.get() > 0)
}

/// Batches of one file with decoder panics turned into errors; ends at the
/// first error.
pub(crate) fn guarded<'a>(
    path: PathBuf,
    mut inner: impl Iterator<Item = Result<(usize, RecordBatch)>> + Send + 'a,
) -> RawBatches<'a> {
    let mut done = false;
    Box::new(std::iter::from_fn(move || {
        if done {
            return None;
        }
        let next = no_panic(&path, || Ok(inner.next())).unwrap_or_else(|e| Some(Err(e)));
        if !matches!(next, Some(Ok(_))) {
            done = true;
        }
        next
    }))
}
