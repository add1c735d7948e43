//! What a job reads ([`DataSpec`]).

use std::path::PathBuf;

use gmm_core::Precision;

use super::DEFAULT_CACHE_DIR;

/// What a job reads: its tables and columns, and where its rows may live.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DataSpec {
    /// The input table: a file, a directory of Parquet files, or a glob.
    pub input: String,
    /// Feature columns, names or globs; empty: every numeric column but the
    /// label, weight and id columns.
    pub columns: Vec<String>,
    pub label_column: Option<String>,
    pub weight_column: Option<String>,
    /// True/false (1/0) per row: an initial noise set, never the labeled
    /// table's rows ([`gmm_core::Dataset::with_initial_noise`]).
    pub noise_init_column: Option<String>,
    /// Columns that identify rows (never features), copied into
    /// predictions.
    pub id_columns: Vec<String>,
    /// More columns copied into predictions, after the ids (features too).
    pub keep_columns: Vec<String>,
    /// A second table of labeled rows, stacked after the input's.
    pub labeled: Option<String>,
    /// CSV delimiter (`None`: comma, tab for `.tsv`).
    pub delimiter: Option<u8>,
    /// Memory budget of the selected data in bytes; `None`: the default
    /// (half of physical memory), `Some(u64::MAX)`: no limit. Larger data
    /// is read through the out-of-core cache.
    pub max_memory: Option<u64>,
    /// Where out-of-core cache files live; `None`: [`DEFAULT_CACHE_DIR`] in
    /// the working directory.
    pub cache_dir: Option<PathBuf>,
    /// The type rows are held in: `f32` halves the memory (and the
    /// out-of-core cache), the values rounded to the nearest `f32`.
    pub precision: Precision,
    /// Rows that miss a feature value: an error, or left out.
    pub missing: crate::Missing,
    /// Which files of a partitioned input to read, by their partition
    /// values.
    pub filter: Option<crate::Filter>,
    /// How tables at object storage URLs are reached (a config's
    /// `[storage]`).
    pub object_storage: crate::ObjectStorage,
}

impl DataSpec {
    /// The directory of the out-of-core cache.
    pub fn cache_dir(&self) -> PathBuf {
        self.cache_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_CACHE_DIR))
    }
}
