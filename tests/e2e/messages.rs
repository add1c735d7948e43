//! Outputs that would land on inputs or clash with input columns, and
//! messages that must name the file, the key and the fix.

use std::sync::Arc;

use gmm_io::arrow::array::{ArrayRef, Float64Array};

use crate::common::*;
use crate::hostile::blob_lines;

/// `predict --out a.csv --input a.csv` replaced the table with its
/// predictions; a run directory inside a Parquet dataset's directory made
/// the next read of the dataset fail. Outputs on inputs are refused before
/// any work, and the input is untouched.
#[test]
fn an_output_over_an_input_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("a.csv");
    std::fs::write(&csv, format!("x1,x2\n{}\n", blob_lines().join("\n"))).unwrap();
    let before = std::fs::read(&csv).unwrap();
    let model = tmp.path().join("m");
    ok(&gmm(&[
        "fit",
        "--input",
        s(&csv),
        "-k",
        "2",
        "--no-plots",
        "-q",
        "--out",
        s(&model),
    ]));
    let model_json = model.join("model.json");
    let o = gmm(&[
        "predict",
        "--model",
        s(&model_json),
        "--input",
        s(&csv),
        "--out",
        s(&csv),
    ]);
    fails(&o, 2, &["a.csv", "would write over the input"]);
    assert_eq!(std::fs::read(&csv).unwrap(), before);

    // A run directory inside a dataset directory, and one whose
    // predictions would replace the input.
    let set = tmp.path().join("set");
    std::fs::create_dir(&set).unwrap();
    let mut rng = Rng(5);
    let col = |rng: &mut Rng| {
        Arc::new(Float64Array::from(
            (0..100).map(|_| rng.normal()).collect::<Vec<_>>(),
        )) as ArrayRef
    };
    write_parquet(
        &set.join("part-0.parquet"),
        vec![("x1", col(&mut rng)), ("x2", col(&mut rng))],
    );
    let inside = set.join("run");
    let o = gmm(&["fit", "--input", s(&set), "-k", "2", "--out", s(&inside)]);
    fails(&o, 2, &["inside the input directory"]);
    assert!(!inside.exists());
    let glob = format!("{}/*.parquet", set.display());
    let o = gmm(&[
        "predict",
        "--model",
        s(&model_json),
        "--input",
        &glob,
        "--out",
        s(&set.join("more.parquet")),
    ]);
    fails(&o, 2, &["where the input pattern", "reads"]);
    let o = gmm(&[
        "fit",
        "--input",
        s(&model.join("predictions.parquet")),
        "--columns",
        "proba_0",
        "-k",
        "1",
        "--out",
        s(&model),
    ]);
    fails(
        &o,
        2,
        &["would write over the input", "predictions.parquet"],
    );
}

/// `--id-column component` wrote two columns named `component`, which
/// pandas cannot read: refused, in fit before the work and in predict.
#[test]
fn an_id_column_named_as_an_output_column_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let lines: Vec<String> = blob_lines()
        .iter()
        .enumerate()
        .map(|(i, l)| format!("{l},{i}"))
        .collect();
    let csv = tmp.path().join("ids.csv");
    for id in ["component", "probability", "proba_1", "uncertainty"] {
        std::fs::write(&csv, format!("x1,x2,{id}\n{}\n", lines.join("\n"))).unwrap();
        let run = tmp.path().join("run");
        let o = gmm(&[
            "fit",
            "--input",
            s(&csv),
            "--columns",
            "x1,x2",
            "-k",
            "2",
            "--id-column",
            id,
            "--out",
            s(&run),
        ]);
        fails(
            &o,
            2,
            &[
                &format!("column `{id}` is copied into the predictions"),
                "rename",
            ],
        );
        assert!(!run.exists());
    }
    // Named otherwise, the same column is copied through.
    std::fs::write(&csv, format!("x1,x2,proba_7\n{}\n", lines.join("\n"))).unwrap();
    let run = tmp.path().join("run");
    ok(&gmm(&[
        "fit",
        "--input",
        s(&csv),
        "--columns",
        "x1,x2",
        "-k",
        "2",
        "--id-column",
        "proba_7",
        "--no-plots",
        "-q",
        "--predictions-format",
        "csv",
        "--out",
        s(&run),
    ]));
    let (header, _) = read_csv(&run.join("predictions.csv"));
    assert_eq!(header[..3], ["proba_7", "component", "probability"]);
}

/// Messages that were wrong or vague: each now names what is wrong, where,
/// and what to do.
#[test]
fn messages_name_the_file_the_key_and_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("blobs.csv");
    std::fs::write(&csv, format!("x1,x2\n{}\n", blob_lines().join("\n"))).unwrap();
    let run = tmp.path().join("run");
    let fit = |extra: &[&str]| {
        let mut a = vec!["fit", "--input", s(&csv), "-k", "2", "--out", s(&run)];
        a.extend(extra);
        gmm(&a)
    };
    // A quote or a line end cannot be a delimiter.
    fails(&fit(&["--delimiter", "\""]), 2, &["cannot separate fields"]);
    fails(&fit(&["--delimiter", "\n"]), 2, &["cannot separate fields"]);
    // Blanks around a header name: suggested, and shown in backticks.
    let spaced = tmp.path().join("spaced.csv");
    std::fs::write(&spaced, format!(" x1 ,x2\n{}\n", blob_lines().join("\n"))).unwrap();
    let o = gmm(&[
        "fit",
        "--input",
        s(&spaced),
        "--columns",
        "x1,x2",
        "-k",
        "2",
        "--out",
        s(&run),
    ]);
    fails(
        &o,
        1,
        &["did you mean ` x1 `?", "the columns are: ` x1 `, `x2`"],
    );
    // Config values: the file named, the key named, empty paths refused.
    let config = |name: &str, text: &str| {
        let p = tmp.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let head = format!("[data]\ninput = \"{}\"\n", csv.display());
    let c = config(
        "neg.toml",
        &format!("{head}[model]\ncomponents = 2\nreg_covar = -1\n"),
    );
    let o = gmm(&["fit", s(&c), "--out", s(&run)]);
    fails(
        &o,
        2,
        &[
            "neg.toml: line 5: --reg-covar / [model] reg_covar",
            "non-negative",
        ],
    );
    let c = config("k.toml", &format!("{head}[model]\ncomponents = -3\n"));
    let o = gmm(&["fit", s(&c), "--out", s(&run)]);
    fails(
        &o,
        2,
        &[
            "k.toml: line 4: --components / [model] components",
            "`-3` is not a whole number",
        ],
    );
    let c = config(
        "dir.toml",
        &format!("{head}[model]\ncomponents = 2\n[output]\ndir = \"\"\n"),
    );
    let o = gmm(&["fit", s(&c)]);
    fails(&o, 2, &["dir.toml: [output] dir is empty"]);
    assert!(!run.exists());
    // A model file whose version is text.
    let model = tmp.path().join("m");
    ok(&gmm(&[
        "fit",
        "--input",
        s(&csv),
        "-k",
        "2",
        "--no-plots",
        "-q",
        "--out",
        s(&model),
    ]));
    let text = std::fs::read_to_string(model.join("model.json")).unwrap();
    let bad = tmp.path().join("bad.json");
    std::fs::write(
        &bad,
        text.replacen("\"version\": 1", "\"version\": \"1\"", 1),
    )
    .unwrap();
    let o = gmm(&["inspect", s(&bad)]);
    fails(
        &o,
        1,
        &["bad.json", "is the text \"1\"; it must be the number 1"],
    );
    // A huge total weight is written as a number people read.
    let heavy = tmp.path().join("heavy.csv");
    let rows: Vec<String> = blob_lines().iter().map(|l| format!("{l},1e140")).collect();
    std::fs::write(&heavy, format!("x1,x2,w\n{}\n", rows.join("\n"))).unwrap();
    let out = ok(&gmm(&[
        "score",
        "--model",
        s(&model.join("model.json")),
        "--input",
        s(&heavy),
        "--weight-column",
        "w",
    ]));
    let line = out.lines().find(|l| l.starts_with("total weight")).unwrap();
    assert!(line.contains("e142") && line.len() < 60, "{line}");
    assert!(out.lines().all(|l| l.len() < 60), "{out}");
}

/// `select --validation-fraction 0.99` on a few rows blamed "0 rows with
/// positive weight"; the cells now say the hold-out left too few rows.
#[test]
fn a_hold_out_that_leaves_too_few_rows_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("few.csv");
    std::fs::write(&csv, "x1,x2\n0,1\n1,0\n2,2\n3,1\n").unwrap();
    let o = gmm(&[
        "select",
        "--input",
        s(&csv),
        "--components",
        "1..2",
        "--validation-fraction",
        "0.99",
        "--out",
        s(&tmp.path().join("sel")),
    ]);
    let err = stderr(&o);
    assert_ne!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("holding out") && err.contains("--validation-fraction"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

/// A config's mistakes came one per run, and a value of the wrong type
/// named neither its key nor, in words, what it should be.
#[test]
fn config_mistakes_are_reported_together_and_in_words() {
    let tmp = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = tmp.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let run = tmp.path().join("run");
    let c = write(
        "keys.toml",
        "[model]\ncomponents = 2\n[fit]\nn_inits = 3\nseeds = 4\n[semi_supervised]\nmodes = \"em\"\n",
    );
    let o = gmm(&[
        "fit",
        s(&c),
        "--input",
        "data/customers/unlabeled.csv",
        "--out",
        s(&run),
    ]);
    fails(
        &o,
        2,
        &[
            "line 4: unknown key `n_inits` in [fit]; did you mean `n_init`?",
            "line 5: unknown key `seeds` in [fit]; did you mean `seed`?",
            "line 7: unknown key `modes` in [semi_supervised]; did you mean `mode`?",
        ],
    );
    let c = write(
        "values.toml",
        "[model]\ncomponents = 2\n[fit]\nn_init = \"x\"\ntol = \"y\"\n",
    );
    let o = gmm(&[
        "fit",
        s(&c),
        "--input",
        "data/customers/unlabeled.csv",
        "--out",
        s(&run),
    ]);
    fails(
        &o,
        2,
        &[
            "[fit] n_init: `x` is not a whole number",
            "[fit] tol: `y` is not a number",
        ],
    );
    let c = write(
        "size.toml",
        "[data]\nmax_memory = true\n[model]\ncomponents = 2\n[output]\nplots = \"no\"\n",
    );
    let o = gmm(&[
        "fit",
        s(&c),
        "--input",
        "data/customers/unlabeled.csv",
        "--out",
        s(&run),
    ]);
    fails(
        &o,
        2,
        &[
            "line 2: [data] max_memory: expected a size, such as \"8GiB\"",
            "line 6: [output] plots: invalid type: string \"no\", expected true or false",
        ],
    );
    assert!(!run.exists());
}
