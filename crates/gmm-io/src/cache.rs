//! The out-of-core cache: a job's selected columns converted once into a
//! row-major `f64` file that later fits memory-map, so that a table larger
//! than memory streams from disk (through the page cache) every iteration
//! while the engine reads exactly the values an in-memory load gives.
//!
//! A cache file holds the rows of one or more tables stacked in order (the
//! input, then a labeled table), their weights and label codes when the job
//! has them, and a JSON description:
//!
//! ```text
//! offset 0    header, 128 bytes: magic "GMMCACHE", format version (u32),
//!             byte-order check (u32), n_rows, n_features, flags (bit 0:
//!             weights, bit 1: labels), then the offsets of the values,
//!             weights, labels and description, the description's length
//!             and the file's length (u64 each, native byte order)
//! 128         values: n_rows x n_features f64, row-major
//! (8-aligned) weights: n_rows f64, when flagged
//! (8-aligned) labels: n_rows u32 class codes (u32::MAX = unlabeled), when flagged
//! (8-aligned) description: JSON ([`CacheMeta`]): the fingerprint, columns,
//!             column types, rows and labeled rows of each table, classes
//! ```
//!
//! A cache is found by a name made from what the job reads (the input files'
//! paths, the columns and their order, the label and weight columns, the
//! delimiter) and is reused only when its fingerprint, which adds every
//! file's size and modification time and the format version, matches; else
//! it is rebuilt in place. It is written under a temporary name and renamed
//! when complete, so a killed build never leaves a file that looks valid.
//!
//! Building decodes the tables batch by batch with the reader of
//! [`TableSource::batches`] (same values, same errors naming file, column
//! and row) and appends each batch to the file: memory stays at about one
//! batch whatever the table's size, and no row count is needed up front
//! (weights and labels go to side files first and are appended at the end).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use gmm_core::{SharedSlice, UNLABELED};
use memmap2::Mmap;
use serde::{Deserialize, Serialize};

use crate::column_types::type_name;
use crate::error::{IoError, Result};
use crate::format::InputFormat;
use crate::labels::{Classes, label_values_at};
use crate::projection::Projection;
use crate::source::TableSource;
use crate::table::DEFAULT_BATCH_ROWS;

/// Version of the cache file layout; a cache of another version is rebuilt.
pub const CACHE_FORMAT_VERSION: u32 = 1;

/// Extension of cache files.
pub const CACHE_EXTENSION: &str = "gmmcache";

const MAGIC: &[u8; 8] = b"GMMCACHE";
const HEADER_LEN: usize = 128;
/// Read back in another byte order, this reads differently.
const BYTE_ORDER_CHECK: u32 = 0x0102_0304;
const FLAG_WEIGHTS: u64 = 1;
const FLAG_LABELS: u64 = 2;

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
}

/// The fixed-size start of a cache file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Header {
    n_rows: u64,
    n_features: u64,
    flags: u64,
    x_offset: u64,
    weights_offset: u64,
    labels_offset: u64,
    meta_offset: u64,
    meta_len: u64,
    file_len: u64,
}

impl Header {
    fn to_bytes(self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[..8].copy_from_slice(MAGIC);
        b[8..12].copy_from_slice(&CACHE_FORMAT_VERSION.to_ne_bytes());
        b[12..16].copy_from_slice(&BYTE_ORDER_CHECK.to_ne_bytes());
        let fields = [
            self.n_rows,
            self.n_features,
            self.flags,
            self.x_offset,
            self.weights_offset,
            self.labels_offset,
            self.meta_offset,
            self.meta_len,
            self.file_len,
        ];
        for (i, v) in fields.iter().enumerate() {
            b[16 + 8 * i..24 + 8 * i].copy_from_slice(&v.to_ne_bytes());
        }
        b
    }

    /// Parses and checks a header against the length of its file; `Err`
    /// says what is wrong.
    fn parse(b: &[u8], file_len: u64) -> std::result::Result<Header, String> {
        if b.len() < HEADER_LEN || &b[..8] != MAGIC {
            return Err("not a gmm cache file".into());
        }
        let u32_at = |i: usize| u32::from_ne_bytes(b[i..i + 4].try_into().expect("4 bytes"));
        let u64_at = |i: usize| u64::from_ne_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        let version = u32_at(8);
        if version != CACHE_FORMAT_VERSION {
            return Err(format!(
                "cache format version {version}, this gmm writes version {CACHE_FORMAT_VERSION}"
            ));
        }
        if u32_at(12) != BYTE_ORDER_CHECK {
            return Err("written on a machine of another byte order".into());
        }
        let h = Header {
            n_rows: u64_at(16),
            n_features: u64_at(24),
            flags: u64_at(32),
            x_offset: u64_at(40),
            weights_offset: u64_at(48),
            labels_offset: u64_at(56),
            meta_offset: u64_at(64),
            meta_len: u64_at(72),
            file_len: u64_at(80),
        };
        if h.file_len != file_len {
            return Err(format!(
                "the file holds {file_len} bytes but its header says {}; it is truncated or damaged",
                h.file_len
            ));
        }
        // Every region 8-aligned and inside the file.
        let inside = |offset: u64, len: Option<u64>| {
            offset.is_multiple_of(8)
                && len
                    .and_then(|l| offset.checked_add(l))
                    .is_some_and(|end| end <= file_len)
        };
        let x_len = h
            .n_rows
            .checked_mul(h.n_features)
            .and_then(|v| v.checked_mul(8));
        let ok = h.n_features > 0
            && h.x_offset >= HEADER_LEN as u64
            && inside(h.x_offset, x_len)
            && (h.flags & FLAG_WEIGHTS == 0 || inside(h.weights_offset, h.n_rows.checked_mul(8)))
            && (h.flags & FLAG_LABELS == 0 || inside(h.labels_offset, h.n_rows.checked_mul(4)))
            && inside(h.meta_offset, Some(h.meta_len));
        if !ok {
            return Err("its header is inconsistent; the file is damaged".into());
        }
        Ok(h)
    }
}

/// A region of a mapped cache file seen as a slice of `T`; it keeps the
/// mapping alive.
struct Region<T> {
    map: Arc<Mmap>,
    offset: usize,
    len: usize,
    _type: PhantomData<fn() -> T>,
}

/// Plain numbers that any bit pattern of their size is a valid value of.
trait Plain: Copy + 'static {}
impl Plain for f64 {}
impl Plain for u32 {}

impl<T: Plain> Region<T> {
    fn new(map: &Arc<Mmap>, offset: u64, len: u64) -> Self {
        let (offset, len) = (offset as usize, len as usize);
        let bytes = len * std::mem::size_of::<T>();
        assert!(offset + bytes <= map.len(), "region inside the file");
        assert!(
            (map.as_ptr() as usize + offset).is_multiple_of(std::mem::align_of::<T>()),
            "region aligned"
        );
        Region {
            map: map.clone(),
            offset,
            len,
            _type: PhantomData,
        }
    }
}

impl<T: Plain> AsRef<[T]> for Region<T> {
    fn as_ref(&self) -> &[T] {
        // SAFETY: `new` checked that the region lies inside the mapping and
        // is aligned for `T`; every bit pattern is a valid `T` (`Plain`);
        // the mapping lives as long as `self`, and is read-only.
        unsafe {
            std::slice::from_raw_parts(self.map.as_ptr().add(self.offset).cast::<T>(), self.len)
        }
    }
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

    /// The values, row-major, straight from the mapping.
    pub fn values(&self) -> SharedSlice<f64> {
        Arc::new(Region::<f64>::new(
            &self.map,
            self.header.x_offset,
            self.header.n_rows * self.header.n_features,
        ))
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
                let path = std::fs::canonicalize(&f.path).unwrap_or_else(|_| f.path.clone());
                let meta = std::fs::metadata(&f.path).map_err(|e| IoError::read(&f.path, e))?;
                let modified = meta
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos());
                files.push(path.to_string_lossy().into_owned());
                stamps.push(
                    serde_json::json!({ "bytes": meta.len(), "modified_ns": modified.to_string() }),
                );
            }
            identity.push(serde_json::json!({
                "files": files,
                "format": format_name(src.format),
                "delimiter": (src.format == InputFormat::Csv).then(|| (src.delimiter as char).to_string()),
                "features": p.projection.feature_names,
                "label": p.projection.label.map(name),
                "weight": p.projection.weight.map(name),
            }));
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

    fn write_file(
        &self,
        tmp: &TempFiles,
        on_rows: &mut dyn FnMut(usize) -> bool,
    ) -> Result<CacheMeta> {
        let main_path = &tmp.main;
        let werr = |e: std::io::Error| IoError::write(&self.path, e);
        let has_weights = self.parts.iter().any(|p| p.projection.weight.is_some());
        let has_labels = self.parts.iter().any(|p| p.projection.label.is_some());
        let first = self.parts[0];
        let d = first.projection.n_features();
        for p in &self.parts[1..] {
            if p.projection.feature_names != first.projection.feature_names {
                return Err(IoError::read(
                    p.source.path(),
                    "the table's feature columns differ from the input's",
                ));
            }
        }

        let mut main = File::create(main_path).map_err(werr)?;
        main.write_all(&[0u8; HEADER_LEN]).map_err(werr)?;
        let mut weights = has_weights
            .then(|| File::create(&tmp.weights).map(|f| BufWriter::with_capacity(1 << 20, f)))
            .transpose()
            .map_err(werr)?;
        let mut labels = has_labels
            .then(|| File::create(&tmp.labels).map(|f| BufWriter::with_capacity(1 << 20, f)))
            .transpose()
            .map_err(werr)?;
        // Labels get provisional codes in order of first sight; they are
        // renumbered in class order when appended.
        let mut codes: HashMap<String, u32> = HashMap::new();
        let mut part_rows = Vec::new();
        let mut part_labeled = Vec::new();
        let mut total = 0usize;
        let mut label_buf: Vec<u32> = Vec::new();

        for p in &self.parts {
            let src = p.source;
            let label_name = p
                .projection
                .label
                .map(|i| src.schema.field(i).name().clone());
            let mut rows = 0usize;
            let mut labeled = 0usize;
            for batch in src.batches(p.projection, DEFAULT_BATCH_ROWS)? {
                let b = batch?;
                main.write_all(f64_bytes(&b.x)).map_err(werr)?;
                if let Some(w) = weights.as_mut() {
                    match &b.weights {
                        Some(bw) => w.write_all(f64_bytes(bw)).map_err(werr)?,
                        None => {
                            for _ in 0..b.n_rows {
                                w.write_all(&1.0f64.to_ne_bytes()).map_err(werr)?;
                            }
                        }
                    }
                }
                if let Some(l) = labels.as_mut() {
                    label_buf.clear();
                    match (&b.labels, &label_name) {
                        (Some(a), Some(column)) => {
                            let values =
                                label_values_at(column, a, b.first_row).map_err(|detail| {
                                    IoError::BadLabel {
                                        path: src.path().to_path_buf(),
                                        column: column.clone(),
                                        detail,
                                    }
                                })?;
                            for v in values {
                                label_buf.push(match v {
                                    None => UNLABELED,
                                    Some(s) => {
                                        labeled += 1;
                                        let next = codes.len() as u32;
                                        *codes.entry(s).or_insert(next)
                                    }
                                });
                            }
                        }
                        _ => label_buf.resize(b.n_rows, UNLABELED),
                    }
                    l.write_all(u32_bytes(&label_buf)).map_err(werr)?;
                }
                rows += b.n_rows;
                total += b.n_rows;
                if !on_rows(total) {
                    return Err(IoError::write(
                        &self.path,
                        "stopped before the cache was complete",
                    ));
                }
            }
            if rows == 0 {
                return Err(IoError::EmptyTable {
                    path: src.path().to_path_buf(),
                });
            }
            part_rows.push(rows);
            part_labeled.push(labeled);
        }

        // Weights and labels after the values, each 8-aligned.
        let x_end = (HEADER_LEN as u64) + (total as u64) * (d as u64) * 8;
        let mut end = x_end;
        let pad_to_8 = |main: &mut File, end: &mut u64| -> Result<u64> {
            let pad = (8 - *end % 8) % 8;
            main.write_all(&[0u8; 8][..pad as usize]).map_err(werr)?;
            *end += pad;
            Ok(*end)
        };
        let mut weights_offset = 0;
        if let Some(w) = weights.take() {
            drop(w.into_inner().map_err(|e| werr(e.into_error()))?);
            weights_offset = pad_to_8(&mut main, &mut end)?;
            let mut f = File::open(&tmp.weights).map_err(werr)?;
            end += std::io::copy(&mut f, &mut main).map_err(werr)?;
        }
        let classes = has_labels.then(|| {
            let names: Vec<String> = codes.keys().cloned().collect();
            Classes::from_names(names)
        });
        let mut labels_offset = 0;
        if let (Some(l), Some(classes)) = (labels.take(), &classes) {
            drop(l.into_inner().map_err(|e| werr(e.into_error()))?);
            labels_offset = pad_to_8(&mut main, &mut end)?;
            // Provisional code -> position of its class in sorted order.
            let mut renumber = vec![0u32; codes.len()];
            for (name, &code) in &codes {
                renumber[code as usize] = classes
                    .names()
                    .iter()
                    .position(|n| n == name)
                    .expect("a class of its own") as u32;
            }
            let mut f = BufReader::with_capacity(1 << 20, File::open(&tmp.labels).map_err(werr)?);
            let mut out = BufWriter::with_capacity(1 << 20, &mut main);
            let mut buf = [0u8; 4];
            for _ in 0..total {
                f.read_exact(&mut buf).map_err(werr)?;
                let code = u32::from_ne_bytes(buf);
                let code = if code == UNLABELED {
                    code
                } else {
                    renumber[code as usize]
                };
                out.write_all(&code.to_ne_bytes()).map_err(werr)?;
            }
            out.flush().map_err(werr)?;
            end += 4 * total as u64;
        }
        let meta = CacheMeta {
            fingerprint: self.fingerprint.clone(),
            columns: first.projection.feature_names.clone(),
            column_types: first
                .projection
                .features
                .iter()
                .map(|&i| type_name(first.source.schema.field(i).data_type()))
                .collect(),
            part_rows,
            part_labeled,
            classes: classes.map(|c| c.names().to_vec()),
            created: crate::utc_now_rfc3339(),
        };
        let meta_text = serde_json::to_vec(&meta).expect("JSON");
        let meta_offset = pad_to_8(&mut main, &mut end)?;
        main.write_all(&meta_text).map_err(werr)?;
        end += meta_text.len() as u64;
        let header = Header {
            n_rows: total as u64,
            n_features: d as u64,
            flags: if has_weights { FLAG_WEIGHTS } else { 0 }
                | if has_labels { FLAG_LABELS } else { 0 },
            x_offset: HEADER_LEN as u64,
            weights_offset,
            labels_offset,
            meta_offset,
            meta_len: meta_text.len() as u64,
            file_len: end,
        };
        main.seek(SeekFrom::Start(0)).map_err(werr)?;
        main.write_all(&header.to_bytes()).map_err(werr)?;
        // On disk before it gets its name: a crash never leaves a named
        // cache whose data did not reach the disk.
        main.sync_all().map_err(werr)?;
        Ok(meta)
    }
}

/// The temporary files of a build, removed when dropped (after the main
/// one has been renamed into place, or after a failure).
struct TempFiles {
    main: PathBuf,
    weights: PathBuf,
    labels: PathBuf,
}

impl TempFiles {
    fn new(dest: &Path) -> Self {
        let dir = dest.parent().unwrap_or(Path::new("."));
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let nanos = std::time::SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let base = format!(".{name}.tmp-{}-{nanos}", std::process::id());
        TempFiles {
            main: dir.join(&base),
            weights: dir.join(format!("{base}.weights")),
            labels: dir.join(format!("{base}.labels")),
        }
    }
}

impl Drop for TempFiles {
    fn drop(&mut self) {
        for p in [&self.main, &self.weights, &self.labels] {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn f64_bytes(v: &[f64]) -> &[u8] {
    // SAFETY: any initialized f64 is 8 initialized bytes; u8 needs no alignment.
    unsafe { std::slice::from_raw_parts(v.as_ptr().cast::<u8>(), std::mem::size_of_val(v)) }
}

fn u32_bytes(v: &[u32]) -> &[u8] {
    // SAFETY: as for `f64_bytes`.
    unsafe { std::slice::from_raw_parts(v.as_ptr().cast::<u8>(), std::mem::size_of_val(v)) }
}

impl TableSource {
    /// A cheap estimate of the table's rows, for deciding between memory
    /// and the cache without reading the data: exact for Parquet (its
    /// metadata), extrapolated from the first MiB for CSV, from the column
    /// widths for Arrow IPC. `None` when it cannot be told.
    pub fn estimated_rows(&self) -> Option<usize> {
        if let Some(n) = self.known_rows() {
            return Some(n);
        }
        let path = &self.files[0].path;
        let size = std::fs::metadata(path).ok()?.len() as f64;
        match self.format {
            InputFormat::Parquet => None,
            InputFormat::Csv => {
                let mut f = File::open(path).ok()?;
                let mut buf = vec![0u8; 1 << 20];
                let mut filled = 0;
                while filled < buf.len() {
                    let n = f.read(&mut buf[filled..]).ok()?;
                    if n == 0 {
                        break;
                    }
                    filled += n;
                }
                let sample = &buf[..filled];
                let header_end = sample.iter().position(|&b| b == b'\n')? + 1;
                let body = &sample[header_end..];
                let lines = body.iter().filter(|&&b| b == b'\n').count();
                if filled as f64 >= size {
                    // The whole file was read: count a last line without a newline.
                    let last = usize::from(body.last().is_some_and(|&b| b != b'\n'));
                    return Some(lines + last);
                }
                let per_line = body.len() as f64 / lines.max(1) as f64;
                Some(((size - header_end as f64) / per_line).ceil() as usize)
            }
            InputFormat::ArrowIpc => {
                let row_bytes: usize = self
                    .schema
                    .fields()
                    .iter()
                    .map(|f| f.data_type().primitive_width().unwrap_or(16))
                    .sum();
                Some((size / row_bytes.max(1) as f64).ceil() as usize)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_and_refuses_damage() {
        let h = Header {
            n_rows: 3,
            n_features: 2,
            flags: FLAG_WEIGHTS | FLAG_LABELS,
            x_offset: 128,
            weights_offset: 176,
            labels_offset: 200,
            meta_offset: 216,
            meta_len: 10,
            file_len: 226,
        };
        let b = h.to_bytes();
        assert_eq!(Header::parse(&b, 226), Ok(h));
        assert!(Header::parse(&b, 225).unwrap_err().contains("truncated"));
        let mut bad = b;
        bad[0] = b'X';
        assert!(
            Header::parse(&bad, 226)
                .unwrap_err()
                .contains("not a gmm cache")
        );
        let mut old = b;
        old[8..12].copy_from_slice(&99u32.to_ne_bytes());
        assert!(Header::parse(&old, 226).unwrap_err().contains("version 99"));
        let mut swapped = b;
        swapped[12..16].copy_from_slice(&BYTE_ORDER_CHECK.swap_bytes().to_ne_bytes());
        assert!(
            Header::parse(&swapped, 226)
                .unwrap_err()
                .contains("byte order")
        );
        // A region running past the end, or misaligned.
        let past = Header { n_rows: 30, ..h };
        assert!(
            Header::parse(&past.to_bytes(), 226)
                .unwrap_err()
                .contains("inconsistent")
        );
        let odd = Header {
            weights_offset: 177,
            ..h
        };
        assert!(
            Header::parse(&odd.to_bytes(), 226)
                .unwrap_err()
                .contains("inconsistent")
        );
    }
}
