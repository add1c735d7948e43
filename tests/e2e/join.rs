//! Predictions ready to join back: several id columns, kept columns,
//! the class of a semi-supervised model's components, and `predict`'s
//! summary line.

use std::path::Path;

use gmm_io::arrow::array::{Array, AsArray};
use gmm_io::arrow::datatypes::{DataType, Int32Type};

use crate::common::*;

/// A table of two blobs with two key columns, a text column and a label
/// column (`label`: "red" near the first blob, "blue" near the second, on
/// every fifth row; empty elsewhere), as CSV.
fn keyed_table(dir: &Path) -> std::path::PathBuf {
    let mut rng = Rng(7);
    let mut text = String::from("store,day,x1,x2,note,label\n");
    for i in 0..600 {
        let c = i % 2;
        let (x1, x2) = (
            3.0 * c as f64 + rng.normal() * 0.5,
            -2.0 * c as f64 + rng.normal() * 0.5,
        );
        let note = if i % 3 == 0 {
            String::new()
        } else {
            format!("n{i}")
        };
        let label = match (i % 5, c) {
            (0, 0) => "red",
            (0, _) => "blue",
            _ => "",
        };
        text.push_str(&format!(
            "s{},{},{x1},{x2},{note},{label}\n",
            i % 7,
            20261101 + i % 30
        ));
    }
    let path = dir.join("keyed.csv");
    std::fs::write(&path, text).unwrap();
    path
}

/// The named columns of a CSV file, row by row.
fn columns_of(path: &Path, names: &[&str]) -> Vec<Vec<String>> {
    let (header, rows) = read_csv(path);
    let at: Vec<usize> = names
        .iter()
        .map(|n| header.iter().position(|h| h == n).unwrap())
        .collect();
    rows.iter()
        .map(|r| at.iter().map(|&i| r[i].clone()).collect())
        .collect()
}

#[test]
fn ids_and_kept_columns_are_copied_in_front_of_the_predictions() {
    let tmp = tempfile::tempdir().unwrap();
    let table = keyed_table(tmp.path());
    let run = tmp.path().join("run");
    let fit = |run: &Path, extra: &[&str]| {
        let mut a = vec![
            "fit",
            "--input",
            s(&table),
            "--columns",
            "x1,x2",
            "-k",
            "2",
            "--no-plots",
            "--predictions-format",
            "csv",
            "--out",
            s(run),
        ];
        a.extend(extra);
        ok(&gmm(&a));
    };
    // Ids by a comma list and by a repeated flag; a kept feature and a
    // kept text column.
    fit(
        &run,
        &[
            "--id-column",
            "store",
            "--id-column",
            "day",
            "--keep-columns",
            "note,x1",
        ],
    );
    let preds = run.join("predictions.csv");
    let (header, rows) = read_csv(&preds);
    assert_eq!(
        header,
        [
            "store",
            "day",
            "note",
            "x1",
            "component",
            "probability",
            "proba_0",
            "proba_1",
            "uncertainty"
        ]
    );
    assert_eq!(rows.len(), 600);
    assert_eq!(
        columns_of(&preds, &["store", "day", "note", "x1"]),
        columns_of(&table, &["store", "day", "note", "x1"]),
        "copied as they are, in input order"
    );
    let run_json = read_json(&run.join("run.json"));
    assert_eq!(
        run_json["settings"]["data"]["id_column"],
        serde_json::json!(["store", "day"])
    );
    assert_eq!(
        run_json["settings"]["data"]["keep_columns"],
        serde_json::json!(["note", "x1"])
    );

    // The same from a config's lists, and through the out-of-core cache.
    let config = tmp.path().join("keys.toml");
    std::fs::write(
        &config,
        format!(
            "[data]\ninput = {:?}\ncolumns = [\"x1\", \"x2\"]\nid_column = [\"store\", \"day\"]\nkeep_columns = [\"note\", \"x1\"]\nmax_memory = 1000\ncache_dir = {:?}\n",
            s(&table),
            s(&tmp.path().join("cache"))
        ),
    )
    .unwrap();
    let cached = tmp.path().join("cached");
    ok(&gmm(&[
        "fit",
        s(&config),
        "-k",
        "2",
        "--no-plots",
        "--predictions-format",
        "csv",
        "--out",
        s(&cached),
    ]));
    assert_eq!(
        read_json(&cached.join("run.json"))["data"]["storage"]["out_of_core"],
        true
    );
    assert_eq!(
        std::fs::read(&preds).unwrap(),
        std::fs::read(cached.join("predictions.csv")).unwrap()
    );

    // `gmm predict` copies the same columns and says what it wrote.
    let out = tmp.path().join("p.csv");
    let printed = ok(&gmm(&[
        "predict",
        "--model",
        s(&run.join("model.json")),
        "--input",
        s(&table),
        "--id-column",
        "store,day",
        "--keep-columns",
        "note,x1",
        "--out",
        s(&out),
    ]));
    assert_eq!(
        printed.trim(),
        format!("wrote 600 predictions to {}", s(&out))
    );
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&preds).unwrap());

    // A kept column that is not there is named, with the closest one.
    let o = gmm(&[
        "fit",
        "--input",
        s(&table),
        "--columns",
        "x1,x2",
        "-k",
        "2",
        "--keep-columns",
        "nte",
        "--out",
        s(&tmp.path().join("bad")),
    ]);
    fails(&o, 1, &["`nte`", "`note`"]);
    assert!(!tmp.path().join("bad").exists());
}

#[test]
fn semi_supervised_predictions_carry_the_class_in_the_label_type() {
    let tmp = tempfile::tempdir().unwrap();
    let table = keyed_table(tmp.path());
    // Text labels, and a third component that no class holds.
    let run = tmp.path().join("semi");
    ok(&gmm(&[
        "fit",
        "--input",
        s(&table),
        "--columns",
        "x1,x2",
        "--label-column",
        "label",
        "--id-column",
        "store",
        "-k",
        "3",
        "--no-plots",
        "--out",
        s(&run),
    ]));
    let model = read_json(&run.join("model.json"));
    assert_eq!(model["classes"], serde_json::json!(["blue", "red"]));
    assert_eq!(model["label_type"], "Utf8");
    let batches = read_parquet(&run.join("predictions.parquet"));
    let names: Vec<String> = batches[0]
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(
        names,
        [
            "store",
            "component",
            "class",
            "probability",
            "proba_0",
            "proba_1",
            "proba_2",
            "uncertainty"
        ]
    );
    let mut seen = [0usize; 3];
    for b in &batches {
        let class = b.column_by_name("class").unwrap();
        assert_eq!(class.data_type(), &DataType::Utf8);
        let class = class.as_string::<i32>();
        let component = b.column_by_name("component").unwrap();
        let component = component.as_primitive::<gmm_io::arrow::datatypes::UInt32Type>();
        for r in 0..b.num_rows() {
            let c = component.value(r) as usize;
            seen[c] += 1;
            match c {
                0 => assert_eq!(class.value(r), "blue"),
                1 => assert_eq!(class.value(r), "red"),
                _ => assert!(class.is_null(r), "a component without a class"),
            }
        }
    }
    assert!(seen[0] > 0 && seen[1] > 0, "{seen:?}");

    // Integer labels in Parquet keep their type (int32), in the fit's
    // predictions and in `gmm predict`'s.
    let n = 400;
    let mut rng = Rng(3);
    let x1: Vec<f64> = (0..n)
        .map(|i| 4.0 * (i % 2) as f64 + rng.normal())
        .collect();
    let x2: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
    let y: Vec<Option<i32>> = (0..n)
        .map(|i| (i % 3 == 0).then_some(if i % 2 == 0 { 7 } else { 12 }))
        .collect();
    let pq = tmp.path().join("ints.parquet");
    write_parquet(
        &pq,
        vec![
            (
                "x1",
                std::sync::Arc::new(gmm_io::arrow::array::Float64Array::from(x1)) as _,
            ),
            (
                "x2",
                std::sync::Arc::new(gmm_io::arrow::array::Float64Array::from(x2)) as _,
            ),
            (
                "y",
                std::sync::Arc::new(gmm_io::arrow::array::Int32Array::from(y)) as _,
            ),
        ],
    );
    let run = tmp.path().join("ints");
    ok(&gmm(&[
        "fit",
        "--input",
        s(&pq),
        "--label-column",
        "y",
        "-k",
        "2",
        "--no-plots",
        "--out",
        s(&run),
    ]));
    assert_eq!(read_json(&run.join("model.json"))["label_type"], "Int32");
    let out = tmp.path().join("p.parquet");
    ok(&gmm(&[
        "predict",
        "--model",
        s(&run.join("model.json")),
        "--input",
        s(&pq),
        "--out",
        s(&out),
    ]));
    for path in [run.join("predictions.parquet"), out.clone()] {
        for b in read_parquet(&path) {
            let class = b
                .column_by_name("class")
                .unwrap()
                .as_primitive::<Int32Type>()
                .clone();
            let component = b.column_by_name("component").unwrap();
            let component = component.as_primitive::<gmm_io::arrow::datatypes::UInt32Type>();
            for r in 0..b.num_rows() {
                assert_eq!(class.value(r), [7, 12][component.value(r) as usize]);
            }
        }
    }

    // A model file from before classes had a type: integers are guessed.
    let old = tmp.path().join("old.json");
    let mut file = read_json(&run.join("model.json"));
    file.as_object_mut().unwrap().remove("label_type");
    std::fs::write(&old, serde_json::to_string_pretty(&file).unwrap()).unwrap();
    ok(&gmm(&[
        "predict",
        "--model",
        s(&old),
        "--input",
        s(&pq),
        "--out",
        s(&out),
    ]));
    let b = &read_parquet(&out)[0];
    assert_eq!(
        b.column_by_name("class").unwrap().data_type(),
        &DataType::Int64
    );

    // A kept column may not take the name `class` from a semi-supervised
    // model's predictions.
    let renamed = tmp.path().join("renamed.csv");
    let text = std::fs::read_to_string(&table).unwrap();
    std::fs::write(&renamed, text.replacen("note", "class", 1)).unwrap();
    let never = tmp.path().join("never.csv");
    let o = gmm(&[
        "predict",
        "--model",
        s(&run.join("model.json")),
        "--input",
        s(&renamed),
        "--keep-columns",
        "class",
        "--out",
        s(&never),
    ]);
    fails(
        &o,
        2,
        &["column `class` is copied into the predictions", "rename"],
    );
    assert!(!never.exists());
}
