//! Loading a job's rows: the input table, and the labeled table if any,
//! stacked into one engine dataset (input rows first).

use anyhow::{Context, Result, bail};
use gmm_core::{Dataset, UNLABELED};
use gmm_io::arrow::array::ArrayRef;
use gmm_io::arrow::datatypes::Field;
use gmm_io::{Classes, ColumnSpec, IoError, Projection, TableSource, label_values};

use crate::config::DataSettings;

/// The rows of a fit and what is needed to write results about them.
pub struct LoadedData {
    pub dataset: Dataset,
    pub columns: Vec<String>,
    pub column_types: Vec<String>,
    /// Rows of the input table (the first rows of the dataset).
    pub n_input_rows: usize,
    pub ids: Option<ArrayRef>,
    pub id_field: Option<Field>,
    pub classes: Option<Classes>,
    pub label_column: Option<String>,
    /// Labeled rows of the whole table (of every process).
    pub n_labeled: usize,
    /// Set when this process holds one share of a table split among
    /// processes (`mpirun`): the dataset, `ids` and `n_input_rows` are then
    /// this process's rows only.
    pub share: Option<Share>,
    /// Where the rows are held (memory, or an out-of-core cache file).
    pub storage: crate::outofcore::Storage,
}

/// Where one process's rows sit in a table split among processes.
#[derive(Debug, Clone, Copy)]
pub struct Share {
    /// Index of the first row in the whole table (input rows, then the
    /// labeled table's rows).
    pub row_offset: usize,
    pub global_rows: usize,
    pub global_input_rows: usize,
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

    /// The engine's view of the rows: under `mpirun`, this process's share
    /// marked as such.
    pub fn view(&self) -> gmm_core::DataView<'_> {
        let view = self.dataset.view();
        match (self.share, crate::distributed::comm()) {
            (Some(s), Some(comm)) => view.with_partition(gmm_core::Partition {
                comm: comm as &dyn gmm_core::Collective,
                row_offset: s.row_offset,
                global_rows: s.global_rows,
            }),
            _ => view,
        }
    }
}

/// Loads the rows; `on_open` sees the input table once it is opened and
/// before its rows are read (for a progress message with the row count).
pub fn load(settings: &DataSettings, on_open: impl FnOnce(&TableSource)) -> Result<LoadedData> {
    load_rows(settings, None, on_open)
}

/// Loads this process's share of the rows of a table split among the
/// processes of `comm`, in whole chunks of `chunk_rows`: Parquet row groups
/// outside the share are not read. Fails on every process if it fails on one.
pub fn load_share(
    settings: &DataSettings,
    comm: &dyn gmm_core::Collective,
    chunk_rows: usize,
    on_open: impl FnOnce(&TableSource),
) -> Result<LoadedData> {
    load_rows(settings, Some((comm, chunk_rows)), on_open)
}

/// Rows `a..b` of a table.
fn slice_table(mut t: gmm_io::Table, a: usize, b: usize) -> gmm_io::Table {
    let (a, b) = (a.min(t.n_rows), b.min(t.n_rows).max(a.min(t.n_rows)));
    let d = t.columns.len();
    t.x = t.x[a * d..b * d].to_vec();
    t.weights = t.weights.map(|w| w[a..b].to_vec());
    t.labels = t.labels.map(|l| l.slice(a, b - a));
    t.ids = t.ids.map(|l| l.slice(a, b - a));
    t.n_rows = b - a;
    t
}

fn load_rows(
    settings: &DataSettings,
    split: Option<(&dyn gmm_core::Collective, usize)>,
    on_open: impl FnOnce(&TableSource),
) -> Result<LoadedData> {
    // Reading can fail on one process only (a bad value in its share):
    // then all stop, with that process's message.
    let local = read_rows(settings, split, on_open);
    let parts = match split {
        None => local?,
        Some(_) => crate::distributed::agree(local)?,
    };
    assemble(parts, split.map(|s| s.0))
}

/// What one process read, before the classes are agreed on.
struct Parts {
    x: Vec<f64>,
    d: usize,
    weights: Option<Vec<f64>>,
    values: Vec<Option<String>>,
    has_labels: bool,
    columns: Vec<String>,
    column_types: Vec<String>,
    n_input_rows: usize,
    ids: Option<ArrayRef>,
    id_field: Option<Field>,
    label_column: Option<String>,
    share: Option<Share>,
}

/// A job's tables, opened, with the columns to read from each.
pub(crate) struct OpenTables {
    pub source: TableSource,
    pub proj: Projection,
    /// The label column, when the input table has it.
    pub input_label: Option<String>,
    pub id_field: Option<Field>,
    /// The labeled table, its columns and its label column.
    pub labeled: Option<(TableSource, Projection, String)>,
}

/// Opens the input table and the labeled table, if any, and resolves the
/// columns of each; `on_open` sees the input table once it is open.
pub(crate) fn open_tables(
    settings: &DataSettings,
    on_open: impl FnOnce(&TableSource),
) -> Result<OpenTables> {
    let source = TableSource::open(&settings.input, settings.delimiter)?;
    on_open(&source);
    // With a labeled table, the label column may live in it alone.
    let input_label = settings
        .label_column
        .clone()
        .filter(|l| settings.labeled.is_none() || source.schema().field_with_name(l).is_ok());
    let proj = source.project(&ColumnSpec {
        features: settings.columns.clone(),
        label: input_label.clone(),
        weight: settings.weight_column.clone(),
        id: settings.id_column.clone(),
    })?;
    let id_field = proj
        .id
        .map(|i| source.schema().field(i).clone().with_nullable(true));
    let labeled = match &settings.labeled {
        None => None,
        Some(path) => {
            let lsrc = TableSource::open(path, settings.delimiter)?;
            let label = match &settings.label_column {
                Some(l) => l.clone(),
                None => infer_label_column(&lsrc, &proj.feature_names, settings)?,
            };
            let weight = settings
                .weight_column
                .clone()
                .filter(|w| lsrc.schema().field_with_name(w).is_ok());
            let lproj = lsrc.project(&ColumnSpec {
                features: proj.feature_names.clone(),
                label: Some(label.clone()),
                weight,
                id: None,
            })?;
            Some((lsrc, lproj, label))
        }
    };
    Ok(OpenTables {
        source,
        proj,
        input_label,
        id_field,
        labeled,
    })
}

fn read_rows(
    settings: &DataSettings,
    split: Option<(&dyn gmm_core::Collective, usize)>,
    on_open: impl FnOnce(&TableSource),
) -> Result<Parts> {
    let OpenTables {
        source,
        proj,
        input_label,
        id_field,
        labeled,
    } = open_tables(settings, on_open)?;
    // The labeled table is small: read it first so the input's buffer can
    // be allocated once with room for it.
    let labeled = match labeled {
        None => None,
        Some((lsrc, lproj, label)) => Some((lsrc.read_all(&lproj)?, label)),
    };
    let extra_rows = labeled.as_ref().map_or(0, |(t, _)| t.n_rows);
    let (table, share) = match split {
        None => (source.read_all_with_capacity(&proj, extra_rows)?, None),
        Some((comm, chunk_rows)) => {
            // This process's rows of [input rows, labeled rows].
            let range = |n_input: usize| {
                gmm_core::share(n_input + extra_rows, chunk_rows, comm.rank(), comm.size())
            };
            let (table, n_input, (a, b)) = match source.known_rows() {
                Some(n) if source.format() == gmm_io::InputFormat::Parquet => {
                    let (a, b) = range(n);
                    (source.read_rows(&proj, a.min(n)..b.min(n))?, n, (a, b))
                }
                // CSV and Arrow IPC: every process parses the whole table
                // and keeps its share.
                _ => {
                    let t = source.read_all(&proj)?;
                    let n = t.n_rows;
                    let (a, b) = range(n);
                    (slice_table(t, a, b), n, (a, b))
                }
            };
            if n_input == 0 {
                return Err(IoError::EmptyTable {
                    path: source.path().to_path_buf(),
                }
                .into());
            }
            let share = Share {
                row_offset: a,
                global_rows: n_input + extra_rows,
                global_input_rows: n_input,
            };
            (table, Some((share, b)))
        }
    };
    let n_input_rows = table.n_rows;
    let d = table.columns.len();
    let label_column = settings
        .label_column
        .clone()
        .or_else(|| labeled.as_ref().map(|(_, l)| l.clone()));

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
    if let Some((lt, lcol)) = labeled {
        let lv = label_values(&lcol, lt.labels.as_ref().expect("label column projected")).map_err(
            |detail| IoError::BadLabel {
                path: lt.source.clone(),
                column: lcol.clone(),
                detail,
            },
        )?;
        if lv.iter().all(Option::is_none) {
            bail!(
                "{}: the label column `{lcol}` holds no labels",
                lt.source.display()
            );
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
        x.extend_from_slice(&lt.x);
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
    }
    Ok(Parts {
        x,
        d,
        weights,
        values,
        has_labels,
        columns: table.columns,
        column_types: table.column_types,
        n_input_rows,
        ids: table.ids,
        id_field,
        label_column,
        share: share.map(|s| s.0),
    })
}

/// The engine's dataset from what was read; under a split, the classes and
/// the count of labeled rows are those of the whole table.
fn assemble(p: Parts, comm: Option<&dyn gmm_core::Collective>) -> Result<LoadedData> {
    let mut dataset = Dataset::from_row_major(p.x, p.d)?;
    if let Some(w) = p.weights {
        dataset = dataset.with_weights(w)?;
    }
    let mut classes = None;
    let mut n_labeled = 0;
    if p.has_labels {
        let c = match comm {
            None => Classes::from_values(&p.values),
            Some(comm) => {
                let mut mine = gmm_core::wire::Writer::new();
                for name in Classes::from_values(&p.values).names() {
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
        let codes = c.encode(&p.values).map_err(anyhow::Error::msg)?;
        n_labeled = codes.iter().filter(|&&v| v != UNLABELED).count();
        if let Some(comm) = comm {
            let mut mine = gmm_core::wire::Writer::new();
            mine.usize(n_labeled);
            n_labeled = 0;
            for b in comm.all_gather_bytes(mine.as_bytes()) {
                n_labeled += gmm_core::wire::Reader::new(&b).usize()?;
            }
        }
        if n_labeled > 0 {
            dataset = dataset.with_labels(codes, c.len())?;
            classes = Some(c);
        }
    }
    Ok(LoadedData {
        dataset,
        columns: p.columns,
        column_types: p.column_types,
        n_input_rows: p.n_input_rows,
        ids: p.ids,
        id_field: p.id_field,
        classes,
        label_column: p.label_column,
        n_labeled,
        share: p.share,
        storage: Default::default(),
    })
}

/// The labeled table's label column when not named: its one column that is
/// not a feature (nor the weight column).
fn infer_label_column(
    src: &TableSource,
    features: &[String],
    settings: &DataSettings,
) -> Result<String> {
    let others: Vec<String> = src
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .filter(|n| !features.contains(n) && Some(n) != settings.weight_column.as_ref())
        .collect();
    match others.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(crate::error::UsageError(format!(
            "{}: cannot tell which column holds the labels (candidates: {}); name it with --label-column or [data] label_column",
            src.path().display(),
            if others.is_empty() { "none".to_string() } else { others.join(", ") }
        )))
        .context("reading the labeled table"),
    }
}
