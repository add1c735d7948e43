//! gmm's posterior modes under mclust's conjugate prior against real
//! mclust's.
//!
//! `scripts/mclust_prior_reference.R` (mclust 6.0.0 on R 4.2) runs `em()`
//! with `prior = priorControl()` for the ten families mclust has a prior
//! for, on faithful, iris and diabetes with G = 2 and 3, from the starts of
//! the fixtures without a prior. gmm's EM with `prior` and without
//! regularization from the same start reaches the same fit: every
//! parameter to 1e-6 (a covariance entry against `sqrt(c_ii c_jj)`), the
//! log-likelihood and mclust's BIC to 1e-8, relative.

mod common;

use common::{MclustFixture, parameter_gap};
use gmm_core::{FitParams, Silent};

#[test]
fn posterior_modes_match_mclusts() {
    let fixtures = MclustFixture::all_in("tests/data/mclust/prior");
    assert_eq!(
        fixtures.len(),
        57,
        "3 data sets x 10 families x G = 2, 3, less mclust's 3 failures"
    );
    let (mut worst_params, mut worst_loglik) = (0.0f64, 0.0f64);
    let mut failures = Vec::new();
    for fx in &fixtures {
        let (name, ct, k, data) = (&fx.name, fx.family, fx.k, &fx.data);
        let fit = FitParams::new(k)
            .covariance_type(ct)
            .reg_covar(0.0)
            .prior(true)
            .tol(1e-15)
            .max_iter(100_000)
            .init_model(fx.model(&fx.json["init"]))
            .check()
            .unwrap()
            .fit(data.view(), &mut Silent)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let want = fx.model(&fx.json["result"]["parameters"]);
        let g = parameter_gap(&fit.model, &want);
        let loglik = fit.report.mean_log_likelihood * data.n_rows() as f64;
        let mclust = fx.json["result"]["loglik"].as_f64().unwrap();
        let l = (loglik - mclust).abs() / mclust.abs();
        let b = (-fit.report.bic - fx.json["result"]["bic"].as_f64().unwrap()).abs() / mclust.abs();
        worst_params = worst_params.max(g);
        worst_loglik = worst_loglik.max(l).max(b);
        if g > 1e-6 || l > 1e-8 || b > 1e-8 {
            failures.push(format!("{name}: parameters {g:.1e}, log-likelihood {l:.1e} ({loglik} against {mclust}), BIC {b:.1e}"));
        }
    }
    println!(
        "prior: largest errors: parameters {worst_params:.1e}, log-likelihood and BIC {worst_loglik:.1e}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// What the prior is for: without `reg_covar`, a component that takes 60
/// identical rows collapses onto them (an error under `on_degenerate =
/// error`); with mclust's prior, its covariance stays that of the prior's
/// scale over its count, and the fit ends.
#[test]
fn the_prior_keeps_a_component_on_repeated_rows_from_collapsing() {
    let mut x = Vec::new();
    for i in 0..200 {
        let t = i as f64;
        x.extend([(t * 0.37).sin() * 3.0, (t * 0.91).cos() * 2.0]);
    }
    for _ in 0..60 {
        x.extend([8.0, 8.0]);
    }
    let data = gmm_core::Dataset::from_row_major(x, 2).unwrap();
    let base = FitParams::new(2)
        .reg_covar(0.0)
        .max_iter(200)
        .on_degenerate(gmm_core::DegeneratePolicy::Error);
    let without = base.clone().check().unwrap().fit(data.view(), &mut Silent);
    assert!(
        matches!(without, Err(gmm_core::GmmError::Degenerate { .. })),
        "{without:?}"
    );
    let with = base
        .prior(true)
        .check()
        .unwrap()
        .fit(data.view(), &mut Silent)
        .unwrap();
    let m = &with.model;
    let on_point = (0..2)
        .find(|&c| (m.means()[(c, 0)] - 8.0).abs() < 0.5)
        .expect("a component on the repeated rows");
    let cov = m.covariances().dense(on_point, 2);
    assert!(cov[(0, 0)] > 1e-3 && cov[(1, 1)] > 1e-3, "{cov}");
    assert!((m.weights()[on_point] - 60.0 / 260.0).abs() < 1e-3);
}

/// The prior counts rows in units of their mean weight: weights that
/// differ by a constant factor give the same fit, as without the prior.
#[test]
fn the_prior_does_not_depend_on_the_weights_scale() {
    let fixture = &MclustFixture::all_in("tests/data/mclust/prior")[0];
    let n = fixture.data.n_rows();
    let weights: Vec<f64> = (0..n).map(|i| 0.5 + (i % 7) as f64 * 0.25).collect();
    let fit = |scale: f64| {
        let data = fixture
            .data
            .clone()
            .with_weights(weights.iter().map(|w| w * scale).collect())
            .unwrap();
        FitParams::new(fixture.k)
            .covariance_type(fixture.family)
            .reg_covar(0.0)
            .prior(true)
            .tol(1e-12)
            .max_iter(1000)
            .init_model(fixture.model(&fixture.json["init"]))
            .check()
            .unwrap()
            .fit(data.view(), &mut Silent)
            .unwrap()
            .model
    };
    let (a, b) = (fit(1.0), fit(1e-3));
    let gap = parameter_gap(&b, &a);
    assert!(gap < 1e-9, "{}: {gap:e}", fixture.name);
}
