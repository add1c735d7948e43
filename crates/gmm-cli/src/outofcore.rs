//! Out-of-core fits: whether the selected data fits the memory budget
//! (`--max-memory`, by default half of physical memory), and when it does
//! not, loading it through a memory-mapped cache file (gmm-io's
//! [`CachePlan`]) that every EM iteration then streams. The engine reads the
//! same row-major values either way, so the fit is bit for bit the same.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use gmm_core::Dataset;
use gmm_io::arrow::datatypes::Field;
use gmm_io::{CachePart, CachePlan, Classes, Projection, TableSource};
use serde_json::json;

use crate::config::FitSettings;
use crate::dataset::LoadedData;
use crate::progress::{Verbosity, loading_message, rows_bar, si, spinner, thousands};

/// Share of physical memory the selected data may take by default.
pub const DEFAULT_MEMORY_FRACTION: f64 = 0.5;

/// Name of the default cache directory, beside the run directory.
pub const DEFAULT_CACHE_DIR: &str = ".gmm-cache";

/// Where a fit's rows were held and why; recorded in run.json.
#[derive(Debug, Clone, Default)]
pub struct Storage {
    /// Bytes the selected rows take as `f64` (with weights and labels),
    /// estimated before reading.
    pub estimated_bytes: Option<u64>,
    /// The budget (`None`: no limit known).
    pub max_memory: Option<u64>,
    /// Where the budget came from.
    pub budget_from: &'static str,
    /// Set when the rows were read through the cache.
    pub cache: Option<CacheUse>,
}

/// The cache a fit read its rows from.
#[derive(Debug, Clone)]
pub struct CacheUse {
    pub path: PathBuf,
    pub reused: bool,
    /// Why an existing cache could not be reused, when it was (re)built.
    pub built_because: Option<String>,
    pub build_seconds: Option<f64>,
    pub file_bytes: u64,
}

impl Storage {
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "out_of_core": self.cache.is_some(),
            "estimated_bytes": self.estimated_bytes,
            "max_memory": self.max_memory,
            "max_memory_from": self.budget_from,
            "cache": self.cache.as_ref().map(|c| json!({
                "path": c.path,
                "reused": c.reused,
                "built_because": c.built_because,
                "build_seconds": c.build_seconds,
                "bytes": c.file_bytes,
            })),
        })
    }
}

/// Physical memory in bytes (Linux: `MemTotal` of /proc/meminfo).
fn physical_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// `1536` as `1.5 KiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// The tables of a job, opened, with the columns read from each (by
/// [`crate::dataset::open_tables`], as an in-memory load).
pub struct Tables {
    source: TableSource,
    proj: Projection,
    id_field: Option<Field>,
    labeled: Option<(TableSource, Projection)>,
    label_column: Option<String>,
}

impl Tables {
    pub fn open(s: &FitSettings) -> Result<Tables> {
        let t = crate::dataset::open_tables(&s.data, |_| {})?;
        let label_column = s
            .data
            .label_column
            .clone()
            .or_else(|| t.labeled.as_ref().map(|l| l.2.clone()));
        let (source, proj, id_field) = (t.source, t.proj, t.id_field);
        let labeled = t.labeled.map(|(lsrc, lproj, _)| (lsrc, lproj));
        Ok(Tables {
            source,
            proj,
            id_field,
            labeled,
            label_column,
        })
    }

    fn parts(&self) -> Vec<CachePart<'_>> {
        let mut parts = vec![CachePart {
            source: &self.source,
            projection: &self.proj,
        }];
        if let Some((src, proj)) = &self.labeled {
            parts.push(CachePart {
                source: src,
                projection: proj,
            });
        }
        parts
    }

    /// Estimated rows (`None` when a table's rows cannot be estimated).
    fn estimated_rows(&self) -> Option<usize> {
        self.parts().iter().try_fold(0usize, |n, p| {
            Some(n.saturating_add(p.source.estimated_rows()?))
        })
    }

    /// Estimated bytes of the rows as the engine holds them.
    fn estimated_bytes(&self) -> Option<u64> {
        let parts = self.parts();
        let weights = parts.iter().any(|p| p.projection.weight.is_some());
        let labels = parts.iter().any(|p| p.projection.label.is_some());
        let row = 8 * self.proj.n_features() as u64
            + if weights { 8 } else { 0 }
            + if labels { 4 } else { 0 };
        Some((self.estimated_rows()? as u64).saturating_mul(row))
    }
}

/// Memory or the cache, decided before any row is read.
pub struct Decision {
    pub storage: Storage,
    /// The opened tables and the cache directory, when out of core.
    pub out_of_core: Option<(Tables, PathBuf)>,
}

/// The cache directory of a job.
fn cache_dir(s: &FitSettings) -> PathBuf {
    s.data.cache_dir.clone().unwrap_or_else(|| {
        s.out
            .parent()
            .unwrap_or(Path::new(""))
            .join(DEFAULT_CACHE_DIR)
    })
}

/// Compares the selected data's estimated size, or one rank's share of it
/// when the rows are split among `ranks` processes, with the budget.
pub fn decide(s: &FitSettings, verbosity: Verbosity, ranks: usize) -> Result<Decision> {
    let (max_memory, budget_from) = match s.data.max_memory {
        Some(u64::MAX) => (None, "--max-memory / [data] max_memory (unlimited)"),
        Some(b) => (Some(b), "--max-memory / [data] max_memory"),
        None => match physical_memory() {
            Some(m) => (
                Some((m as f64 * DEFAULT_MEMORY_FRACTION) as u64),
                "default: half of physical memory",
            ),
            None => (None, "default: physical memory unknown, no limit"),
        },
    };
    let mut storage = Storage {
        estimated_bytes: None,
        max_memory,
        budget_from,
        cache: None,
    };
    let Some(budget) = max_memory else {
        return Ok(Decision {
            storage,
            out_of_core: None,
        });
    };
    let tables = Tables::open(s)?;
    storage.estimated_bytes = tables.estimated_bytes();
    let ranks = ranks.max(1) as u64;
    let out_of_core = storage
        .estimated_bytes
        .is_some_and(|b| b.div_ceil(ranks) > budget);
    verbosity.log(|| {
        format!(
            "data: about {}{} as f64 rows, memory budget {} ({budget_from}): {}",
            storage
                .estimated_bytes
                .map_or("an unknown size".into(), human_bytes),
            match storage.estimated_bytes {
                Some(b) if ranks > 1 => format!(" ({} a rank)", human_bytes(b.div_ceil(ranks))),
                _ => String::new(),
            },
            human_bytes(budget),
            if out_of_core {
                "out of core, through a cache file"
            } else {
                "in memory"
            }
        )
    });
    if !out_of_core {
        return Ok(Decision {
            storage,
            out_of_core: None,
        });
    }
    Ok(Decision {
        storage,
        out_of_core: Some((tables, cache_dir(s))),
    })
}

/// Under mpirun, rank 0's decision holds for all (each rank decided on its
/// own memory): this rank's decision, made to agree with rank 0's.
pub fn decide_together(
    s: &FitSettings,
    verbosity: Verbosity,
    comm: &dyn gmm_core::Collective,
) -> Result<Decision> {
    let mine = crate::distributed::agree(decide(s, verbosity, comm.size()))?;
    let all = comm.all_gather_bytes(&[u8::from(mine.out_of_core.is_some())]);
    let root = all[0] == [1];
    Ok(match (root, mine.out_of_core) {
        (true, None) => Decision {
            out_of_core: Some((crate::distributed::agree(Tables::open(s))?, cache_dir(s))),
            ..mine
        },
        (false, Some(_)) => Decision {
            out_of_core: None,
            ..mine
        },
        (_, out_of_core) => Decision {
            out_of_core,
            ..mine
        },
    })
}

/// Loads the rows through the cache in `dir`: reuses it when it was built
/// from the same files and columns, else builds it (with a progress bar
/// counting rows), then maps it.
/// Under mpirun with the rows split (`split`: the processes and
/// `chunk_rows`), rank 0 builds or checks the cache, then every rank maps
/// it and takes its share of the rows; the cache directory must then be one
/// every rank can read.
pub fn load(
    tables: Tables,
    dir: &Path,
    storage: Storage,
    verbosity: Verbosity,
    split: Option<(&dyn gmm_core::Collective, usize)>,
) -> Result<LoadedData> {
    let plan = CachePlan::new(dir, tables.parts())?;
    let Some((comm, chunk_rows)) = split else {
        let opened = open_or_build(&tables, &plan, dir, verbosity)?;
        return from_cache(tables, opened, storage, None);
    };
    let built = if comm.rank() == 0 {
        crate::distributed::agree(open_or_build(&tables, &plan, dir, verbosity).map(Some))?
    } else {
        crate::distributed::agree(Ok(None::<Opened>))?
    };
    let opened = match built {
        Some(opened) => Ok(opened),
        // Rank 0 has just built or checked it: open it as it is.
        None => plan.open().map(|c| (c, None, None)).map_err(|why| {
            anyhow::anyhow!(
                "cannot open the out-of-core cache {} that rank 0 prepared ({why}); under mpirun --cache-dir must be a directory every rank can read, on a shared filesystem",
                plan.path().display()
            )
        }),
    };
    let opened = crate::distributed::agree(opened)?;
    from_cache(tables, opened, storage, Some((comm, chunk_rows)))
}

/// A cache and, when it was (re)built, why and in how many seconds.
type Opened = (gmm_io::DataCache, Option<String>, Option<f64>);

/// Reuses the cache when it was built from the same files and columns,
/// else builds it, with a progress bar counting rows.
fn open_or_build(
    tables: &Tables,
    plan: &CachePlan<'_>,
    dir: &Path,
    verbosity: Verbosity,
) -> Result<Opened> {
    let input = tables.source.path().display().to_string();
    Ok(match plan.open() {
        Ok(cache) => {
            let rows = cache.n_rows() as u64;
            let bytes = cache.file_bytes();
            let built = &cache.meta().created;
            verbosity.note(|| {
                format!(
                    "cache: reusing {} ({} rows, {}, built {built})",
                    cache.path().display(),
                    thousands(rows),
                    human_bytes(bytes)
                )
            });
            (cache, None, None)
        }
        Err(why) => {
            verbosity.log(|| format!("cache: building {} ({why})", plan.path().display()));
            let started = Instant::now();
            let message = format!("building cache {}", plan.path().display());
            let bar = match tables.estimated_rows() {
                Some(n) if tables.source.known_rows().is_some() => {
                    rows_bar(verbosity, n as u64, &message)
                }
                _ => spinner(
                    verbosity,
                    &format!(
                        "{} for {}",
                        message,
                        loading_message(&input, None, tables.source.n_files())
                    ),
                ),
            };
            let interrupt = crate::commands::interrupt_flag();
            let built = plan.build(&mut |rows| {
                bar.set_position(rows as u64);
                if bar.length().is_none() {
                    let secs = started.elapsed().as_secs_f64().max(1e-9);
                    bar.set_message(format!(
                        "{message}: {} rows ({} rows/s)",
                        thousands(rows as u64),
                        si(rows as f64 / secs)
                    ));
                }
                !interrupt.load(std::sync::atomic::Ordering::Relaxed)
            });
            bar.finish_and_clear();
            crate::commands::check_interrupted()?;
            let cache = built.with_context(|| {
                format!(
                    "building the out-of-core cache in {} (free disk space there, or choose another directory with --cache-dir)",
                    dir.display()
                )
            })?;
            let secs = started.elapsed().as_secs_f64();
            verbosity.note(|| {
                format!(
                    "cache: built {} ({} rows, {}) in {secs:.2} s, {} rows/s",
                    cache.path().display(),
                    thousands(cache.n_rows() as u64),
                    human_bytes(cache.file_bytes()),
                    si(cache.n_rows() as f64 / secs.max(1e-9))
                )
            });
            (cache, Some(why), Some(secs))
        }
    })
}

/// Part of a mapped region, as the engine's shared slice.
struct Part<T: 'static> {
    whole: gmm_core::SharedSlice<T>,
    range: std::ops::Range<usize>,
}

impl<T: 'static> AsRef<[T]> for Part<T> {
    fn as_ref(&self) -> &[T] {
        &(*self.whole).as_ref()[self.range.clone()]
    }
}

fn part<T: Send + Sync + 'static>(
    whole: gmm_core::SharedSlice<T>,
    range: std::ops::Range<usize>,
) -> gmm_core::SharedSlice<T> {
    std::sync::Arc::new(Part { whole, range })
}

/// The rows of a mapped cache: all of them, or this rank's share.
fn from_cache(
    tables: Tables,
    (cache, built_because, build_seconds): Opened,
    mut storage: Storage,
    split: Option<(&dyn gmm_core::Collective, usize)>,
) -> Result<LoadedData> {
    let meta = cache.meta().clone();
    let d = meta.columns.len();
    let n_rows = cache.n_rows();
    let global_input_rows = meta.part_rows[0];
    // This process's rows of [input rows, labeled rows].
    let (a, b) = match split {
        None => (0, n_rows),
        Some((comm, chunk_rows)) => gmm_core::share(n_rows, chunk_rows, comm.rank(), comm.size()),
    };
    let (ia, ib) = (a.min(global_input_rows), b.min(global_input_rows));
    let n_input_rows = ib - ia;
    if let (Some((lsrc, _)), Some(&0)) = (&tables.labeled, meta.part_labeled.get(1)) {
        let column = tables.label_column.as_deref().unwrap_or("label");
        anyhow::bail!(
            "{}: the label column `{column}` holds no labels",
            lsrc.path().display()
        );
    }
    let mut dataset = Dataset::from_shared(part(cache.values(), a * d..b * d), d)?;
    if let Some(w) = cache.weights() {
        dataset = dataset.with_shared_weights(part(w, a..b))?;
    }
    let n_labeled: usize = meta.part_labeled.iter().sum();
    let mut classes = None;
    if let (Some(codes), Some(names)) = (cache.labels(), &meta.classes)
        && n_labeled > 0
    {
        let c = Classes::from_names(names.clone());
        dataset = dataset.with_shared_labels(part(codes, a..b), c.len())?;
        classes = Some(c);
    }
    // Ids are not cached: they are read again, alone (one column).
    let ids = match tables.proj.id {
        None => None,
        Some(id) => {
            let only_ids = Projection {
                features: Vec::new(),
                feature_names: Vec::new(),
                label: None,
                weight: None,
                id: Some(id),
            };
            match tables.source.known_rows() {
                Some(_) if tables.source.format() == gmm_io::InputFormat::Parquet => {
                    tables.source.read_rows(&only_ids, ia..ib)?.ids
                }
                _ => {
                    let ids = tables.source.read_all(&only_ids)?.ids;
                    ids.map(|ids| ids.slice(ia, ib - ia))
                }
            }
        }
    };
    storage.cache = Some(CacheUse {
        path: cache.path().to_path_buf(),
        reused: cache.reused(),
        built_because,
        build_seconds,
        file_bytes: cache.file_bytes(),
    });
    Ok(LoadedData {
        dataset,
        columns: meta.columns,
        column_types: meta.column_types,
        n_input_rows,
        ids,
        id_field: tables.id_field,
        classes,
        label_column: tables.label_column,
        n_labeled,
        share: split.map(|_| crate::dataset::Share {
            row_offset: a,
            global_rows: n_rows,
            global_input_rows,
        }),
        storage,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(25_600_000_000), "23.8 GiB");
        assert!(physical_memory().is_none_or(|m| m > 1 << 20));
    }
}
