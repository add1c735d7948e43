//! Rows held as `f32`: the engine reads them as `f64`, so a fit of `f32`
//! rows is, to the bit, the fit of `f64` rows holding the same (rounded)
//! values, for every covariance type, start and thread count. Against the
//! unrounded `f64` rows, only the rounding of the input differs: fitted
//! parameters and log-likelihoods agree to the accuracy `f32` can carry.

mod common;

use common::{Case, assert_identical, case_strategy, fit_with, in_pool, random_mixture, rng};
use gmm_core::{
    CovarianceType, Dataset, FitParams, InitMethod, Precision, SemiSupervised, SemiSupervisedMode,
    UNLABELED,
};

/// The `f64` twin of an `f32` dataset: the same values, weights and labels.
fn widened(narrow: &Dataset) -> Dataset {
    let d = narrow.n_features();
    let mut wide = Dataset::from_row_major(narrow.values().to_vec(), d).unwrap();
    if let Some(w) = narrow.weights() {
        wide = wide.with_weights(w.to_vec()).unwrap();
    }
    if let Some(l) = narrow.labels() {
        wide = wide.with_labels(l.to_vec(), narrow.n_classes()).unwrap();
    }
    wide
}

fn params(case: &Case, ct: CovarianceType, init: InitMethod) -> FitParams {
    FitParams::new(case.k_fit)
        .covariance_type(ct)
        .init(init)
        .tol(0.0)
        .max_iter(20)
        .n_init(3)
        .seed(case.seed)
        .chunk_rows(16)
}

#[test]
fn f32_rows_fit_as_the_f64_rows_of_their_values() {
    common::run_cases(6, case_strategy(), |case| {
        let narrow = case
            .dataset()
            .with_weights(case.real_weights())
            .unwrap()
            .to_f32();
        assert_eq!(narrow.precision(), Precision::F32);
        let wide = widened(&narrow);
        for ct in CovarianceType::FAMILIES {
            for init in [
                InitMethod::KMeans,
                InitMethod::Random,
                InitMethod::RandomFromData,
            ] {
                let what = format!("{ct}, {init}, {case:?}");
                let p = params(&case, ct, init);
                let a = fit_with(1, &p, &narrow);
                assert_identical(&a, &fit_with(1, &p, &wide), &format!("{what}: f32 vs f64"));
                assert_identical(&a, &fit_with(3, &p, &narrow), &format!("{what}: 1 vs 3"));
                let (nv, wv) = (narrow.view(), wide.view());
                let pn = in_pool(3, || a.model.predict_proba(nv).unwrap());
                assert!(
                    pn == a.model.predict_proba(wv).unwrap(),
                    "{what}: predict_proba"
                );
                let (sn, sw) = (a.model.score(nv).unwrap(), a.model.score(wv).unwrap());
                assert_eq!(sn.to_bits(), sw.to_bits(), "{what}: score");
            }
        }
    });
}

#[test]
fn f32_rows_fit_semi_supervised_as_their_f64_values() {
    common::run_cases(4, case_strategy(), |case| {
        let case = Case {
            k_fit: case.k_fit.max(case.k_true),
            ..case
        };
        let narrow = case
            .dataset()
            .with_labels(case.labels(0.3), case.k_true)
            .unwrap()
            .to_f32();
        let wide = widened(&narrow);
        for ct in CovarianceType::FAMILIES {
            let semi = SemiSupervised {
                mode: SemiSupervisedMode::Em,
                unlabeled_weight: 0.5,
            };
            let p = params(&case, ct, InitMethod::Labeled).semi_supervised(semi);
            let what = format!("{ct}, {case:?}");
            let a = fit_with(1, &p, &narrow);
            assert_identical(&a, &fit_with(2, &p, &wide), &format!("{what}: f32 vs f64"));
            assert_identical(&a, &fit_with(3, &p, &narrow), &format!("{what}: 1 vs 3"));
        }
    });
}

/// The largest difference between `a` and `b`, relative to `scale`.
fn max_rel(a: &[f64], b: &[f64], scale: f64) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() / scale)
        .fold(0.0, f64::max)
}

/// Rounding the input to `f32` (2^-24 of a value) moves what a fit finds by
/// less than that: on overlapping mixtures fitted to convergence, means move
/// by less than 1e-8 of the data's largest value, weights by less than 1e-7,
/// covariances by less than 1e-6 of the largest and the mean log-likelihood
/// by less than 1e-7 relative (measured: 1e-9, 2e-9, 7e-8 and 6e-9 at most;
/// the bounds leave room for other platforms' rounding of `exp`).
#[test]
fn f32_rounding_moves_fits_by_about_the_rounding() {
    for (seed, k, d, offset) in [
        (1, 2, 2, 0.0),
        (2, 8, 2, 0.0),
        (3, 4, 16, 0.0),
        (4, 3, 5, 50.0),
    ] {
        let truth = random_mixture(&mut rng(seed), k, d, Some(2.5));
        let (mut rows, _) = common::sample_shuffled(&truth, 20_000, seed + 10);
        rows.iter_mut().for_each(|v| *v += offset);
        let wide = Dataset::from_row_major(rows.clone(), d).unwrap();
        let narrow = wide.to_f32();
        let scale = rows.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for ct in CovarianceType::FAMILIES {
            let what = format!("seed {seed}, k {k}, d {d}, offset {offset}, {ct}");
            let p = FitParams::new(k)
                .covariance_type(ct)
                .tol(1e-10)
                .max_iter(500)
                .n_init(2)
                .seed(seed);
            let (a, b) = (fit_with(2, &p, &wide), fit_with(2, &p, &narrow));
            let (ma, mb) = (&a.model, &b.model);
            let (la, lb) = (a.report.mean_log_likelihood, b.report.mean_log_likelihood);
            let ll = (la - lb).abs() / la.abs();
            assert!(ll < 1e-7, "{what}: log-likelihood moved by {ll:e}");
            let means = max_rel(
                ma.means().as_slice().unwrap(),
                mb.means().as_slice().unwrap(),
                scale,
            );
            assert!(means < 1e-8, "{what}: means moved by {means:e}");
            let weights = max_rel(
                ma.weights().as_slice().unwrap(),
                mb.weights().as_slice().unwrap(),
                1.0,
            );
            assert!(weights < 1e-7, "{what}: weights moved by {weights:e}");
            let (ca, cb) = (common::cov_values(ma), common::cov_values(mb));
            let cscale = ca.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            let covs = max_rel(&ca, &cb, cscale);
            assert!(covs < 1e-6, "{what}: covariances moved by {covs:e}");
        }
    }
    // Labels survive the narrowing as they are.
    let narrow = Dataset::from_row_major(vec![0.0, 1.0, 2.0, 3.0], 2)
        .unwrap()
        .with_labels(vec![0, UNLABELED], 1)
        .unwrap()
        .to_f32();
    assert_eq!(narrow.labels(), Some(&[0, UNLABELED][..]));
}
