//! Loading a job's rows: the input table, and the labeled table if any,
//! stacked into one engine dataset (input rows first).

use anyhow::{Context, Result, bail};
use gmm_core::{Dataset, UNLABELED};
use gmm_io::arrow::array::ArrayRef;
use gmm_io::arrow::datatypes::Field;
use gmm_io::{Classes, ColumnSpec, IoError, TableSource, label_values};

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
    pub n_labeled: usize,
}

/// Loads the rows; `on_open` sees the input table once it is opened and
/// before its rows are read (for a progress message with the row count).
pub fn load(settings: &DataSettings, on_open: impl FnOnce(&TableSource)) -> Result<LoadedData> {
    let source = TableSource::open(&settings.input, settings.delimiter)?;
    on_open(&source);
    // With a labeled table, the label column may live in it alone.
    let input_label = settings
        .label_column
        .clone()
        .filter(|l| settings.labeled.is_none() || source.schema().field_with_name(l).is_ok());
    let spec = ColumnSpec {
        features: settings.columns.clone(),
        label: input_label.clone(),

        weight: settings.weight_column.clone(),
        id: settings.id_column.clone(),
    };
    let proj = source.project(&spec)?;
    let id_field = proj
        .id
        .map(|i| source.schema().field(i).clone().with_nullable(true));

    // The labeled table is small: read it first so the input's buffer can
    // be allocated once with room for it.
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
            let lspec = ColumnSpec {
                features: proj.feature_names.clone(),
                label: Some(label.clone()),
                weight,
                id: None,
            };
            let lproj = lsrc.project(&lspec)?;
            Some((lsrc.read_all(&lproj)?, label))
        }
    };
    let extra_rows = labeled.as_ref().map_or(0, |(t, _)| t.n_rows);
    let table = source.read_all_with_capacity(&proj, extra_rows)?;
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
    if let Some((lt, lcol)) = &labeled {
        let lv = label_values(lcol, lt.labels.as_ref().expect("label column projected")).map_err(
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
        values.extend(lv);
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
    let mut dataset = Dataset::from_row_major(x, d)?;
    if let Some(w) = weights {
        dataset = dataset.with_weights(w)?;
    }
    let mut classes = None;
    let mut n_labeled = 0;
    if has_labels {
        let c = Classes::from_values(&values);
        let codes = c.encode(&values).map_err(anyhow::Error::msg)?;
        n_labeled = codes.iter().filter(|&&v| v != UNLABELED).count();
        if n_labeled > 0 {
            dataset = dataset.with_labels(codes, c.len())?;
            classes = Some(c);
        }
    }
    Ok(LoadedData {
        dataset,
        columns: table.columns,
        column_types: table.column_types,
        n_input_rows,
        ids: table.ids,
        id_field,
        classes,
        label_column,
        n_labeled,
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
