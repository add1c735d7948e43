//! Errors of reading tables and writing results. Each names the file, and
//! where it applies the column, the row (1-based data row, header excluded)
//! and what to do.

use std::path::PathBuf;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum IoError {
    #[error("{path}: no such file or directory; check the path")]
    NotFound { path: PathBuf },

    /// An object storage URL that names no object (nor a prefix of some).
    #[error("{url}: {detail}")]
    NoSuchObject { url: String, detail: &'static str },

    #[error(
        "{pattern}: no files match; check the pattern (quote it so the shell does not expand it)"
    )]
    NoFilesMatch { pattern: String },

    #[error("{path}: cannot tell the format from the extension `{extension}`; use {choices}")]
    UnsupportedFormat {
        path: PathBuf,
        extension: String,
        /// The extensions that would do, as a phrase.
        choices: &'static str,
    },

    #[error(
        "{path}: the directory holds no .parquet files (hidden and `_`-prefixed entries are skipped)"
    )]
    EmptyDirectory { path: PathBuf },

    #[error("{path}: {detail}")]
    Read { path: PathBuf, detail: String },

    #[error("{path}: the table has no rows; check that the right file was given")]
    EmptyTable { path: PathBuf },

    #[error("{path}: no column `{column}`{}; the columns are: {}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default(), quoted(available))]
    MissingColumn {
        path: PathBuf,
        column: String,
        suggestion: Option<String>,
        available: Vec<String>,
    },

    #[error(
        "{path}: no column matches `{pattern}`; the columns are: {}",
        quoted(available)
    )]
    NoColumnsMatch {
        path: PathBuf,
        pattern: String,
        available: Vec<String>,
    },

    #[error(
        "{path}: no numeric feature columns (after leaving out the label, weight and id columns)"
    )]
    NoFeatureColumns { path: PathBuf },

    #[error("{path}: column `{column}` is {data_type}, not numeric; {hint}")]
    NonNumericColumn {
        path: PathBuf,
        column: String,
        data_type: String,
        hint: &'static str,
    },

    #[error(
        "{path}: column `{column}` has a value that is not a number at data row {row}: `{value}`; fix that value, or leave the column out of the features"
    )]
    NonNumericValue {
        path: PathBuf,
        column: String,
        row: usize,
        value: String,
    },

    /// A CSV label or id column whose type, inferred from the first rows,
    /// does not hold for a later row.
    #[error(
        "{path}: column `{column}` holds `{value}` at data row {row}, but it was read as {inferred} from the first {sampled} data rows; give the column one type throughout (labels all integers or all text), or write the table as Parquet, which stores each column's type"
    )]
    CsvTypeChange {
        path: PathBuf,
        column: String,
        row: usize,
        value: String,
        inferred: String,
        sampled: usize,
    },

    #[error(
        "{path}: data row {row} has {found} fields but the header has {expected}; check that row's delimiters and quotes (and the delimiter option)"
    )]
    RaggedRow {
        path: PathBuf,
        row: usize,
        found: String,
        expected: usize,
    },

    #[error(
        "{path}: column `{column}` has {count} missing (null) values, the first at data row {row}; fill them, leave their rows out with --missing drop, or integrate them out with --missing marginalize"
    )]
    NullValues {
        path: PathBuf,
        column: String,
        row: usize,
        count: usize,
    },

    #[error(
        "{path}: column `{column}` has {count} non-finite values (NaN or infinite), the first at data row {row} ({value}); remove or impute them before fitting (--missing drop or --missing marginalize treat NaN as missing; infinite values are errors either way)"
    )]
    NonFinite {
        path: PathBuf,
        column: String,
        row: usize,
        count: usize,
        value: f64,
    },

    #[error(
        "{path}: column `{column}` has {count} values too large to compute with (beyond 1e150 in magnitude, where squares overflow), the first at data row {row} ({value:e}); rescale the column, for example divide it by a power of ten"
    )]
    TooLarge {
        path: PathBuf,
        column: String,
        row: usize,
        count: usize,
        value: f64,
    },

    #[error(
        "{path}: column `{column}` has {count} values too large for f32 rows (beyond 3.4e38 in magnitude), the first at data row {row} ({value:e}); hold the rows as f64 (--precision f64, [data] precision) or rescale the column"
    )]
    TooLargeForF32 {
        path: PathBuf,
        column: String,
        row: usize,
        count: usize,
        value: f64,
    },

    #[error(
        "{path}: weight column `{column}` has an invalid weight {value} at data row {row}; weights must be finite and non-negative"
    )]
    BadWeight {
        path: PathBuf,
        column: String,
        row: usize,
        value: f64,
    },

    #[error("{path}: initial noise column `{column}`, data row {row}: {detail}")]
    BadNoiseFlag {
        path: PathBuf,
        column: String,
        row: usize,
        detail: String,
    },

    #[error("{path}: label column `{column}`: {detail}")]
    BadLabel {
        path: PathBuf,
        column: String,
        detail: String,
    },

    #[error(
        "{path}: column `{column}` is {found} here but {expected} in {first}; all files of a table need the same columns"
    )]
    SchemaMismatch {
        path: PathBuf,
        column: String,
        found: String,
        expected: String,
        first: PathBuf,
    },

    /// A labeled table whose label column is not named and cannot be told
    /// (it is the table's one column that is neither a feature nor the
    /// weight column).
    #[error(
        "reading the labeled table: {path}: cannot tell which column holds the labels (candidates: {}); name it with --label-column or [data] label_column",
        if candidates.is_empty() { "none".to_string() } else { candidates.join(", ") }
    )]
    LabelColumnUnknown {
        path: PathBuf,
        candidates: Vec<String>,
    },

    #[error("{path}: the label column `{column}` holds no labels")]
    NoLabels { path: PathBuf, column: String },

    /// A label outside the classes of the job.
    #[error("{detail}")]
    UnknownClass { detail: String },

    /// The rows do not make an engine dataset.
    #[error(transparent)]
    Engine(#[from] gmm_core::GmmError),

    #[error(
        "building the out-of-core cache in {} (free disk space there, or choose another directory with --cache-dir)",
        dir.display()
    )]
    CacheBuild {
        dir: PathBuf,
        #[source]
        source: Box<IoError>,
    },

    /// A process of a job split among processes cannot open the cache that
    /// rank 0 built or checked.
    #[error(
        "cannot open the out-of-core cache {} that rank 0 prepared ({why}); under mpirun --cache-dir must be a directory every rank can read, on a shared filesystem",
        path.display()
    )]
    CacheNotShared { path: PathBuf, why: String },

    /// The caller's observer asked loading to stop.
    #[error("loading was interrupted")]
    Interrupted,

    /// Another process of a job split among processes failed: its rank,
    /// the class of its error, and its message.
    #[error("rank {rank}: {message}")]
    OnRank {
        rank: usize,
        class: ErrorClass,
        message: String,
    },

    #[error("{path}: not a gmm model file: {detail}")]
    Model { path: PathBuf, detail: String },

    #[error("{path}: cannot write: {detail}")]
    Write { path: PathBuf, detail: String },
}

/// What kind of failure an error is, for a caller that maps errors to exit
/// statuses or exception types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Bad or unreadable data, or a failed write.
    Data,
    /// A mistake in what was asked (settings, column names).
    Usage,
    /// Stopped on request.
    Interrupted,
}

pub type Result<T, E = IoError> = std::result::Result<T, E>;

impl IoError {
    /// The kind of failure.
    pub fn class(&self) -> ErrorClass {
        match self {
            IoError::LabelColumnUnknown { .. }
            | IoError::Engine(gmm_core::GmmError::InvalidParam { .. }) => ErrorClass::Usage,
            IoError::Interrupted | IoError::Engine(gmm_core::GmmError::Interrupted) => {
                ErrorClass::Interrupted
            }
            IoError::OnRank { class, .. } => *class,
            _ => ErrorClass::Data,
        }
    }

    pub(crate) fn read(path: impl Into<PathBuf>, detail: impl std::fmt::Display) -> Self {
        IoError::Read {
            path: path.into(),
            detail: detail.to_string(),
        }
    }

    pub(crate) fn write(path: impl Into<PathBuf>, detail: impl std::fmt::Display) -> Self {
        IoError::Write {
            path: path.into(),
            detail: detail.to_string(),
        }
    }
}

/// Names in backticks, so that blanks in them show: `` ` x1 `, `x2` ``.
fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
