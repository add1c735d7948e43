//! Rows read through the out-of-core cache: built (or reused) once, then
//! memory-mapped, whole or one process's share of it.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use gmm_core::{Collective, SharedSlice};

use super::tables::JobTables;
use super::{CacheUse, LoadObserver, LoadedData, RankShare, Storage, agree};
use crate::cache::{CachePlan, DataCache};
use crate::error::{IoError, Result};
use crate::format::InputFormat;
use crate::labels::Classes;
use crate::projection::Projection;

/// A cache and, when it was (re)built, why and in how many seconds.
type Opened = (DataCache, Option<String>, Option<f64>);

/// Loads the rows through the cache in `dir`: reuses it when it was built
/// from the same files and columns, else builds it, then maps it.
/// Under `split` (the processes and `chunk_rows`), rank 0 builds or checks
/// the cache, then every rank maps it and takes its share of the rows; the
/// cache directory must then be one every rank can read.
pub(crate) fn load(
    tables: JobTables,
    dir: &Path,
    storage: Storage,
    split: Option<(&dyn Collective, usize)>,
    observer: &mut dyn LoadObserver,
) -> Result<LoadedData> {
    let plan = CachePlan::new(dir, tables.cache_parts())?;
    let Some((comm, chunk_rows)) = split else {
        let opened = open_or_build(&tables, &plan, dir, observer)?;
        return from_cache(tables, opened, storage, None);
    };
    let built = if comm.rank() == 0 {
        agree(comm, open_or_build(&tables, &plan, dir, observer).map(Some))?
    } else {
        agree(comm, Ok(None::<Opened>))?
    };
    let opened = match built {
        Some(opened) => Ok(opened),
        // Rank 0 has just built or checked it: open it as it is.
        None => plan
            .open()
            .map(|c| (c, None, None))
            .map_err(|why| IoError::CacheNotShared {
                path: plan.path().to_path_buf(),
                why,
            }),
    };
    let opened = agree(comm, opened)?;
    from_cache(tables, opened, storage, Some((comm, chunk_rows)))
}

/// Reuses the cache when it was built from the same files and columns,
/// else builds it, telling the observer how far it got.
fn open_or_build(
    tables: &JobTables,
    plan: &CachePlan<'_>,
    dir: &Path,
    observer: &mut dyn LoadObserver,
) -> Result<Opened> {
    Ok(match plan.open() {
        Ok(cache) => {
            observer.cache_reused(&cache);
            (cache, None, None)
        }
        Err(why) => {
            let started = Instant::now();
            // A row count to measure progress by, when the input records it.
            let total_rows = tables
                .estimated_rows()
                .filter(|_| tables.source.known_rows().is_some());
            observer.cache_building(plan.path(), &why, &tables.source, total_rows);
            let built = plan.build(&mut |rows| {
                observer.cache_rows(rows);
                !observer.should_stop()
            });
            observer.cache_build_ended();
            if observer.should_stop() {
                return Err(IoError::Interrupted);
            }
            let cache = built.map_err(|e| IoError::CacheBuild {
                dir: dir.to_path_buf(),
                source: Box::new(e),
            })?;
            let secs = started.elapsed().as_secs_f64();
            observer.cache_built(&cache, secs);
            (cache, Some(why), Some(secs))
        }
    })
}

/// Part of a mapped region, as the engine's shared slice.
struct Part<T: 'static> {
    whole: SharedSlice<T>,
    range: std::ops::Range<usize>,
}

impl<T: 'static> AsRef<[T]> for Part<T> {
    fn as_ref(&self) -> &[T] {
        &(*self.whole).as_ref()[self.range.clone()]
    }
}

fn part<T: Send + Sync + 'static>(
    whole: SharedSlice<T>,
    range: std::ops::Range<usize>,
) -> SharedSlice<T> {
    Arc::new(Part { whole, range })
}

/// The rows of a mapped cache: all of them, or this rank's share.
fn from_cache(
    tables: JobTables,
    (cache, built_because, build_seconds): Opened,
    mut storage: Storage,
    split: Option<(&dyn Collective, usize)>,
) -> Result<LoadedData> {
    let meta = cache.meta().clone();
    let n_rows = cache.n_rows();
    let global_input_rows = meta.part_rows[0];
    // This process's rows of [input rows, labeled rows].
    let (a, b) = match split {
        None => (0, n_rows),
        Some((comm, chunk_rows)) => gmm_core::share(n_rows, chunk_rows, comm.rank(), comm.size()),
    };
    let (ia, ib) = (a.min(global_input_rows), b.min(global_input_rows));
    let n_input_rows = ib - ia;
    if let (Some(labeled), Some(&0)) = (&tables.labeled, meta.part_labeled.get(1)) {
        let column = tables.label_column.as_deref().unwrap_or("label");
        return Err(IoError::NoLabels {
            path: labeled.source.path().to_path_buf(),
            column: column.to_string(),
        });
    }
    let mut dataset = cache.dataset(a..b)?;
    if let Some(w) = cache.weights() {
        dataset = dataset.with_shared_weights(part(w, a..b))?;
    }
    if let Some(f) = cache.initial_noise() {
        dataset = dataset.with_shared_initial_noise(part(f, a..b))?;
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
    // Passthrough columns are not cached: they are read again, alone.
    let passthrough = match tables.proj.passthrough.is_empty() {
        true => None,
        false => {
            let only_passthrough = Projection {
                features: Vec::new(),
                feature_names: Vec::new(),
                label: None,
                weight: None,
                noise_init: None,
                passthrough: tables.proj.passthrough.clone(),
                filter_columns: tables.proj.filter_columns.clone(),
                skipped: Vec::new(),
                precision: tables.proj.precision,
                missing: crate::Missing::Error,
            };
            match tables.source.known_rows() {
                Some(_) if tables.source.format() == InputFormat::Parquet => {
                    tables
                        .source
                        .read_rows(&only_passthrough, ia..ib)?
                        .passthrough
                }
                _ => {
                    let all = tables.source.read_all(&only_passthrough)?.passthrough;
                    all.map(|a| a.slice(ia, ib - ia))
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
        skipped_columns: tables.proj.skipped.clone(),
        n_input_rows,
        passthrough,
        passthrough_field: tables.passthrough_field,
        classes,
        label_column: tables.label_column,
        class_type: tables.class_type,
        n_labeled,
        n_dropped: meta.dropped_rows,
        n_incomplete: 0,
        share: split.map(|_| RankShare {
            row_offset: a,
            global_rows: n_rows,
            global_input_rows,
        }),
        storage,
    })
}
