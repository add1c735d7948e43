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

/// Compares the selected data's estimated size with the budget.
pub fn decide(s: &FitSettings, verbosity: Verbosity) -> Result<Decision> {
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
    let out_of_core = storage.estimated_bytes.is_some_and(|b| b > budget);
    verbosity.log(|| {
        format!(
            "data: about {} as f64 rows, memory budget {} ({budget_from}): {}",
            storage
                .estimated_bytes
                .map_or("an unknown size".into(), human_bytes),
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
    let dir = s.data.cache_dir.clone().unwrap_or_else(|| {
        s.out
            .parent()
            .unwrap_or(Path::new(""))
            .join(DEFAULT_CACHE_DIR)
    });
    Ok(Decision {
        storage,
        out_of_core: Some((tables, dir)),
    })
}

/// Loads the rows through the cache in `dir`: reuses it when it was built
/// from the same files and columns, else builds it (with a progress bar
/// counting rows), then maps it.
pub fn load(
    tables: Tables,
    dir: &Path,
    mut storage: Storage,
    verbosity: Verbosity,
) -> Result<LoadedData> {
    let input = tables.source.path().display().to_string();
    let plan = CachePlan::new(dir, tables.parts())?;
    let (cache, built_because, build_seconds) = match plan.open() {
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
    };

    let meta = cache.meta().clone();
    let d = meta.columns.len();
    let n_input_rows = meta.part_rows[0];
    if let (Some((lsrc, _)), Some(&0)) = (&tables.labeled, meta.part_labeled.get(1)) {
        let column = tables.label_column.as_deref().unwrap_or("label");
        anyhow::bail!(
            "{}: the label column `{column}` holds no labels",
            lsrc.path().display()
        );
    }
    let mut dataset = Dataset::from_shared(cache.values(), d)?;
    if let Some(w) = cache.weights() {
        dataset = dataset.with_shared_weights(w)?;
    }
    let n_labeled: usize = meta.part_labeled.iter().sum();
    let mut classes = None;
    if let (Some(codes), Some(names)) = (cache.labels(), &meta.classes)
        && n_labeled > 0
    {
        let c = Classes::from_names(names.clone());
        dataset = dataset.with_shared_labels(codes, c.len())?;
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
            tables.source.read_all(&only_ids)?.ids
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
        share: None,
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
