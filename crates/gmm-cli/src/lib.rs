//! The parts of the `gmm` binary that code outside it reaches too: the
//! command line as typed ([`args`]), the TOML config file and its
//! validation into the settings a fit runs with ([`config`]), and the
//! errors with their exit statuses ([`error`]). The fuzz targets in the
//! repository's `fuzz/` drive [`config::parse_config`] through it.
//!
//! ```
//! let raw = gmm_cli::config::parse_config("[model]\ncomponents = 3\n").unwrap();
//! assert_eq!(raw.engine_value("n_components").and_then(|v| v.as_integer()), Some(3));
//! let err = gmm_cli::config::parse_config("[fit]\nn_inits = 3\n").unwrap_err();
//! assert!(err.contains("did you mean `n_init`"));
//! ```

pub mod args;
mod args_help;
pub mod config;
pub mod error;
