//! Errors of the engine. Each variant names where the trouble is (row, column,
//! component, restart, iteration) so that the binary can print one clear message.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq)]
pub enum GmmError {
    /// A setting is out of its range; `name` is the setting as users spell it.
    #[error("invalid setting `{name}`: {reason}")]
    InvalidParam { name: &'static str, reason: String },

    #[error("the data has no rows")]
    EmptyData,

    #[error(
        "the data has {rows} rows with positive weight, fewer than the {components} components asked for; lower the number of components"
    )]
    TooFewRows { rows: usize, components: usize },

    #[error(
        "row {row}, column {column}: value {value} is not finite; remove or impute non-finite values before fitting"
    )]
    NonFinite {
        row: usize,
        column: usize,
        value: f64,
    },

    #[error(
        "column {column} has no observed value in any row with weight; leave the column out, since missing values cannot be integrated out of a column nothing is known of"
    )]
    NothingObserved { column: usize },

    #[error("row {row}: weight {value} is not a finite non-negative number")]
    BadWeight { row: usize, value: f64 },

    #[error(
        "the rows' weights add up to {total:e}, too {} to compute with; only their ratios matter: {} every weight by the same number",
        if *total < 1.0 { "small" } else { "large" },
        if *total < 1.0 { "multiply" } else { "divide" }
    )]
    WeightScale { total: f64 },

    #[error(
        "column {column}: values as large as {value:e} are too large to compute with (sums of their squares overflow); rescale the column, for example divide it by a power of ten"
    )]
    ValuesTooLarge { column: usize, value: f64 },

    #[error("row {row}: label index {label} is outside the {n_classes} classes")]
    BadLabel {
        row: usize,
        label: u32,
        n_classes: usize,
    },

    #[error("the data has {got} columns but {expected} were expected")]
    DimensionMismatch { expected: usize, got: usize },

    #[error("semi-supervised fitting needs at least one labeled row")]
    NoLabeledRows,

    #[error(
        "class {class} has no labeled row with positive weight; every class needs at least one"
    )]
    EmptyClass { class: usize },

    #[error(
        "{n_classes} classes need at least as many components, but {components} were asked for"
    )]
    TooFewComponents { components: usize, n_classes: usize },

    #[error("the model's parameters are inconsistent: {0}")]
    InvalidModel(String),

    /// The covariance of a component is not positive definite after `reg_covar`.
    #[error(
        "component {component} of restart {restart} became degenerate at iteration {iteration}: \
         its covariance is not positive definite at the precision of its values \
         (it sits on too few distinct points, or on a line or plane of the data). \
         Increase reg_covar, lower the number of components, or use another covariance type (diag, spherical, tied, or one of mclust's families that share parameters across components, such as EEE or EII)"
    )]
    Degenerate {
        component: usize,
        restart: usize,
        iteration: usize,
    },

    /// An initial noise set that cannot start a noise component.
    #[error("initial noise set: {reason}")]
    InitialNoise { reason: String },

    #[error(
        "the noise component of restart {restart} took every row at iteration {iteration}, leaving no cluster: its volume, {volume:.6e}, is small for the rows' region (a noise volume given too small, or rows nearly flat along some direction). \
         Give a larger noise volume"
    )]
    NoiseTookEveryRow {
        restart: usize,
        iteration: usize,
        volume: f64,
    },

    #[error(
        "component {component} of restart {restart} became empty at iteration {iteration}: it explains no rows. \
         Lower the number of components, or set on_degenerate = \"reseed\" to restart it elsewhere"
    )]
    EmptyComponent {
        component: usize,
        restart: usize,
        iteration: usize,
    },

    #[error("all {n_init} restarts were dropped as degenerate; the last: {last}")]
    AllRestartsDropped { n_init: usize, last: String },

    #[error("the fit was interrupted")]
    Interrupted,

    /// Bytes given to `wire::Reader` are truncated or were not
    /// written by this version of the engine.
    #[error(
        "malformed data at byte {offset}: {reason}; it is truncated or was not written by this version of gmm"
    )]
    Malformed { offset: usize, reason: String },

    /// Another process of a distributed fit failed; this is its message.
    #[error("rank {rank}: {message}")]
    OnRank { rank: usize, message: String },
}

pub type Result<T, E = GmmError> = std::result::Result<T, E>;
