//! gmm's hierarchical agglomeration against real mclust's `hc()`.
//!
//! `scripts/mclust_hc_reference.R` (mclust 6.0.0 on R 4.2) writes, for R's
//! `faithful`, `iris`, mclust's `diabetes` and a table without ties
//! (`blobs`), the partitions of `hclass(hc(X, model, use = "SVD"), 1:9)`
//! for the VVV agglomeration (`Mclust()`'s default start) and EII, and
//! `qclass()` of the first column at G = 1..9. gmm transforms the rows the
//! same way, agglomerates under the same criterion, keeps mclust's order of
//! clusters (so that exactly tied merges fall as in mclust) and must give
//! the same partitions, numbered the same way.

mod common;

use common::{read_csv, repo_root};
use gmm_core::hierarchy::{HcModel, agglomerate, quantile_classes, svd_transform};
use serde_json::Value;

fn partition(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_u64().unwrap() as usize)
        .collect()
}

#[test]
fn agglomeration_and_quantile_classes_match_mclust() {
    let mut mismatches = Vec::new();
    for set in ["faithful", "iris", "diabetes", "blobs"] {
        let path = repo_root().join(format!("tests/data/mclust/hc_{set}.json"));
        let fx: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let (header, rows) = read_csv(fx["dataset"].as_str().unwrap());
        let d = header.len();
        let x: Vec<f64> = rows.iter().flatten().copied().collect();
        let (z, q) = svd_transform(&x, d);
        for (model, key) in [(HcModel::Vvv, "VVV"), (HcModel::Eii, "EII")] {
            let merges = agglomerate(&z, q, model, &|| false).unwrap();
            for g in 1..=9 {
                let want = partition(&fx[key][g.to_string()]);
                if merges.partition(g) != want {
                    mismatches.push(format!("{set} {key} G = {g}"));
                }
            }
        }
        let first: Vec<f64> = rows.iter().map(|r| r[0]).collect();
        for g in 1..=9 {
            let want = partition(&fx["qclass"][g.to_string()]);
            if quantile_classes(&first, g) != want {
                mismatches.push(format!("{set} qclass G = {g}"));
            }
        }
    }
    assert!(mismatches.is_empty(), "differ from mclust: {mismatches:?}");
}

