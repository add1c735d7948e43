//! The engine's input: a row-major matrix of `f64` or `f32` values with
//! optional per-row weights, optional class labels and an optional initial
//! noise set.

use std::sync::Arc;

use ndarray::Array2;

use crate::error::{GmmError, Result};
use crate::values::{Precision, Values};

mod view;

pub use view::DataView;

/// Label code of a row without a class.
pub const UNLABELED: u32 = u32::MAX;

/// Values a [`Dataset`] shares with an owner that keeps them alive (a
/// memory-mapped file, say): gmm-core needs to know nothing of where they live.
pub type SharedSlice<T> = Arc<dyn AsRef<[T]> + Send + Sync>;

/// The values of a dataset, in the type they are held in.
#[derive(Clone)]
enum Matrix {
    F64(Column<f64>),
    F32(Column<f32>),
}

impl Matrix {
    fn values(&self) -> Values<'_> {
        match self {
            Matrix::F64(c) => Values::F64(c.as_slice()),
            Matrix::F32(c) => Values::F32(c.as_slice()),
        }
    }
}

/// Values, weights or labels: owned, or shared with an owner that keeps
/// them alive.
#[derive(Clone)]
enum Column<T: 'static> {
    Owned(Vec<T>),
    Shared(SharedSlice<T>),
}

impl<T> Column<T> {
    fn as_slice(&self) -> &[T] {
        match self {
            Column::Owned(v) => v,
            Column::Shared(s) => (**s).as_ref(),
        }
    }
}

/// A dataset: `n x d` values in row-major order, optional non-negative
/// weights and optional labels (class index, or [`UNLABELED`]). The values
/// are owned, or shared with their owner ([`Dataset::from_shared`]): a fit
/// reads both the same way, through [`Dataset::view`].
#[derive(Clone)]
pub struct Dataset {
    x: Matrix,
    n_features: usize,
    weights: Option<Column<f64>>,
    labels: Option<Column<u32>>,
    n_classes: usize,
    initial_noise: Option<Column<u8>>,
    /// NaN values are missing entries, integrated out.
    pub(crate) missing: bool,
}

impl std::fmt::Debug for Dataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dataset")
            .field("n_rows", &self.n_rows())
            .field("n_features", &self.n_features())
            .field("precision", &self.precision())
            .field("shared", &self.is_shared())
            .field("weights", &self.weights.is_some())
            .field("labels", &self.labels.is_some())
            .field("n_classes", &self.n_classes)
            .field("initial_noise", &self.initial_noise.is_some())
            .field("missing", &self.missing)
            .finish()
    }
}

impl PartialEq for Dataset {
    /// Equal shapes, values, weights, labels, classes and initial noise
    /// sets, wherever they live.
    fn eq(&self, other: &Self) -> bool {
        self.n_features() == other.n_features()
            && self.values() == other.values()
            && self.weights() == other.weights()
            && self.labels() == other.labels()
            && self.n_classes == other.n_classes
            && self.initial_noise() == other.initial_noise()
            && self.missing == other.missing
    }
}

impl Dataset {
    /// Wraps a matrix of rows; the matrix is made row-major if it is not.
    pub fn new(x: Array2<f64>) -> Self {
        let (n_features, len) = (x.ncols(), x.len());
        let values = if x.is_standard_layout() {
            // The array's elements are `len` consecutive values of its
            // buffer from `offset` on; a sliced array keeps the rest of the
            // buffer, which must not become rows.
            let (mut v, offset) = x.into_raw_vec_and_offset();
            let offset = offset.unwrap_or(0);
            v.truncate(offset + len);
            v.drain(..offset);
            v
        } else {
            x.iter().copied().collect()
        };
        Dataset::with_matrix(Matrix::F64(Column::Owned(values)), n_features.max(1))
    }

    fn with_matrix(x: Matrix, n_features: usize) -> Self {
        Dataset {
            x,
            n_features,
            weights: None,
            labels: None,
            n_classes: 0,
            initial_noise: None,
            missing: false,
        }
    }

    fn checked(x: Matrix, n_features: usize) -> Result<Self> {
        let len = x.values().len();
        if n_features == 0 || !len.is_multiple_of(n_features) {
            return Err(GmmError::InvalidParam {
                name: "data",
                reason: format!("{len} values cannot form rows of {n_features} columns"),
            });
        }
        Ok(Dataset::with_matrix(x, n_features))
    }

    /// A dataset over `values.len() / n_features` rows that someone else
    /// owns (a memory-mapped file): nothing is copied.
    pub fn from_shared(values: SharedSlice<f64>, n_features: usize) -> Result<Self> {
        Dataset::checked(Matrix::F64(Column::Shared(values)), n_features)
    }

    /// [`Dataset::from_shared`] for values held as `f32`.
    pub fn from_shared_f32(values: SharedSlice<f32>, n_features: usize) -> Result<Self> {
        Dataset::checked(Matrix::F32(Column::Shared(values)), n_features)
    }

    /// Builds a dataset from `n * d` row-major values.
    pub fn from_row_major(values: Vec<f64>, n_features: usize) -> Result<Self> {
        Dataset::checked(Matrix::F64(Column::Owned(values)), n_features)
    }

    /// Builds a dataset from `n * d` row-major values held as `f32`.
    pub fn from_row_major_f32(values: Vec<f32>, n_features: usize) -> Result<Self> {
        Dataset::checked(Matrix::F32(Column::Owned(values)), n_features)
    }

    /// Attaches per-row weights (one per row).
    pub fn with_weights(self, weights: Vec<f64>) -> Result<Self> {
        self.with_weight_column(Column::Owned(weights))
    }

    /// Attaches per-row weights that someone else owns.
    pub fn with_shared_weights(self, weights: SharedSlice<f64>) -> Result<Self> {
        self.with_weight_column(Column::Shared(weights))
    }

    fn with_weight_column(mut self, weights: Column<f64>) -> Result<Self> {
        let len = weights.as_slice().len();
        if len != self.n_rows() {
            return Err(GmmError::InvalidParam {
                name: "weights",
                reason: format!("{len} weights for {} rows", self.n_rows()),
            });
        }
        self.weights = Some(weights);
        Ok(self)
    }

    /// Attaches labels: class indices in `0..n_classes`, or [`UNLABELED`].
    pub fn with_labels(self, labels: Vec<u32>, n_classes: usize) -> Result<Self> {
        self.with_label_column(Column::Owned(labels), n_classes)
    }

    /// Attaches labels that someone else owns (see [`Dataset::with_labels`]).
    pub fn with_shared_labels(self, labels: SharedSlice<u32>, n_classes: usize) -> Result<Self> {
        self.with_label_column(Column::Shared(labels), n_classes)
    }

    fn with_label_column(mut self, labels: Column<u32>, n_classes: usize) -> Result<Self> {
        let len = labels.as_slice().len();
        if len != self.n_rows() {
            return Err(GmmError::InvalidParam {
                name: "labels",
                reason: format!("{len} labels for {} rows", self.n_rows()),
            });
        }
        self.labels = Some(labels);
        self.n_classes = n_classes;
        Ok(self)
    }

    /// Attaches an initial noise set (one flag per row), for a fit with a
    /// noise component: its starts are fitted to the other rows, and give
    /// the noise the set's share of the rows' weight, as mclust's
    /// `Mclust(X, initialization = list(noise = ...))` does.
    pub fn with_initial_noise(self, noise: Vec<bool>) -> Result<Self> {
        self.with_initial_noise_column(Column::Owned(noise.into_iter().map(u8::from).collect()))
    }

    /// Attaches an initial noise set that someone else owns, one byte per
    /// row: 1 for a row in the set, 0 for one out of it
    /// ([`DataView::validate`] refuses any other byte).
    pub fn with_shared_initial_noise(self, noise: SharedSlice<u8>) -> Result<Self> {
        self.with_initial_noise_column(Column::Shared(noise))
    }

    fn with_initial_noise_column(mut self, noise: Column<u8>) -> Result<Self> {
        let len = noise.as_slice().len();
        if len != self.n_rows() {
            return Err(GmmError::InitialNoise {
                reason: format!("{len} flags for {} rows", self.n_rows()),
            });
        }
        self.initial_noise = Some(noise);
        Ok(self)
    }

    pub fn n_rows(&self) -> usize {
        self.x.values().len() / self.n_features
    }

    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// The type the values are held in.
    pub fn precision(&self) -> Precision {
        self.x.values().precision()
    }

    /// Whether the values are shared ([`Dataset::from_shared`]) rather than owned.
    pub fn is_shared(&self) -> bool {
        matches!(
            self.x,
            Matrix::F64(Column::Shared(_)) | Matrix::F32(Column::Shared(_))
        )
    }

    /// All values, row-major.
    pub fn values(&self) -> Values<'_> {
        self.x.values()
    }

    pub fn weights(&self) -> Option<&[f64]> {
        self.weights.as_ref().map(Column::as_slice)
    }

    pub fn labels(&self) -> Option<&[u32]> {
        self.labels.as_ref().map(Column::as_slice)
    }

    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// The initial noise set, one byte per row (1: in the set).
    pub fn initial_noise(&self) -> Option<&[u8]> {
        self.initial_noise.as_ref().map(Column::as_slice)
    }

    pub fn view(&self) -> DataView<'_> {
        DataView {
            x: self.values(),
            n_features: self.n_features(),
            weights: self.weights(),
            labels: self.labels(),
            n_classes: self.n_classes,
            initial_noise: self.initial_noise(),
            part: None,
            missing: self.missing,
            fill: None,
        }
    }

    /// The same rows held as `f32` (values rounded to the nearest), with
    /// the same weights and labels.
    pub fn to_f32(&self) -> Dataset {
        let values = match self.values() {
            Values::F64(v) => v.iter().map(|&x| x as f32).collect(),
            Values::F32(v) => v.to_vec(),
        };
        Dataset {
            x: Matrix::F32(Column::Owned(values)),
            n_features: self.n_features,
            weights: self.weights.clone(),
            labels: self.labels.clone(),
            n_classes: self.n_classes,
            initial_noise: self.initial_noise.clone(),
            missing: self.missing,
        }
    }
}
