//! Row-major feature values as a job holds them: `f64`, or `f32` when the
//! job asks for that precision (half the memory; the engine reads them
//! back as `f64`).

use arrow::array::ArrayRef;
use gmm_core::{Dataset, Precision, Values};

/// Decoded rows of a whole table, before they become a [`crate::Table`].
pub(crate) struct DecodedRows {
    pub x: RowValues,
    pub n_rows: usize,
    pub weights: Option<Vec<f64>>,
    pub labels: Option<ArrayRef>,
    pub noise_init: Option<Vec<bool>>,
    pub passthrough: Option<ArrayRef>,
}

/// A batch's columns besides its features and weights: the labels and the
/// passthrough columns as read, and the initial noise set's flags.
pub(crate) struct Kept {
    pub labels: Option<ArrayRef>,
    pub noise_init: Option<Vec<bool>>,
    pub passthrough: Option<ArrayRef>,
}

/// A type feature values are decoded into.
pub(crate) trait Element: Copy + Send + Sync + 'static {
    fn from_f64(v: f64) -> Self;
    fn is_nan(self) -> bool;
    fn into_rows(v: Vec<Self>) -> RowValues;
}

impl Element for f64 {
    #[inline(always)]
    fn from_f64(v: f64) -> f64 {
        v
    }

    fn is_nan(self) -> bool {
        f64::is_nan(self)
    }

    fn into_rows(v: Vec<f64>) -> RowValues {
        RowValues::F64(v)
    }
}

impl Element for f32 {
    /// The nearest `f32` (ties to even).
    #[inline(always)]
    fn from_f64(v: f64) -> f32 {
        v as f32
    }

    fn is_nan(self) -> bool {
        f32::is_nan(self)
    }

    fn into_rows(v: Vec<f32>) -> RowValues {
        RowValues::F32(v)
    }
}

/// Rows of feature values, row-major, in the precision of the job.
#[derive(Debug, Clone, PartialEq)]
pub enum RowValues {
    F64(Vec<f64>),
    F32(Vec<f32>),
}

impl RowValues {
    /// No values yet; room for `capacity` of them when memory allows (a
    /// failed reservation only means the buffer grows as it fills).
    pub fn with_capacity(precision: Precision, capacity: usize) -> Self {
        match precision {
            Precision::F64 => {
                let mut v = Vec::new();
                let _ = v.try_reserve_exact(capacity);
                RowValues::F64(v)
            }
            Precision::F32 => {
                let mut v = Vec::new();
                let _ = v.try_reserve_exact(capacity);
                RowValues::F32(v)
            }
        }
    }

    pub fn precision(&self) -> Precision {
        self.values().precision()
    }

    pub fn len(&self) -> usize {
        self.values().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Values the buffer holds room for.
    pub fn capacity(&self) -> usize {
        match self {
            RowValues::F64(v) => v.capacity(),
            RowValues::F32(v) => v.capacity(),
        }
    }

    /// The values, borrowed.
    pub fn values(&self) -> Values<'_> {
        match self {
            RowValues::F64(v) => Values::F64(v),
            RowValues::F32(v) => Values::F32(v),
        }
    }

    /// Appends `f64` values, rounded to this precision.
    pub fn extend_from_f64(&mut self, values: &[f64]) {
        match self {
            RowValues::F64(v) => v.extend_from_slice(values),
            RowValues::F32(v) => v.extend(values.iter().map(|&x| f32::from_f64(x))),
        }
    }

    /// Appends values held in this precision or a wider one.
    pub fn extend_from(&mut self, other: &RowValues) {
        match (self, other) {
            (RowValues::F32(v), RowValues::F32(o)) => v.extend_from_slice(o),
            (me, RowValues::F64(o)) => me.extend_from_f64(o),
            (RowValues::F64(v), RowValues::F32(o)) => v.extend(o.iter().map(|&x| f64::from(x))),
        }
    }

    /// Values `start..end`, copied.
    pub fn slice(&self, start: usize, end: usize) -> RowValues {
        match self {
            RowValues::F64(v) => RowValues::F64(v[start..end].to_vec()),
            RowValues::F32(v) => RowValues::F32(v[start..end].to_vec()),
        }
    }

    /// The engine's dataset of these rows (`n_features` values each).
    pub fn into_dataset(self, n_features: usize) -> gmm_core::Result<Dataset> {
        match self {
            RowValues::F64(v) => Dataset::from_row_major(v, n_features),
            RowValues::F32(v) => Dataset::from_row_major_f32(v, n_features),
        }
    }
}

impl<'a> From<&'a RowValues> for Values<'a> {
    fn from(v: &'a RowValues) -> Self {
        v.values()
    }
}

/// Rounds `f64` values to the nearest `f32` in place, when `precision` asks
/// for it: rows read batch by batch (predictions, scores) then hold what a
/// fit of the same precision held.
pub fn round_to(precision: Precision, values: &mut [f64]) {
    if precision == Precision::F32 {
        values
            .iter_mut()
            .for_each(|v| *v = f64::from(f32::from_f64(*v)));
    }
}

/// Marks the rows of `x` (row-major, `d` values a row) that miss a value
/// (NaN: a null or a NaN as read) as left out: weight `-0.0` in `w`, and
/// their missing values 0, so that every pass reads finite values. Returns
/// how many rows it marked.
pub(crate) fn mark_missing<T: Element>(x: &mut [T], d: usize, w: &mut [f64]) -> usize {
    if d == 0 {
        return 0;
    }
    let mut marked = 0;
    for (row, w) in x.chunks_exact_mut(d).zip(w.iter_mut()) {
        if row.iter().any(|v| v.is_nan()) {
            for v in row.iter_mut().filter(|v| v.is_nan()) {
                *v = T::from_f64(0.0);
            }
            *w = -0.0;
            marked += 1;
        }
    }
    marked
}

/// [`mark_missing`] on rows in either precision.
pub(crate) fn mark_missing_rows(x: &mut RowValues, d: usize, w: &mut [f64]) -> usize {
    match x {
        RowValues::F64(v) => mark_missing(v, d, w),
        RowValues::F32(v) => mark_missing(v, d, w),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_to_their_precision() {
        let mut narrow = RowValues::with_capacity(Precision::F32, 4);
        narrow.extend_from_f64(&[0.1, 2.0]);
        assert_eq!(narrow, RowValues::F32(vec![0.1f32, 2.0]));
        let mut wide = RowValues::with_capacity(Precision::F64, 0);
        wide.extend_from(&narrow);
        assert_eq!(wide.values().to_vec(), vec![f64::from(0.1f32), 2.0]);
        narrow.extend_from(&RowValues::F64(vec![0.3]));
        assert_eq!(narrow.slice(2, 3), RowValues::F32(vec![0.3f32]));
        let mut v = [0.1, 1e300];
        round_to(Precision::F32, &mut v);
        assert_eq!(v, [f64::from(0.1f32), f64::INFINITY]);
        let d = narrow.into_dataset(1).unwrap();
        assert_eq!(d.precision(), Precision::F32);
    }

    #[test]
    fn rows_with_a_nan_are_marked_and_zeroed() {
        let mut x = vec![1.0, f64::NAN, 3.0, 4.0, f64::NAN, f64::NAN];
        let mut w = vec![2.0, 0.5, 1.0];
        assert_eq!(mark_missing(&mut x, 2, &mut w), 2);
        assert_eq!(x, [1.0, 0.0, 3.0, 4.0, 0.0, 0.0]);
        assert!(crate::Missing::is_dropped(w[0]) && crate::Missing::is_dropped(w[2]));
        assert_eq!(w[1], 0.5);
        assert!(
            !crate::Missing::is_dropped(0.0),
            "a weight of zero is not a row left out"
        );
        let mut narrow = RowValues::F32(vec![f32::NAN, 1.0]);
        let mut w = vec![1.0, 1.0];
        assert_eq!(mark_missing_rows(&mut narrow, 1, &mut w), 1);
        assert_eq!(narrow.values().to_vec(), [0.0, 1.0]);
    }
}
