//! The README against the binary: the `--json` summaries are checked
//! against the tables of the README's "JSON summaries" section.

use std::collections::BTreeSet;
use std::path::Path;

use crate::common::*;

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
