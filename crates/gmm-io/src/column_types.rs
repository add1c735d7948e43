//! Which Arrow column types a job can read, and their short names.

use arrow::datatypes::{DataType, Field};

/// Integer, floating-point and decimal types, and dictionaries of them:
/// what converts to `f64`.
pub fn is_numeric(t: &DataType) -> bool {
    if let DataType::Dictionary(_, values) = t {
        return is_numeric(values);
    }
    matches!(
        t,
        DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
            | DataType::Float16
            | DataType::Float32
            | DataType::Float64
            | DataType::Decimal32(_, _)
            | DataType::Decimal64(_, _)
            | DataType::Decimal128(_, _)
            | DataType::Decimal256(_, _)
    )
}

/// A short name of a column type for model files and messages.
pub fn type_name(t: &DataType) -> String {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "string".into(),
        other => other.to_string().to_lowercase(),
    }
}

/// Whether two files' columns can be read as one: equal types, any two
/// numeric types (features convert to `f64`; label and id columns are cast
/// to the first file's type), or any two string types (plain, large, view
/// or dictionary-encoded).
pub(crate) fn same_kind(a: &Field, b: &Field) -> bool {
    let (a, b) = (a.data_type(), b.data_type());
    a == b || (is_numeric(a) && is_numeric(b)) || (is_string(a) && is_string(b))
}

fn is_string(t: &DataType) -> bool {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, v) => is_string(v),
        _ => false,
    }
}
