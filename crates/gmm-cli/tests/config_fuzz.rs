//! Property tests: the config parser answers any text with a config or an
//! error message, never a panic, and so does the validation of what it
//! parsed into the settings of a fit.

use std::path::PathBuf;
use std::sync::OnceLock;

use gmm_cli::args::FitArgs;
use gmm_cli::config::{ConfigFile, FitSettings, parse_config};
use proptest::prelude::*;

/// The shipped example configs: valid inputs to mutate.
fn shipped() -> &'static [String] {
    static CONFIGS: OnceLock<Vec<String>> = OnceLock::new();
    CONFIGS.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../configs");
        let mut texts: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect();
        texts.sort();
        assert!(!texts.is_empty());
        texts
    })
}

/// Parses, and validates what parses with and without flags; an error is a
/// message of its own, not an empty one.
fn parse_and_resolve(text: &str) -> Result<(), TestCaseError> {
    match parse_config(text) {
        Err(message) => prop_assert!(!message.trim().is_empty()),
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
                    prop_assert!(!e.0.trim().is_empty());
                }
            }
        }
    }
    Ok(())
}

/// Text made mostly of TOML's own pieces, with the config's real section
/// and key names (and near misses), so that parsing goes deep.
fn toml_like() -> impl Strategy<Value = String> {
    let pieces = vec![
        "[data]",
        "[model]",
        "[fit]",
        "[semi_supervised]",
        "[output]",
        "[select]",
        "[modle]",
        "[[fit]]",
        "[data.x]",
        "input",
        "columns",
        "components",
        "covariance",
        "reg_covar",
        "n_init",
        "n_inits",
        "max_iter",
        "tol",
        "seed",
        "threads",
        "chunk_rows",
        "on_degenerate",
        "checkpoint_every",
        "mode",
        "unlabeled_weight",
        "dir",
        "plots",
        "predictions_format",
        "label_column",
        "weight_column",
        "delimiter",
        " = ",
        "=",
        "\n",
        "\n",
        "\r\n",
        "#",
        "\"",
        "'",
        "'''",
        "\"\"\"",
        "[",
        "]",
        "{",
        "}",
        ",",
        ".",
        "0",
        "-1",
        "1e-6",
        "1e999",
        "nan",
        "-inf",
        "18446744073709551616",
        "true",
        "\"full\"",
        "\"fulll\"",
        "\"x*\"",
        "\"\\t\"",
        "\"\\u00e9\"",
        "\"\\uD800\"",
        "é",
        "\u{0}",
        "\t",
        " ",
        "0x10",
        "1979-05-27",
        "1_000",
    ];
    proptest::collection::vec(
        prop_oneof![
            9 => prop::sample::select(pieces).prop_map(str::to_string),
            1 => any::<char>().prop_map(|c| c.to_string()),
        ],
        0..80,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn config_parser_never_panics_on_random_text(text in ".{0,300}") {
        parse_and_resolve(&text)?;
    }

    #[test]
    fn config_parser_never_panics_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        parse_and_resolve(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn config_parser_never_panics_on_toml_like_text(text in toml_like()) {
        parse_and_resolve(&text)?;
    }

    #[test]
    fn config_parser_never_panics_on_mutated_configs(
        which in any::<usize>(),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), 0u8..4), 1..8),
    ) {
        let configs = shipped();
        let mut bytes = configs[which % configs.len()].as_bytes().to_vec();
        for (at, byte, op) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = at % bytes.len();
            match op {
                0 => bytes[i] = byte,
                1 => { bytes.remove(i); }
                2 => bytes.insert(i, byte),
                // Cut the file short, as a partial write would.
                _ => bytes.truncate(i),
            }
        }
        parse_and_resolve(&String::from_utf8_lossy(&bytes))?;
    }
}

#[test]
fn every_shipped_config_parses() {
    for text in shipped() {
        parse_config(text).unwrap();
    }
}
