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
