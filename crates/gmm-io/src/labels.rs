//! Class labels: integer or string values (null = unlabeled), mapped to
//! components in sorted order (numerically when every label is an integer).

use std::collections::BTreeSet;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, Int64Type};

use gmm_core::UNLABELED;

/// The label text of every row (`None` = unlabeled), in canonical form:
/// integers in decimal, strings as they are.
pub fn label_values(column: &str, array: &ArrayRef) -> Result<Vec<Option<String>>, String> {
    label_values_at(column, array, 0)
}

/// [`label_values`] of a batch whose first row is the table's 0-based row
/// `first_row`, so that messages name the row of the table.
pub(crate) fn label_values_at(
    column: &str,
    array: &ArrayRef,
    first_row: usize,
) -> Result<Vec<Option<String>>, String> {
    let t = array.data_type();
    let out = match t {
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => {
            let a = cast(array, &DataType::Int64).map_err(|e| e.to_string())?;
            a.as_primitive::<Int64Type>()
                .iter()
                .map(|v| v.map(|v| v.to_string()))
                .collect()
        }
        DataType::Float16 | DataType::Float32 | DataType::Float64 => {
            let a = cast(array, &DataType::Float64).map_err(|e| e.to_string())?;
            let mut out = Vec::with_capacity(a.len());
            for (i, v) in a.as_primitive::<Float64Type>().iter().enumerate() {
                match v {
                    None => out.push(None),
                    Some(v) if v.is_nan() => out.push(None),
                    Some(v) if v.fract() == 0.0 && v.abs() < 9.0e15 => {
                        out.push(Some((v as i64).to_string()))
                    }
                    Some(v) => {
                        return Err(format!(
                            "value {v} at data row {} is not a class; labels must be integers or strings (column `{column}`)",
                            first_row + i + 1
                        ));
                    }
                }
            }
            out
        }
        DataType::Boolean => array
            .as_boolean()
            .iter()
            .map(|v| v.map(|b| b.to_string()))
            .collect(),
        DataType::Null => vec![None; array.len()],
        _ => {
            let a = cast(array, &DataType::Utf8)
                .map_err(|_| format!("a {t} column cannot hold class labels"))?;
            a.as_string::<i32>()
                .iter()
                .map(|v| v.filter(|s| !s.is_empty()).map(str::to_string))
                .collect()
        }
    };
    Ok(out)
}

/// The classes of a fit, in component order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classes {
    names: Vec<String>,
}

impl Classes {
    /// Distinct non-null labels, sorted numerically if all are integers,
    /// else as text.
    pub fn from_values<'a>(values: impl IntoIterator<Item = &'a Option<String>>) -> Self {
        let set: BTreeSet<&str> = values.into_iter().flatten().map(String::as_str).collect();
        Classes::from_names(set.into_iter().map(str::to_string).collect())
    }

    /// Classes from names (as stored in a model file), put in canonical order.
    pub fn from_names(mut names: Vec<String>) -> Self {
        names.sort();
        names.dedup();
        if names.iter().all(|n| n.parse::<i64>().is_ok()) {
            names.sort_by_key(|n| n.parse::<i64>().expect("checked"));
        }
        Classes { names }
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The component index of every row ([`UNLABELED`] for none); `Err` names
    /// the first label that is not a known class.
    pub fn encode(&self, values: &[Option<String>]) -> Result<Vec<u32>, String> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                None => Ok(UNLABELED),
                Some(s) => self
                    .names
                    .iter()
                    .position(|n| n == s)
                    .map(|p| p as u32)
                    .ok_or_else(|| {
                        format!(
                            "label `{s}` at data row {} is not one of the classes {:?}",
                            i + 1,
                            self.names
                        )
                    }),
            })
            .collect()
    }
}

/// The type of a predictions file's `class` column for a label column of
/// type `label`: the label's own type where a class name converts back to
/// it (integers, floats, booleans, text; a dictionary's values), text
/// otherwise.
pub fn class_type(label: &DataType) -> DataType {
    match label {
        DataType::Dictionary(_, values) => class_type(values),
        t if t.is_integer() || t.is_floating() => t.clone(),
        DataType::Boolean | DataType::LargeUtf8 | DataType::Utf8View => label.clone(),
        _ => DataType::Utf8,
    }
}

/// The class of each component of a semi-supervised model, in the type of
/// its label column; components past the classes have none (null).
#[derive(Debug, Clone)]
pub struct ComponentClasses {
    /// One entry per component.
    classes: ArrayRef,
}

impl ComponentClasses {
    /// Classes `names` (component `i` is class `names[i]`) of a model of
    /// `k` components, as values of `data_type` (see [`class_type`]).
    pub fn new(names: &[String], k: usize, data_type: &DataType) -> Result<Self, String> {
        let text: arrow::array::StringArray =
            (0..k).map(|c| names.get(c).map(String::as_str)).collect();
        let options = arrow::compute::CastOptions {
            safe: false,
            ..Default::default()
        };
        let classes =
            arrow::compute::cast_with_options(&text, data_type, &options).map_err(|e| {
                format!("the classes {names:?} are not values of type {data_type} ({e})")
            })?;
        Ok(ComponentClasses { classes })
    }

    /// The classes of a model file's components, if it has classes. A file
    /// that does not record their type (`label_type`, written since
    /// predictions carry classes) gets integers when every class is one,
    /// text otherwise.
    pub fn of_model(file: &crate::ModelFile) -> Result<Option<Self>, String> {
        let Some(names) = &file.classes else {
            return Ok(None);
        };
        let k = file.weights.len();
        if names.len() > k {
            return Err(format!(
                "`classes` names {} classes for {k} components; each class needs its own component",
                names.len()
            ));
        }
        let data_type = match &file.label_type {
            Some(t) => t
                .parse::<DataType>()
                .map_err(|e| format!("`label_type` {t:?} is not an Arrow type ({e})"))?,
            None if names.iter().all(|n| n.parse::<i64>().is_ok()) => DataType::Int64,
            None => DataType::Utf8,
        };
        Self::new(names, k, &data_type)
            .map(Some)
            .map_err(|e| format!("`classes`: {e}"))
    }

    pub fn data_type(&self) -> &DataType {
        self.classes.data_type()
    }

    /// The class of each of `components`.
    pub fn of(&self, components: &arrow::array::UInt32Array) -> ArrayRef {
        arrow::compute::take(&self.classes, components, None).expect("components are below k")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float64Array, Int32Array, StringArray};
    use std::sync::Arc;

    #[test]
    fn integer_labels_sort_numerically() {
        let a: ArrayRef = Arc::new(Int32Array::from(vec![Some(10), None, Some(2), Some(10)]));
        let v = label_values("y", &a).unwrap();
        let c = Classes::from_values(&v);
        assert_eq!(c.names(), ["2", "10"]);
        assert_eq!(c.encode(&v).unwrap(), vec![1, UNLABELED, 0, 1]);
    }

    #[test]
    fn string_labels_and_empty_strings() {
        let a: ArrayRef = Arc::new(StringArray::from(vec![
            Some("b"),
            Some(""),
            Some("a"),
            None,
        ]));
        let v = label_values("y", &a).unwrap();
        let c = Classes::from_values(&v);
        assert_eq!(c.names(), ["a", "b"]);
        assert_eq!(c.encode(&v).unwrap(), vec![1, UNLABELED, 0, UNLABELED]);
        assert!(c.encode(&[Some("z".into())]).unwrap_err().contains("`z`"));
    }

    #[test]
    fn float_labels_must_be_integral() {
        let a: ArrayRef = Arc::new(Float64Array::from(vec![
            Some(1.0),
            Some(f64::NAN),
            Some(0.0),
        ]));
        assert_eq!(
            label_values("y", &a).unwrap(),
            vec![Some("1".into()), None, Some("0".into())]
        );
        let b: ArrayRef = Arc::new(Float64Array::from(vec![1.5]));
        assert!(label_values("y", &b).is_err());
    }
}
