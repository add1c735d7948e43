//! Tables in, results out, for gmm.
//!
//! [`TableSource`] opens a Parquet file, a directory (searched recursively)
//! or glob of Parquet files, an Arrow IPC (Feather v2) file or stream,
//! LZ4/ZSTD-compressed or not, or a CSV file; [`TableSource::project`]
//! resolves the feature columns (names, globs, or every numeric column) and
//! the label, weight and id columns; [`TableSource::read_all`] decodes them
//! into row-major `f64` (Parquet row groups in parallel, straight into place),
//! and [`TableSource::batches`] streams them; [`CachePlan`] converts them once
//! into a memory-mapped row-major cache file for out-of-core fits. Bad input is an [`IoError`]
//! naming the file, the column and the 1-based data row (missing and
//! non-finite values are counted over the whole table first), never a panic. [`PredictionWriter`] writes
//! per-row predictions as Parquet, CSV or Arrow IPC, and [`ModelFile`] is the
//! versioned JSON model file. Every output is written under a temporary name
//! and appears only when complete ([`PendingFile`], [`OutputSet`]).
//!
//! [`load::load`] is the one loader of a job's rows: it decides whether they
//! live in memory, in the memory-mapped cache, or as one process's share
//! under a transport passed to it, and returns them as an engine dataset.
//!
//! ```no_run
//! use gmm_io::{ColumnSpec, TableSource};
//!
//! let source = TableSource::open("data/customers/unlabeled.csv", None)?;
//! let projection = source.project(&ColumnSpec { features: vec!["x*".into()], ..Default::default() })?;
//! let table = source.read_all(&projection)?;
//! assert_eq!(table.columns, ["x1", "x2"]);
//! # Ok::<(), gmm_io::IoError>(())
//! ```

mod atomic;
mod batches;
mod cache;
mod column_types;
mod covariance_json;
mod decode;
mod error;
mod filter;
mod format;
mod labels;
pub mod load;
mod model_file;
mod noise_init;
pub mod overlap;
mod parquet_out;
mod partitions;
mod predictions;
mod projection;
mod rows;
mod source;
pub mod storage;
pub mod suggest;
mod table;

pub use arrow;
pub use atomic::{OutputSet, PendingFile, remove_stale_temporaries};
pub use batches::{exact_precision, read_record_batches};
pub use cache::{
    CACHE_EXTENSION, CACHE_FORMAT_VERSION, CacheMeta, CachePart, CachePlan, DataCache,
};
pub use column_types::{is_numeric, type_name};
pub use covariance_json::{DecompositionJson, covariances_from_json, covariances_to_json};
pub use error::{ErrorClass, IoError, Result};
pub use filter::Filter;
pub use format::{InputFormat, catching_decoder_panics};
pub use labels::{Classes, ComponentClasses, class_type, label_values};
pub use model_file::{
    FitSummary, MODEL_FORMAT, MODEL_VERSION, ModelFile, Provenance, SemiSupervisedInfo,
    utc_now_rfc3339,
};
pub use predictions::{
    BatchWriter, OutputFormat, PREDICTION_ROW_GROUP, PredictionColumns, PredictionWriter,
    check_passthrough_columns, prediction_schema,
};
pub use projection::{ColumnSpec, Missing, Projection, SkippedColumn};
pub use rows::{RowValues, round_to};
pub use source::TableSource;
pub use storage::ObjectStorage;
pub use table::{Batch, DEFAULT_BATCH_ROWS, Table};
