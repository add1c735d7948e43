//! Loading a job's rows: the glue between gmm-io's loader
//! ([`gmm_io::load`]), which decides where the rows live, and the command
//! line: progress on standard error, Ctrl-C, and errors told with the exit
//! status they deserve.

use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use gmm_io::load::{BudgetSource, DataSpec, LoadObserver, Processes, Storage, StorageDecision};
use gmm_io::{DataCache, ErrorClass, IoError, TableSource};
use indicatif::ProgressBar;
use serde_json::json;

use crate::error::{RankFailed, UsageError};
use crate::progress::{Verbosity, loading_message, rows_bar, si, spinner, thousands};

pub use gmm_io::load::LoadedData;

/// Loads the rows of `spec` as `processes` share them, with a progress
/// display: a spinner while tables load, a bar while the out-of-core cache
/// is built, and the decisions logged with `--verbose`.
pub fn load(spec: &DataSpec, processes: Processes<'_>, verbosity: Verbosity) -> Result<LoadedData> {
    let mut progress = LoadProgress {
        verbosity,
        input: spec.input.clone(),
        loading: spinner(verbosity, &format!("loading {}", spec.input)),
        cache_bar: None,
        interrupt: crate::interrupt::interrupt_flag(),
    };
    let loaded = gmm_io::load::load(spec, processes, &mut progress);
    progress.loading.finish_and_clear();
    loaded.map_err(load_error)
}

/// A loading error as the binary reports it: with the exit status of its
/// kind (usage 2, interrupted 130, data 1), on every rank.
pub fn load_error(e: IoError) -> anyhow::Error {
    match e {
        IoError::OnRank {
            rank,
            class,
            message,
        } => RankFailed {
            rank,
            code: match class {
                ErrorClass::Data => 1,
                ErrorClass::Usage => 2,
                ErrorClass::Interrupted => 130,
            },
            message,
        }
        .into(),
        IoError::Interrupted => gmm_core::GmmError::Interrupted.into(),
        IoError::Engine(e) => e.into(),
        e @ IoError::LabelColumnUnknown { .. } => UsageError(e.to_string()).into(),
        e => e.into(),
    }
}

/// Where a fit's rows were held and why, as run.json records it.
pub trait StorageJson {
    fn to_json(&self) -> serde_json::Value;
}

impl StorageJson for Storage {
    fn to_json(&self) -> serde_json::Value {
        json!({
            "out_of_core": self.cache.is_some(),
            "estimated_bytes": self.estimated_bytes,
            "max_memory": self.max_memory,
            "max_memory_from": self.budget_from.map_or("", budget_origin),
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

/// Where the memory budget came from, in the terms of the command line.
fn budget_origin(from: BudgetSource) -> &'static str {
    match from {
        BudgetSource::Given => "--max-memory / [data] max_memory",
        BudgetSource::Unlimited => "--max-memory / [data] max_memory (unlimited)",
        BudgetSource::PhysicalMemory => "default: half of physical memory",
        BudgetSource::PhysicalMemoryUnknown => "default: physical memory unknown, no limit",
    }
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

/// Loading told on standard error.
struct LoadProgress {
    verbosity: Verbosity,
    input: String,
    loading: ProgressBar,
    /// While the cache is built: its bar, what it says, and when it began.
    cache_bar: Option<(ProgressBar, String, Instant)>,
    interrupt: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl LoadObserver for LoadProgress {
    fn stop_flag(&self) -> Option<std::sync::Arc<std::sync::atomic::AtomicBool>> {
        Some(self.interrupt.clone())
    }

    fn table_opened(&mut self, source: &TableSource) {
        let message = loading_message(&self.input, source.known_rows(), source.n_files());
        crate::joblog::phase("load", || {
            format!("reading {}", message.trim_start_matches("loading "))
        });
        self.loading.set_message(message);
    }

    fn storage_decided(&mut self, d: &StorageDecision) {
        let StorageDecision {
            estimated_bytes,
            budget,
            budget_from,
            ranks,
            out_of_core,
        } = *d;
        self.verbosity.log(|| {
            format!(
                "data: about {}{} as f64 rows, memory budget {} ({}): {}",
                estimated_bytes.map_or("an unknown size".into(), human_bytes),
                match estimated_bytes {
                    Some(b) if ranks > 1 => {
                        format!(" ({} a rank)", human_bytes(b.div_ceil(ranks as u64)))
                    }
                    _ => String::new(),
                },
                human_bytes(budget),
                budget_origin(budget_from),
                if out_of_core {
                    "out of core, through a cache file"
                } else {
                    "in memory"
                }
            )
        });
        if out_of_core {
            self.loading.finish_and_clear();
        }
    }

    fn cache_reused(&mut self, cache: &DataCache) {
        self.verbosity.note(|| {
            format!(
                "cache: reusing {} ({} rows, {}, built {})",
                cache.path().display(),
                thousands(cache.n_rows() as u64),
                human_bytes(cache.file_bytes()),
                cache.meta().created
            )
        });
    }

    fn cache_building(
        &mut self,
        path: &Path,
        why: &str,
        input: &TableSource,
        total_rows: Option<usize>,
    ) {
        self.verbosity
            .log(|| format!("cache: building {} ({why})", path.display()));
        crate::joblog::phase("cache", || format!("building {} ({why})", path.display()));
        let message = format!("building cache {}", path.display());
        let bar = match total_rows {
            Some(n) => rows_bar(self.verbosity, n as u64, &message),
            None => spinner(
                self.verbosity,
                &format!(
                    "{} for {}",
                    message,
                    loading_message(&input.path().display().to_string(), None, input.n_files())
                ),
            ),
        };
        self.cache_bar = Some((bar, message, Instant::now()));
    }

    fn cache_rows(&mut self, rows: usize) {
        let Some((bar, message, started)) = &self.cache_bar else {
            return;
        };
        bar.set_position(rows as u64);
        let secs = started.elapsed().as_secs_f64().max(1e-9);
        crate::joblog::update(|s| {
            s.rows_done = Some(rows as u64);
            s.rows_per_sec = Some(rows as f64 / secs);
        });
        if bar.length().is_none() {
            bar.set_message(format!(
                "{message}: {} rows ({} rows/s)",
                thousands(rows as u64),
                si(rows as f64 / secs)
            ));
        }
    }

    fn cache_build_ended(&mut self) {
        if let Some((bar, _, _)) = self.cache_bar.take() {
            bar.finish_and_clear();
        }
    }

    fn cache_built(&mut self, cache: &DataCache, secs: f64) {
        self.verbosity.note(|| {
            format!(
                "cache: built {} ({} rows, {}) in {secs:.2} s, {} rows/s",
                cache.path().display(),
                thousands(cache.n_rows() as u64),
                human_bytes(cache.file_bytes()),
                si(cache.n_rows() as f64 / secs.max(1e-9))
            )
        });
    }

    fn should_stop(&mut self) -> bool {
        self.interrupt.load(std::sync::atomic::Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(25_600_000_000), "23.8 GiB");
    }
}
