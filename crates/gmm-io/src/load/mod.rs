//! One loader for a job's rows: [`load`] takes what the job reads
//! ([`DataSpec`]) and how the job's processes share the rows
//! ([`Processes`]), decides where the rows live, and returns them
//! ([`LoadedData`]):
//!
//! - in memory, when the selected data fits the memory budget
//!   ([`DataSpec::max_memory`], by default half of physical memory);
//! - memory-mapped from the out-of-core cache ([`crate::CachePlan`]) when it
//!   does not; the engine reads the same row-major values either way, so a
//!   fit is bit for bit the same;
//! - under a transport that splits the rows among processes (MPI ranks),
//!   this process's share, in whole chunks, from memory or the cache.
//!
//! The transport is an argument, never a global; progress, messages and
//! cancellation go through a [`LoadObserver`]; failures are [`IoError`]s,
//! and under a transport every process gets the lowest failing rank's
//! error. Nothing is printed.
//!
//! ```no_run
//! use gmm_io::load::{DataSpec, Processes, load};
//!
//! let spec = DataSpec {
//!     input: "data/customers/unlabeled.csv".into(),
//!     columns: vec!["x*".into()],
//!     ..Default::default()
//! };
//! let data = load(&spec, Processes::One, &mut ())?;
//! assert_eq!(data.columns, ["x1", "x2"]);
//! # Ok::<(), gmm_io::IoError>(())
//! ```

mod cached;
mod memory;
mod spec;
mod tables;

pub use spec::DataSpec;

use std::path::{Path, PathBuf};

use arrow::array::ArrayRef;
use arrow::datatypes::Field;
use gmm_core::{Collective, DataView, Dataset, Partition};

use crate::cache::DataCache;
use crate::error::{ErrorClass, IoError, Result};
use crate::labels::Classes;
use crate::source::TableSource;
use tables::JobTables;

/// Share of physical memory the selected data may take by default.
pub const DEFAULT_MEMORY_FRACTION: f64 = 0.5;

/// Name of the default cache directory.
pub const DEFAULT_CACHE_DIR: &str = ".gmm-cache";

/// How the processes of a job share its rows.
#[derive(Debug, Clone, Copy)]
pub enum Processes<'a> {
    /// One process holds every row.
    One,
    /// Every process of the transport holds every row, in memory (they
    /// share out other work, such as restarts); a failure on one ends all.
    Replicated(&'a dyn Collective),
    /// Each process of the transport holds its share of the rows: whole
    /// chunks of `chunk_rows`, in table order (see [`gmm_core::share`]).
    RowShares {
        comm: &'a dyn Collective,
        chunk_rows: usize,
    },
}

/// Where one process's rows sit in a table split among processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RankShare {
    /// Index of the first row in the whole table (input rows, then the
    /// labeled table's rows).
    pub row_offset: usize,
    pub global_rows: usize,
    pub global_input_rows: usize,
}

/// Where the memory budget came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetSource {
    /// [`DataSpec::max_memory`].
    Given,
    /// [`DataSpec::max_memory`] said no limit.
    Unlimited,
    /// The default: [`DEFAULT_MEMORY_FRACTION`] of physical memory.
    PhysicalMemory,
    /// The default, with physical memory unknown: no limit.
    PhysicalMemoryUnknown,
}

/// Where a job's rows were held and why.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Storage {
    /// Bytes the selected rows take as `f64` (with weights and labels),
    /// estimated before reading.
    pub estimated_bytes: Option<u64>,
    /// The budget (`None`: no limit known).
    pub max_memory: Option<u64>,
    /// Where the budget came from; `None` when no budget was applied
    /// ([`Processes::Replicated`]).
    pub budget_from: Option<BudgetSource>,
    /// Set when the rows were read through the cache.
    pub cache: Option<CacheUse>,
}

/// The cache a job read its rows from.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheUse {
    pub path: PathBuf,
    pub reused: bool,
    /// Why an existing cache could not be reused, when it was (re)built.
    pub built_because: Option<String>,
    pub build_seconds: Option<f64>,
    pub file_bytes: u64,
}

/// The choice between memory and the cache, made before any row is read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StorageDecision {
    pub estimated_bytes: Option<u64>,
    pub budget: u64,
    pub budget_from: BudgetSource,
    /// Processes the rows are split among (1: not split).
    pub ranks: usize,
    pub out_of_core: bool,
}

/// Hears how loading goes; every method has a default that does nothing.
pub trait LoadObserver {
    /// The input table is open, before its rows are read.
    fn table_opened(&mut self, _source: &TableSource) {}
    /// Memory or the cache was chosen against a budget (not called when
    /// there is no budget).
    fn storage_decided(&mut self, _decision: &StorageDecision) {}
    /// An existing cache is reused.
    fn cache_reused(&mut self, _cache: &DataCache) {}
    /// The cache at `path` is being built, because `why`; `total_rows` is
    /// known when the input records its row count.
    fn cache_building(
        &mut self,
        _path: &Path,
        _why: &str,
        _input: &TableSource,
        _total_rows: Option<usize>,
    ) {
    }
    /// Rows written to the cache so far.
    fn cache_rows(&mut self, _rows: usize) {}
    /// The build ended, complete or not.
    fn cache_build_ended(&mut self) {}
    /// The cache was built in `seconds`.
    fn cache_built(&mut self, _cache: &DataCache, _seconds: f64) {}
    /// Whether to stop (checked while building the cache);
    /// [`IoError::Interrupted`] follows.
    fn should_stop(&mut self) -> bool {
        false
    }
    /// A flag that stops reading the tables once raised (checked between
    /// batches); [`IoError::Interrupted`] follows.
    fn stop_flag(&self) -> Option<std::sync::Arc<std::sync::atomic::AtomicBool>> {
        None
    }
}

/// No observer.
impl LoadObserver for () {}

/// The rows of a job and what is needed to write results about them.
#[derive(Debug)]
pub struct LoadedData {
    pub dataset: Dataset,
    pub columns: Vec<String>,
    pub column_types: Vec<String>,
    /// Columns of the input table that are not features because they do
    /// not hold numbers (when the features were not named).
    pub skipped_columns: Vec<crate::SkippedColumn>,
    /// Rows of the input table (the first rows of the dataset).
    pub n_input_rows: usize,
    pub passthrough: Option<ArrayRef>,
    pub passthrough_field: Option<Field>,
    pub classes: Option<Classes>,
    pub label_column: Option<String>,
    /// The type of the classes in predictions: the label column's.
    pub class_type: Option<arrow::datatypes::DataType>,
    /// Labeled rows of the whole table (of every process).
    pub n_labeled: usize,
    /// Rows of the whole table (of every process) left out for a missing
    /// feature value (`--missing drop`): in the dataset with weight `-0.0`.
    pub n_dropped: usize,
    /// Rows of the whole table (of every process) with a missing feature
    /// value integrated out (`--missing marginalize`).
    pub n_incomplete: usize,
    /// Set when this process holds one share of a table split among
    /// processes: the dataset, `passthrough` and `n_input_rows` are then this
    /// process's rows only.
    pub share: Option<RankShare>,
    /// Where the rows are held (memory, or an out-of-core cache file).
    pub storage: Storage,
}

impl LoadedData {
    /// Rows of the whole table, in every process.
    pub fn global_rows(&self) -> usize {
        self.share.map_or(self.dataset.n_rows(), |s| s.global_rows)
    }

    /// Input rows of the whole table, in every process.
    pub fn global_input_rows(&self) -> usize {
        self.share
            .map_or(self.n_input_rows, |s| s.global_input_rows)
    }

    /// The engine's view of the rows; when this process holds a share, it
    /// is marked as such on `comm`, the transport the rows were split by.
    pub fn view<'a>(&'a self, comm: Option<&'a dyn Collective>) -> DataView<'a> {
        let view = self.dataset.view();
        match (self.share, comm) {
            (Some(s), Some(comm)) => view.with_partition(Partition {
                comm,
                row_offset: s.row_offset,
                global_rows: s.global_rows,
            }),
            _ => view,
        }
    }
}

/// Loads a job's rows where they fit: see the [module](self) overview.
pub fn load(
    spec: &DataSpec,
    processes: Processes<'_>,
    observer: &mut dyn LoadObserver,
) -> Result<LoadedData> {
    let comm = match processes {
        Processes::RowShares { comm, .. } => Some(comm),
        _ => None,
    };
    let mut data = load_rows(spec, processes, observer)?;
    if spec.missing == crate::Missing::Marginalize {
        // Missing values stay NaN, integrated out by the engine.
        data.dataset = data.dataset.with_missing_values(true);
        let view = data.dataset.view();
        // One parallel scan (out of core, a pass over the mapped cache).
        let mine = {
            use rayon::prelude::*;
            (0..view.n_rows())
                .into_par_iter()
                .with_min_len(4096)
                .filter(|&i| view.row(i).iter().any(f64::is_nan))
                .count()
        };
        data.n_incomplete = match comm {
            Some(comm) => memory::sum_over_ranks(comm, mine)?,
            None => mine,
        };
    }
    Ok(data)
}

fn load_rows(
    spec: &DataSpec,
    processes: Processes<'_>,
    observer: &mut dyn LoadObserver,
) -> Result<LoadedData> {
    match processes {
        Processes::One => {
            let tables = JobTables::open(spec, observer)?;
            let (storage, out_of_core) = decide(spec, &tables, 1, observer);
            if out_of_core {
                return cached::load(tables, &spec.cache_dir(), storage, None, observer);
            }
            let rows = memory::read(&tables, None)?;
            let data = memory::assemble(&tables, rows, None)?;
            Ok(LoadedData { storage, ..data })
        }
        Processes::Replicated(comm) => {
            let local = JobTables::open(spec, observer).and_then(|tables| {
                let rows = memory::read(&tables, None)?;
                memory::assemble(&tables, rows, None)
            });
            agree(comm, local)
        }
        Processes::RowShares { comm, chunk_rows } => {
            let tables = agree(comm, JobTables::open(spec, observer))?;
            let (storage, mine) = decide(spec, &tables, comm.size(), observer);
            // Each rank decided on its own memory: rank 0's decision holds.
            let all = comm.all_gather_bytes(&[u8::from(mine)]);
            if all[0] == [1] {
                let split = Some((comm, chunk_rows));
                return cached::load(tables, &spec.cache_dir(), storage, split, observer);
            }
            // Reading can fail on one process only (a bad value in its
            // share): then all stop, with that process's error.
            let rows = agree(comm, memory::read(&tables, Some((comm, chunk_rows))))?;
            let data = agree(comm, memory::assemble(&tables, rows, Some(comm)))?;
            Ok(LoadedData { storage, ..data })
        }
    }
}

/// Physical memory in bytes (Linux: `MemTotal` of /proc/meminfo).
fn physical_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// Compares the selected data's estimated size, or one rank's share of it
/// when the rows are split among `ranks` processes, with the budget:
/// whether the rows go through the cache.
fn decide(
    spec: &DataSpec,
    tables: &JobTables,
    ranks: usize,
    observer: &mut dyn LoadObserver,
) -> (Storage, bool) {
    let (max_memory, budget_from) = match spec.max_memory {
        Some(u64::MAX) => (None, BudgetSource::Unlimited),
        Some(b) => (Some(b), BudgetSource::Given),
        None => match physical_memory() {
            Some(m) => (
                Some((m as f64 * DEFAULT_MEMORY_FRACTION) as u64),
                BudgetSource::PhysicalMemory,
            ),
            None => (None, BudgetSource::PhysicalMemoryUnknown),
        },
    };
    let mut storage = Storage {
        estimated_bytes: None,
        max_memory,
        budget_from: Some(budget_from),
        cache: None,
    };
    let Some(budget) = max_memory else {
        return (storage, false);
    };
    storage.estimated_bytes = tables.estimated_bytes();
    let ranks = ranks.max(1);
    let out_of_core = storage
        .estimated_bytes
        .is_some_and(|b| b.div_ceil(ranks as u64) > budget);
    observer.storage_decided(&StorageDecision {
        estimated_bytes: storage.estimated_bytes,
        budget,
        budget_from,
        ranks,
        out_of_core,
    });
    (storage, out_of_core)
}

/// Agrees on the outcome of a step that may fail on some ranks only: every
/// rank gets `Ok` only if all succeeded, else the error of the lowest
/// failing rank (that rank keeps its own error; the others get an
/// [`IoError::OnRank`] with its class and message).
pub(crate) fn agree<T>(comm: &dyn Collective, local: Result<T>) -> Result<T> {
    let mine = match &local {
        Ok(_) => Vec::new(),
        Err(e) => format!("{}\n{}", class_code(e.class()), message_chain(e)).into_bytes(),
    };
    let all = comm.all_gather_bytes(&mine);
    match all.iter().position(|m| !m.is_empty()) {
        None => local,
        Some(r) if r == comm.rank() => local,
        Some(r) => {
            let text = String::from_utf8_lossy(&all[r]);
            let (code, message) = text.split_once('\n').unwrap_or(("", &text));
            Err(IoError::OnRank {
                rank: r,
                class: class_from_code(code),
                message: message.to_string(),
            })
        }
    }
}

/// An error and its sources, as one line.
fn message_chain(e: &IoError) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.join(": ")
}

fn class_code(class: ErrorClass) -> &'static str {
    match class {
        ErrorClass::Data => "data",
        ErrorClass::Usage => "usage",
        ErrorClass::Interrupted => "interrupted",
    }
}

fn class_from_code(code: &str) -> ErrorClass {
    match code {
        "usage" => ErrorClass::Usage,
        "interrupted" => ErrorClass::Interrupted,
        _ => ErrorClass::Data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn physical_memory_is_plausible() {
        assert!(physical_memory().is_none_or(|m| m > 1 << 20));
    }

    #[test]
    fn failures_reach_every_rank_with_their_class() {
        let outcomes: Vec<Result<()>> = std::thread::scope(|scope| {
            let handles: Vec<_> = gmm_core::LocalGroup::ranks(3)
                .into_iter()
                .map(|comm| {
                    scope.spawn(move || {
                        let local = if comm.rank() == 1 {
                            Err(IoError::LabelColumnUnknown {
                                path: "l.csv".into(),
                                candidates: vec![],
                            })
                        } else {
                            Ok(())
                        };
                        agree(&comm, local)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (rank, outcome) in outcomes.into_iter().enumerate() {
            let err = outcome.unwrap_err();
            assert_eq!(err.class(), ErrorClass::Usage);
            if rank == 1 {
                assert!(matches!(err, IoError::LabelColumnUnknown { .. }));
            } else {
                let text = err.to_string();
                assert!(
                    text.starts_with("rank 1: reading the labeled table"),
                    "{text}"
                );
            }
        }
    }
}
