//! [`DataView`]: a dataset as every pass of the engine reads it.

use crate::collective::Partition;
use crate::error::{GmmError, Result};
use crate::values::{Precision, Values};

use super::UNLABELED;

/// A borrowed dataset: what every pass of the engine reads. The values can
/// live anywhere (an owned matrix, a memory-mapped file).
#[derive(Debug, Clone, Copy)]
pub struct DataView<'a> {
    pub(super) x: Values<'a>,
    pub(super) n_features: usize,
    pub(super) weights: Option<&'a [f64]>,
    pub(super) labels: Option<&'a [u32]>,
    pub(super) n_classes: usize,
    /// The initial noise set, one byte per row (1: in the set).
    pub(super) initial_noise: Option<&'a [u8]>,
    /// Set when these rows are one rank's share of a larger table.
    pub(super) part: Option<Partition<'a>>,
    /// NaN values are missing entries, integrated out.
    pub(crate) missing: bool,
    /// What a missing entry of each column reads as where a pass needs a
    /// complete row (initializations): the column's mean.
    pub(crate) fill: Option<&'a [f64]>,
}

impl<'a> DataView<'a> {
    /// A view of `x.len() / n_features` rows.
    pub fn new(x: &'a [f64], n_features: usize) -> Result<Self> {
        DataView::of_values(Values::F64(x), n_features)
    }

    /// A view of `x.len() / n_features` rows held as `f64` or `f32`.
    pub fn of_values(x: Values<'a>, n_features: usize) -> Result<Self> {
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
            initial_noise: None,
            part: None,
            missing: false,
            fill: None,
        })
    }

    /// Marks these rows as one rank's share of a table split among
    /// processes: fits then combine their passes with the other ranks.
    /// `part.row_offset` must be a multiple of the fit's `chunk_rows`.
    pub fn with_partition(mut self, part: Partition<'a>) -> Self {
        self.part = Some(part);
        self
    }

    pub fn partition(&self) -> Option<Partition<'a>> {
        self.part
    }

    /// Rows of the whole table (of all ranks).
    pub fn global_rows(&self) -> usize {
        self.part.map_or(self.n_rows(), |p| p.global_rows)
    }

    /// Index of the first row in the whole table.
    pub fn row_offset(&self) -> usize {
        self.part.map_or(0, |p| p.row_offset)
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

    /// Marks the rows of an initial noise set (see
    /// [`Dataset::with_initial_noise`]): one byte per row, 1 for a row in it.
    pub fn with_initial_noise(mut self, noise: Option<&'a [u8]>) -> Self {
        self.initial_noise = noise;
        self
    }

    /// Rows `start..end` as a view of their own (weights, labels and the
    /// initial noise set follow).
    pub fn slice_rows(&self, start: usize, end: usize) -> DataView<'a> {
        DataView {
            x: self.rows(start, end),
            n_features: self.n_features,
            weights: self.weights.map(|w| &w[start..end]),
            labels: self.labels.map(|l| &l[start..end]),
            n_classes: self.n_classes,
            initial_noise: self.initial_noise.map(|s| &s[start..end]),
            // A slice is local rows, whatever the view was.
            part: None,
            missing: self.missing,
            fill: self.fill,
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

    /// The type the values are held in.
    pub fn precision(&self) -> Precision {
        self.x.precision()
    }

    /// All values, row-major.
    pub fn values(&self) -> Values<'a> {
        self.x
    }

    /// Row `i`; [`Values::as_f64`] reads it as `f64`.
    pub fn row(&self, i: usize) -> Values<'a> {
        self.x.slice(i * self.n_features, (i + 1) * self.n_features)
    }

    /// Rows `start..end`, row-major.
    pub fn rows(&self, start: usize, end: usize) -> Values<'a> {
        self.x.slice(start * self.n_features, end * self.n_features)
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

    pub fn initial_noise(&self) -> Option<&'a [u8]> {
        self.initial_noise
    }

    /// Whether row `i` is in the initial noise set.
    pub fn in_initial_noise(&self, i: usize) -> bool {
        self.initial_noise.is_some_and(|s| s[i] != 0)
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
                return Err(GmmError::BadWeight {
                    row: row + self.row_offset(),
                    value,
                });
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
                    row: row + self.row_offset(),
                    label,
                    n_classes: self.n_classes,
                });
            }
        }
        if let Some(s) = self.initial_noise {
            if s.len() != n {
                return Err(GmmError::InitialNoise {
                    reason: format!("{} flags for {n} rows", s.len()),
                });
            }
            if let Some((row, &flag)) = s.iter().enumerate().find(|(_, f)| **f > 1) {
                return Err(GmmError::InitialNoise {
                    reason: format!(
                        "row {}: flag {flag} is neither 0 (out of the set) nor 1 (in it)",
                        row + self.row_offset()
                    ),
                });
            }
        }
        let bad = if self.missing {
            // NaN is a missing entry; infinities are still errors.
            self.x.iter().position(f64::is_infinite)
        } else {
            self.x.first_non_finite()
        };
        if let Some(pos) = bad {
            return Err(GmmError::NonFinite {
                row: pos / self.n_features + self.row_offset(),
                column: pos % self.n_features,
                value: self.x.get(pos),
            });
        }
        Ok(())
    }
}
