//! Where a table comes from: a Parquet file, a directory or glob of Parquet
//! files (their `key=value` directories as columns, the files kept by a
//! filter), an Arrow IPC file, or a CSV file, and its schema.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use arrow::datatypes::{Field, Schema, SchemaRef};

use crate::column_types::same_kind;
use crate::error::{IoError, Result};
use crate::filter::Filter;
use crate::format::{InputFormat, SourceFile, compressed, csv, ipc, no_panic, parquet};
use crate::partitions::Partitions;
use crate::projection::{ColumnSpec, Projection, repeated_name};
use crate::storage::ObjectStorage;

/// The Parquet files under a directory, recursively (partitioned datasets
/// such as `year=2024/part-0.parquet`), leaving out hidden and `_`-prefixed
/// entries (`_SUCCESS`, `.crc` files, temporary directories).
fn parquet_files_under(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| IoError::read(dir, e))? {
        let entry = entry.map_err(|e| IoError::read(dir, e))?;
        let p = entry.path();
        if entry.file_name().to_string_lossy().starts_with(['.', '_']) {
            continue;
        }
        if p.is_dir() {
            parquet_files_under(&p, out)?;
        } else if p.is_file() && matches!(InputFormat::from_path(&p), Ok(InputFormat::Parquet)) {
            out.push(p);
        }
    }
    Ok(())
}

/// A table on disk: one or more files of one format and one schema.
#[derive(Debug, Clone)]
pub struct TableSource {
    pub(crate) display: PathBuf,
    pub(crate) format: InputFormat,
    pub(crate) files: Vec<SourceFile>,
    pub(crate) schema: SchemaRef,
    pub(crate) delimiter: u8,
    /// Raised to stop reading (Ctrl-C): readers check it between batches
    /// and row groups and end with [`IoError::Interrupted`].
    pub(crate) stop: Option<Arc<AtomicBool>>,
    /// The `key=value` directories of a Parquet dataset, as the last
    /// columns of `schema`.
    pub(crate) partitions: Option<Arc<Partitions>>,
    /// A filter naming a column of the files' data: applied to every
    /// batch as it is read.
    pub(crate) row_filter: Option<Arc<Filter>>,
}

impl TableSource {
    /// Opens `path`: a file, a directory of Parquet files, or a glob
    /// (`data/part-*.parquet`). `delimiter` applies to CSV (`.tsv` files
    /// default to tab when `None`).
    pub fn open(path: impl AsRef<Path>, delimiter: Option<u8>) -> Result<Self> {
        Self::open_filtered(path, delimiter, None)
    }

    /// Like [`TableSource::open`], keeping only the files of a partitioned
    /// dataset (a directory or glob of Parquet files) whose partition
    /// values pass `filter`. The `key=value` directories of a directory or
    /// glob become the table's last columns.
    pub fn open_filtered(
        path: impl AsRef<Path>,
        delimiter: Option<u8>,
        filter: Option<&Filter>,
    ) -> Result<Self> {
        Self::open_in(path, delimiter, filter, &ObjectStorage::default())
    }

    /// Like [`TableSource::open_filtered`], where `path` may also be an
    /// object storage URL (`s3://bucket/data/`, `gs://...`, `az://...`,
    /// `https://...`: an object, a prefix or a glob of keys), reached with
    /// `storage`'s settings.
    pub fn open_in(
        path: impl AsRef<Path>,
        delimiter: Option<u8>,
        filter: Option<&Filter>,
        storage: &ObjectStorage,
    ) -> Result<Self> {
        let path = path.as_ref();
        let text = path.to_string_lossy();
        if crate::storage::is_url(&text) {
            #[cfg(feature = "cloud")]
            {
                let (objects, root) = crate::storage::list(&text, storage)?;
                let files = objects
                    .into_iter()
                    .map(|o| {
                        let mut f = SourceFile::local(PathBuf::from(&o.url));
                        f.remote = Some(Arc::new(o));
                        f
                    })
                    .collect();
                return Self::of_files(path, root.map(PathBuf::from), files, delimiter, filter);
            }
            #[cfg(not(feature = "cloud"))]
            {
                let _ = storage;
                return Err(crate::storage::no_cloud(&text));
            }
        }
        // Where partition directories begin: the dataset's directory, or a
        // glob's part before its first pattern.
        let root: Option<PathBuf> = if path.is_dir() {
            Some(path.to_path_buf())
        } else if !path.exists() && text.contains(['*', '?', '[']) {
            Some(
                path.components()
                    .take_while(|c| !c.as_os_str().to_string_lossy().contains(['*', '?', '[']))
                    .collect(),
            )
        } else {
            None
        };
        let paths: Vec<PathBuf> = if path.is_dir() {
            let mut files = Vec::new();
            parquet_files_under(path, &mut files)?;
            files.sort();
            if files.is_empty() {
                return Err(IoError::EmptyDirectory {
                    path: path.to_path_buf(),
                });
            }
            files
        } else if path.exists() {
            // A device or a pipe never ends, or cannot be read twice.
            if !path.is_file() {
                return Err(IoError::read(
                    path,
                    "not a regular file (a device or a pipe); save the data to a file and give that",
                ));
            }
            vec![path.to_path_buf()]
        } else if text.contains(['*', '?', '[']) {
            let mut files: Vec<PathBuf> = Vec::new();
            let matches = glob::glob(&text)
                .map_err(|e| IoError::read(path, format!("bad glob pattern: {e}")))?;
            for m in matches {
                // An entry the pattern cannot look into is an error, not a
                // silently smaller table.
                let p = m.map_err(|e| IoError::read(e.path(), e.error()))?;
                if p.is_dir() {
                    parquet_files_under(&p, &mut files)?;
                } else {
                    files.push(p);
                }
            }
            files.sort();
            files.dedup();
            if files.is_empty() {
                return Err(IoError::NoFilesMatch {
                    pattern: text.into_owned(),
                });
            }
            files
        } else {
            return Err(IoError::NotFound {
                path: path.to_path_buf(),
            });
        };
        let files = paths.into_iter().map(SourceFile::local).collect();
        Self::of_files(path, root, files, delimiter, filter)
    }

    /// The table of `files` (listed from `path`; partition directories
    /// below `root`), with their schema read and checked.
    fn of_files(
        path: &Path,
        root: Option<PathBuf>,
        files: Vec<SourceFile>,
        delimiter: Option<u8>,
        filter: Option<&Filter>,
    ) -> Result<Self> {
        // Partition directories are a Parquet dataset's.
        let parquet = matches!(
            InputFormat::from_path(&files[0].path),
            Ok(InputFormat::Parquet)
        );
        let root = root.filter(|_| parquet);
        let (candidates, partitions) = partitioned(path, root.as_deref(), files, filter)?;
        let format = InputFormat::from_path(&candidates[0].path)?;
        for f in &candidates[1..] {
            if InputFormat::from_path(&f.path)? != format {
                return Err(IoError::read(
                    &f.path,
                    "all files of a table must have the same format",
                ));
            }
        }
        if candidates.len() > 1 && format != InputFormat::Parquet {
            return Err(IoError::read(
                path,
                "only Parquet tables can span several files",
            ));
        }
        let delimiter =
            delimiter.unwrap_or_else(|| compressed::default_delimiter(&candidates[0].path));
        let mut files: Vec<SourceFile> = Vec::with_capacity(candidates.len());
        let mut schema: Option<SchemaRef> = None;
        for mut f in candidates {
            #[cfg(feature = "cloud")]
            if format != InputFormat::Parquet
                && let Some(obj) = &f.remote
            {
                // Read whole: downloaded once, read from the copy.
                f.staged = Some(Arc::new(crate::storage::stage(obj)?));
            }
            let p = f.path.clone();
            let file_schema = match format {
                InputFormat::Parquet => {
                    let meta = no_panic(&p, || parquet::metadata(&f))?;
                    let schema = meta.schema().clone();
                    f.parquet = Some(meta);
                    schema
                }
                InputFormat::ArrowIpc => {
                    let (schema, stream) = no_panic(&p, || ipc::schema(&f))?;
                    f.ipc_stream = stream;
                    schema
                }
                InputFormat::Csv => no_panic(&p, || csv::schema(&f, delimiter))?,
            };
            check_unique_names(&file_schema, &p)?;
            if let Some(first) = &schema {
                check_same_schema(first, &file_schema, &files[0], &p)?;
            } else {
                schema = Some(file_schema);
            }
            files.push(f);
        }
        let mut schema = schema.expect("at least one file");
        // A key the files also store as a column is read from the files
        // (the files were chosen by their directories' values).
        let partitions =
            partitions.and_then(|p| p.without_stored(|k| schema.field_with_name(k).is_ok()));
        if let Some(p) = &partitions {
            let mut fields: Vec<Field> =
                schema.fields().iter().map(|f| f.as_ref().clone()).collect();
            fields.extend(p.fields.iter().cloned());
            schema = Arc::new(Schema::new(fields));
        }
        let row_filter = match filter {
            None => None,
            Some(f) => {
                let keys: Vec<&str> = partitions.as_ref().map_or(Vec::new(), |p| {
                    p.fields.iter().map(|f| f.name().as_str()).collect()
                });
                let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                for c in f.columns() {
                    if !names.contains(&c) {
                        let hint = crate::suggest::closest(c, names.iter().copied())
                            .map(|s| format!(" (did you mean `{s}`?)"))
                            .unwrap_or_default();
                        return Err(IoError::read(
                            path,
                            format!("--filter {:?}: no column `{c}`{hint}", f.text()),
                        ));
                    }
                }
                f.columns()
                    .iter()
                    .any(|c| !keys.contains(c))
                    .then(|| Arc::new(f.clone()))
            }
        };
        Ok(TableSource {
            display: path.to_path_buf(),
            format,
            files,
            schema,
            delimiter,
            stop: None,
            partitions: partitions.map(Arc::new),
            row_filter,
        })
    }

    /// Reads stop, with [`IoError::Interrupted`], once `flag` is raised.
    pub fn with_stop(mut self, flag: Option<Arc<AtomicBool>>) -> Self {
        self.stop = flag;
        self
    }

    /// Whether the stop flag is raised.
    pub(crate) fn stopped(&self) -> bool {
        self.stop
            .as_ref()
            .is_some_and(|f| f.load(Ordering::Relaxed))
    }

    pub fn path(&self) -> &Path {
        &self.display
    }

    pub fn format(&self) -> InputFormat {
        self.format
    }

    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The columns `proj` copies into predictions, as the struct field
    /// they travel in beside the rows (`None` when there are none).
    pub fn passthrough_field(&self, proj: &Projection) -> Option<arrow::datatypes::Field> {
        crate::projection::passthrough_field(&self.schema, proj)
    }

    pub fn n_files(&self) -> usize {
        self.files.len()
    }

    /// The number of rows if the format records it (Parquet), without reading data.
    pub fn known_rows(&self) -> Option<usize> {
        if self.row_filter.is_some() {
            return None;
        }
        self.stored_rows()
    }

    /// The rows the files hold (Parquet), before a row filter.
    pub(crate) fn stored_rows(&self) -> Option<usize> {
        self.files.iter().try_fold(0usize, |n, f| {
            let rows = f.parquet.as_ref()?.metadata().file_metadata().num_rows();
            Some(n.saturating_add(usize::try_from(rows).unwrap_or(0)))
        })
    }

    /// Resolves the columns a job reads.
    pub fn project(&self, columns: &ColumnSpec) -> Result<Projection> {
        let partition_columns = self.partitions.as_ref().map_or(0, |p| p.fields.len());
        let mut proj = crate::projection::resolve(
            &self.display,
            &self.schema,
            self.format,
            columns,
            self.schema.fields().len() - partition_columns,
        )?;
        if let Some(f) = &self.row_filter {
            proj.filter_columns = f
                .columns()
                .iter()
                .filter_map(|c| self.schema.index_of(c).ok())
                .collect();
        }
        Ok(proj)
    }

    /// The names of the partition columns (`key=value` directories).
    pub fn partition_columns(&self) -> Vec<&str> {
        self.partitions.as_ref().map_or(Vec::new(), |p| {
            p.fields.iter().map(|f| f.name().as_str()).collect()
        })
    }
}

/// Refuses a table with two columns of one name: every column a job names
/// must be one column (the first would be read for both, and a model
/// file's columns would repeat).
pub(crate) fn check_unique_names(schema: &Schema, path: &Path) -> Result<()> {
    let names: Vec<&String> = schema.fields().iter().map(|f| f.name()).collect();
    match repeated_name(&names) {
        Some((i, j, name)) => Err(IoError::read(
            path,
            format!(
                "columns {} and {} are both named `{name}`; give every column its own name",
                i + 1,
                j + 1
            ),
        )),
        None => Ok(()),
    }
}

fn check_same_schema(
    first: &Schema,
    other: &Schema,
    first_file: &SourceFile,
    path: &Path,
) -> Result<()> {
    for f in first.fields() {
        match other.field_with_name(f.name()) {
            Ok(g) if same_kind(f, g) => {}
            Ok(g) => {
                return Err(IoError::SchemaMismatch {
                    path: path.to_path_buf(),
                    column: f.name().clone(),
                    found: g.data_type().to_string(),
                    expected: f.data_type().to_string(),
                    first: first_file.path.clone(),
                });
            }
            Err(_) => {
                return Err(IoError::SchemaMismatch {
                    path: path.to_path_buf(),
                    column: f.name().clone(),
                    found: "missing".into(),
                    expected: f.data_type().to_string(),
                    first: first_file.path.clone(),
                });
            }
        }
    }
    Ok(())
}

/// The files of a table and their partitions (from the `key=value`
/// directories below `root`), only those `filter` keeps.
fn partitioned(
    path: &Path,
    root: Option<&Path>,
    files: Vec<SourceFile>,
    filter: Option<&Filter>,
) -> Result<(Vec<SourceFile>, Option<Partitions>)> {
    let paths: Vec<PathBuf> = files.iter().map(|f| f.path.clone()).collect();
    let mut partitions = match root {
        Some(root) => Partitions::of(root, &paths)?,
        None => None,
    };
    let Some(filter) = filter else {
        return Ok((files, partitions));
    };
    let bad =
        |detail: String| IoError::read(path, format!("--filter {:?}: {detail}", filter.text()));
    // Files are kept by their partition values; the other columns decide
    // row by row.
    let Some(parts) = partitions.as_mut() else {
        return Ok((files, partitions));
    };
    let keep: Vec<bool> = (0..files.len())
        .map(|i| filter.may_keep_file(parts, i))
        .collect::<std::result::Result<_, _>>()
        .map_err(bad)?;
    if !keep.contains(&true) {
        return Err(bad(format!("no file of the {} passes it", files.len())));
    }
    parts.retain(&paths, &keep);
    let mut k = keep.iter();
    let kept = files
        .into_iter()
        .filter(|_| *k.next().expect("one flag per file"))
        .collect();
    Ok((kept, partitions))
}
