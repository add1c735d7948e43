//! Which columns of a table a job reads: as named ([`ColumnSpec`]), and
//! resolved against the table's schema ([`Projection`]).

use gmm_core::Precision;
use std::path::Path;

use arrow::datatypes::Schema;

use crate::column_types::{is_numeric, type_name};
use crate::error::{IoError, Result};
use crate::format::InputFormat;
use crate::suggest::closest;

/// Which columns a job names: features (names or globs; empty means every
/// numeric column but the special ones) and the special columns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnSpec {
    pub features: Vec<String>,
    pub label: Option<String>,
    pub weight: Option<String>,
    /// A column of true or false (1 or 0) marking the rows of an initial
    /// noise set ([`gmm_core::Dataset::with_initial_noise`]).
    pub noise_init: Option<String>,
    /// Columns that identify rows, copied into predictions: never features.
    pub ids: Vec<String>,
    /// Any other columns copied into predictions, after the ids; a kept
    /// column may also be a feature.
    pub keep: Vec<String>,
    /// The type feature values are held in once read.
    pub precision: Precision,
    /// What to do with rows that miss a feature value.
    pub missing: Missing,
}

/// What a job does with a row that misses a feature value (a null, or a
/// NaN as pandas writes for a missing float).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Missing {
    /// Refuse the table, naming the column, row and count.
    #[default]
    Error,
    /// Leave the row out of the fit: it stays in the rows with weight
    /// `-0.0` (its missing values read as 0), so that row numbers, chunks
    /// and shares are those of the table, and predictions give it a null
    /// row.
    Drop,
    /// Keep the row, its missing values NaN, and integrate them out
    /// ([`gmm_core::Dataset::with_missing_values`]).
    Marginalize,
}

impl Missing {
    pub const NAMES: [&'static str; 3] = ["error", "drop", "marginalize"];

    pub fn name(self) -> &'static str {
        match self {
            Missing::Error => "error",
            Missing::Drop => "drop",
            Missing::Marginalize => "marginalize",
        }
    }

    /// Whether `w`, a row's weight as read, marks a row left out.
    pub fn is_dropped(w: f64) -> bool {
        w == 0.0 && w.is_sign_negative()
    }
}

impl std::str::FromStr for Missing {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "error" => Ok(Missing::Error),
            "drop" => Ok(Missing::Drop),
            "marginalize" => Ok(Missing::Marginalize),
            other => Err(format!("`{other}` is not one of error, drop, marginalize")),
        }
    }
}

/// Resolved column indices in a table's schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    pub features: Vec<usize>,
    pub feature_names: Vec<String>,
    pub label: Option<usize>,
    pub weight: Option<usize>,
    /// The initial noise set's column.
    pub noise_init: Option<usize>,
    /// Columns copied into predictions as they are: the id columns, then
    /// the kept ones, each once.
    pub passthrough: Vec<usize>,
    /// Columns a row filter reads (see [`crate::Filter`]).
    pub filter_columns: Vec<usize>,
    /// Columns left out of the features because they do not hold numbers,
    /// when the features were not named (they are reported, never dropped
    /// in silence).
    pub skipped: Vec<SkippedColumn>,
    /// The type feature values are held in once read (`f64` unless the
    /// job asks for `f32`, see [`Projection::with_precision`]).
    pub precision: Precision,
    /// What to do with rows that miss a feature value.
    pub missing: Missing,
}

/// A column that is not a feature of a job that did not name its features.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SkippedColumn {
    pub column: String,
    /// Its type as read (`utf8` for CSV text, `bool`, `date32`, ...).
    pub data_type: String,
    pub reason: String,
}

impl Projection {
    /// The same columns, read into values of `precision`.
    pub fn with_precision(mut self, precision: Precision) -> Self {
        self.precision = precision;
        self
    }

    /// All columns to decode, ascending.
    pub(crate) fn all_columns(&self) -> Vec<usize> {
        let mut cols: Vec<usize> = self
            .features
            .iter()
            .copied()
            .chain(self.label)
            .chain(self.weight)
            .chain(self.noise_init)
            .chain(self.passthrough.iter().copied())
            .chain(self.filter_columns.iter().copied())
            .collect();
        cols.sort_unstable();
        cols.dedup();
        cols
    }

    pub fn n_features(&self) -> usize {
        self.features.len()
    }

    /// Whether rows read carry weights: from a weight column, or marking
    /// the rows left out for a missing value.
    pub fn carries_weights(&self) -> bool {
        self.weight.is_some() || self.missing == Missing::Drop
    }
}

/// Resolves `columns` in the schema of the table `table` (for messages):
/// features by name or glob, or every numeric column but the special ones.
/// Columns from `partitions_from` on are partition columns, never features
/// unless named.
pub(crate) fn resolve(
    table: &Path,
    schema: &Schema,
    format: InputFormat,
    columns: &ColumnSpec,
    partitions_from: usize,
) -> Result<Projection> {
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let find = |name: &str| -> Result<usize> {
        names
            .iter()
            .position(|n| *n == name)
            .ok_or_else(|| IoError::MissingColumn {
                path: table.to_path_buf(),
                column: name.to_string(),
                suggestion: closest(name, names.iter().copied()),
                available: names.iter().map(|s| s.to_string()).collect(),
            })
    };
    let label = columns.label.as_deref().map(find).transpose()?;
    let weight = columns.weight.as_deref().map(find).transpose()?;
    let noise_init = columns.noise_init.as_deref().map(find).transpose()?;
    let ids: Vec<usize> = columns.ids.iter().map(|c| find(c)).collect::<Result<_>>()?;
    let mut passthrough: Vec<usize> = Vec::new();
    for &i in ids.iter().chain(
        &columns
            .keep
            .iter()
            .map(|c| find(c))
            .collect::<Result<Vec<_>>>()?,
    ) {
        if !passthrough.contains(&i) {
            passthrough.push(i);
        }
    }
    let special: Vec<usize> = [label, weight, noise_init]
        .into_iter()
        .flatten()
        .chain(ids)
        .collect();

    let mut features: Vec<usize> = Vec::new();
    let mut skipped = Vec::new();
    if columns.features.is_empty() {
        for (i, f) in schema.fields().iter().enumerate() {
            if special.contains(&i) || i >= partitions_from {
                continue;
            }
            if is_numeric(f.data_type()) {
                features.push(i);
            } else {
                skipped.push(SkippedColumn {
                    column: f.name().clone(),
                    data_type: type_name(f.data_type()),
                    reason: if format == InputFormat::Csv {
                        "most of its first values are not numbers".into()
                    } else {
                        "not a number type".into()
                    },
                });
            }
        }
        if features.is_empty() {
            return Err(IoError::NoFeatureColumns {
                path: table.to_path_buf(),
            });
        }
    } else {
        for pattern in &columns.features {
            if pattern.contains(['*', '?', '[']) {
                let pat = glob::Pattern::new(pattern).map_err(|e| {
                    IoError::read(table, format!("bad column pattern `{pattern}`: {e}"))
                })?;
                let matched: Vec<usize> = (0..names.len())
                    // Partition columns are features only by their names.
                    .filter(|&i| {
                        pat.matches(names[i]) && !special.contains(&i) && i < partitions_from
                    })
                    .collect();
                if matched.is_empty() {
                    return Err(IoError::NoColumnsMatch {
                        path: table.to_path_buf(),
                        pattern: pattern.clone(),
                        available: names.iter().map(|s| s.to_string()).collect(),
                    });
                }
                features.extend(
                    matched
                        .into_iter()
                        .filter(|i| !features.contains(i))
                        .collect::<Vec<_>>(),
                );
            } else {
                let i = find(pattern)?;
                if !features.contains(&i) {
                    features.push(i);
                }
            }
        }
    }
    for &i in &features {
        let field = schema.field(i);
        // CSV columns are parsed as numbers whatever was inferred; a text
        // value then fails with its row.
        if format != InputFormat::Csv && !is_numeric(field.data_type()) {
            return Err(IoError::NonNumericColumn {
                path: table.to_path_buf(),
                column: field.name().clone(),
                data_type: field.data_type().to_string(),
                hint: "only integer, floating-point and decimal columns can be features",
            });
        }
    }
    if let Some(w) = weight {
        let field = schema.field(w);
        if format != InputFormat::Csv && !is_numeric(field.data_type()) {
            return Err(IoError::NonNumericColumn {
                path: table.to_path_buf(),
                column: field.name().clone(),
                data_type: field.data_type().to_string(),
                hint: "a weight column must hold numbers",
            });
        }
    }
    if let Some(c) = noise_init {
        let field = schema.field(c);
        if features.contains(&c) {
            return Err(IoError::read(
                table,
                format!(
                    "column `{}` marks the initial noise set and cannot also be a feature; leave it out of the features",
                    field.name()
                ),
            ));
        }
        let flags = matches!(field.data_type(), arrow::datatypes::DataType::Boolean)
            || is_numeric(field.data_type());
        if format != InputFormat::Csv && !flags {
            return Err(IoError::NonNumericColumn {
                path: table.to_path_buf(),
                column: field.name().clone(),
                data_type: field.data_type().to_string(),
                hint: "the initial noise set's column must hold true or false (1 or 0)",
            });
        }
    }
    Ok(Projection {
        feature_names: features.iter().map(|&i| names[i].to_string()).collect(),
        features,
        label,
        weight,
        noise_init,
        passthrough,
        filter_columns: Vec::new(),
        skipped,
        precision: columns.precision,
        missing: columns.missing,
    })
}

/// The first name given twice, as (first index, second index, name): a
/// table, an output file or a model file must name each column once.
pub(crate) fn repeated_name<S: AsRef<str>>(names: &[S]) -> Option<(usize, usize, &str)> {
    names.iter().enumerate().find_map(|(j, n)| {
        names[..j]
            .iter()
            .position(|m| m.as_ref() == n.as_ref())
            .map(|i| (i, j, n.as_ref()))
    })
}

/// The fields of the passthrough columns `names` of a table of `schema`,
/// nullable (other files of the table may hold nulls).
pub(crate) fn passthrough_fields(
    schema: &arrow::datatypes::SchemaRef,
    names: &[String],
) -> arrow::datatypes::Fields {
    names
        .iter()
        .map(|n| {
            let t = schema
                .field_with_name(n)
                .map(|f| f.data_type().clone())
                .unwrap_or(arrow::datatypes::DataType::Null);
            arrow::datatypes::Field::new(n, t, true)
        })
        .collect()
}

/// The passthrough columns of `proj` as they travel beside the rows: one
/// struct column whose fields are the columns; `None` when there are none.
pub(crate) fn passthrough_field(
    schema: &arrow::datatypes::SchemaRef,
    proj: &Projection,
) -> Option<arrow::datatypes::Field> {
    if proj.passthrough.is_empty() {
        return None;
    }
    let names: Vec<String> = proj
        .passthrough
        .iter()
        .map(|&i| schema.field(i).name().clone())
        .collect();
    Some(arrow::datatypes::Field::new(
        "passthrough",
        arrow::datatypes::DataType::Struct(passthrough_fields(schema, &names)),
        false,
    ))
}
