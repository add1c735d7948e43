//! Gaussian mixture models fitted by Expectation-Maximization on large tables.
//!
//! The engine reads a row-major `f64` matrix ([`Dataset`] or a borrowed
//! [`DataView`]) with optional per-row weights and class labels, and fits a
//! mixture of `K` Gaussians with `full`, `diag`, `spherical` or `tied`
//! covariances. Each EM iteration is one pass over the data in fixed-size
//! chunks, in parallel: the E-step's max-shifted log-sum-exp is fused with the
//! accumulation of the M-step's sufficient statistics, which are kept around
//! the current means and reduced exactly, so results are bit for bit the same
//! for any number of threads. Restarts advance together through each pass.
//!
//! ```
//! use gmm_core::{CovarianceType, Dataset, FitParams, Silent};
//! use ndarray::array;
//!
//! let x = array![[0.0, 0.1], [0.2, -0.1], [-0.1, 0.0], [5.0, 5.1], [5.2, 4.9], [4.9, 5.0]];
//! let data = Dataset::new(x);
//! let fit = FitParams::new(2)
//!     .covariance_type(CovarianceType::Diag)
//!     .n_init(3)
//!     .seed(42)
//!     .check()?
//!     .fit(data.view(), &mut Silent)?;
//! let labels = fit.model.predict(data.view())?;
//! assert_eq!(labels[0], labels[1]);
//! assert_ne!(labels[0], labels[3]);
//! # Ok::<(), gmm_core::GmmError>(())
//! ```

// Numerical kernels index several arrays with one loop variable, and `!(a > b)`
// is how NaN-rejecting comparisons are written on purpose.
#![allow(clippy::needless_range_loop, clippy::neg_cmp_op_on_partial_ord)]

mod ahead;
mod aligned;
#[doc(hidden)]
pub mod bench;
mod choices;
mod chunks;
mod collective;
mod covariance;
mod data;
mod error;
mod estep;
mod family;
mod fit;
pub mod hash;
pub mod hierarchy;
mod init;
mod kernel;
pub mod linalg;
mod missing;
mod model;
mod mstep;
mod nearest;
mod noise;
mod observer;
mod params;
mod pass;
mod predict;
mod prepared;
mod report;
mod selection;
mod simd;
mod state;
mod stats;
mod summary;
mod values;
pub mod wire;

pub use chunks::DEFAULT_CHUNK_ROWS;
pub use collective::{Collective, LocalGroup, LocalRank, Partition, SingleProcess, agree, share};
pub use covariance::{CovarianceType, Covariances, MCLUST_FAMILIES};
pub use data::{DataView, Dataset, SharedSlice, UNLABELED};
pub use error::{GmmError, Result};
pub use family::{Decomposition, from_dense as covariances_in_family};
pub use model::{GaussianMixture, aic, bic, n_parameters};
pub use noise::{NOISE_PARAMETERS, Noise};
pub use observer::{FitObserver, InitProgress, Silent};
pub use params::{
    DegeneratePolicy, FitParams, InitMethod, Racing, SemiSupervised, SemiSupervisedMode,
    ValidFitParams,
};
pub use predict::ScoreSums;
pub use report::{Ending, Fit, FitReport, RestartReport};
pub use selection::{Criterion, SelectParams};
pub use state::{FitState, RestartSnapshot};
pub use values::{Precision, Values, ValuesIter};
