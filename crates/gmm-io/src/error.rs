//! Errors of reading tables and writing results. Each names the file, and
//! where it applies the column, the row (1-based data row, header excluded)
//! and what to do.

use std::path::PathBuf;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum IoError {
    #[error("{path}: no such file or directory")]
    NotFound { path: PathBuf },

    #[error("{pattern}: no files match")]
    NoFilesMatch { pattern: String },

    #[error(
        "{path}: cannot tell the format from the extension `{extension}`; use .parquet, .arrow, .feather, .ipc, .csv or .tsv"
    )]
    UnsupportedFormat { path: PathBuf, extension: String },

    #[error("{path}: the directory holds no .parquet files")]
    EmptyDirectory { path: PathBuf },

    #[error("{path}: {detail}")]
    Read { path: PathBuf, detail: String },

    #[error("{path}: the table has no rows")]
    EmptyTable { path: PathBuf },

    #[error("{path}: no column `{column}`{}; the columns are: {}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default(), available.join(", "))]
    MissingColumn {
        path: PathBuf,
        column: String,
        suggestion: Option<String>,
        available: Vec<String>,
    },

    #[error("{path}: no column matches `{pattern}`; the columns are: {}", available.join(", "))]
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
        "{path}: column `{column}` has a value that is not a number at data row {row}: `{value}`"
    )]
    NonNumericValue {
        path: PathBuf,
        column: String,
        row: usize,
        value: String,
    },

    #[error(
        "{path}: column `{column}` has {count} missing (null) values, the first at data row {row}; fill or drop them before fitting"
    )]
    NullValues {
        path: PathBuf,
        column: String,
        row: usize,
        count: usize,
    },

    #[error(
        "{path}: column `{column}` has {count} non-finite values (NaN or infinite), the first at data row {row} ({value}); remove or impute them before fitting"
    )]
    NonFinite {
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

    #[error("{path}: not a gmm model file: {detail}")]
    Model { path: PathBuf, detail: String },

    #[error("{path}: cannot write: {detail}")]
    Write { path: PathBuf, detail: String },
}

pub type Result<T, E = IoError> = std::result::Result<T, E>;

impl IoError {
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
