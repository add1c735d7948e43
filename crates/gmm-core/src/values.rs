//! How a dataset's values are held: `f64`, or `f32` for half the memory and
//! half the bandwidth. Every computation reads them as `f64` (an `f32`
//! converts to `f64` exactly), so a fit of `f32` rows is the fit of `f64`
//! rows holding the same values, to the bit.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The type rows are held in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// 8 bytes a value: the input's values as they are.
    #[default]
    F64,
    /// 4 bytes a value: the input's values rounded to the nearest `f32`.
    F32,
}

impl Precision {
    pub const NAMES: [&'static str; 2] = ["f64", "f32"];

    pub fn name(self) -> &'static str {
        match self {
            Precision::F64 => "f64",
            Precision::F32 => "f32",
        }
    }

    /// Bytes one value takes.
    pub fn bytes(self) -> usize {
        match self {
            Precision::F64 => 8,
            Precision::F32 => 4,
        }
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Precision {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "f64" | "float64" => Ok(Precision::F64),
            "f32" | "float32" => Ok(Precision::F32),
            _ => Err(format!("unknown precision '{s}' (expected f64 or f32)")),
        }
    }
}

/// Borrowed values, row-major: a whole table, some rows or one row.
#[derive(Debug, Clone, Copy)]
pub enum Values<'a> {
    F64(&'a [f64]),
    F32(&'a [f32]),
}

impl PartialEq for Values<'_> {
    /// The same type and the same values.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Values::F64(a), Values::F64(b)) => a == b,
            (Values::F32(a), Values::F32(b)) => a == b,
            _ => false,
        }
    }
}

impl<'a> From<&'a [f64]> for Values<'a> {
    fn from(v: &'a [f64]) -> Self {
        Values::F64(v)
    }
}

impl<'a> From<&'a Vec<f64>> for Values<'a> {
    fn from(v: &'a Vec<f64>) -> Self {
        Values::F64(v)
    }
}

impl<'a> From<&'a [f32]> for Values<'a> {
    fn from(v: &'a [f32]) -> Self {
        Values::F32(v)
    }
}

impl<'a> Values<'a> {
    pub fn len(&self) -> usize {
        match self {
            Values::F64(v) => v.len(),
            Values::F32(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn precision(&self) -> Precision {
        match self {
            Values::F64(_) => Precision::F64,
            Values::F32(_) => Precision::F32,
        }
    }

    /// Value `i`, as `f64`.
    pub fn get(&self, i: usize) -> f64 {
        match self {
            Values::F64(v) => v[i],
            Values::F32(v) => f64::from(v[i]),
        }
    }

    /// Values `start..end`.
    pub fn slice(&self, start: usize, end: usize) -> Values<'a> {
        match self {
            Values::F64(v) => Values::F64(&v[start..end]),
            Values::F32(v) => Values::F32(&v[start..end]),
        }
    }

    /// The values as `f64`: borrowed when they are, converted into
    /// `scratch` when not.
    pub fn as_f64<'b>(&self, scratch: &'b mut Vec<f64>) -> &'b [f64]
    where
        'a: 'b,
    {
        match *self {
            Values::F64(v) => v,
            Values::F32(v) => {
                scratch.clear();
                scratch.extend(v.iter().map(|&x| f64::from(x)));
                scratch
            }
        }
    }

    /// The values as `f64`, copied.
    pub fn to_vec(&self) -> Vec<f64> {
        self.iter().collect()
    }

    /// Appends the values to `out` as `f64`.
    pub fn extend_into(&self, out: &mut Vec<f64>) {
        match self {
            Values::F64(v) => out.extend_from_slice(v),
            Values::F32(v) => out.extend(v.iter().map(|&x| f64::from(x))),
        }
    }

    pub fn iter(&self) -> ValuesIter<'a> {
        match *self {
            Values::F64(v) => ValuesIter::F64(v.iter()),
            Values::F32(v) => ValuesIter::F32(v.iter()),
        }
    }

    /// Position of the first value that is not finite.
    pub fn first_non_finite(&self) -> Option<usize> {
        match self {
            Values::F64(v) => v.iter().position(|x| !x.is_finite()),
            Values::F32(v) => v.iter().position(|x| !x.is_finite()),
        }
    }
}

/// The values of [`Values::iter`], as `f64`.
pub enum ValuesIter<'a> {
    F64(std::slice::Iter<'a, f64>),
    F32(std::slice::Iter<'a, f32>),
}

impl Iterator for ValuesIter<'_> {
    type Item = f64;

    fn next(&mut self) -> Option<f64> {
        match self {
            ValuesIter::F64(it) => it.next().copied(),
            ValuesIter::F32(it) => it.next().map(|&x| f64::from(x)),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            ValuesIter::F64(it) => it.size_hint(),
            ValuesIter::F32(it) => it.size_hint(),
        }
    }
}

impl ExactSizeIterator for ValuesIter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f32_values_read_as_the_same_f64() {
        let wide = [1.5f64, -0.1f32 as f64, 3.0e7];
        let narrow = [1.5f32, -0.1f32, 3.0e7];
        let (a, b) = (Values::F64(&wide), Values::F32(&narrow));
        assert_eq!(a.to_vec(), b.to_vec());
        let mut scratch = Vec::new();
        assert_eq!(b.as_f64(&mut scratch), &wide);
        assert_eq!(b.get(1), wide[1]);
        assert_eq!(b.slice(1, 3).to_vec(), wide[1..].to_vec());
        assert_ne!(a, b, "different types are different values");
        assert_eq!(Values::F32(&[f32::NAN, 1.0]).first_non_finite(), Some(0));
        assert_eq!("f32".parse::<Precision>(), Ok(Precision::F32));
        assert!("f16".parse::<Precision>().is_err());
    }

    #[test]
    fn datasets_narrow_to_f32_with_their_weights_and_labels() {
        use crate::data::{Dataset, UNLABELED};
        let values = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let owned = Dataset::from_row_major(values.clone(), 2)
            .unwrap()
            .with_weights(vec![1.0, 0.5, 2.0])
            .unwrap()
            .with_labels(vec![0, UNLABELED, 1], 2)
            .unwrap();
        let narrow = owned.to_f32();
        assert_eq!(narrow.precision(), Precision::F32);
        assert_eq!(narrow.view().values().to_vec(), values);
        assert_eq!(narrow.weights(), owned.weights());
        assert_eq!(narrow.view().row(1).to_vec(), vec![3.0, 4.0]);
        assert!(
            narrow != owned,
            "the same values held as f32 are another dataset"
        );
        assert!(Dataset::from_row_major_f32(vec![1.0; 5], 2).is_err());
        assert_eq!(narrow.labels(), owned.labels());
    }
}
