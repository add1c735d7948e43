//! The config parser on any text, and the validation of what it parses
//! into a fit's settings: a config or a message, never a panic.

#![no_main]

use std::path::PathBuf;

use gmm_cli::args::FitArgs;
use gmm_cli::config::{ConfigFile, FitSettings, parse_config};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match parse_config(&text) {
        Err(message) => assert!(!message.trim().is_empty()),
        Ok(raw) => {
            let cfg = ConfigFile {
                path: Some(PathBuf::from("configs/fuzz.toml")),
                raw,
            };
            for args in [
                FitArgs::default(),
                FitArgs {
                    input: Some("x.csv".into()),
                    components: Some("2".into()),
                    ..Default::default()
                },
            ] {
                if let Err(e) = FitSettings::resolve(&args, &cfg) {
                    assert!(!e.0.trim().is_empty());
                }
            }
        }
    }
});
