//! The run directory's pictures, as SVG drawn by `plotters` with no system
//! libraries (text is SVG `<text>`, rendered by the viewer's fonts):
//!
//! - [`trace_svg`]: the mean log-likelihood (or semi-supervised objective)
//!   per iteration of every restart, each in its own colour and named in
//!   the legend, the chosen one thick and red;
//! - [`clusters_svg`]: the rows coloured by their most probable component and
//!   sized by their uncertainty, with each component's 1- and 2-sigma
//!   ellipses, on the two columns for 2-D data and on the data's two
//!   leading principal axes for more, on one scale when the axes' ranges
//!   allow; for 1-D data, a histogram with the weighted component densities;
//! - [`selection_svg`]: a model-selection criterion against K, one line per
//!   covariance type with its own colour, marker and dash, failed cells as
//!   gaps, a far-worse smallest K off scale.
//!
//! Legends stand in a panel beside the plot, clear of the data.
//!
//! One file per picture (`trace.rs`, `clusters.rs` with `axes.rs` for its
//! plane, `scatter.rs` drawing it and `density.rs` for one column,
//! `selection.rs`); what they share
//! (size, font, colours, axis ranges) is in `canvas.rs`.

mod axes;
mod canvas;
mod clusters;
mod density;
mod scatter;
mod selection;
mod trace;

pub use clusters::{Projection, clusters_svg};
pub use selection::{SelectionPoint, selection_svg};
pub use trace::{Measure, trace_svg};
#[allow(
    unused_imports,
    reason = "the rest of what plots.rs exported, at the same paths; only the pictures use it today"
)]
pub use {
    canvas::component_colour,
    clusters::{ClustersPlot, MAX_POINTS},
    trace::{CHOSEN_COLOUR, restart_colour},
};
