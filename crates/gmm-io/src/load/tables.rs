//! A job's tables, opened: the input table and the labeled table, if any,
//! with the columns read from each, and what they are estimated to take.

use arrow::datatypes::Field;

use super::{DataSpec, LoadObserver};
use crate::cache::CachePart;
use crate::error::{IoError, Result};
use crate::projection::{ColumnSpec, Projection};
use crate::source::TableSource;

/// A labeled table, its columns and its label column.
pub(crate) struct LabeledTable {
    pub source: TableSource,
    pub proj: Projection,
    pub label_column: String,
}

/// A job's tables, opened, with the columns to read from each.
pub(crate) struct JobTables {
    pub source: TableSource,
    pub proj: Projection,
    /// The label column, when the input table has it.
    pub input_label: Option<String>,
    pub passthrough_field: Option<Field>,
    pub labeled: Option<LabeledTable>,
    /// The job's label column: as named, or found in the labeled table.
    pub label_column: Option<String>,
    /// The type of the classes in predictions (see [`crate::class_type`]):
    /// that of the label column in the input table, or else in the labeled
    /// table.
    pub class_type: Option<arrow::datatypes::DataType>,
}

impl JobTables {
    /// Opens the input table and the labeled table, if any, and resolves
    /// the columns of each; the observer sees the input table once it is
    /// open.
    pub fn open(spec: &DataSpec, observer: &mut dyn LoadObserver) -> Result<JobTables> {
        let source = TableSource::open_in(
            &spec.input,
            spec.delimiter,
            spec.filter.as_ref(),
            &spec.object_storage,
        )?
        .with_stop(observer.stop_flag());
        observer.table_opened(&source);
        // With a labeled table, the label column may live in it alone.
        let input_label = spec
            .label_column
            .clone()
            .filter(|l| spec.labeled.is_none() || source.schema().field_with_name(l).is_ok());
        let proj = source.project(&ColumnSpec {
            features: spec.columns.clone(),
            label: input_label.clone(),
            weight: spec.weight_column.clone(),
            noise_init: spec.noise_init_column.clone(),
            ids: spec.id_columns.clone(),
            keep: spec.keep_columns.clone(),
            precision: spec.precision,
            missing: spec.missing,
        })?;
        let passthrough_field = source.passthrough_field(&proj);
        let labeled = match &spec.labeled {
            None => None,
            Some(path) => {
                let lsrc = TableSource::open_in(path, spec.delimiter, None, &spec.object_storage)?
                    .with_stop(observer.stop_flag());
                let label = match &spec.label_column {
                    Some(l) => l.clone(),
                    None => infer_label_column(&lsrc, &proj.feature_names, spec)?,
                };
                let weight = spec
                    .weight_column
                    .clone()
                    .filter(|w| lsrc.schema().field_with_name(w).is_ok());
                let lproj = lsrc.project(&ColumnSpec {
                    features: proj.feature_names.clone(),
                    label: Some(label.clone()),
                    weight,
                    // The labeled table's rows are never in the set.
                    noise_init: None,
                    ids: Vec::new(),
                    keep: Vec::new(),
                    precision: spec.precision,
                    missing: spec.missing,
                })?;
                Some(LabeledTable {
                    source: lsrc,
                    proj: lproj,
                    label_column: label,
                })
            }
        };
        let label_column = spec
            .label_column
            .clone()
            .or_else(|| labeled.as_ref().map(|l| l.label_column.clone()));
        let class_type = input_label
            .as_ref()
            .map(|l| (&source, l))
            .or_else(|| labeled.as_ref().map(|l| (&l.source, &l.label_column)))
            .and_then(|(src, l)| src.schema().field_with_name(l).ok())
            .map(|f| crate::class_type(f.data_type()));
        Ok(JobTables {
            source,
            proj,
            input_label,
            passthrough_field,
            labeled,
            label_column,
            class_type,
        })
    }

    /// The tables as the parts of a cache, the input first.
    pub fn cache_parts(&self) -> Vec<CachePart<'_>> {
        let mut parts = vec![CachePart {
            source: &self.source,
            projection: &self.proj,
        }];
        if let Some(l) = &self.labeled {
            parts.push(CachePart {
                source: &l.source,
                projection: &l.proj,
            });
        }
        parts
    }

    /// Estimated rows (`None` when a table's rows cannot be estimated).
    pub fn estimated_rows(&self) -> Option<usize> {
        self.cache_parts().iter().try_fold(0usize, |n, p| {
            Some(n.saturating_add(p.source.estimated_rows()?))
        })
    }

    /// Estimated bytes of the rows as the engine holds them.
    pub fn estimated_bytes(&self) -> Option<u64> {
        let parts = self.cache_parts();
        let weights = parts.iter().any(|p| p.projection.carries_weights());
        let labels = parts.iter().any(|p| p.projection.label.is_some());
        let row = self.proj.precision.bytes() as u64 * self.proj.n_features() as u64
            + if weights { 8 } else { 0 }
            + if labels { 4 } else { 0 }
            + u64::from(self.proj.noise_init.is_some());
        Some((self.estimated_rows()? as u64).saturating_mul(row))
    }
}

/// The labeled table's label column when not named: its one column that is
/// not a feature (nor the weight column).
fn infer_label_column(src: &TableSource, features: &[String], spec: &DataSpec) -> Result<String> {
    let others: Vec<String> = src
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .filter(|n| !features.contains(n) && Some(n) != spec.weight_column.as_ref())
        .collect();
    match others.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(IoError::LabelColumnUnknown {
            path: src.path().to_path_buf(),
            candidates: others,
        }),
    }
}
