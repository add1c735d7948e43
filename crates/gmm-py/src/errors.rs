//! Engine and reader errors as Python exceptions: an interrupt is a
//! `KeyboardInterrupt`, a missing file a `FileNotFoundError`, a failed
//! write an `OSError`, everything else (bad values, settings, models) a
//! `ValueError` with the engine's one-line message.

use gmm_core::GmmError;
use gmm_io::IoError;
use pyo3::exceptions::{PyFileNotFoundError, PyKeyboardInterrupt, PyOSError, PyValueError};
use pyo3::{PyErr, PyResult};

pub fn engine(e: GmmError) -> PyErr {
    match e {
        GmmError::Interrupted => interrupted(),
        other => PyValueError::new_err(other.to_string()),
    }
}

pub fn io(e: IoError) -> PyErr {
    match e {
        IoError::Interrupted | IoError::Engine(GmmError::Interrupted) => interrupted(),
        IoError::NotFound { .. } | IoError::NoSuchObject { .. } | IoError::NoFilesMatch { .. } => {
            PyFileNotFoundError::new_err(e.to_string())
        }
        IoError::Write { .. } => PyOSError::new_err(e.to_string()),
        other => PyValueError::new_err(other.to_string()),
    }
}

pub fn interrupted() -> PyErr {
    PyKeyboardInterrupt::new_err("interrupted; nothing was fitted")
}

pub fn value(message: impl Into<String>) -> PyErr {
    PyValueError::new_err(message.into())
}

/// The object storage settings of `storage=` (JSON from the Python side):
/// a config's `[storage]` keys, unknown ones refused naming the four.
pub fn storage_settings(json: Option<&str>) -> PyResult<gmm_io::ObjectStorage> {
    match json {
        None => Ok(Default::default()),
        Some(j) => serde_json::from_str(j).map_err(|e| {
            value(format!(
                "storage: {e}; its keys are endpoint, region, anonymous and profile"
            ))
        }),
    }
}
