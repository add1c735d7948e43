//! `gmm_engine._native`: the Python package's bridge to the engine. It
//! holds no numerics and no policy of its own: rows come in as NumPy arrays
//! (borrowed, not copied, when they are C-contiguous `float64`) or Arrow C
//! streams (decoded by gmm-io as a file of the same columns would be),
//! settings as `gmm_core::FitParams` in JSON, and models go out as gmm-io's
//! model file. The estimator (`python/gmm_engine`) is written in Python.

use pyo3::prelude::*;

mod data;
mod errors;
mod files;
mod model;
mod run;
mod work;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<model::Model>()?;
    m.add_function(wrap_pyfunction!(run::fit, m)?)?;
    m.add_function(wrap_pyfunction!(files::fit_files, m)?)?;
    m.add_function(wrap_pyfunction!(data::arrow_table, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
