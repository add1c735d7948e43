//! The out-of-core cache: a job's selected columns converted once into a
//! row-major `f64` (or, for jobs of `f32` precision, `f32`) file that later
//! fits memory-map, so that a table larger
//! than memory streams from disk (through the page cache) every iteration
//! while the engine reads exactly the values an in-memory load gives.
//!
//! A cache file holds the rows of one or more tables stacked in order (the
//! input, then a labeled table), their weights, label codes and initial
//! noise flags when the job has them, and a JSON description:
//!
//! ```text
//! offset 0    header, 128 bytes: magic "GMMCACHE", format version (u32),
//!             byte-order check (u32), n_rows, n_features, flags (bit 0:
//!             weights, bit 1: labels, bit 2: f32 values, bit 3: initial
//!             noise flags), then the offsets of the values, weights,
//!             labels and description, the description's length, the
//!             file's length, the checksum and the offset of the initial
//!             noise flags (u64 each, native byte order)
//! 128         values: n_rows x n_features f64 (f32 under bit 2), row-major
//! (8-aligned) weights: n_rows f64, when flagged
//! (8-aligned) labels: n_rows u32 class codes (u32::MAX = unlabeled), when flagged
//! (8-aligned) initial noise flags: n_rows bytes (1: in the set), when flagged
//! (8-aligned) description: JSON ([`CacheMeta`]): the fingerprint, columns,
//!             column types, rows and labeled rows of each table, classes
//! ```
//!
//! A cache is found by a name made from what the job reads (the input files'
//! paths, the columns and their order, the label, weight and initial
//! noise columns (the last only when the job has one), the
//! delimiter, and the precision when it is `f32`, so that the two
//! precisions' caches live side by side and `f64` caches keep the names
//! they had before `f32` existed) and is reused only when its fingerprint, which adds every
//! file's size and modification time and the format version, matches; else
//! it is rebuilt in place. It is written under a temporary name and renamed
//! when complete, so a killed build never leaves a file that looks valid.
//!
//! Building decodes the tables batch by batch with the reader of
//! [`TableSource::batches`] (same values, same errors naming file, column
//! and row) and appends each batch to the file: memory stays at about one
//! batch whatever the table's size, and no row count is needed up front
//! (weights and labels go to side files first and are appended at the end).

mod header;
mod region;
mod write;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use gmm_core::{Dataset, Precision, SharedSlice, Values};
use memmap2::Mmap;
use serde::{Deserialize, Serialize};

use crate::error::{IoError, Result};
use crate::format::InputFormat;
use crate::projection::Projection;
use crate::source::TableSource;
use header::{FLAG_F32, FLAG_LABELS, FLAG_NOISE_INIT, FLAG_WEIGHTS, HEADER_LEN, Header, checksum};
use region::Region;
use write::TempFiles;

/// Version of the cache file layout; a cache of another version is rebuilt.
pub const CACHE_FORMAT_VERSION: u32 = 2;

/// Extension of cache files.
pub const CACHE_EXTENSION: &str = "gmmcache";

/// One table of a cached job and the columns read from it. Tables are
/// stacked in the order given.
#[derive(Debug, Clone, Copy)]
pub struct CachePart<'a> {
    pub source: &'a TableSource,
    pub projection: &'a Projection,
}

/// What a cache holds besides its arrays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheMeta {
    /// What the cache was built from (see [`CachePlan::fingerprint`]).
    pub fingerprint: String,
    pub columns: Vec<String>,
    /// Arrow type of each feature column in the first table.
    pub column_types: Vec<String>,
    /// Rows of each table, in order.
    pub part_rows: Vec<usize>,
    /// Rows with a label, of each table.
    pub part_labeled: Vec<usize>,
    /// Class names in code order, when the job has labels.
    pub classes: Option<Vec<String>>,
    /// When the cache was built (UTC, RFC 3339).
    pub created: String,
    /// Rows left out for a missing feature value (weight -0.0), of every
    /// table.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dropped_rows: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}
/// An open, validated cache file, memory-mapped.
pub struct DataCache {
    path: PathBuf,
    map: Arc<Mmap>,
    header: Header,
    meta: CacheMeta,
    reused: bool,
}

impl std::fmt::Debug for DataCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataCache")
            .field("path", &self.path)
            .field("header", &self.header)
            .field("reused", &self.reused)
            .finish()
    }
}

impl DataCache {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether an existing cache was reused rather than built by this run.
    pub fn reused(&self) -> bool {
        self.reused
    }

    pub fn meta(&self) -> &CacheMeta {
        &self.meta
    }

    pub fn n_rows(&self) -> usize {
        self.header.n_rows as usize
    }

    pub fn n_features(&self) -> usize {
        self.header.n_features as usize
    }

    /// Size of the cache file in bytes.
    pub fn file_bytes(&self) -> u64 {
        self.header.file_len
    }

    /// The type the values are held in.
    pub fn precision(&self) -> Precision {
        if self.header.flags & FLAG_F32 != 0 {
            Precision::F32
        } else {
            Precision::F64
        }
    }

    /// Every value, row-major, straight from the mapping.
    pub fn values(&self) -> Values<'_> {
        let len = (self.header.n_rows * self.header.n_features) as usize;
        let start = self.header.x_offset as usize;
        match self.precision() {
            Precision::F64 => Values::F64(region::typed(&self.map, start, len)),
            Precision::F32 => Values::F32(region::typed(&self.map, start, len)),
        }
    }

    /// The values of `rows` (of all the cache's rows), as the engine's
    /// dataset: nothing is copied.
    pub fn dataset(&self, rows: std::ops::Range<usize>) -> gmm_core::Result<Dataset> {
        assert!(rows.start <= rows.end && rows.end <= self.n_rows());
        let d = self.header.n_features;
        let offset = self.header.x_offset + rows.start as u64 * d * self.header.value_bytes();
        let len = (rows.end - rows.start) as u64 * d;
        match self.precision() {
            Precision::F64 => Dataset::from_shared(
                Arc::new(Region::<f64>::new(&self.map, offset, len)),
                d as usize,
            ),
            Precision::F32 => Dataset::from_shared_f32(
                Arc::new(Region::<f32>::new(&self.map, offset, len)),
                d as usize,
            ),
        }
    }

    pub fn weights(&self) -> Option<SharedSlice<f64>> {
        (self.header.flags & FLAG_WEIGHTS != 0).then(|| {
            Arc::new(Region::<f64>::new(
                &self.map,
                self.header.weights_offset,
                self.header.n_rows,
            )) as SharedSlice<f64>
        })
    }

    /// Class codes of every row ([`UNLABELED`] for none), when the job has labels.
    pub fn labels(&self) -> Option<SharedSlice<u32>> {
        (self.header.flags & FLAG_LABELS != 0).then(|| {
            Arc::new(Region::<u32>::new(
                &self.map,
                self.header.labels_offset,
                self.header.n_rows,
            )) as SharedSlice<u32>
        })
    }

    /// Initial noise flags of every row (1: in the set), when the job has
    /// an initial noise column.
    pub fn initial_noise(&self) -> Option<SharedSlice<u8>> {
        (self.header.flags & FLAG_NOISE_INIT != 0).then(|| {
            Arc::new(Region::<u8>::new(
                &self.map,
                self.header.noise_init_offset,
                self.header.n_rows,
            )) as SharedSlice<u8>
        })
    }
}

/// A hash of samples of a file's bytes: its first and last 64 KiB (a
/// Parquet file's footer, with its statistics) and 32 blocks of 4 KiB
/// spread between, so that other data of the same size and modification
/// time (`cp -p`, `rsync -a`) does not pass for the data a cache was built
/// from.
fn content_sample(path: &Path, len: u64) -> std::io::Result<String> {
    use std::io::{Read, Seek, SeekFrom};
    const END: u64 = 64 << 10;
    const BLOCK: u64 = 4 << 10;
    const BLOCKS: u64 = 32;
    let mut file = File::open(path)?;
    let mut h = gmm_core::hash::Fingerprint::new();
    let mut read_at = |start: u64, n: u64, h: &mut gmm_core::hash::Fingerprint| {
        let n = n.min(len.saturating_sub(start));
        let mut buf = vec![0u8; n as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut buf)?;
        h.write_bytes(&buf);
        std::io::Result::Ok(())
    };
    read_at(0, END, &mut h)?;
    for i in 1..=BLOCKS {
        read_at(len / (BLOCKS + 1) * i, BLOCK, &mut h)?;
    }
    read_at(len.saturating_sub(END), END, &mut h)?;
    Ok(format!("{:016x}", h.finish()))
}

/// Where a job's cache lives and what it must have been built from.
#[derive(Debug, Clone)]
pub struct CachePlan<'a> {
    parts: Vec<CachePart<'a>>,
    path: PathBuf,
    fingerprint: String,
}

fn format_name(f: InputFormat) -> &'static str {
    match f {
        InputFormat::Parquet => "parquet",
        InputFormat::ArrowIpc => "arrow",
        InputFormat::Csv => "csv",
    }
}

impl<'a> CachePlan<'a> {
    /// The cache of `parts` (the input table first) in `dir`.
    pub fn new(dir: &Path, parts: Vec<CachePart<'a>>) -> Result<Self> {
        assert!(!parts.is_empty(), "a cache of at least one table");
        // What the job reads names the cache; sizes and times say whether
        // the files are still those it was built from.
        let mut identity = Vec::new();
        let mut state = Vec::new();
        for p in &parts {
            let src = p.source;
            let name = |i: usize| src.schema.field(i).name().clone();
            let mut files = Vec::new();
            let mut stamps = Vec::new();
            for f in &src.files {
                let (bytes, version) = f.stamp().map_err(|e| IoError::read(&f.path, e))?;
                let path = match f.is_remote() {
                    true => f.path.clone(),
                    false => std::fs::canonicalize(&f.path).unwrap_or_else(|_| f.path.clone()),
                };
                files.push(path.to_string_lossy().into_owned());
                if f.is_remote() {
                    // An object's ETag and time say whether it changed.
                    stamps.push(serde_json::json!({ "bytes": bytes, "version": version }));
                    continue;
                }
                stamps.push(serde_json::json!({
                    "bytes": bytes,
                    "modified_ns": version,
                    "content": content_sample(f.local_path(), bytes)
                        .map_err(|e| IoError::read(&f.path, e))?,
                }));
            }
            let mut table = serde_json::json!({
                "files": files,
                "format": format_name(src.format),
                "delimiter": (src.format == InputFormat::Csv).then(|| (src.delimiter as char).to_string()),
                "features": p.projection.feature_names,
                "label": p.projection.label.map(name),
                "weight": p.projection.weight.map(name),
            });
            // Only jobs with an initial noise set name its column: other
            // caches keep the names they had.
            if let Some(c) = p.projection.noise_init {
                table["noise_init"] = name(c).into();
            }
            // Only f32 caches say so: f64 caches keep the names they had.
            if p.projection.precision != Precision::F64 {
                table["precision"] = p.projection.precision.name().into();
            }
            // A filter of rows (files left out by theirs show in `files`).
            if let Some(f) = &src.row_filter {
                table["filter"] = f.text().into();
            }
            // Likewise only caches whose rows left out some are marked.
            if p.projection.missing != crate::Missing::Error {
                table["missing"] = p.projection.missing.name().into();
            }
            identity.push(table);
            state.push(stamps);
        }
        let identity = serde_json::to_string(&identity).expect("JSON");
        let fingerprint = serde_json::to_string(&serde_json::json!({
            "format": "gmm-cache",
            "version": CACHE_FORMAT_VERSION,
            "tables": serde_json::from_str::<serde_json::Value>(&identity).expect("JSON"),
            "files": state,
        }))
        .expect("JSON");
        let stem: String = parts[0].source.files[0]
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .take(40)
            .collect();
        let path = dir.join(format!(
            "{stem}-{:016x}.{CACHE_EXTENSION}",
            gmm_core::hash::hash_bytes(identity.as_bytes())
        ));
        Ok(CachePlan {
            parts,
            path,
            fingerprint,
        })
    }

    /// The cache file's path (it may not exist yet).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the cache must have been built from: the tables' files (paths,
    /// sizes, modification times), formats, delimiter, columns and their
    /// order, label and weight columns, and the format version.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The existing cache if it is complete and built from these files as
    /// they are now; `Err` says why it cannot be used (and it should be
    /// rebuilt).
    pub fn open(&self) -> std::result::Result<DataCache, String> {
        let file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err("no cache yet".into());
            }
            Err(e) => return Err(format!("cannot open it ({e})")),
        };
        let len = file
            .metadata()
            .map_err(|e| format!("cannot read it ({e})"))?
            .len();
        if len < HEADER_LEN as u64 {
            return Err(format!(
                "the file holds {len} bytes, less than a header; it is truncated or damaged"
            ));
        }
        // SAFETY: the file is mapped read-only. gmm replaces cache files by
        // renaming, never by writing into them, so a mapped file does not
        // change; a file changed by another program while mapped is
        // documented as unsupported.
        let map = unsafe { Mmap::map(&file) }.map_err(|e| format!("cannot map it ({e})"))?;
        let header = Header::parse(&map[..HEADER_LEN], len)?;
        // Bytes changed in place (a damaged disk, another program) would
        // give a wrong fit: the contents must be those written.
        if checksum(&map[HEADER_LEN..]) != header.checksum {
            return Err("its contents do not match their checksum; the file is damaged".into());
        }
        let meta_bytes =
            &map[header.meta_offset as usize..(header.meta_offset + header.meta_len) as usize];
        let meta: CacheMeta = serde_json::from_slice(meta_bytes)
            .map_err(|e| format!("its description is unreadable ({e}); the file is damaged"))?;
        if meta.fingerprint != self.fingerprint {
            return Err(
                "the input changed since it was built (files, sizes, times or columns differ)"
                    .into(),
            );
        }
        let rows: usize = meta.part_rows.iter().sum();
        if rows as u64 != header.n_rows
            || meta.columns.len() as u64 != header.n_features
            || meta.part_rows.len() != self.parts.len()
        {
            return Err("its description does not match its header; the file is damaged".into());
        }
        Ok(DataCache {
            path: self.path.clone(),
            map: Arc::new(map),
            header,
            meta,
            reused: true,
        })
    }

    /// The existing cache if usable, else a new one; `on_rows` sees the rows
    /// converted so far while building, and stops the build by returning
    /// `false`.
    pub fn open_or_build(&self, on_rows: &mut dyn FnMut(usize) -> bool) -> Result<DataCache> {
        match self.open() {
            Ok(c) => Ok(c),
            Err(_) => self.build(on_rows),
        }
    }

    /// Converts the tables into a new cache file (replacing any old one
    /// when complete) and opens it.
    pub fn build(&self, on_rows: &mut dyn FnMut(usize) -> bool) -> Result<DataCache> {
        let dir = self
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| IoError::write(dir, e))?;
        let tmp = TempFiles::new(&self.path);
        let meta = self.write_file(&tmp, on_rows)?;
        std::fs::rename(&tmp.main, &self.path).map_err(|e| IoError::write(&self.path, e))?;
        drop(tmp);
        let mut cache = self
            .open()
            .map_err(|why| IoError::read(&self.path, format!("the cache just built {why}")))?;
        debug_assert_eq!(cache.meta, meta);
        cache.reused = false;
        Ok(cache)
    }
}
