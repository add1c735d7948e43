//! The README, run: every `gmm` command of its fenced `sh` blocks runs, in
//! order, from a copy of the repository's layout (the tour's `runs/`
//! included), and where the README shows a command's output in the
//! `text` block that follows, the output has those lines, in that order
//! (`...` stands for lines left out). The `--json` summaries are checked
//! against the tables of the README's "JSON summaries" section.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;

/// `gmm` commands of the README that need what the repository does not
/// ship (generated data, a cloud bucket, a cluster), each with the reason:
/// every needle must still match a command, and every other command runs.
const NOT_RUN: &[(&str, &str)] = &[
    (
        "configs/large-parquet.toml",
        "10 million generated rows (data/large, tests/e2e/large.rs runs a smaller copy)",
    ),
    (
        "'sales/'",
        "a user's partitioned dataset (tests/e2e/partitions.rs)",
    ),
    ("s3://", "a bucket (scripts/test_s3.sh)"),
    ("gs://", "a bucket"),
    ("events", "a user's table (tests/e2e/outofcore.rs)"),
];

/// Outputs the README shows after a block whose last command this test
/// does not run, by the start of that command: each must still be there,
/// and every other output shown after a block of commands is compared.
const NOT_COMPARED: &[&str] = &[
    ".venv/bin/python -c \"import pandas",
    "python3 -c \"import duckdb",
];

/// One fenced block: its language, its text, and its first line.
struct Block {
    lang: String,
    body: String,
    line: usize,
}

fn blocks(readme: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<Block> = None;
    for (i, line) in readme.lines().enumerate() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(lang)) => {
                open = Some(Block {
                    lang: lang.trim().to_string(),
                    body: String::new(),
                    line: i + 1,
                })
            }
            (Some(_), Some(_)) => out.push(open.take().unwrap()),
            (Some(b), None) => {
                b.body.push_str(line);
                b.body.push('\n');
            }
            (None, None) => {}
        }
    }
    out
}

/// Whether the text between two blocks is blank: the second shows the
/// first's output.
fn adjacent(readme: &str, first: &Block, second: &Block) -> bool {
    let lines: Vec<&str> = readme.lines().collect();
    let end = first.line + first.body.lines().count() + 1;
    lines[end..second.line - 1]
        .iter()
        .all(|l| l.trim().is_empty())
}

/// The commands of a `sh` block, continuation lines joined; `cargo run
/// --release --` is the binary.
fn commands(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in body.lines() {
        if let Some(head) = line.strip_suffix('\\') {
            current.push_str(head);
            continue;
        }
        current.push_str(line);
        let c = current.trim().replace("cargo run --release -- ", "gmm ");
        if !c.is_empty() {
            out.push(c);
        }
        current.clear();
    }
    out
}

/// A line as compared: dates as `YYYY-MM-DD`, the work directory and the
/// repository as `/path/to/gmm`, trailing blanks trimmed.
fn normalize(line: &str, places: &[String]) -> String {
    let mut s = line.trim_end().to_string();
    for p in places {
        s = s.replace(p.as_str(), "/path/to/gmm");
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let date = chars.len() >= i + 10
            && (0..10).all(|j| match j {
                4 | 7 => chars[i + j] == '-',
                _ => chars[i + j].is_ascii_digit(),
            });
        if date {
            out.push_str("YYYY-MM-DD");
            i += 10;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// A work directory laid out as the repository: `configs/` copied (their
/// output paths point into it), `data/` linked.
fn work_dir(tmp: &Path) -> PathBuf {
    let work = tmp.join("gmm");
    let configs = work.join("configs");
    std::fs::create_dir_all(&configs).unwrap();
    for e in std::fs::read_dir(root().join("configs")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), configs.join(e.file_name())).unwrap();
    }
    std::os::unix::fs::symlink(root().join("data"), work.join("data")).unwrap();
    work
}

fn shell(work: &Path, command: &str) -> std::process::Output {
    let bin = Path::new(env!("CARGO_BIN_EXE_gmm")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("bash")
        .args(["-c", command])
        .current_dir(work)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .env("GMM_LOG_FORMAT", "none")
        .env_remove("GMM_LOG_INTERVAL")
        .output()
        .expect("bash runs")
}

#[test]
fn every_gmm_command_of_the_readme_runs_and_prints_what_it_shows() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let work = work_dir(tmp.path());
    let places = [
        format!("{}", work.canonicalize().unwrap().display()),
        format!("{}", root().display()),
    ];
    let all = blocks(&readme);
    let mut skipped = BTreeSet::new();
    let mut uncompared = BTreeSet::new();
    let (mut ran, mut compared) = (0, 0);
    for (i, b) in all.iter().enumerate() {
        if b.lang != "sh" {
            continue;
        }
        let mut last: Option<std::process::Output> = None;
        let last_command = commands(&b.body).pop().unwrap_or_default();
        for c in commands(&b.body) {
            if !c.starts_with("gmm ") {
                // Set-up, Python and cluster commands: the tests of those
                // parts run them (scripts/test_*.sh, test_readme.py).
                last = None;
                continue;
            }
            if let Some((needle, _)) = NOT_RUN.iter().find(|(n, _)| c.contains(n)) {
                skipped.insert(*needle);
                last = None;
                continue;
            }
            let o = shell(&work, &c);
            assert!(
                o.status.success(),
                "README line {}: `{c}` failed:\n{}{}",
                b.line,
                stdout(&o),
                stderr(&o)
            );
            ran += 1;
            last = Some(o);
        }
        let shown = all
            .get(i + 1)
            .filter(|n| n.lang == "text" && adjacent(&readme, b, n));
        let Some(shown) = shown else {
            continue;
        };
        let Some(o) = last else {
            let known = NOT_COMPARED.iter().find(|n| last_command.starts_with(**n));
            assert!(
                known.is_some(),
                "README line {}: the output shown after `{last_command}` is not compared: run the command or add it to NOT_COMPARED",
                shown.line
            );
            uncompared.insert(*known.unwrap());
            continue;
        };
        let printed: Vec<String> = format!("{}{}", stdout(&o), stderr(&o))
            .lines()
            .map(|l| normalize(l, &places))
            .collect();
        let mut at = 0;
        for want in shown.body.lines() {
            let want = normalize(want, &places);
            if want.trim() == "..." || want.trim().is_empty() {
                continue;
            }
            match printed[at..].iter().position(|l| *l == want) {
                Some(p) => at += p + 1,
                None => panic!(
                    "README line {}: the output has no line `{want}` where the README shows it; it printed:\n{}",
                    shown.line,
                    printed.join("\n")
                ),
            }
        }
        compared += 1;
    }
    for start in NOT_COMPARED {
        assert!(
            uncompared.contains(start),
            "no output shown after `{start}` any more: remove it from NOT_COMPARED"
        );
    }
    for (needle, why) in NOT_RUN {
        assert!(
            skipped.contains(needle),
            "no README command needs `{needle}` ({why}) any more: remove it from NOT_RUN"
        );
    }
    eprintln!(
        "{ran} README commands ran, {compared} outputs compared, {} needles skipped",
        skipped.len()
    );
    assert!(ran >= 12, "only {ran} commands ran");
    assert!(compared >= 8, "only {compared} outputs compared");
}

/// The README's table of a command's `--json` keys: key -> types.
fn schema(readme: &str, command: &str) -> Vec<(String, Vec<String>)> {
    let heading = format!("### `gmm {command} --json`");
    let start = readme
        .find(&heading)
        .unwrap_or_else(|| panic!("the README has no section {heading}"));
    let rest = &readme[start + heading.len()..];
    let end = rest.find("\n#").unwrap_or(rest.len());
    rest[..end]
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let key = cells[1].trim_matches('`').to_string();
            let types = cells[2].split(" or ").map(str::to_string).collect();
            (key, types)
        })
        .collect()
}

/// The README's table row of a command's `--json` key.
fn readme_row(readme: &str, command: &str, key: &str) -> String {
    let heading = format!("### `gmm {command} --json`");
    let rest = &readme[readme.find(&heading).unwrap()..];
    rest.lines()
        .find(|l| l.starts_with(&format!("| `{key}` |")))
        .unwrap_or_default()
        .to_string()
}

fn json_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(n) if n.is_u64() || n.is_i64() => "integer",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

#[track_caller]
fn check_schema(readme: &str, command: &str, outputs: &[serde_json::Value]) {
    let table = schema(readme, command);
    let documented: BTreeSet<&str> = table.iter().map(|(k, _)| k.as_str()).collect();
    for v in outputs {
        let printed: BTreeSet<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(printed, documented, "gmm {command} --json keys");
        for (key, types) in &table {
            // The keys of nested objects are those the meaning names.
            let nested = match &v[key] {
                serde_json::Value::Object(o) => vec![o],
                serde_json::Value::Array(a) => a.iter().filter_map(|x| x.as_object()).collect(),
                _ => vec![],
            };
            let row = readme_row(readme, command, key);
            for o in nested {
                for inner in o.keys() {
                    // select's winner names its criterion's value by the criterion.
                    let named = row.contains(&format!("`{inner}`"))
                        || (key == "winner" && ["bic", "aic", "icl"].contains(&inner.as_str()));
                    assert!(
                        named,
                        "gmm {command} --json: `{key}.{inner}` is not documented"
                    );
                }
            }
            let t = json_type(&v[key]);
            // An integer is a number too.
            let fits = types
                .iter()
                .any(|w| w == t || (w == "number" && t == "integer"));
            assert!(
                fits,
                "gmm {command} --json: `{key}` is {t}, documented as {types:?}"
            );
        }
    }
}

#[test]
fn json_summaries_match_the_documented_schemas_and_share_one_vocabulary() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = |name: &str| tmp.path().join(name).display().to_string();
    let json = |args: &[&str]| -> serde_json::Value {
        serde_json::from_str(&ok(&gmm(args))).expect("one JSON object")
    };
    let (fit_out, semi_out, select_out) = (out("fit"), out("semi"), out("select"));
    let fit = json(&["fit", "configs/customers.toml", "--out", &fit_out, "--json"]);
    let semi = json(&[
        "fit",
        "configs/customers-semi.toml",
        "--out",
        &semi_out,
        "--json",
    ]);
    let select = json(&[
        "select",
        "--input",
        "data/customers/unlabeled.csv",
        "--components",
        "1..3",
        "--covariance",
        "full,diag",
        "--validation-fraction",
        "0.2",
        "--out",
        &select_out,
        "--json",
    ]);
    let model = format!("{fit_out}/model.json");
    let semi_model = format!("{semi_out}/model.json");
    let score = json(&[
        "score",
        "--model",
        &model,
        "--input",
        "data/customers/labeled.csv",
        "--json",
    ]);
    let inspect = json(&["inspect", "--model", &semi_model, "--json"]);
    let inspect_plain = json(&["inspect", &model, "--json"]);
    check_schema(&readme, "fit", &[fit.clone(), semi.clone()]);
    check_schema(&readme, "select", std::slice::from_ref(&select));
    check_schema(&readme, "score", std::slice::from_ref(&score));
    check_schema(
        &readme,
        "inspect",
        &[inspect.clone(), inspect_plain.clone()],
    );

    // The same names mean the same thing in every command.
    let file = read_json(Path::new(&model));
    for v in [&fit, &score, &inspect_plain] {
        assert_eq!(v["n_components"], 2, "{v}");
        assert_eq!(v["covariance_type"], file["covariance_type"]);
        assert_eq!(v["columns"], file["columns"]);
        assert_eq!(v["n_parameters"], file["n_parameters"]);
    }
    assert_eq!(fit["model"], model);
    assert_eq!(score["model"], model);
    assert_eq!(inspect_plain["model"], model);
    for key in [
        "n_rows",
        "mean_log_likelihood",
        "bic",
        "aic",
        "n_iter",
        "converged",
    ] {
        assert_eq!(fit[key], file[key], "{key}");
        assert_eq!(inspect_plain[key], file[key], "{key}");
    }
    assert_eq!(score["n_rows"], 100);
    assert_eq!(fit["total_weight"], 1000.0);
    let winner = &select["winner"];
    assert_eq!(select["n_components"], winner["n_components"]);
    assert_eq!(select["covariance_type"], winner["covariance_type"]);
    let winner_file = read_json(Path::new(select["model"].as_str().unwrap()));
    assert_eq!(winner_file["covariance_type"], select["covariance_type"]);
    assert_eq!(
        winner_file["means"].as_array().unwrap().len() as u64,
        select["n_components"].as_u64().unwrap()
    );
    for c in select["cells"].as_array().unwrap() {
        assert!(
            c["n_components"].is_u64() && c["covariance_type"].is_string(),
            "{c}"
        );
    }
    assert_eq!(inspect["classes"], semi["classes"]);
}
