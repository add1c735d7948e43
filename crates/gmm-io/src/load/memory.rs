//! Rows read into memory: every row, or one process's share of a table
//! split among processes, with the labeled table's rows stacked after the
//! input's.

use arrow::array::ArrayRef;
use gmm_core::{Collective, UNLABELED};

use super::tables::{JobTables, LabeledTable};
use super::{LoadedData, RankShare};
use crate::error::{IoError, Result};
use crate::format::InputFormat;
use crate::labels::{Classes, label_values};
use crate::rows::RowValues;
use crate::table::Table;

/// What one process read, before the classes are agreed on.
pub(crate) struct ReadRows {
    x: RowValues,
    d: usize,
    weights: Option<Vec<f64>>,
    noise_init: Option<Vec<bool>>,
    values: Vec<Option<String>>,
    has_labels: bool,
    columns: Vec<String>,
    column_types: Vec<String>,
    n_input_rows: usize,
    passthrough: Option<ArrayRef>,
    share: Option<RankShare>,
}

/// Rows `a..b` of a table.
fn slice_table(mut t: Table, a: usize, b: usize) -> Table {
    let (a, b) = (a.min(t.n_rows), b.min(t.n_rows).max(a.min(t.n_rows)));
    let d = t.columns.len();
    t.x = t.x.slice(a * d, b * d);
    t.weights = t.weights.map(|w| w[a..b].to_vec());
    t.labels = t.labels.map(|l| l.slice(a, b - a));
    t.noise_init = t.noise_init.map(|f| f[a..b].to_vec());
    t.passthrough = t.passthrough.map(|l| l.slice(a, b - a));
    t.n_rows = b - a;
    t
}

/// Reads the rows of `tables`: all of them, or under `split` (the
/// processes and `chunk_rows`) this process's share, in whole chunks:
/// Parquet row groups outside the share are not read.
pub(crate) fn read(
    tables: &JobTables,
    split: Option<(&dyn Collective, usize)>,
) -> Result<ReadRows> {
    let JobTables {
        source,
        proj,
        input_label,
        ..
    } = tables;
    // The labeled table is small: read it first so the input's buffer can
    // be allocated once with room for it.
    let labeled = match &tables.labeled {
        None => None,
        Some(LabeledTable {
            source: lsrc,
            proj: lproj,
            label_column,
        }) => Some((lsrc.read_all(lproj)?, label_column.clone())),
    };
    let extra_rows = labeled.as_ref().map_or(0, |(t, _)| t.n_rows);
    let (table, share) = match split {
        None => (source.read_all_with_capacity(proj, extra_rows)?, None),
        Some((comm, chunk_rows)) => {
            // This process's rows of [input rows, labeled rows].
            let range = |n_input: usize| {
                gmm_core::share(n_input + extra_rows, chunk_rows, comm.rank(), comm.size())
            };
            let (table, n_input, (a, b)) = match source.known_rows() {
                Some(n) if source.format() == InputFormat::Parquet => {
                    let (a, b) = range(n);
                    (source.read_rows(proj, a.min(n)..b.min(n))?, n, (a, b))
                }
                // CSV and Arrow IPC: every process parses the whole table
                // and keeps its share.
                _ => {
                    let t = source.read_all(proj)?;
                    let n = t.n_rows;
                    let (a, b) = range(n);
                    (slice_table(t, a, b), n, (a, b))
                }
            };
            if n_input == 0 {
                return Err(IoError::EmptyTable {
                    path: source.path().to_path_buf(),
                });
            }
            let share = RankShare {
                row_offset: a,
                global_rows: n_input + extra_rows,
                global_input_rows: n_input,
            };
            (table, Some((share, b)))
        }
    };
    let n_input_rows = table.n_rows;
    let d = table.columns.len();

    // Labels of the input (if it has a label column), then of the labeled table.
    let mut values: Vec<Option<String>> = Vec::new();
    let has_labels = table.labels.is_some() || labeled.is_some();
    if has_labels {
        match &table.labels {
            Some(a) => values.extend(
                label_values(input_label.as_deref().unwrap_or(""), a).map_err(|detail| {
                    IoError::BadLabel {
                        path: source.path().to_path_buf(),
                        column: input_label.clone().unwrap_or_default(),
                        detail,
                    }
                })?,
            ),

            None => values.resize(n_input_rows, None),
        }
    }
    let mut x = table.x;
    let mut weights = table.weights;
    let mut noise_init = table.noise_init;
    if let Some((lt, lcol)) = labeled {
        let lv = label_values(&lcol, lt.labels.as_ref().expect("label column projected")).map_err(
            |detail| IoError::BadLabel {
                path: lt.source.clone(),
                column: lcol.clone(),
                detail,
            },
        )?;
        if lv.iter().all(Option::is_none) {
            return Err(IoError::NoLabels {
                path: lt.source.clone(),
                column: lcol,
            });
        }
        // Under a split, only the labeled rows of this process's share.
        let (la, lb) = match share {
            None => (0, lt.n_rows),
            Some((sh, end)) => {
                let n = sh.global_input_rows;
                (sh.row_offset.max(n) - n, end.max(n) - n)
            }
        };
        let lt = slice_table(lt, la, lb);
        values.extend(lv[la..lb].iter().cloned());
        x.extend_from(&lt.x);
        match (&mut weights, &lt.weights) {
            (Some(w), Some(lw)) => w.extend_from_slice(lw),
            (Some(w), None) => w.extend(std::iter::repeat_n(1.0, lt.n_rows)),
            (None, Some(lw)) => {
                let mut w = vec![1.0; n_input_rows];
                w.extend_from_slice(lw);
                weights = Some(w);
            }
            (None, None) => {}
        }
        if let Some(f) = noise_init.as_mut() {
            f.extend(std::iter::repeat_n(false, lt.n_rows));
        }
    }
    Ok(ReadRows {
        x,
        d,
        weights,
        noise_init,
        values,
        has_labels,
        columns: table.columns,
        column_types: table.column_types,
        n_input_rows,
        passthrough: table.passthrough,
        share: share.map(|s| s.0),
    })
}

/// The engine's dataset from what was read; under a split (`comm`), the
/// classes and the count of labeled rows are those of the whole table.
pub(crate) fn assemble(
    tables: &JobTables,
    rows: ReadRows,
    comm: Option<&dyn Collective>,
) -> Result<LoadedData> {
    // Rows left out for a missing value (weight -0.0): none of them
    // counts as labeled either.
    let dropped: Vec<bool> = match (&rows.weights, tables.proj.missing) {
        (Some(w), crate::Missing::Drop) => {
            w.iter().map(|&v| crate::Missing::is_dropped(v)).collect()
        }
        _ => Vec::new(),
    };
    let mut n_dropped = dropped.iter().filter(|&&d| d).count();
    if let Some(comm) = comm {
        n_dropped = sum_over_ranks(comm, n_dropped)?;
    }
    let mut dataset = rows.x.into_dataset(rows.d)?;
    if let Some(w) = rows.weights {
        dataset = dataset.with_weights(w)?;
    }
    if let Some(f) = rows.noise_init {
        dataset = dataset.with_initial_noise(f)?;
    }
    let mut classes = None;
    let mut n_labeled = 0;
    if rows.has_labels {
        let c = match comm {
            None => Classes::from_values(&rows.values),
            Some(comm) => {
                // Length-prefixed, so any class name (a newline in it,
                // say) crosses intact.
                let mut mine = gmm_core::wire::Writer::new();
                for name in Classes::from_values(&rows.values).names() {
                    mine.str(name);
                }
                let mut names = Vec::new();
                for b in comm.all_gather_bytes(mine.as_bytes()) {
                    let mut r = gmm_core::wire::Reader::new(&b);
                    while !r.is_empty() {
                        names.push(r.str()?.to_string());
                    }
                }
                Classes::from_names(names)
            }
        };
        let mut codes = c
            .encode(&rows.values)
            .map_err(|detail| IoError::UnknownClass { detail })?;
        for (code, _) in codes.iter_mut().zip(&dropped).filter(|(_, d)| **d) {
            *code = UNLABELED;
        }
        n_labeled = codes.iter().filter(|&&v| v != UNLABELED).count();
        if let Some(comm) = comm {
            n_labeled = sum_over_ranks(comm, n_labeled)?;
        }
        if n_labeled > 0 {
            dataset = dataset.with_labels(codes, c.len())?;
            classes = Some(c);
        }
    }
    Ok(LoadedData {
        dataset,
        columns: rows.columns,
        column_types: rows.column_types,
        skipped_columns: tables.proj.skipped.clone(),
        n_input_rows: rows.n_input_rows,
        passthrough: rows.passthrough,
        passthrough_field: tables.passthrough_field.clone(),
        classes,
        label_column: tables.label_column.clone(),
        class_type: tables.class_type.clone(),
        n_labeled,
        n_dropped,
        n_incomplete: 0,
        share: rows.share,
        storage: Default::default(),
    })
}

/// The sum of `mine` over every rank.
pub(crate) fn sum_over_ranks(comm: &dyn Collective, mine: usize) -> Result<usize> {
    let mut w = gmm_core::wire::Writer::new();
    w.usize(mine);
    let mut total = 0;
    for b in comm.all_gather_bytes(w.as_bytes()) {
        total += gmm_core::wire::Reader::new(&b).usize()?;
    }
    Ok(total)
}
