//! Where a table comes from: a Parquet file, a directory or glob of Parquet
//! files, an Arrow IPC file, or a CSV file; its schema; and which of its
//! columns a job reads.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};

use crate::error::{IoError, Result};
use crate::read::no_panic;
use crate::suggest::closest;

/// File formats, chosen by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    Parquet,
    ArrowIpc,
    Csv,
}

impl InputFormat {
    /// The format of a path by its extension (`.parquet`/`.pq`, `.arrow`/
    /// `.feather`/`.ipc`/`.arrows`, `.csv`/`.tsv`).
    pub fn from_path(path: &Path) -> Result<Self> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        match ext.as_str() {
            "parquet" | "pq" => Ok(InputFormat::Parquet),
            "arrow" | "feather" | "ipc" | "arrows" => Ok(InputFormat::ArrowIpc),
            "csv" | "tsv" => Ok(InputFormat::Csv),
            _ => Err(IoError::UnsupportedFormat {
                path: path.to_path_buf(),
                extension: ext,
            }),
        }
    }
}

/// One file of a table with what is known of it before reading.
#[derive(Debug, Clone)]
pub(crate) struct SourceFile {
    pub path: PathBuf,
    /// Parquet footer metadata, read once.
    pub parquet: Option<ArrowReaderMetadata>,
    /// An Arrow IPC stream rather than an IPC file.
    pub ipc_stream: bool,
}

/// Reads and checks a Parquet file's footer.
fn parquet_metadata(path: &Path) -> Result<ArrowReaderMetadata> {
    let f = File::open(path).map_err(|e| IoError::read(path, e))?;
    let meta = ArrowReaderMetadata::load(&f, ArrowReaderOptions::new()).map_err(|e| {
        IoError::read(
            path,
            format!("not a readable Parquet file ({e}); check that it was written completely"),
        )
    })?;
    for (i, g) in meta.metadata().row_groups().iter().enumerate() {
        if g.num_rows() < 0 {
            return Err(IoError::read(
                path,
                format!(
                    "corrupt Parquet metadata: row group {i} claims {} rows",
                    g.num_rows()
                ),
            ));
        }
    }
    Ok(meta)
}

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
}

impl TableSource {
    /// Opens `path`: a file, a directory of Parquet files, or a glob
    /// (`data/part-*.parquet`). `delimiter` applies to CSV (`.tsv` files
    /// default to tab when `None`).
    pub fn open(path: impl AsRef<Path>, delimiter: Option<u8>) -> Result<Self> {
        let path = path.as_ref();
        let text = path.to_string_lossy();
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
        let format = InputFormat::from_path(&paths[0])?;
        for p in &paths[1..] {
            let f = InputFormat::from_path(p)?;
            if f != format {
                return Err(IoError::read(
                    p,
                    "all files of a table must have the same format",
                ));
            }
        }
        if paths.len() > 1 && format != InputFormat::Parquet {
            return Err(IoError::read(
                path,
                "only Parquet tables can span several files",
            ));
        }
        let delimiter = delimiter.unwrap_or_else(|| {
            if paths[0]
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("tsv"))
            {
                b'\t'
            } else {
                b','
            }
        });
        let mut files = Vec::with_capacity(paths.len());
        let mut schema: Option<SchemaRef> = None;
        for p in paths {
            let mut ipc_stream = false;
            let (file_schema, parquet) = match format {
                InputFormat::Parquet => {
                    let meta = no_panic(&p, || parquet_metadata(&p))?;
                    (meta.schema().clone(), Some(meta))
                }
                InputFormat::ArrowIpc => {
                    let (schema, stream) = no_panic(&p, || crate::read::ipc_schema(&p))?;
                    ipc_stream = stream;
                    (schema, None)
                }
                InputFormat::Csv => (
                    no_panic(&p, || crate::read::csv_schema(&p, delimiter))?,
                    None,
                ),
            };
            if let Some(first) = &schema {
                check_same_schema(first, &file_schema, &files[0], &p)?;
            } else {
                schema = Some(file_schema);
            }
            files.push(SourceFile {
                path: p,
                parquet,
                ipc_stream,
            });
        }
        Ok(TableSource {
            display: path.to_path_buf(),
            format,
            files,
            schema: schema.expect("at least one file"),
            delimiter,
        })
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

    pub fn n_files(&self) -> usize {
        self.files.len()
    }

    /// The number of rows if the format records it (Parquet), without reading data.
    pub fn known_rows(&self) -> Option<usize> {
        self.files.iter().try_fold(0usize, |n, f| {
            let rows = f.parquet.as_ref()?.metadata().file_metadata().num_rows();
            Some(n.saturating_add(usize::try_from(rows).unwrap_or(0)))
        })
    }

    /// Resolves the columns a job reads.
    pub fn project(&self, columns: &ColumnSpec) -> Result<Projection> {
        let names: Vec<&str> = self
            .schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        let find = |name: &str| -> Result<usize> {
            names
                .iter()
                .position(|n| *n == name)
                .ok_or_else(|| IoError::MissingColumn {
                    path: self.display.clone(),
                    column: name.to_string(),
                    suggestion: closest(name, names.iter().copied()),
                    available: names.iter().map(|s| s.to_string()).collect(),
                })
        };
        let label = columns.label.as_deref().map(find).transpose()?;
        let weight = columns.weight.as_deref().map(find).transpose()?;
        let id = columns.id.as_deref().map(find).transpose()?;
        let special: Vec<usize> = [label, weight, id].into_iter().flatten().collect();

        let mut features: Vec<usize> = Vec::new();
        if columns.features.is_empty() {
            for (i, f) in self.schema.fields().iter().enumerate() {
                if !special.contains(&i) && is_numeric(f.data_type()) {
                    features.push(i);
                }
            }
            if features.is_empty() {
                return Err(IoError::NoFeatureColumns {
                    path: self.display.clone(),
                });
            }
        } else {
            for pattern in &columns.features {
                if pattern.contains(['*', '?', '[']) {
                    let pat = glob::Pattern::new(pattern).map_err(|e| {
                        IoError::read(
                            &self.display,
                            format!("bad column pattern `{pattern}`: {e}"),
                        )
                    })?;
                    let matched: Vec<usize> = (0..names.len())
                        .filter(|&i| pat.matches(names[i]) && !special.contains(&i))
                        .collect();
                    if matched.is_empty() {
                        return Err(IoError::NoColumnsMatch {
                            path: self.display.clone(),
                            pattern: pattern.clone(),
                            available: names.iter().map(|s| s.to_string()).collect(),
                        });
                    }
                    features.extend(
                        matched
                            .into_iter()
                            .filter(|i| !features.contains(i))
                            .collect::<Vec<_>>(),
                    );
                } else {
                    let i = find(pattern)?;
                    if !features.contains(&i) {
                        features.push(i);
                    }
                }
            }
        }
        for &i in &features {
            let field = self.schema.field(i);
            // CSV columns are parsed as numbers whatever was inferred; a text
            // value then fails with its row.
            if self.format != InputFormat::Csv && !is_numeric(field.data_type()) {
                return Err(IoError::NonNumericColumn {
                    path: self.display.clone(),
                    column: field.name().clone(),
                    data_type: field.data_type().to_string(),
                    hint: "only integer, floating-point and decimal columns can be features",
                });
            }
        }
        if let Some(w) = weight {
            let field = self.schema.field(w);
            if self.format != InputFormat::Csv && !is_numeric(field.data_type()) {
                return Err(IoError::NonNumericColumn {
                    path: self.display.clone(),
                    column: field.name().clone(),
                    data_type: field.data_type().to_string(),
                    hint: "a weight column must hold numbers",
                });
            }
        }
        Ok(Projection {
            feature_names: features.iter().map(|&i| names[i].to_string()).collect(),
            features,
            label,
            weight,
            id,
        })
    }
}

/// Which columns a job names: features (names or globs; empty means every
/// numeric column but the special ones) and the special columns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnSpec {
    pub features: Vec<String>,
    pub label: Option<String>,
    pub weight: Option<String>,
    pub id: Option<String>,
}

/// Resolved column indices in a table's schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    pub features: Vec<usize>,
    pub feature_names: Vec<String>,
    pub label: Option<usize>,
    pub weight: Option<usize>,
    pub id: Option<usize>,
}

impl Projection {
    /// All columns to decode, ascending.
    pub(crate) fn all_columns(&self) -> Vec<usize> {
        let mut cols: Vec<usize> = self
            .features
            .iter()
            .copied()
            .chain(self.label)
            .chain(self.weight)
            .chain(self.id)
            .collect();
        cols.sort_unstable();
        cols.dedup();
        cols
    }

    pub fn n_features(&self) -> usize {
        self.features.len()
    }
}

/// Integer, floating-point and decimal types, and dictionaries of them:
/// what converts to `f64`.
pub fn is_numeric(t: &DataType) -> bool {
    if let DataType::Dictionary(_, values) = t {
        return is_numeric(values);
    }
    matches!(
        t,
        DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
            | DataType::Float16
            | DataType::Float32
            | DataType::Float64
            | DataType::Decimal32(_, _)
            | DataType::Decimal64(_, _)
            | DataType::Decimal128(_, _)
            | DataType::Decimal256(_, _)
    )
}

/// A short name of a column type for model files and messages.
pub fn type_name(t: &DataType) -> String {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "string".into(),
        other => other.to_string().to_lowercase(),
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

/// Whether two files' columns can be read as one: equal types, any two
/// numeric types (features convert to `f64`; label and id columns are cast
/// to the first file's type), or any two string types (plain, large, view
/// or dictionary-encoded).
fn same_kind(a: &Field, b: &Field) -> bool {
    let (a, b) = (a.data_type(), b.data_type());
    a == b || (is_numeric(a) && is_numeric(b)) || (is_string(a) && is_string(b))
}

fn is_string(t: &DataType) -> bool {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, v) => is_string(v),
        _ => false,
    }
}

pub(crate) fn schema_ref(fields: Vec<Field>) -> SchemaRef {
    Arc::new(Schema::new(fields))
}
