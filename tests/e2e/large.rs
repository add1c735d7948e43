//! configs/large-parquet.toml's settings on a small generated directory of
//! Parquet files (the real data is generated, not shipped).

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use gmm_io::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, UInt32Array};
use gmm_io::arrow::datatypes::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;

use crate::common::*;

const FILES: usize = 3;
const ROWS_PER_FILE: usize = 1500;
const COLUMNS: usize = 4;
const COMPONENTS: usize = 8;

/// Eight well separated blobs in four columns: centre c sits at 10 times the
/// bits of c along the first three columns, and at 10 c along the fourth.
/// Files hold `id`, `x0`..`x3` and the true component `truth`.
fn write_parquet_dir(dir: &Path) -> Vec<u32> {
    std::fs::create_dir_all(dir).unwrap();
    let mut rng = Rng(2024);
    let mut fields = vec![Field::new("id", DataType::Int64, false)];
    fields.extend((0..COLUMNS).map(|j| Field::new(format!("x{j}"), DataType::Float64, false)));
    fields.push(Field::new("truth", DataType::UInt32, false));
    let schema = Arc::new(Schema::new(fields));
    let mut truth_all = Vec::new();
    for f in 0..FILES {
        let mut ids = Vec::new();
        let mut xs = vec![Vec::new(); COLUMNS];
        let mut truth = Vec::new();
        for i in 0..ROWS_PER_FILE {
            let c = (rng.next_u64() % COMPONENTS as u64) as usize;
            ids.push((f * ROWS_PER_FILE + i) as i64 * 10);
            for (j, col) in xs.iter_mut().enumerate() {
                let centre = if j < 3 {
                    10.0 * ((c >> j) & 1) as f64
                } else {
                    10.0 * c as f64
                };
                col.push(centre + rng.normal());
            }
            truth.push(c as u32);
        }
        truth_all.extend_from_slice(&truth);
        let mut columns: Vec<ArrayRef> = vec![Arc::new(Int64Array::from(ids))];
        columns.extend(
            xs.into_iter()
                .map(|c| Arc::new(Float64Array::from(c)) as ArrayRef),
        );
        columns.push(Arc::new(UInt32Array::from(truth)));
        let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
        let file = File::create(dir.join(format!("part-{f:03}.parquet"))).unwrap();
        let mut w = ArrowWriter::try_new(file, schema.clone(), None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
    }
    truth_all
}

#[test]
fn large_parquet_config_runs_on_a_small_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("large");
    let truth = write_parquet_dir(&data);
    let out = tmp.path().join("run");
    let stdout = ok(&gmm(&[
        "fit",
        "configs/large-parquet.toml",
        "--input",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]));
    let summary: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(summary["n_components"], COMPONENTS);
    assert_eq!(
        files_in(&out),
        [
            "clusters.svg",
            "model.json",
            "predictions.parquet",
            "run.json",
            "trace.csv",
            "trace.svg"
        ]
    );

    // The config's settings were used.
    let run = read_json(&out.join("run.json"));
    let s = &run["settings"];
    assert_eq!(s["model"]["components"], 8);
    assert_eq!(s["model"]["covariance"], "diag");
    assert_eq!(s["fit"]["n_init"], 10);
    assert_eq!(s["data"]["id_column"], "id");
    assert_eq!(run["restarts"].as_array().unwrap().len(), 10);
    assert_eq!(run["data"]["rows"], FILES * ROWS_PER_FILE);

    // The glob picked x0..x3: neither the id nor the true component.
    let model = read_json(&out.join("model.json"));
    assert_eq!(
        model["columns"],
        serde_json::json!(["x0", "x1", "x2", "x3"])
    );
    assert_eq!(model["covariance_type"], "diag");

    // Predictions: the id column first, every row in file order.
    let batches = read_parquet(&out.join("predictions.parquet"));
    let schema = batches[0].schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(&names[..3], ["id", "component", "probability"]);
    assert_eq!(names.len(), 3 + COMPONENTS + 1);
    assert_eq!(names.last(), Some(&"uncertainty"));
    let mut ids = Vec::new();
    let mut predicted = Vec::new();
    for b in &batches {
        let id = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
        ids.extend(id.values().iter().copied());
        let c = b.column(1).as_any().downcast_ref::<UInt32Array>().unwrap();
        predicted.extend(c.values().iter().copied());
    }
    let want: Vec<i64> = (0..(FILES * ROWS_PER_FILE) as i64)
        .map(|i| i * 10)
        .collect();
    assert_eq!(ids, want);

    // The blobs are found: each predicted component is one true blob.
    let mut table = vec![[0usize; COMPONENTS]; COMPONENTS];
    for (&p, &t) in predicted.iter().zip(&truth) {
        table[p as usize][t as usize] += 1;
    }
    let majority: usize = table.iter().map(|row| row.iter().max().unwrap()).sum();
    let purity = majority as f64 / truth.len() as f64;
    assert!(purity > 0.99, "purity {purity}: {table:?}");

    // More than two columns: the clusters are drawn on principal axes, and
    // the trace has a line for each of the ten restarts.
    assert_eq!(run["plots"]["clusters.svg"]["projection"], "principal_axes");
    let trace = std::fs::read_to_string(out.join("trace.svg")).unwrap();
    assert_svg(&trace);
    let lines = crate::plots::plotted(&trace, "opacity=\"0.85\"").len()
        + crate::plots::plotted(&trace, "stroke=\"#D62728\"").len();
    assert_eq!(lines, 10);
}
