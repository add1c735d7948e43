//! The engine's input: a row-major `f64` matrix with optional per-row weights
//! and optional class labels.

use ndarray::{Array2, ArrayView2};

use crate::error::{GmmError, Result};

/// Label code of a row without a class.
pub const UNLABELED: u32 = u32::MAX;

/// Owned data: `n x d` values in row-major order, optional non-negative weights
/// and optional labels (class index, or [`UNLABELED`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    x: Array2<f64>,
    weights: Option<Vec<f64>>,
    labels: Option<Vec<u32>>,
    n_classes: usize,
}

impl Dataset {
    /// Wraps a matrix of rows; the matrix is made row-major if it is not.
    pub fn new(x: Array2<f64>) -> Self {
        let x = if x.is_standard_layout() {
            x
        } else {
            x.as_standard_layout().into_owned()
        };
        Dataset {
            x,
            weights: None,
            labels: None,
            n_classes: 0,
        }
    }

    /// Builds a dataset from `n * d` row-major values.
    pub fn from_row_major(values: Vec<f64>, n_features: usize) -> Result<Self> {
        if n_features == 0 || !values.len().is_multiple_of(n_features) {
            return Err(GmmError::InvalidParam {
                name: "data",
                reason: format!(
                    "{} values cannot form rows of {n_features} columns",
                    values.len()
                ),
            });
        }
        let n = values.len() / n_features;
        let x = Array2::from_shape_vec((n, n_features), values).expect("shape checked");
        Ok(Dataset::new(x))
    }

    /// Attaches per-row weights (one per row).
    pub fn with_weights(mut self, weights: Vec<f64>) -> Result<Self> {
        if weights.len() != self.n_rows() {
            return Err(GmmError::InvalidParam {
                name: "weights",
                reason: format!("{} weights for {} rows", weights.len(), self.n_rows()),
            });
        }
        self.weights = Some(weights);
        Ok(self)
    }

    /// Attaches labels: class indices in `0..n_classes`, or [`UNLABELED`].
    pub fn with_labels(mut self, labels: Vec<u32>, n_classes: usize) -> Result<Self> {
        if labels.len() != self.n_rows() {
            return Err(GmmError::InvalidParam {
                name: "labels",
                reason: format!("{} labels for {} rows", labels.len(), self.n_rows()),
            });
        }
        self.labels = Some(labels);
        self.n_classes = n_classes;
        Ok(self)
    }

    pub fn n_rows(&self) -> usize {
        self.x.nrows()
    }

    pub fn n_features(&self) -> usize {
        self.x.ncols()
    }

    pub fn x(&self) -> ArrayView2<'_, f64> {
        self.x.view()
    }

    pub fn weights(&self) -> Option<&[f64]> {
        self.weights.as_deref()
    }

    pub fn labels(&self) -> Option<&[u32]> {
        self.labels.as_deref()
    }

    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    pub fn view(&self) -> DataView<'_> {
        DataView {
            x: self.x.as_slice().expect("row-major by construction"),
            n_features: self.n_features(),
            weights: self.weights.as_deref(),
            labels: self.labels.as_deref(),
            n_classes: self.n_classes,
        }
    }

    /// Takes the matrix, weights and labels apart.
    pub fn into_parts(self) -> (Array2<f64>, Option<Vec<f64>>, Option<Vec<u32>>) {
        (self.x, self.weights, self.labels)
    }
}

/// A borrowed dataset: what every pass of the engine reads. The values can
/// live anywhere (an owned matrix, a memory-mapped file).
#[derive(Debug, Clone, Copy)]
pub struct DataView<'a> {
    x: &'a [f64],
    n_features: usize,
    weights: Option<&'a [f64]>,
    labels: Option<&'a [u32]>,
    n_classes: usize,
}

impl<'a> DataView<'a> {
    /// A view of `x.len() / n_features` rows.
    pub fn new(x: &'a [f64], n_features: usize) -> Result<Self> {
        if n_features == 0 || !x.len().is_multiple_of(n_features) {
            return Err(GmmError::InvalidParam {
                name: "data",
                reason: format!(
                    "{} values cannot form rows of {n_features} columns",
                    x.len()
                ),
            });
        }
        Ok(DataView {
            x,
            n_features,
            weights: None,
            labels: None,
            n_classes: 0,
        })
    }

    pub fn with_weights(mut self, weights: Option<&'a [f64]>) -> Self {
        self.weights = weights;
        self
    }

    pub fn with_labels(mut self, labels: Option<&'a [u32]>, n_classes: usize) -> Self {
        self.labels = labels;
        self.n_classes = n_classes;
        self
    }

    /// Rows `start..end` as a view of their own (weights and labels follow).
    pub fn slice_rows(&self, start: usize, end: usize) -> DataView<'a> {
        DataView {
            x: self.rows(start, end),
            n_features: self.n_features,
            weights: self.weights.map(|w| &w[start..end]),
            labels: self.labels.map(|l| &l[start..end]),
            n_classes: self.n_classes,
        }
    }

    /// The same rows without labels (for unsupervised scoring of labeled data).
    pub fn without_labels(mut self) -> Self {
        self.labels = None;
        self.n_classes = 0;
        self
    }

    pub fn n_rows(&self) -> usize {
        self.x.len() / self.n_features
    }

    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// All values, row-major.
    pub fn values(&self) -> &'a [f64] {
        self.x
    }

    pub fn row(&self, i: usize) -> &'a [f64] {
        &self.x[i * self.n_features..(i + 1) * self.n_features]
    }

    /// Rows `start..end` as one row-major slice.
    pub fn rows(&self, start: usize, end: usize) -> &'a [f64] {
        &self.x[start * self.n_features..end * self.n_features]
    }

    pub fn weights(&self) -> Option<&'a [f64]> {
        self.weights
    }

    pub fn weight(&self, i: usize) -> f64 {
        self.weights.map_or(1.0, |w| w[i])
    }

    pub fn labels(&self) -> Option<&'a [u32]> {
        self.labels
    }

    /// The class of row `i`, if it has one.
    pub fn label(&self, i: usize) -> Option<u32> {
        self.labels
            .and_then(|l| (l[i] != UNLABELED).then_some(l[i]))
    }

    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    pub fn n_labeled(&self) -> usize {
        self.labels
            .map_or(0, |l| l.iter().filter(|&&c| c != UNLABELED).count())
    }

    /// Checks lengths, finiteness of values and weights, and label ranges,
    /// naming the first offending row and column.
    pub fn validate(&self) -> Result<()> {
        let n = self.n_rows();
        if n == 0 {
            return Err(GmmError::EmptyData);
        }
        if let Some(w) = self.weights {
            if w.len() != n {
                return Err(GmmError::InvalidParam {
                    name: "weights",
                    reason: format!("{} weights for {n} rows", w.len()),
                });
            }
            if let Some((row, &value)) = w
                .iter()
                .enumerate()
                .find(|(_, v)| !(v.is_finite() && **v >= 0.0))
            {
                return Err(GmmError::BadWeight { row, value });
            }
        }
        if let Some(l) = self.labels {
            if l.len() != n {
                return Err(GmmError::InvalidParam {
                    name: "labels",
                    reason: format!("{} labels for {n} rows", l.len()),
                });
            }
            if let Some((row, &label)) = l
                .iter()
                .enumerate()
                .find(|(_, c)| **c != UNLABELED && **c as usize >= self.n_classes)
            {
                return Err(GmmError::BadLabel {
                    row,
                    label,
                    n_classes: self.n_classes,
                });
            }
        }
        if let Some(pos) = self.x.iter().position(|v| !v.is_finite()) {
            return Err(GmmError::NonFinite {
                row: pos / self.n_features,
                column: pos % self.n_features,
                value: self.x[pos],
            });
        }
        Ok(())
    }
}
