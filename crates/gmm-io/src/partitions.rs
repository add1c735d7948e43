//! Hive-style partitions: the `key=value` directories of a Parquet dataset
//! (`sales/day=2026-11-01/region=eu/part-0.parquet`) as columns of its
//! table. Their values come from the paths, not the files: each batch of
//! a file gets them as constant columns. A key is an integer column when
//! every value is an integer, else text; `__HIVE_DEFAULT_PARTITION__` (and
//! a file outside a key's directories) is null. Values are percent-decoded
//! as Hive and Spark encode them.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, StringArray, new_null_array};
use arrow::datatypes::{DataType, Field};

use crate::error::{IoError, Result};

/// The value Hive writes for a null partition value.
const HIVE_NULL: &str = "__HIVE_DEFAULT_PARTITION__";

/// The partition columns of a table and each file's values.
#[derive(Debug, Clone, Default)]
pub(crate) struct Partitions {
    /// One field per key, in order of first appearance along the paths.
    pub fields: Vec<Field>,
    /// Per file (in the table's order), one value per key.
    values: Vec<Vec<Option<String>>>,
    /// Each file's index, by path.
    index: std::collections::HashMap<PathBuf, usize>,
}

impl Partitions {
    /// The partitions of `files` below `root` (a dataset's directory, or a
    /// glob's literal prefix): the `key=value` components of each file's
    /// directories. `None` when no file has any.
    pub fn of(root: &Path, files: &[PathBuf]) -> Result<Option<Partitions>> {
        let mut keys: Vec<String> = Vec::new();
        let mut per_file: Vec<Vec<(String, Option<String>)>> = Vec::with_capacity(files.len());
        for f in files {
            let rel = f.strip_prefix(root).unwrap_or(f);
            let mut pairs: Vec<(String, Option<String>)> = Vec::new();
            let dirs = rel.parent().map(|p| p.components().collect::<Vec<_>>());
            for c in dirs.unwrap_or_default() {
                let Component::Normal(part) = c else { continue };
                let Some((key, value)) = part.to_str().and_then(|p| p.split_once('=')) else {
                    continue;
                };
                if key.is_empty() {
                    continue;
                }
                let key = decode(key);
                if pairs.iter().any(|(k, _)| *k == key) {
                    return Err(IoError::read(
                        f,
                        format!("the partition key `{key}` appears twice in the path"),
                    ));
                }
                let value = (value != HIVE_NULL).then(|| decode(value));
                if !keys.contains(&key) {
                    keys.push(key.clone());
                }
                pairs.push((key, value));
            }
            per_file.push(pairs);
        }
        if keys.is_empty() {
            return Ok(None);
        }
        let values: Vec<Vec<Option<String>>> = per_file
            .into_iter()
            .map(|pairs| {
                keys.iter()
                    .map(|k| {
                        pairs
                            .iter()
                            .find(|(p, _)| p == k)
                            .and_then(|(_, v)| v.clone())
                    })
                    .collect()
            })
            .collect();
        let fields = keys
            .iter()
            .enumerate()
            .map(|(j, k)| {
                let integers = values
                    .iter()
                    .filter_map(|v| v[j].as_deref())
                    .all(|v| v.parse::<i64>().is_ok());
                let t = if integers {
                    DataType::Int64
                } else {
                    DataType::Utf8
                };
                Field::new(k, t, true)
            })
            .collect();
        let index = files.iter().cloned().zip(0..).collect();
        Ok(Some(Partitions {
            fields,
            values,
            index,
        }))
    }

    /// The value of key `key` for file `file`, as text (`None`: null).
    pub fn value(&self, file: usize, key: usize) -> Option<&str> {
        self.values[file][key].as_deref()
    }

    /// The index of the file at `path`.
    pub fn file(&self, path: &Path) -> Option<usize> {
        self.index.get(path).copied()
    }

    /// The index of the key named `name`.
    pub fn key(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name() == name)
    }

    /// Key `key` of file `file` as a column of `rows` equal values.
    pub fn column(&self, file: usize, key: usize, rows: usize) -> ArrayRef {
        let field = &self.fields[key];
        match (self.value(file, key), field.data_type()) {
            (None, t) => new_null_array(t, rows),
            (Some(v), DataType::Int64) => Arc::new(Int64Array::from_value(
                v.parse().expect("integer partitions hold integers"),
                rows,
            )),
            (Some(v), _) => Arc::new(StringArray::from_iter_values(std::iter::repeat_n(v, rows))),
        }
    }

    /// Without the keys that `stored` says the files hold as columns
    /// themselves (those are read from the files); `None` when no key is
    /// left.
    pub fn without_stored(mut self, stored: impl Fn(&str) -> bool) -> Option<Self> {
        let keep: Vec<bool> = self.fields.iter().map(|f| !stored(f.name())).collect();
        let mut k = keep.iter();
        self.fields.retain(|_| *k.next().expect("one flag per key"));
        for v in &mut self.values {
            let mut k = keep.iter();
            v.retain(|_| *k.next().expect("one flag per key"));
        }
        (!self.fields.is_empty()).then_some(self)
    }

    /// Only the files `keep` says to keep (of `files`, this table's files),
    /// in order.
    pub fn retain(&mut self, files: &[PathBuf], keep: &[bool]) {
        let mut k = keep.iter();
        self.values
            .retain(|_| *k.next().expect("one flag per file"));
        let kept = files
            .iter()
            .zip(keep)
            .filter(|(_, k)| **k)
            .map(|(f, _)| f.clone());
        self.index = kept.zip(0..).collect();
    }
}

/// `%XX` escapes decoded (Hive and Spark escape `/`, `=`, `%` and others in
/// partition values); text that is not a valid escape stays as it is.
fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_values_and_types_from_paths() {
        let root = Path::new("/data/sales");
        let files: Vec<PathBuf> = [
            "day=2026-11-01/region=eu/part-0.parquet",
            "day=2026-11-01/region=us%2Fwest/part-0.parquet",
            "day=2026-11-02/region=__HIVE_DEFAULT_PARTITION__/part-0.parquet",
            "part-loose.parquet",
        ]
        .iter()
        .map(|p| root.join(p))
        .collect();
        let p = Partitions::of(root, &files).unwrap().unwrap();
        let names: Vec<&str> = p.fields.iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, ["day", "region"]);
        assert_eq!(p.fields[0].data_type(), &DataType::Utf8);
        assert_eq!(p.value(1, 1), Some("us/west"));
        assert_eq!(p.value(2, 1), None);
        assert_eq!(p.value(3, 0), None, "a file outside the key's directories");
        assert_eq!(p.column(0, 1, 3).len(), 3);

        let years: Vec<PathBuf> = ["year=2024/a.parquet", "year=2025/b.parquet"]
            .iter()
            .map(|p| root.join(p))
            .collect();
        let p = Partitions::of(root, &years).unwrap().unwrap();
        assert_eq!(p.fields[0].data_type(), &DataType::Int64);
        let c = p.column(1, 0, 2);
        assert_eq!(
            c.as_any().downcast_ref::<Int64Array>().unwrap().values(),
            &[2025, 2025]
        );
        assert!(
            Partitions::of(root, &[root.join("x.parquet")])
                .unwrap()
                .is_none()
        );
        assert_eq!(decode("a%3Db%25"), "a=b%");
        assert_eq!(decode("100%"), "100%");
    }
}
