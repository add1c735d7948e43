//! Properties of fitted models and of the prediction API:
//!
//! - fitted parameters are valid (weights a distribution, covariances
//!   symmetric positive definite, precision factors consistent);
//! - densities, posteriors, predictions and scores agree with each other and
//!   with a direct computation from the covariances;
//! - BIC, AIC and the parameter counts are scikit-learn's;
//! - the fit is equivariant: shifting the data by 1e6 shifts the means and
//!   changes nothing else, scaling it scales the parameters, permuting the
//!   rows or the starting components changes nothing but the order.

mod common;

use common::{
    Case, as_type, assert_close, assert_models_close, assert_valid_model, case_strategy,
    rough_start, run_cases,
};
use gmm_core::{
    CovarianceType, Covariances, Dataset, FitParams, GaussianMixture, InitMethod, SemiSupervised,
    SemiSupervisedMode, n_parameters,
};
use ndarray::{Array1, Array2, Array3, Axis};
use proptest::prelude::*;

fn fit_params(case: &Case, ct: CovarianceType) -> FitParams {
    FitParams::new(case.k_fit)
        .covariance_type(ct)
        .max_iter(20)
        .n_init(2)
        .seed(case.seed)
}

/// Fitted parameters are valid, also for weighted data, with reg_covar 0
/// where the fit succeeds, and for fits that stop early on `tol`.
#[test]
fn fitted_models_are_valid() {
    run_cases(24, (case_strategy(), any::<bool>()), |(case, weighted)| {
        let mut data = case.dataset();
        if weighted {
            data = data.with_weights(case.real_weights()).unwrap();
        }
        for ct in CovarianceType::FAMILIES {
            for init in common::UNSUPERVISED_INITS {
                let what = format!("{ct}, {init}, weighted {weighted}, {case:?}");
                let p = fit_params(&case, ct).init(init);
                let fit = common::fit(p.clone(), &data);
                assert_valid_model(&fit.model, &what);
                assert_eq!(fit.model.n_components(), case.k_fit, "{what}");
                assert_eq!(fit.model.n_features(), case.d, "{what}");
                assert_eq!(fit.model.covariance_type(), ct, "{what}");
                if let Ok(fit) = p
                    .reg_covar(0.0)
                    .check()
                    .unwrap()
                    .fit(data.view(), &mut gmm_core::Silent)
                {
                    assert_valid_model(&fit.model, &format!("{what}, reg_covar 0"));
                }
            }
        }
    });
}

/// The report's bookkeeping: the best restart has the highest final
/// objective (values within 1e-12 relative count as equal, and the first of
/// equals wins), the report's figures are the best restart's, `converged`
/// means the last step was below `tol`, and the reported score is the
/// model's.
#[test]
fn report_is_consistent() {
    run_cases(24, case_strategy(), |case| {
        let data = case.dataset();
        for ct in CovarianceType::FAMILIES {
            let what = format!("{ct}, {case:?}");
            let tol = 1e-4;
            let fit = common::fit(fit_params(&case, ct).n_init(3).tol(tol).max_iter(40), &data);
            let r = &fit.report;
            assert_eq!(r.restarts.len(), 3, "{what}");
            let best = &r.restarts[r.best_restart];
            let slack = 1e-12 * best.lower_bound.abs().max(1.0);
            for (i, other) in r.restarts.iter().enumerate() {
                assert!(
                    other.lower_bound <= best.lower_bound + slack,
                    "{what}: {r:?}"
                );
                if i < r.best_restart {
                    assert!(
                        other.lower_bound < best.lower_bound - slack,
                        "{what}: an earlier equal restart wins: {r:?}"
                    );
                }
                assert_eq!(other.n_iter, other.trace.len(), "{what}");
                assert_eq!(Some(&other.lower_bound), other.trace.last(), "{what}");
                let t = &other.trace;
                if other.converged {
                    assert!(t.len() >= 2, "{what}: converged on the first iteration");
                    let last = t[t.len() - 1] - t[t.len() - 2];
                    assert!(last.abs() < tol, "{what}: {t:?}");
                    // And not earlier.
                    for w in t[..t.len() - 1].windows(2) {
                        assert!((w[1] - w[0]).abs() >= tol, "{what}: {t:?}");
                    }
                } else {
                    assert_eq!(t.len(), 40, "{what}");
                }
            }
            assert_eq!(r.lower_bound, best.lower_bound, "{what}");
            assert_eq!(r.n_iter, best.n_iter, "{what}");
            assert_eq!(r.converged, best.converged, "{what}");
            let score = fit.model.score(data.view()).unwrap();
            assert_close(&[r.mean_log_likelihood], &[score], 1e-12, &what);
            assert_eq!(r.n_rows, case.n as f64, "{what}");
            assert_eq!(r.n_parameters, fit.model.n_parameters(), "{what}");
            let bic = fit.model.bic(data.view()).unwrap();
            let aic = fit.model.aic(data.view()).unwrap();
            assert_close(&[r.bic, r.aic], &[bic, aic], 1e-12, &what);
        }
    });
}

/// Densities, posteriors, predictions and scores of random models on random
/// rows (more rows than one prediction chunk), against the direct computation.
#[test]
fn predictions_agree_with_direct_computation() {
    let strategy = (any::<u64>(), 1usize..=5, 1usize..=4, any::<bool>());
    run_cases(12, strategy, |(seed, k, d, weighted)| {
        let mut r = common::rng(seed);
        let truth = common::random_mixture(&mut r, k, d, None);
        // Rows from a wider mixture than the model, some far in the tails.
        let wide = common::random_mixture(&mut r, 2, d, Some(6.0));
        let n = 2300;
        let (x, _) = common::sample_shuffled(&wide, n, seed);
        let mut data = Dataset::from_row_major(x.clone(), d).unwrap();
        let w: Vec<f64> = (0..n).map(|i| ((i * 7919) % 5) as f64 * 0.5).collect();
        if weighted {
            data = data.with_weights(w.clone()).unwrap();
        }
        let view = data.view();
        for ct in CovarianceType::FAMILIES {
            let what = format!("{ct}, seed {seed}, k {k}, d {d}");
            let m = as_type(&truth, ct);
            let ss = m.score_samples(view).unwrap();
            let proba = m.predict_proba(view).unwrap();
            let pred = m.predict(view).unwrap();
            assert_eq!(ss.len(), n);
            assert_eq!(proba.dim(), (n, k));
            assert_eq!(pred.len(), n);
            for i in 0..n {
                let (ln_p, post) = common::direct_density(&m, &x[i * d..(i + 1) * d]);
                assert!(
                    (ss[i] - ln_p).abs() <= 1e-10 * ln_p.abs().max(1.0),
                    "{what}: row {i}: score_samples {} vs direct {ln_p}",
                    ss[i]
                );
                let row = proba.row(i);
                let sum: f64 = row.sum();
                assert!((sum - 1.0).abs() <= 1e-12, "{what}: row {i} sums to {sum}");
                for c in 0..k {
                    assert!((0.0..=1.0).contains(&row[c]), "{what}: {row}");
                    assert!(
                        (row[c] - post[c]).abs() <= 1e-9,
                        "{what}: {row} vs {post:?}"
                    );
                }
                // predict is the argmax (the first of equals).
                let best = (0..k).fold(0, |b, c| if row[c] > row[b] { c } else { b });
                assert_eq!(pred[i] as usize, best, "{what}: row {i}: {row}");
            }
            // score: the (weighted) mean of score_samples.
            let (num, den) = (0..n).fold((0.0, 0.0), |(a, b), i| {
                let wi = if weighted { w[i] } else { 1.0 };
                (a + wi * ss[i], b + wi)
            });
            let score = m.score(view).unwrap();
            assert_close(&[score], &[num / den], 1e-12, &format!("{what}: score"));
            let sums = m.score_sums(view).unwrap();
            assert_close(&[sums.total, sums.weight], &[num, den], 1e-12, &what);
            // Rows scored in pieces give the same values.
            let part = m.score_samples(view.slice_rows(1000, 2100)).unwrap();
            assert_eq!(&part[..], &ss[1000..2100], "{what}: slice");
        }
    });
}

/// BIC and AIC on unweighted data: `-2 n score + p ln n` and `-2 n score + 2 p`.
#[test]
fn information_criteria() {
    run_cases(16, case_strategy(), |case| {
        let data = case.dataset();
        let truth = case.truth();
        for ct in CovarianceType::FAMILIES {
            let m = as_type(&truth, ct);
            let n = case.n as f64;
            let p = m.n_parameters() as f64;
            let score = m.score(data.view()).unwrap();
            let bic = m.bic(data.view()).unwrap();
            let aic = m.aic(data.view()).unwrap();
            let want_bic = -2.0 * n * score + p * n.ln();
            let want_aic = -2.0 * n * score + 2.0 * p;
            assert_close(&[bic, aic], &[want_bic, want_aic], 1e-12, &format!("{ct}"));
            assert_close(
                &[gmm_core::bic(n * score, n, m.n_parameters())],
                &[want_bic],
                1e-12,
                "free bic",
            );
        }
    });
}

/// scikit-learn's `_n_parameters`.
#[test]
fn parameter_counts_are_scikit_learns() {
    for k in 1..=6 {
        for d in 1..=6 {
            let means = k * d;
            let weights = k - 1;
            let want = [
                (CovarianceType::Full, k * d * (d + 1) / 2 + means + weights),
                (CovarianceType::Diag, 2 * k * d + k - 1),
                (CovarianceType::Spherical, k + means + weights),
                (CovarianceType::Tied, d * (d + 1) / 2 + means + weights),
            ];
            for (ct, p) in want {
                assert_eq!(n_parameters(ct, k, d), p, "{ct} k {k} d {d}");
            }
        }
    }
    // And the model's own count.
    let mut r = common::rng(5);
    let m = common::random_mixture(&mut r, 3, 4, None);
    let counts: Vec<usize> = CovarianceType::ALL
        .iter()
        .map(|&ct| as_type(&m, ct).n_parameters())
        .collect();
    assert_eq!(
        counts,
        vec![3 * 10 + 12 + 2, 24 + 2, 3 + 12 + 2, 10 + 12 + 2]
    );
}

/// Adds `shift` to every value.
fn shifted(values: &[f64], shift: f64) -> Vec<f64> {
    values.iter().map(|v| v + shift).collect()
}

fn shift_model(m: &GaussianMixture, shift: f64) -> GaussianMixture {
    GaussianMixture::new(
        m.weights().clone(),
        m.means().mapv(|v| v + shift),
        m.covariances().clone(),
    )
    .unwrap()
    .with_covariance_type(m.covariance_type())
    .unwrap()
}

/// Data near 1e6: fitting `X + 1e6` from the shifted start gives the means
/// shifted by 1e6 and the same weights, covariances and trace as fitting `X`
/// (statistics are accumulated around the current means, so nothing is lost
/// to cancellation; a sum of raw squares would lose about 1e-4 of a unit
/// variance here).
#[test]
fn shifting_the_data_shifts_the_means_only() {
    const SHIFT: f64 = 1e6;
    const RTOL: f64 = 1e-6;
    run_cases(24, (case_strategy(), any::<bool>()), |(case, weighted)| {
        let (x, _) = case.rows();
        let mut data = Dataset::from_row_major(x.clone(), case.d).unwrap();
        let mut far = Dataset::from_row_major(shifted(&x, SHIFT), case.d).unwrap();
        if weighted {
            data = data.with_weights(case.real_weights()).unwrap();
            far = far.with_weights(case.real_weights()).unwrap();
        }
        for ct in CovarianceType::FAMILIES {
            let what = format!("{ct}, weighted {weighted}, {case:?}");
            let start = rough_start(&case.truth(), case.k_fit, ct, 1.0, case.seed);
            let p = FitParams::new(case.k_fit)
                .covariance_type(ct)
                .tol(0.0)
                .max_iter(20)
                .chunk_rows(50);
            let a = common::fit(p.clone().init_model(start.clone()), &data);
            let b = common::fit(p.init_model(shift_model(&start, SHIFT)), &far);
            assert_valid_model(&b.model, &what);
            let back = b.model.means().mapv(|v| v - SHIFT);
            // Means: to the scale of the unshifted means (at least 1).
            let ma = a.model.means().as_slice().unwrap();
            let scale = ma.iter().fold(1.0f64, |s, v| s.max(v.abs()));
            for (u, v) in ma.iter().zip(back.iter()) {
                assert!((u - v).abs() <= RTOL * scale, "{what}: means {u} vs {v}");
            }
            assert_close(
                a.model.weights().as_slice().unwrap(),
                b.model.weights().as_slice().unwrap(),
                RTOL,
                &format!("{what}: weights"),
            );
            assert_close(
                &common::cov_values(&a.model),
                &common::cov_values(&b.model),
                RTOL,
                &format!("{what}: covariances"),
            );
            assert_close(
                &a.report.restarts[0].trace,
                &b.report.restarts[0].trace,
                RTOL,
                &format!("{what}: trace"),
            );
            // The shifted model scores the shifted rows as the model the rows.
            let sa = a.model.score_samples(data.view()).unwrap();
            let sb = b.model.score_samples(far.view()).unwrap();
            assert_close(&sa, &sb, RTOL, &format!("{what}: score_samples"));
        }
    });
}

/// The same near 1e6 for a semi-supervised fit from the labeled start (class
/// means and covariances computed from the rows).
#[test]
fn shifting_labeled_data_shifts_the_means_only() {
    const SHIFT: f64 = 1e6;
    run_cases(12, case_strategy(), |case| {
        let case = Case {
            k_fit: case.k_true,
            ..case
        };
        let (x, _) = case.rows();
        let labels = case.labels(0.3);
        let data = Dataset::from_row_major(x.clone(), case.d)
            .unwrap()
            .with_labels(labels.clone(), case.k_true)
            .unwrap();
        let far = Dataset::from_row_major(shifted(&x, SHIFT), case.d)
            .unwrap()
            .with_labels(labels, case.k_true)
            .unwrap();
        // Not EEV and VEV: they give one shape to each component's
        // eigenvectors, which jump where two eigenvalues nearly tie, and
        // the shift costs six digits of the statistics.
        let families = CovarianceType::FAMILIES
            .into_iter()
            .filter(|c| !matches!(c, CovarianceType::Eev | CovarianceType::Vev));
        for ct in families {
            let what = format!("{ct}, {case:?}");
            let p = FitParams::new(case.k_fit)
                .covariance_type(ct)
                .tol(0.0)
                .max_iter(15)
                .semi_supervised(SemiSupervised {
                    mode: SemiSupervisedMode::Em,
                    unlabeled_weight: 0.7,
                });
            let a = common::fit(p.clone(), &data);
            let b = common::fit(p, &far);
            let back = b.model.means().mapv(|v| v - SHIFT);
            let ma = a.model.means().as_slice().unwrap();
            let scale = ma.iter().fold(1.0f64, |s, v| s.max(v.abs()));
            for (u, v) in ma.iter().zip(back.iter()) {
                assert!((u - v).abs() <= 1e-6 * scale, "{what}: means {u} vs {v}");
            }
            assert_close(
                &common::cov_values(&a.model),
                &common::cov_values(&b.model),
                1e-6,
                &format!("{what}: covariances"),
            );
            assert_close(
                &a.report.restarts[0].trace,
                &b.report.restarts[0].trace,
                1e-6,
                &format!("{what}: trace"),
            );
        }
    });
}

fn scale_model(m: &GaussianMixture, s: f64) -> GaussianMixture {
    let cov = match m.covariances() {
        Covariances::Full(c) => Covariances::Full(c * (s * s)),
        Covariances::Diag(c) => Covariances::Diag(c * (s * s)),
        Covariances::Spherical(c) => Covariances::Spherical(c * (s * s)),
        Covariances::Tied(c) => Covariances::Tied(c * (s * s)),
    };
    GaussianMixture::new(m.weights().clone(), m.means() * s, cov)
        .unwrap()
        .with_covariance_type(m.covariance_type())
        .unwrap()
}

/// Scaling the data by `s` (with `reg_covar` scaled by `s^2`) scales the means
/// by `s` and the covariances by `s^2`, keeps the weights, and lowers the mean
/// log-likelihood by `d ln s`.
#[test]
fn scaling_the_data_scales_the_parameters() {
    let strategy = (
        case_strategy(),
        prop_oneof![Just(1e-3), Just(1e3), Just(0.37)],
    );
    run_cases(16, strategy, |(case, s)| {
        let (x, _) = case.rows();
        let data = Dataset::from_row_major(x.clone(), case.d).unwrap();
        let scaled = Dataset::from_row_major(x.iter().map(|v| v * s).collect(), case.d).unwrap();
        for ct in CovarianceType::FAMILIES {
            let what = format!("{ct}, scale {s}, {case:?}");
            let start = rough_start(&case.truth(), case.k_fit, ct, 1.0, case.seed);
            let p = FitParams::new(case.k_fit)
                .covariance_type(ct)
                .tol(0.0)
                .max_iter(15);
            let a = common::fit(p.clone().init_model(start.clone()), &data);
            let b = common::fit(
                p.reg_covar(1e-6 * s * s).init_model(scale_model(&start, s)),
                &scaled,
            );
            assert_models_close(&scale_model(&a.model, s), &b.model, 1e-9, &what);
            let shift = case.d as f64 * s.ln();
            let ta: Vec<f64> = a.report.restarts[0]
                .trace
                .iter()
                .map(|t| t - shift)
                .collect();
            assert_close(
                &ta,
                &b.report.restarts[0].trace,
                1e-9,
                &format!("{what}: trace"),
            );
        }
    });
}

/// Permuting the rows changes only rounding; permuting the components of the
/// starting model permutes the fitted components.
#[test]
fn permutations_change_only_the_order() {
    run_cases(16, case_strategy(), |case| {
        let (x, _) = case.rows();
        let d = case.d;
        let n = case.n;
        let data = Dataset::from_row_major(x.clone(), d).unwrap();
        let reversed: Vec<f64> = (0..n)
            .rev()
            .flat_map(|i| x[i * d..(i + 1) * d].iter().copied())
            .collect();
        let reversed = Dataset::from_row_major(reversed, d).unwrap();
        let k = case.k_fit;
        for ct in CovarianceType::FAMILIES {
            let what = format!("{ct}, {case:?}");
            let start = rough_start(&case.truth(), k, ct, 1.0, case.seed);
            // Components in reverse order (the weights of a rough start are
            // uniform, so only the means and covariances move).
            let perm: Vec<usize> = (0..k).rev().collect();
            let permuted = permute(&start, &perm);
            let p = FitParams::new(k)
                .covariance_type(ct)
                .tol(0.0)
                .max_iter(15)
                .chunk_rows(32);
            let a = common::fit(p.clone().init_model(start.clone()), &data);
            let b = common::fit(p.clone().init_model(start), &reversed);
            let c = common::fit(p.init_model(permuted), &data);
            assert_models_close(&a.model, &b.model, 1e-10, &format!("{what}: rows reversed"));
            assert_models_close(
                &permute(&a.model, &perm),
                &c.model,
                1e-10,
                &format!("{what}: components reversed"),
            );
            assert_close(
                &a.report.restarts[0].trace,
                &c.report.restarts[0].trace,
                1e-10,
                &format!("{what}: trace"),
            );
        }
    });
}

/// The components of `m` in the order `perm` (component `i` of the result is
/// component `perm[i]` of `m`).
fn permute(m: &GaussianMixture, perm: &[usize]) -> GaussianMixture {
    let k = perm.len();
    let d = m.n_features();
    let weights = Array1::from_iter(perm.iter().map(|&p| m.weights()[p]));
    let means = Array2::from_shape_fn((k, d), |(i, j)| m.means()[(perm[i], j)]);
    let cov = match m.covariances() {
        Covariances::Full(c) => Covariances::Full(Array3::from_shape_fn((k, d, d), |(i, a, b)| {
            c[(perm[i], a, b)]
        })),
        Covariances::Diag(c) => {
            Covariances::Diag(Array2::from_shape_fn((k, d), |(i, j)| c[(perm[i], j)]))
        }
        Covariances::Spherical(c) => {
            Covariances::Spherical(Array1::from_iter(perm.iter().map(|&p| c[p])))
        }
        Covariances::Tied(c) => Covariances::Tied(c.clone()),
    };
    GaussianMixture::new(weights, means, cov)
        .unwrap()
        .with_covariance_type(m.covariance_type())
        .unwrap()
}

/// `sample` draws from the model: reproducible by seed, component counts and
/// per-component means and covariances close to the model's.
#[test]
fn samples_follow_the_model() {
    let mut r = common::rng(17);
    let truth = common::random_mixture(&mut r, 3, 2, Some(8.0));
    for ct in CovarianceType::FAMILIES {
        let m = as_type(&truth, ct);
        let n = 30_000;
        let (x, comp) = m.sample(n, 3);
        assert_eq!(x.dim(), (n, 2));
        assert_eq!(m.sample(n, 3).0, x, "{ct}: same seed, same rows");
        assert_ne!(m.sample(n, 4).0, x, "{ct}: another seed");
        for c in 0..3 {
            let rows: Vec<usize> = (0..n).filter(|&i| comp[i] == c as u32).collect();
            let frac = rows.len() as f64 / n as f64;
            let w = m.weights()[c];
            assert!(
                (frac - w).abs() < 5.0 * (w * (1.0 - w) / n as f64).sqrt(),
                "{ct}"
            );
            let sub = x.select(Axis(0), &rows);
            let mean = sub.mean_axis(Axis(0)).unwrap();
            let cov = m.covariances().dense(c, 2);
            for j in 0..2 {
                let se = (cov[(j, j)] / rows.len() as f64).sqrt();
                assert!((mean[j] - m.means()[(c, j)]).abs() < 5.0 * se, "{ct}: mean");
            }
            let centered = &sub - &mean;
            let emp = centered.t().dot(&centered) / rows.len() as f64;
            for a in 0..2 {
                for b in 0..2 {
                    let tol = 0.06 * (cov[(a, a)] * cov[(b, b)]).sqrt();
                    assert!(
                        (emp[(a, b)] - cov[(a, b)]).abs() < tol,
                        "{ct}: {emp} vs {cov}"
                    );
                }
            }
        }
    }
}

/// On well-separated data with the true number of components, the fit finds
/// the mixture the rows were drawn from: each true component is matched by
/// one fitted component with nearly the same weight and mean.
#[test]
fn well_separated_mixtures_are_recovered() {
    run_cases(16, case_strategy(), |case| {
        let case = Case {
            separated: true,
            n: case.n.max(200) * 2,
            k_fit: case.k_true,
            ..case
        };
        let truth = case.truth();
        let data = case.dataset();
        for ct in CovarianceType::FAMILIES {
            let what = format!("{ct}, {case:?}");
            let fit = common::fit(
                FitParams::new(case.k_fit)
                    .covariance_type(ct)
                    .init(InitMethod::KMeans)
                    .n_init(2)
                    .seed(case.seed),
                &data,
            );
            for c in 0..case.k_true {
                let mu = truth.means().row(c);
                // The nearest fitted mean.
                let (best, dist) = (0..case.k_fit)
                    .map(|f| {
                        let m = fit.model.means().row(f);
                        let dist = (&m - &mu).mapv(|v| v * v).sum().sqrt();
                        (f, dist)
                    })
                    .fold((0, f64::INFINITY), |a, b| if b.1 < a.1 { b } else { a });
                // Standard deviations are at most 1.5 and each component has
                // at least ~40 rows.
                assert!(
                    dist < 1.0,
                    "{what}: component {c} at {mu}, nearest fit {dist}"
                );
                let (wt, wf) = (truth.weights()[c], fit.model.weights()[best]);
                assert!((wt - wf).abs() < 0.12, "{what}: weight {wt} vs {wf}");
            }
        }
    });
}
