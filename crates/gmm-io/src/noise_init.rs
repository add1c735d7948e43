//! The column of an initial noise set: one flag per row, from a boolean
//! column, or from numbers or text that say 1 or 0, true or false.

use std::path::Path;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, Float64Type};

use crate::error::{IoError, Result};

/// The flags of `col`, the column `name` of a batch of the file at `path`
/// whose first row is the table's `first_row` (0-based). Fails on the
/// first row that is empty or says neither true nor false.
pub(crate) fn flags(
    path: &Path,
    name: &str,
    col: &ArrayRef,
    first_row: usize,
) -> Result<Vec<bool>> {
    let mut out = Vec::with_capacity(col.len());
    let fail = |i: usize, detail: String| IoError::BadNoiseFlag {
        path: path.to_path_buf(),
        column: name.to_string(),
        row: first_row + i + 1,
        detail: format!("{detail}; every row needs true or false (1 or 0)"),
    };
    if let Some(i) = (0..col.len()).find(|&i| col.is_null(i)) {
        return Err(fail(i, "the value is missing".into()));
    }
    match col.data_type() {
        DataType::Boolean => out.extend(col.as_boolean().values().iter()),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let text =
                arrow::compute::cast(col, &DataType::Utf8).map_err(|e| IoError::read(path, e))?;
            for (i, v) in text.as_string::<i32>().iter().enumerate() {
                let v = v.unwrap_or_default();
                out.push(match v.trim().to_ascii_lowercase().as_str() {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => return Err(fail(i, format!("`{v}` is neither true nor false"))),
                });
            }
        }
        t if crate::column_types::is_numeric(t) => {
            let numbers = arrow::compute::cast(col, &DataType::Float64)
                .map_err(|e| IoError::read(path, e))?;
            for (i, &v) in numbers
                .as_primitive::<Float64Type>()
                .values()
                .iter()
                .enumerate()
            {
                out.push(match v {
                    1.0 => true,
                    0.0 => false,
                    _ => return Err(fail(i, format!("{v} is neither 1 nor 0"))),
                });
            }
        }
        t => {
            return Err(fail(
                0,
                format!("the column is {t}, which does not say true or false"),
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{BooleanArray, Float32Array, Int8Array, StringArray};
    use std::sync::Arc;

    fn read(col: ArrayRef) -> std::result::Result<Vec<bool>, String> {
        flags(Path::new("t.csv"), "outlier", &col, 10).map_err(|e| e.to_string())
    }

    #[test]
    fn flags_read_from_booleans_numbers_and_text() {
        let want = vec![true, false, true];
        let cols: Vec<ArrayRef> = vec![
            Arc::new(BooleanArray::from(want.clone())),
            Arc::new(Int8Array::from(vec![1, 0, 1])),
            Arc::new(Float32Array::from(vec![1.0, 0.0, 1.0])),
            Arc::new(StringArray::from(vec![" TRUE", "false", "1"])),
        ];
        for col in cols {
            assert_eq!(read(col).unwrap(), want);
        }
    }

    #[test]
    fn other_values_name_their_row() {
        let e = read(Arc::new(Int8Array::from(vec![1, 2]))).unwrap_err();
        assert!(e.contains("data row 12: 2 is neither 1 nor 0"), "{e}");
        let e = read(Arc::new(BooleanArray::from(vec![Some(true), None]))).unwrap_err();
        assert!(e.contains("data row 12: the value is missing"), "{e}");
        let e = read(Arc::new(StringArray::from(vec!["yes"]))).unwrap_err();
        assert!(
            e.contains("data row 11: `yes` is neither true nor false"),
            "{e}"
        );
    }
}
