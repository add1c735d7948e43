//! Bad input is refused before any work: one clear line naming what is
//! wrong and where, exit status 2 for a usage or config mistake and 1 for a
//! data problem, and nothing written: a fresh output path stays absent, and
//! a good earlier result in the same place stays byte for byte as it was.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use gmm_io::arrow::array::{ArrayRef, Float64Array, StringArray};

use crate::common::*;

/// One refused invocation.
struct Case {
    name: &'static str,
    args: Vec<String>,
    code: i32,
    needles: Vec<String>,
}

fn case(name: &'static str, args: &[&str], code: i32, needles: &[&str]) -> Case {
    Case {
        name,
        args: args.iter().map(|a| a.to_string()).collect(),
        code,
        needles: needles.iter().map(|n| n.to_string()).collect(),
    }
}

/// The bad files, written once into `dir`.
struct Fixtures {
    dir: PathBuf,
}

impl Fixtures {
    fn new(dir: &Path) -> Fixtures {
        let f = Fixtures {
            dir: dir.to_path_buf(),
        };
        let customers =
            std::fs::read_to_string(root().join("data/customers/unlabeled.csv")).unwrap();

        // A valid Parquet table, and the same file cut in half.
        let mut rng = Rng(7);
        let x1: Vec<f64> = (0..200).map(|_| rng.normal()).collect();
        let x2: Vec<f64> = (0..200).map(|_| rng.normal()).collect();
        let good = f.path("good.parquet");
        write_parquet(
            &good,
            vec![
                ("x1", Arc::new(Float64Array::from(x1.clone())) as ArrayRef),
                ("x2", Arc::new(Float64Array::from(x2.clone())) as ArrayRef),
            ],
        );
        let bytes = std::fs::read(&good).unwrap();
        std::fs::write(f.path("truncated.parquet"), &bytes[..bytes.len() / 2]).unwrap();
        // Right magic bytes at both ends, garbage between.
        let mut garbage = b"PAR1".to_vec();
        garbage.extend((0..500).map(|i| (i * 37 % 251) as u8));
        garbage.extend_from_slice(b"PAR1");
        std::fs::write(f.path("garbage.parquet"), garbage).unwrap();
        std::fs::write(f.path("text.parquet"), &customers).unwrap();
        // No rows, and a text column.
        write_parquet(
            &f.path("norows.parquet"),
            vec![
                (
                    "x1",
                    Arc::new(Float64Array::from(Vec::<f64>::new())) as ArrayRef,
                ),
                (
                    "x2",
                    Arc::new(Float64Array::from(Vec::<f64>::new())) as ArrayRef,
                ),
            ],
        );
        let names: Vec<String> = (0..200).map(|i| format!("customer-{i}")).collect();
        write_parquet(
            &f.path("names.parquet"),
            vec![
                ("x1", Arc::new(Float64Array::from(x1.clone())) as ArrayRef),
                ("name", Arc::new(StringArray::from(names)) as ArrayRef),
            ],
        );
        // The model's columns, the second one as text (numbers written as strings).
        let x2_text: Vec<String> = x2.iter().map(|v| v.to_string()).collect();
        write_parquet(
            &f.path("x2-text.parquet"),
            vec![
                ("x1", Arc::new(Float64Array::from(x1.clone())) as ArrayRef),
                ("x2", Arc::new(StringArray::from(x2_text)) as ArrayRef),
            ],
        );
        // NaN in the second column at data rows 5 and 9 (1-based).
        let mut x2_nan = x2.clone();
        x2_nan[4] = f64::NAN;
        x2_nan[8] = f64::NAN;
        write_parquet(
            &f.path("nan.parquet"),
            vec![
                ("x1", Arc::new(Float64Array::from(x1)) as ArrayRef),
                ("x2", Arc::new(Float64Array::from(x2_nan)) as ArrayRef),
            ],
        );

        // CSV: the customers cut inside a row (the last row has one field),
        // an unterminated quote, and bytes that are not text.
        let lines: Vec<&str> = customers.lines().collect();
        let cut = format!("{}\n{}", lines[..40].join("\n"), &lines[40][..4]);
        f.write("truncated.csv", &cut);
        f.write("quote.csv", "x1,x2\n1.5,2.5\n3.5,\"4.5\n5.5,6.5\n");
        std::fs::write(f.path("binary.csv"), b"x1,x2\n1,2\n\xff\xfe\x00,\x81\n").unwrap();
        f.write("header.csv", "x1,x2\n");
        f.write("text.csv", "x1,x2,name\n1,2,ann\n3,4,bob\n5,6,cy\n");
        f.write("text-x2.csv", "x1,x2\n1,2\n3,four\n5,6\n");
        f.write(
            "nan.csv",
            "x1,x2\n0.5,1\n0.7,2\nNaN,3\n0.1,4\n0.2,5\n0.3,6\nnan,7\n0.4,8\n",
        );
        f.write(
            "inf.csv",
            "x1,x2\n0.5,1\n0.7,2\n0.1,3\n0.2,inf\n0.3,5\n0.3,-inf\n0.4,7\n0.6,8\n",
        );
        f.write("three.csv", "x1,x2\n1,2\n3,4\n5,7\n");
        f.write(
            "weights.csv",
            "x1,x2,w,v\n1,2,1,1\n3,4,-0.5,1\n5,7,1,NaN\n2,2,1,1\n4,1,1,1\n",
        );
        // Labels: three classes; none at all; a class whose only row weighs 0.
        f.write(
            "classes.csv",
            "x1,x2,label\n1,2,a\n2,3,b\n5,1,c\n4,4,\n3,3,\n",
        );
        f.write("nolabels.csv", "x1,x2,label\n1,2,\n2,3,\n5,1,\n");
        f.write(
            "zeroweight.csv",
            "x1,x2,label,w\n1,2,a,1\n2,3,b,0\n5,1,a,1\n4,4,,1\n3,3,,1\n2,2,,1\n",
        );
        f.write("features.csv", "x1,x2\n1,2\n2,3\n5,1\n");

        // Configs with mistakes.
        let customers_path = root().join(UNLABELED);
        f.write(
            "k0.toml",
            &format!(
                "[data]\ninput = {:?}\n[model]\ncomponents = 0\n",
                customers_path.to_str().unwrap()
            ),
        );
        f.write("broken.toml", "[model]\ncomponents = = 2\n");
        f
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn p(&self, name: &str) -> String {
        self.path(name).to_str().unwrap().to_string()
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path(name), text).unwrap();
    }
}

/// Model files that do not fit: another format version, other columns,
/// not JSON, not there.
fn bad_models(f: &Fixtures, good_model: &Path) -> (String, String, String) {
    let text = std::fs::read_to_string(good_model).unwrap();
    let v2 = text.replacen("\"version\": 1,", "\"version\": 2,", 1);
    assert_ne!(v2, text);
    f.write("model-v2.json", &v2);
    let mut other: serde_json::Value = serde_json::from_str(&text).unwrap();
    other["columns"] = serde_json::json!(["age", "income"]);
    f.write("model-other-columns.json", &other.to_string());
    f.write(
        "model-not-json.json",
        "{\"format\": \"gmm-model\", \"version\": 1,",
    );
    (
        f.p("model-v2.json"),
        f.p("model-other-columns.json"),
        f.p("model-not-json.json"),
    )
}

const UNLABELED: &str = "data/customers/unlabeled.csv";

fn fit_cases(f: &Fixtures, good_model: &Path) -> Vec<Case> {
    let (v2, other, not_json) = bad_models(f, good_model);
    let k2 = |input: &str| {
        vec![
            "--input".to_string(),
            input.to_string(),
            "-k".into(),
            "2".into(),
        ]
    };
    let mut cases = vec![
        case("missing file", &[], 1, &["no-such.csv", "no such file"]),
        case(
            "missing parquet",
            &[],
            1,
            &["no-such.parquet", "no such file"],
        ),
        case(
            "truncated parquet",
            &[],
            1,
            &["truncated.parquet", "not a readable Parquet file"],
        ),
        case(
            "garbage parquet",
            &[],
            1,
            &["garbage.parquet", "not a readable Parquet file"],
        ),
        case(
            "text named .parquet",
            &[],
            1,
            &["text.parquet", "not a readable Parquet file"],
        ),
        case(
            "truncated csv",
            &[],
            1,
            &[
                "truncated.csv",
                "data row 40",
                "has 1 fields",
                "header has 2",
            ],
        ),
        case(
            "unterminated quote",
            &["--columns", "x1,x2"],
            1,
            &["quote.csv", "column `x2`", "not a number", "data row 2"],
        ),
        case("binary csv", &[], 1, &["binary.csv", "UTF-8"]),
        case("header only csv", &[], 1, &["header.csv", "no rows"]),
        case(
            "header only csv, columns named",
            &["--columns", "x1,x2"],
            1,
            &["header.csv", "no rows"],
        ),
        case(
            "parquet without rows",
            &[],
            1,
            &["norows.parquet", "no rows"],
        ),
        case(
            "missing column",
            &["--columns", "x1,x22"],
            1,
            &[
                "no column `x22`",
                "did you mean `x2`",
                "the columns are: `x1`, `x2`",
            ],
        ),
        case(
            "non-numeric csv column",
            &["--columns", "x1,name"],
            1,
            &[
                "text.csv",
                "column `name`",
                "not a number",
                "data row 1",
                "`ann`",
            ],
        ),
        case(
            "non-numeric parquet column",
            &["--columns", "x1,name"],
            1,
            &["names.parquet", "column `name`", "not numeric"],
        ),
        case(
            "NaN in csv",
            &[],
            1,
            &[
                "nan.csv",
                "column `x1`",
                "2 non-finite values",
                "first at data row 3",
                "NaN",
            ],
        ),
        case(
            "inf in csv",
            &[],
            1,
            &[
                "inf.csv",
                "column `x2`",
                "2 non-finite values",
                "first at data row 4",
                "inf",
            ],
        ),
        case(
            "NaN in parquet",
            &[],
            1,
            &[
                "nan.parquet",
                "column `x2`",
                "2 non-finite values",
                "first at data row 5",
            ],
        ),
        case(
            "fewer rows than components",
            &[],
            1,
            &[
                "3 rows",
                "fewer than the 5 components",
                "lower the number of components",
            ],
        ),
        case(
            "negative weight",
            &["--weight-column", "w"],
            1,
            &[
                "weights.csv",
                "weight column `w`",
                "-0.5",
                "data row 2",
                "non-negative",
            ],
        ),
        case(
            "NaN weight",
            &["--weight-column", "v"],
            1,
            &[
                "weights.csv",
                "weight column `v`",
                "NaN",
                "data row 3",
                "non-negative",
            ],
        ),
        case("K = 0", &[], 2, &["components", "at least 1"]),
        case("K = 0 in the config", &[], 2, &["components", "at least 1"]),
        case("broken config", &[], 2, &["broken.toml", "line 2"]),
        case(
            "unknown policy",
            &["--on-degenerate", "resed"],
            2,
            &["on-degenerate", "did you mean `reseed`"],
        ),
        case(
            "more classes than components",
            &["--label-column", "label"],
            1,
            &[
                "classes.csv",
                "label",
                "3 classes",
                "2 components",
                "a, b, c",
            ],
        ),
        case(
            "labeled file lacks the label column",
            &["--labeled", "", "--label-column", "lable"],
            1,
            &["classes.csv", "no column `lable`", "did you mean `label`"],
        ),
        case(
            "labeled file without a label column",
            &["--labeled", ""],
            2,
            &[
                "features.csv",
                "cannot tell which column holds the labels",
                "--label-column",
            ],
        ),
        case(
            "labeled file without labels",
            &["--labeled", "", "--label-column", "label"],
            1,
            &["nolabels.csv", "holds no labels"],
        ),
        case(
            "a class whose rows weigh nothing",
            &["--label-column", "label", "--weight-column", "w"],
            1,
            &["class `b`", "no labeled row with positive weight"],
        ),
        case(
            "semi-supervised without labels",
            &["--semi-supervised", "em"],
            2,
            &["needs labeled rows", "--label-column"],
        ),
        case(
            "init model of another version",
            &["--init-model", &v2],
            1,
            &["model-v2.json", "version 2", "reads version 1"],
        ),
        case(
            "init model of other columns",
            &["--init-model", &other],
            1,
            &["model-other-columns.json", "age, income", "x1, x2"],
        ),
        case(
            "init model not JSON",
            &["--init-model", &not_json],
            1,
            &["model-not-json.json", "invalid JSON"],
        ),
    ];
    // The data of each case.
    let inputs: &[(&str, Vec<String>)] = &[
        ("missing file", k2(&f.p("no-such.csv"))),
        ("missing parquet", k2(&f.p("no-such.parquet"))),
        ("truncated parquet", k2(&f.p("truncated.parquet"))),
        ("garbage parquet", k2(&f.p("garbage.parquet"))),
        ("text named .parquet", k2(&f.p("text.parquet"))),
        ("truncated csv", k2(&f.p("truncated.csv"))),
        ("unterminated quote", k2(&f.p("quote.csv"))),
        ("binary csv", k2(&f.p("binary.csv"))),
        ("header only csv", k2(&f.p("header.csv"))),
        ("header only csv, columns named", k2(&f.p("header.csv"))),
        ("parquet without rows", k2(&f.p("norows.parquet"))),
        ("missing column", k2(UNLABELED)),
        ("non-numeric csv column", k2(&f.p("text.csv"))),
        ("non-numeric parquet column", k2(&f.p("names.parquet"))),
        ("NaN in csv", k2(&f.p("nan.csv"))),
        ("inf in csv", k2(&f.p("inf.csv"))),
        ("NaN in parquet", k2(&f.p("nan.parquet"))),
        (
            "fewer rows than components",
            vec!["--input".into(), f.p("three.csv"), "-k".into(), "5".into()],
        ),
        ("negative weight", k2(&f.p("weights.csv"))),
        ("NaN weight", k2(&f.p("weights.csv"))),
        (
            "K = 0",
            vec!["--input".into(), UNLABELED.into(), "-k".into(), "0".into()],
        ),
        ("K = 0 in the config", vec![f.p("k0.toml")]),
        ("broken config", vec![f.p("broken.toml")]),
        ("unknown policy", k2(UNLABELED)),
        ("more classes than components", k2(&f.p("classes.csv"))),
        ("labeled file lacks the label column", k2(UNLABELED)),
        ("labeled file without a label column", k2(UNLABELED)),
        ("labeled file without labels", k2(UNLABELED)),
        (
            "a class whose rows weigh nothing",
            k2(&f.p("zeroweight.csv")),
        ),
        ("semi-supervised without labels", k2(UNLABELED)),
        ("init model of another version", k2(UNLABELED)),
        ("init model of other columns", k2(UNLABELED)),
        ("init model not JSON", k2(UNLABELED)),
    ];
    assert_eq!(inputs.len(), cases.len());
    let labeled_files = [
        ("labeled file lacks the label column", "classes.csv"),
        ("labeled file without a label column", "features.csv"),
        ("labeled file without labels", "nolabels.csv"),
    ];
    for (c, (name, input)) in cases.iter_mut().zip(inputs) {
        assert_eq!(c.name, *name);
        // `--labeled ""` stands for the case's labeled file.
        if let Some((_, file)) = labeled_files.iter().find(|(n, _)| n == name) {
            let i = c.args.iter().position(|a| a.is_empty()).unwrap();
            c.args[i] = f.p(file);
        }
        let mut args = vec!["fit".to_string()];
        args.extend(input.iter().cloned());
        args.append(&mut c.args);
        c.args = args;
    }
    cases
}

/// Runs `args` and checks the exit code and message of a refused case.
fn run_case(c: &Case, extra: &[&str]) -> std::process::Output {
    let mut args: Vec<&str> = c.args.iter().map(String::as_str).collect();
    args.extend_from_slice(extra);
    let o = gmm(&args);
    eprintln!("case `{}`: gmm {}", c.name, args.join(" "));
    let needles: Vec<&str> = c.needles.iter().map(String::as_str).collect();
    fails(&o, c.code, &needles);
    assert!(
        stdout(&o).is_empty(),
        "{}: nothing on standard output",
        c.name
    );
    o
}

/// A good fit of the customers, for the model files and the directory that
/// failed runs must not touch.
fn good_run(dir: &Path) -> PathBuf {
    let run = dir.join("good-run");
    ok(&gmm(&[
        "fit",
        "--input",
        UNLABELED,
        "-k",
        "2",
        "--predictions-format",
        "csv",
        "--no-plots",
        "--out",
        s(&run),
        "-q",
    ]));
    run
}

#[test]
fn bad_input_to_fit_is_refused_with_one_message_and_no_output() {
    let tmp = tempfile::tempdir().unwrap();
    let f = Fixtures::new(tmp.path());
    let good = good_run(tmp.path());
    let before = snapshot(&good);
    assert!(before.contains_key(Path::new("model.json")));
    assert!(before.contains_key(Path::new("predictions.csv")));
    for c in fit_cases(&f, &good.join("model.json")) {
        // Into a fresh directory: it is not even created.
        let fresh = tmp.path().join("fresh").join(c.name.replace(' ', "-"));
        run_case(&c, &["--out", s(&fresh)]);
        assert!(
            !fresh.exists(),
            "{}: {} was created",
            c.name,
            fresh.display()
        );
        // Into the good run's directory: every file as it was, nothing added.
        run_case(&c, &["--out", s(&good), "--predictions-format", "csv"]);
        assert!(
            snapshot(&good) == before,
            "{}: the good run was changed",
            c.name
        );
    }
}

/// A refused `predict` or `score`: name, model, input, extra arguments,
/// exit code and needles of the message.
type ModelCase<'a> = (
    &'static str,
    &'a str,
    String,
    Vec<&'static str>,
    i32,
    Vec<&'static str>,
);

#[test]
fn bad_input_to_predict_and_score_is_refused_with_one_message_and_no_output() {
    let tmp = tempfile::tempdir().unwrap();
    let f = Fixtures::new(tmp.path());
    let good = good_run(tmp.path());
    let model = good.join("model.json");
    let (v2, other, not_json) = bad_models(&f, &model);
    let m = s(&model).to_string();
    let missing_model = f.p("no-such-model.json");
    // (name, model, input, extra args, code, needles)
    let cases: Vec<ModelCase> = vec![
        (
            "model of another version",
            &v2,
            UNLABELED.into(),
            vec![],
            1,
            vec![
                "model-v2.json",
                "format version 2 is not supported",
                "reads version 1",
            ],
        ),
        (
            "model of other columns",
            &other,
            UNLABELED.into(),
            vec![],
            1,
            vec![
                "model-other-columns.json",
                "[age, income]",
                "no column `age`",
                "the columns are: `x1`, `x2`",
            ],
        ),
        (
            "model not JSON",
            &not_json,
            UNLABELED.into(),
            vec![],
            1,
            vec!["model-not-json.json", "invalid JSON"],
        ),
        (
            "model missing",
            &missing_model,
            UNLABELED.into(),
            vec![],
            1,
            vec!["no-such-model.json", "no such file"],
        ),
        (
            "missing input",
            &m,
            f.p("no-such.csv"),
            vec![],
            1,
            vec!["no-such.csv", "no such file"],
        ),
        (
            "truncated parquet",
            &m,
            f.p("truncated.parquet"),
            vec![],
            1,
            vec!["truncated.parquet", "not a readable Parquet file"],
        ),
        (
            "truncated csv",
            &m,
            f.p("truncated.csv"),
            vec![],
            1,
            vec!["truncated.csv", "data row 40"],
        ),
        (
            "header only csv",
            &m,
            f.p("header.csv"),
            vec![],
            1,
            vec!["header.csv", "no rows"],
        ),
        (
            "parquet without rows",
            &m,
            f.p("norows.parquet"),
            vec![],
            1,
            vec!["norows.parquet", "no rows"],
        ),
        (
            "NaN in csv",
            &m,
            f.p("nan.csv"),
            vec![],
            1,
            vec![
                "nan.csv",
                "column `x1`",
                "2 non-finite values",
                "first at data row 3",
            ],
        ),
        (
            "inf in csv",
            &m,
            f.p("inf.csv"),
            vec![],
            1,
            vec![
                "inf.csv",
                "column `x2`",
                "2 non-finite values",
                "first at data row 4",
            ],
        ),
        (
            "NaN in parquet",
            &m,
            f.p("nan.parquet"),
            vec![],
            1,
            vec![
                "nan.parquet",
                "column `x2`",
                "2 non-finite values",
                "first at data row 5",
            ],
        ),
        (
            "non-numeric column",
            &m,
            f.p("text-x2.csv"),
            vec![],
            1,
            vec![
                "text-x2.csv",
                "column `x2`",
                "not a number",
                "data row 2",
                "`four`",
            ],
        ),
        (
            "model column of another type",
            &m,
            f.p("x2-text.parquet"),
            vec![],
            1,
            vec![
                "x2-text.parquet",
                "column `x2` is string",
                "model.json was fitted on it as float64",
                "give the table a numeric `x2`",
            ],
        ),
        (
            "wrong delimiter",
            &m,
            f.p("text.csv"),
            vec!["--delimiter", ";"],
            1,
            vec!["text.csv", "no column `x1`"],
        ),
    ];
    let preds = tmp.path().join("p.csv");
    ok(&gmm(&[
        "predict",
        "--model",
        &m,
        "--input",
        UNLABELED,
        "--out",
        s(&preds),
    ]));
    let before = std::fs::read(&preds).unwrap();
    let listing = files_in(tmp.path());
    for (name, model, input, extra, code, needles) in &cases {
        let fresh = tmp.path().join("fresh.parquet");
        for out in [&fresh, &preds] {
            let mut args = vec![
                "predict",
                "--model",
                model,
                "--input",
                input,
                "--out",
                s(out),
            ];
            args.extend(extra);
            let c = Case {
                name,
                args: args.iter().map(|a| a.to_string()).collect(),
                code: *code,
                needles: needles.iter().map(|n| n.to_string()).collect(),
            };
            run_case(&c, &[]);
            assert!(!fresh.exists(), "{name}: predict wrote {}", fresh.display());
            assert_eq!(
                std::fs::read(&preds).unwrap(),
                before,
                "{name}: predictions changed"
            );
            assert_eq!(
                files_in(tmp.path()),
                listing,
                "{name}: a file was left behind"
            );
        }
        let mut args = vec!["score", "--model", model, "--input", input];
        args.extend(extra);
        let c = Case {
            name,
            args: args.iter().map(|a| a.to_string()).collect(),
            code: *code,
            needles: needles.iter().map(|n| n.to_string()).collect(),
        };
        run_case(&c, &[]);
    }
}
