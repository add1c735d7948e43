//! A row of integer weight `w` is the same as `w` copies of the row (and
//! weight 0 the same as no row): the fit of weighted data equals the fit of
//! the data with rows repeated, to 1e-10 relative, for every covariance type.
//!
//! What must hold: the initializations that do not look at individual rows
//! (`random-params`, a warm start from a model, the `labeled` start when every
//! component is a class) give the same start, hence the same fit. `kmeans` and
//! `kmeans++` also agree: their seeding draws rows with probability
//! proportional to weight, and the cumulative integer weights of the weighted
//! rows reach the same thresholds as the cumulative counts of the copies, so
//! the same rows are drawn (observed on every case tried; a draw could differ
//! only if rounding in the k-means++ potentials moved a threshold). `random`
//! (a random responsibility per row) and `random-from-data` (rows drawn
//! uniformly by index) depend on the number of rows and do not agree; they
//! are not tested here.
//!
//! Fits use one restart: with several, two restarts that reach the same
//! optimum (up to a permutation of the components) tie up to rounding, and
//! rounding decides which one is returned.

mod common;

use common::{
    Case, as_type, assert_close, assert_models_close, case_strategy, rough_start, run_cases,
};
use gmm_core::{
    CovarianceType, Dataset, Fit, FitParams, InitMethod, SemiSupervised, SemiSupervisedMode,
    Silent, UNLABELED,
};
use proptest::prelude::*;
use rand::RngExt;

/// Models and final objectives.
const RTOL: f64 = 1e-10;
/// Whole traces: an early iteration from a far-off start can pass near a
/// singular covariance, where rounding differences are amplified for a step
/// (seen: 2e-10) before EM contracts them again.
const RTOL_TRACE: f64 = 1e-8;

/// Integer weights in `0..=3`.
fn integer_weights(case: &Case) -> Vec<u32> {
    let mut r = common::rng(case.seed.wrapping_add(7));
    (0..case.n).map(|_| r.random_range(0..=3u32)).collect()
}

/// The weighted data set and the one with row `i` repeated `w_i` times
/// (labels follow their rows).
fn weighted_and_repeated(case: &Case, w: &[u32], labels: Option<&[u32]>) -> (Dataset, Dataset) {
    let (x, _) = case.rows();
    let d = case.d;
    let mut rep = Vec::new();
    let mut rep_labels = Vec::new();
    for (i, &wi) in w.iter().enumerate() {
        for _ in 0..wi {
            rep.extend_from_slice(&x[i * d..(i + 1) * d]);
            if let Some(l) = labels {
                rep_labels.push(l[i]);
            }
        }
    }
    let mut weighted = Dataset::from_row_major(x, d)
        .unwrap()
        .with_weights(w.iter().map(|&v| v as f64).collect())
        .unwrap();
    let mut repeated = Dataset::from_row_major(rep, d).unwrap();
    if let Some(l) = labels {
        weighted = weighted.with_labels(l.to_vec(), case.k_true).unwrap();
        repeated = repeated.with_labels(rep_labels, case.k_true).unwrap();
    }
    (weighted, repeated)
}

fn assert_same_fit(a: &Fit, b: &Fit, what: &str) {
    assert_models_close(&a.model, &b.model, RTOL, what);
    assert_same_traces(a, b, what);
    assert_close(
        &[a.report.mean_log_likelihood, a.report.n_rows, a.report.bic],
        &[b.report.mean_log_likelihood, b.report.n_rows, b.report.bic],
        RTOL,
        &format!("{what}: log-likelihood, rows, BIC"),
    );
}

fn assert_same_traces(a: &Fit, b: &Fit, what: &str) {
    assert_eq!(a.report.restarts.len(), b.report.restarts.len(), "{what}");
    for (ra, rb) in a.report.restarts.iter().zip(&b.report.restarts) {
        assert_eq!(ra.trace.len(), rb.trace.len(), "{what}");
        assert_close(&ra.trace, &rb.trace, RTOL_TRACE, &format!("{what}: trace"));
        assert_close(
            &[ra.lower_bound],
            &[rb.lower_bound],
            RTOL,
            &format!("{what}: lower bound"),
        );
    }
}

fn params(case: &Case, ct: CovarianceType, init: InitMethod) -> FitParams {
    params_k(case, case.k_fit, ct, init)
}

fn params_k(case: &Case, k: usize, ct: CovarianceType, init: InitMethod) -> FitParams {
    FitParams::new(k)
        .covariance_type(ct)
        .init(init)
        .tol(0.0)
        .max_iter(20)
        .seed(case.seed)
}

fn enough_rows(w: &[u32], k: usize) -> bool {
    w.iter().filter(|&&v| v > 0).count() >= k
}

#[test]
fn integer_weights_equal_repeated_rows() {
    run_cases(24, case_strategy(), |case| {
        let w = integer_weights(&case);
        if !enough_rows(&w, case.k_fit) {
            return;
        }
        let (weighted, repeated) = weighted_and_repeated(&case, &w, None);
        for ct in CovarianceType::ALL {
            for init in [
                InitMethod::RandomParams,
                InitMethod::KMeans,
                InitMethod::KMeansPlusPlus,
            ] {
                let what = format!("{ct}, init {init}, {case:?}");
                let p = params(&case, ct, init);
                let a = common::fit(p.clone(), &weighted);
                let b = common::fit(p, &repeated);
                assert_same_fit(&a, &b, &what);
            }
        }
    });
}

#[test]
fn integer_weights_equal_repeated_rows_from_a_warm_start() {
    run_cases(24, (case_strategy(), 1usize..=4), |(case, k)| {
        let w = integer_weights(&case);
        if !enough_rows(&w, k) {
            return;
        }
        let (weighted, repeated) = weighted_and_repeated(&case, &w, None);
        for ct in CovarianceType::ALL {
            let start = rough_start(&case.truth(), k, ct, 1.0, case.seed);
            let what = format!("{ct}, warm start, k {k}, {case:?}");
            let p = params_k(&case, k, ct, InitMethod::KMeans).init_model(start);
            let a = common::fit(p.clone(), &weighted);
            let b = common::fit(p, &repeated);
            assert_same_fit(&a, &b, &what);
        }
    });
}

#[test]
fn integer_weights_equal_repeated_rows_semi_supervised() {
    let strategy = (
        case_strategy(),
        prop_oneof![Just(0.1), Just(0.5)],
        0.25f64..2.0,
    );
    run_cases(16, strategy, |(case, fraction, lambda)| {
        // Every component a class: the labeled start draws no rows.
        let case = Case {
            k_fit: case.k_true,
            ..case
        };
        let w = integer_weights(&case);
        let labels = case.labels(fraction);
        let labeled_weight: u32 = w
            .iter()
            .zip(&labels)
            .filter(|(_, l)| **l != UNLABELED)
            .map(|(w, _)| *w)
            .sum();
        if labeled_weight == 0 || !enough_rows(&w, case.k_fit) {
            return;
        }
        let (weighted, repeated) = weighted_and_repeated(&case, &w, Some(&labels));
        for ct in CovarianceType::ALL {
            for mode in [SemiSupervisedMode::Em, SemiSupervisedMode::Init] {
                let semi = SemiSupervised {
                    mode,
                    unlabeled_weight: lambda,
                };
                let what = format!("{ct}, {mode}, lambda {lambda}, {case:?}");
                // Two restarts (class covariances, pooled covariance): their
                // traces must agree; the model is compared for one restart.
                let p = params(&case, ct, InitMethod::Labeled)
                    .semi_supervised(semi)
                    .n_init(2);
                let p = p.check().unwrap();
                let a = p.fit(weighted.view(), &mut Silent);
                let b = p.fit(repeated.view(), &mut Silent);
                let (a, b) = match (a, b) {
                    (Ok(a), Ok(b)) => (a, b),
                    // init mode needs as many unlabeled rows as components.
                    (Err(e1), Err(e2)) if mode == SemiSupervisedMode::Init => {
                        assert_eq!(e1, e2, "{what}");
                        continue;
                    }
                    (a, b) => panic!("{what}: {:?} vs {:?}", a.err(), b.err()),
                };
                assert_same_traces(&a, &b, &what);
                let p = params(&case, ct, InitMethod::Labeled).semi_supervised(semi);
                let a = common::fit(p.clone(), &weighted);
                let b = common::fit(p, &repeated);
                assert_same_fit(&a, &b, &what);
            }
        }
    });
}

/// Weight 0 is the same as leaving the row out, exactly as far as the
/// statistics go (the weighted sums skip nothing, but add zeros).
#[test]
fn zero_weight_rows_are_ignored() {
    run_cases(16, case_strategy(), |case| {
        let w: Vec<u32> = integer_weights(&case).iter().map(|&v| v.min(1)).collect();
        if !enough_rows(&w, case.k_fit) {
            return;
        }
        let (weighted, kept) = weighted_and_repeated(&case, &w, None);
        for ct in CovarianceType::ALL {
            let start = as_type(&case.truth(), ct);
            let k = start.n_components();
            let p = params_k(&case, k, ct, InitMethod::KMeans).init_model(start);
            if !enough_rows(&w, k) {
                continue;
            }
            let a = common::fit(p.clone(), &weighted);
            let b = common::fit(p, &kept);
            assert_same_fit(&a, &b, &format!("{ct}, {case:?}"));
        }
    });
}

/// Only the weights' ratios matter: every row weighted `c` fits as every
/// row weighted 1, for `c` from 1e-20 to 1e20 (the model and the mean
/// log-likelihood; the total weight, BIC and AIC count the weights as
/// given). Weights whose total is out of f64's working range are refused.
#[test]
fn uniform_weights_of_any_size_give_the_unweighted_fit() {
    run_cases(8, case_strategy(), |case| {
        let (x, _) = case.rows();
        let plain = Dataset::from_row_major(x.clone(), case.d).unwrap();
        for ct in CovarianceType::ALL {
            let p = params(&case, ct, InitMethod::KMeans);
            let a = common::fit(p.clone(), &plain);
            for c in [1e-20, 3e-7, 1e20] {
                let scaled = Dataset::from_row_major(x.clone(), case.d)
                    .unwrap()
                    .with_weights(vec![c; case.n])
                    .unwrap();
                let b = common::fit(p.clone(), &scaled);
                let what = format!("{ct}, weight {c}, {case:?}");
                assert_models_close(&a.model, &b.model, RTOL, &what);
                assert_close(
                    &[a.report.mean_log_likelihood, a.report.n_rows * c],
                    &[b.report.mean_log_likelihood, b.report.n_rows],
                    RTOL,
                    &what,
                );
            }
        }
    });
    let case = Case {
        seed: 1,
        k_true: 2,
        k_fit: 2,
        d: 2,
        n: 200,
        separated: true,
    };
    let (x, _) = case.rows();
    for c in [1e-310, 1e300] {
        let data = Dataset::from_row_major(x.clone(), case.d)
            .unwrap()
            .with_weights(vec![c; x.len() / case.d])
            .unwrap();
        let err = FitParams::new(2)
            .check()
            .unwrap()
            .fit(data.view(), &mut Silent)
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("only their ratios matter"), "{c}: {text}");
    }
}
