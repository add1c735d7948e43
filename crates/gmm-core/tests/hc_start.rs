//! The `hc` start on its own terms: which rows it agglomerates, one column,
//! labels, and its limits. (Against mclust: `mclust_hc.rs`.)

mod common;

use common::{random_mixture, rng, sample_shuffled};
use gmm_core::{Dataset, FitParams, GmmError, InitMethod, SemiSupervised, Silent};

fn blobs(n: usize, d: usize, k: usize, seed: u64) -> (Dataset, Vec<u32>) {
    let truth = random_mixture(&mut rng(seed), k, d, Some(6.0));
    let (x, comp) = sample_shuffled(&truth, n, seed);
    (Dataset::from_row_major(x, d).unwrap(), comp)
}

fn inits(p: FitParams, data: &Dataset) -> Vec<String> {
    let fit = p.check().unwrap().fit(data.view(), &mut Silent).unwrap();
    fit.report.restarts.iter().map(|r| r.init.clone()).collect()
}

#[test]
fn restarts_agglomerate_their_own_samples() {
    // More rows than hc_rows: every restart draws hc_rows of them, each its
    // own, and finds the clusters.
    let (data, _) = blobs(3_000, 3, 3, 1);
    let p = FitParams::new(3)
        .init(InitMethod::Hc)
        .hc_rows(400)
        .n_init(3)
        .max_iter(0);
    let fit = p.check().unwrap().fit(data.view(), &mut Silent).unwrap();
    let starts: Vec<_> = fit
        .report
        .restarts
        .iter()
        .map(|r| r.init.as_str())
        .collect();
    assert!(
        starts
            .iter()
            .all(|s| *s == "hc (VVV agglomeration of 400 rows)"),
        "{starts:?}"
    );
    // Few rows: restart 0 takes them all (mclust's start), later restarts
    // half of them, so that they differ.
    let (small, _) = blobs(150, 2, 2, 2);
    let p = FitParams::new(2).init(InitMethod::Hc).n_init(2).max_iter(5);
    assert_eq!(
        inits(p, &small),
        [
            "hc (VVV agglomeration of 150 rows)",
            "hc (VVV agglomeration of 75 rows)"
        ]
    );
}

#[test]
fn the_start_separates_well_separated_clusters() {
    // Three clusters six apart on the first axis: the hc start's weights
    // are the clusters' shares, before any EM iteration.
    let (data, comp) = blobs(900, 2, 3, 3);
    let p = FitParams::new(3).init(InitMethod::Hc).max_iter(1);
    let fit = p.check().unwrap().fit(data.view(), &mut Silent).unwrap();
    let mut got: Vec<f64> = fit.model.weights().to_vec();
    let mut want: Vec<f64> = (0..3)
        .map(|c| comp.iter().filter(|&&k| k == c).count() as f64 / 900.0)
        .collect();
    got.sort_by(f64::total_cmp);
    want.sort_by(f64::total_cmp);
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() < 0.01, "{got:?} against {want:?}");
    }
}

#[test]
fn one_column_is_cut_at_quantiles() {
    let (data, _) = blobs(200, 1, 2, 4);
    let p = FitParams::new(2).init(InitMethod::Hc).max_iter(5);
    assert_eq!(inits(p, &data), ["hc (quantiles of 200 rows)"]);
}

#[test]
fn labeled_rows_keep_their_classes() {
    // Semi-supervised: the class components sit on their classes, as
    // with the random starts.
    let (data, comp) = blobs(600, 2, 2, 5);
    let labels: Vec<u32> = comp
        .iter()
        .enumerate()
        .map(|(i, &c)| if i % 10 == 0 { c } else { gmm_core::UNLABELED })
        .collect();
    let data = data.with_labels(labels, 2).unwrap();
    let mut p = FitParams::new(2).init(InitMethod::Hc).max_iter(50);
    p.semi_supervised = Some(SemiSupervised::default());
    let fit = p.check().unwrap().fit(data.view(), &mut Silent).unwrap();
    let predicted = fit.model.predict(data.view()).unwrap();
    let agree = predicted.iter().zip(&comp).filter(|(p, c)| p == c).count();
    assert!(agree > 590, "{agree} of 600 rows in their class");
}

#[test]
fn hc_rows_is_bounded() {
    for bad in [1, 10_001] {
        let err = FitParams::new(2).hc_rows(bad).check().unwrap_err();
        assert!(
            matches!(
                err,
                GmmError::InvalidParam {
                    name: "hc_rows",
                    ..
                }
            ),
            "{err}"
        );
    }
    // Fewer rows than components cannot be cut into them.
    let err = FitParams::new(10)
        .init(InitMethod::Hc)
        .hc_rows(5)
        .check()
        .unwrap_err();
    assert!(
        err.to_string().contains("cannot be cut into 10 clusters"),
        "{err}"
    );
}

#[test]
fn a_start_that_runs_out_of_time_is_a_broad_start() {
    // Rows no other test agglomerates (nothing cached), and no time.
    let (data, _) = blobs(1_500, 4, 2, 77);
    let p = FitParams::new(2).init(InitMethod::Hc).max_seconds(1e-9);
    let fit = p.check().unwrap().fit(data.view(), &mut Silent).unwrap();
    assert_eq!(fit.report.restarts[0].init, "broad start (hc stopped)");
}
