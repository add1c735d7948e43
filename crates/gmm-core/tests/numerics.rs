//! Numerical trouble as a reported policy, interruption, checkpoints and
//! racing.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use gmm_core::{
    CovarianceType, Covariances, Dataset, DegeneratePolicy, Ending, FitObserver, FitParams,
    FitState, GaussianMixture, GmmError, InitMethod, Racing, RestartReport, Silent,
};
use ndarray::{Array1, Array2, array};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;

/// 60 rows of N(0, I) in 2-d and 12 copies of the point (6, 6).
fn with_duplicates() -> Dataset {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
    let mut x: Vec<f64> = (0..120).map(|_| StandardNormal.sample(&mut rng)).collect();
    for _ in 0..12 {
        x.extend_from_slice(&[6.0, 6.0]);
    }
    Dataset::from_row_major(x, 2).unwrap()
}

/// A start with one component on the duplicated point: after one M-step it
/// holds only those identical rows, whose covariance is zero.
fn start_on_duplicates() -> GaussianMixture {
    GaussianMixture::new(
        array![0.8, 0.2],
        array![[0.0, 0.0], [6.0, 6.0]],
        Covariances::Full(ndarray::Array3::from_shape_fn((2, 2, 2), |(k, i, j)| {
            if i == j {
                if k == 0 { 1.0 } else { 0.01 }
            } else {
                0.0
            }
        })),
    )
    .unwrap()
}

fn params(policy: DegeneratePolicy) -> FitParams {
    FitParams::new(2)
        .reg_covar(0.0)
        .tol(1e-6)
        .max_iter(50)
        .init_model(start_on_duplicates())
        .on_degenerate(policy)
}

#[test]
fn collapsed_component_is_an_error_naming_it() {
    let data = with_duplicates();
    let err = params(DegeneratePolicy::Error)
        .check()
        .unwrap()
        .fit(data.view(), &mut Silent)
        .unwrap_err();
    assert_eq!(
        err,
        GmmError::Degenerate {
            component: 1,
            restart: 0,
            iteration: 1
        }
    );
    let msg = err.to_string();
    assert!(
        msg.contains("reg_covar") && msg.contains("component 1") && msg.contains("restart 0"),
        "{msg}"
    );
}

#[test]
fn collapsed_component_is_reseeded_and_counted() {
    let data = with_duplicates();
    let fit = params(DegeneratePolicy::Reseed)
        .check()
        .unwrap()
        .fit(data.view(), &mut Silent)
        .unwrap();
    let r = &fit.report.restarts[0];
    assert!(r.reseeded_components >= 1, "{r:?}");
    assert!(
        fit.model
            .weights()
            .iter()
            .all(|w| w.is_finite() && *w > 0.0)
    );
    assert!((fit.model.weights().sum() - 1.0).abs() < 1e-12);
    assert!(fit.report.mean_log_likelihood.is_finite());
}

#[test]
fn collapsed_restart_is_dropped_and_the_others_go_on() {
    let data = with_duplicates();
    // Restart 0 starts on the duplicates; restarts 1 and 2 from k-means.
    let fit = params(DegeneratePolicy::DropRestart)
        .n_init(3)
        .init(InitMethod::KMeans)
        .check()
        .unwrap()
        .fit(data.view(), &mut Silent);
    match fit {
        Ok(fit) => {
            let r0 = &fit.report.restarts[0];
            assert_eq!(r0.ending, Ending::Dropped, "{r0:?}");
            assert!(
                r0.note.as_deref().unwrap_or("").contains("component 1"),
                "{r0:?}"
            );
            assert_ne!(fit.report.best_restart, 0);
        }
        // k-means may also put a component on the duplicates: then every
        // restart is dropped, and the error says so.
        Err(e) => assert!(
            matches!(e, GmmError::AllRestartsDropped { n_init: 3, .. }),
            "{e}"
        ),
    }
    let err = params(DegeneratePolicy::DropRestart)
        .check()
        .unwrap()
        .fit(data.view(), &mut Silent)
        .unwrap_err();
    assert!(
        matches!(err, GmmError::AllRestartsDropped { n_init: 1, .. }),
        "{err}"
    );
}

#[test]
fn reg_covar_keeps_the_collapse_finite_and_is_counted() {
    let data = with_duplicates();
    let fit = params(DegeneratePolicy::Error)
        .reg_covar(1e-6)
        .check()
        .unwrap()
        .fit(data.view(), &mut Silent)
        .unwrap();
    let r = &fit.report.restarts[0];
    assert!(r.regularizations >= 1, "{r:?}");
    assert_eq!(r.reseeded_components, 0);
}

#[test]
fn collinear_columns_fail_full_but_not_diag() {
    // The second column is twice the first.
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
    let x: Vec<f64> = (0..200)
        .flat_map(|i| {
            let v: f64 = StandardNormal.sample(&mut rng);
            let v = v + if i % 2 == 0 { 4.0 } else { -4.0 };
            [v, 2.0 * v]
        })
        .collect();
    let data = Dataset::from_row_major(x, 2).unwrap();
    let p = FitParams::new(2)
        .reg_covar(0.0)
        .seed(1)
        .on_degenerate(DegeneratePolicy::Error);
    let err = p
        .clone()
        .check()
        .unwrap()
        .fit(data.view(), &mut Silent)
        .unwrap_err();
    assert!(matches!(err, GmmError::Degenerate { .. }), "{err}");
    let diag = p
        .covariance_type(CovarianceType::Diag)
        .check()
        .unwrap()
        .fit(data.view(), &mut Silent);
    assert!(diag.is_ok(), "{diag:?}");
}

#[test]
fn empty_component_is_reported_or_reseeded() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
    let x: Vec<f64> = (0..300).map(|_| StandardNormal.sample(&mut rng)).collect();
    let data = Dataset::from_row_major(x, 2).unwrap();
    // Component 1 sits 1e4 standard deviations away: it explains nothing.
    let start = GaussianMixture::new(
        array![0.5, 0.5],
        array![[0.0, 0.0], [1e4, 1e4]],
        Covariances::Diag(array![[1.0, 1.0], [1.0, 1.0]]),
    )
    .unwrap();
    let p = FitParams::new(2)
        .covariance_type(CovarianceType::Diag)
        .init_model(start)
        .max_iter(20);
    let err = p
        .clone()
        .on_degenerate(DegeneratePolicy::Error)
        .check()
        .unwrap()
        .fit(data.view(), &mut Silent)
        .unwrap_err();
    assert_eq!(
        err,
        GmmError::EmptyComponent {
            component: 1,
            restart: 0,
            iteration: 1
        }
    );
    let fit = p
        .on_degenerate(DegeneratePolicy::Reseed)
        .check()
        .unwrap()
        .fit(data.view(), &mut Silent)
        .unwrap();
    assert!(fit.report.restarts[0].reseeded_components >= 1);
    // Re-seeded onto the data: both components now explain rows.
    assert!(
        fit.model.means().iter().all(|m| m.abs() < 10.0),
        "{}",
        fit.model.means()
    );
    assert!(
        fit.model.weights().iter().all(|w| *w > 1e-3),
        "{}",
        fit.model.weights()
    );
}

#[test]
fn far_outliers_keep_finite_log_likelihoods() {
    // A row 1e8 standard deviations out: its density underflows any double,
    // but its log-density is finite and the fit goes on.
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
    let mut x: Vec<f64> = (0..400).map(|_| StandardNormal.sample(&mut rng)).collect();
    x.extend_from_slice(&[1e8, -1e8]);
    let data = Dataset::from_row_major(x, 2).unwrap();
    let fit = FitParams::new(2)
        .seed(2)
        .check()
        .unwrap()
        .fit(data.view(), &mut Silent)
        .unwrap();
    let ll = fit.model.score_samples(data.view()).unwrap();
    assert!(
        ll.iter().all(|v| v.is_finite()),
        "{:?}",
        &ll[ll.len() - 2..]
    );
    assert!(fit.report.mean_log_likelihood.is_finite());
}

/// Raises the cancel flag after `after` iterations.
struct CancelAfter {
    flag: Arc<AtomicBool>,
    after: usize,
}

impl FitObserver for CancelAfter {
    fn iteration(&mut self, _restart: usize, iteration: usize, _mean: f64) {
        if iteration >= self.after {
            self.flag.store(true, Ordering::SeqCst);
        }
    }
    fn cancel_flag(&self) -> Option<Arc<AtomicBool>> {
        Some(self.flag.clone())
    }
}

fn blobs(n: usize, seed: u64) -> Dataset {
    let truth = GaussianMixture::new(
        array![0.3, 0.3, 0.4],
        array![[0.0, 0.0, 0.0], [4.0, 1.0, -1.0], [-3.0, 3.0, 2.0]],
        Covariances::Spherical(array![1.0, 0.7, 1.5]),
    )
    .unwrap();
    Dataset::new(truth.sample(n, seed).0)
}

#[test]
fn cancelling_stops_the_fit() {
    let data = blobs(3000, 1);
    let mut obs = CancelAfter {
        flag: Arc::new(AtomicBool::new(false)),
        after: 2,
    };
    let err = FitParams::new(3)
        .tol(0.0)
        .max_iter(50)
        .check()
        .unwrap()
        .fit(data.view(), &mut obs)
        .unwrap_err();
    assert_eq!(err, GmmError::Interrupted);
    // Raised before the start, it stops before any work.
    let mut obs = CancelAfter {
        flag: Arc::new(AtomicBool::new(true)),
        after: 0,
    };
    let err = FitParams::new(3)
        .check()
        .unwrap()
        .fit(data.view(), &mut obs)
        .unwrap_err();
    assert_eq!(err, GmmError::Interrupted);
}

/// Keeps every checkpoint.
#[derive(Default)]
struct Keep(Vec<FitState>);

impl FitObserver for Keep {
    fn checkpoint(&mut self, state: &FitState) {
        self.0.push(state.clone());
    }
}

#[test]
fn resuming_from_a_checkpoint_gives_the_same_fit_bit_for_bit() {
    let data = blobs(2000, 2);
    let p = FitParams::new(3)
        .covariance_type(CovarianceType::Full)
        .n_init(3)
        .tol(1e-8)
        .max_iter(40)
        .seed(7)
        .chunk_rows(128);
    let mut keep = Keep::default();
    let whole = p
        .clone()
        .checkpoint_every(3)
        .check()
        .unwrap()
        .fit(data.view(), &mut keep)
        .unwrap();
    assert!(keep.0.len() >= 2, "checkpoints: {}", keep.0.len());
    assert!(
        keep.0
            .windows(2)
            .all(|w| w[1].iteration == w[0].iteration + 3)
    );
    for state in &keep.0 {
        let resumed = p
            .clone()
            .check()
            .unwrap()
            .resume(data.view(), state, &mut Silent)
            .unwrap();
        assert_eq!(
            resumed.model, whole.model,
            "resumed at iteration {}",
            state.iteration
        );
        assert_eq!(
            resumed.report, whole.report,
            "resumed at iteration {}",
            state.iteration
        );
    }
    // A state must match n_init.
    let bad = p
        .n_init(2)
        .check()
        .unwrap()
        .resume(data.view(), &keep.0[0], &mut Silent);
    assert!(bad.is_err());
}

fn total_iterations(reports: &[RestartReport]) -> usize {
    reports.iter().map(|r| r.n_iter).sum()
}

#[test]
fn racing_stops_laggards_and_keeps_the_winner() {
    // Five separated clusters, fitted with 5 components from random starts:
    // restarts differ, and some start far behind.
    let truth = GaussianMixture::new(
        Array1::from(vec![0.2; 5]),
        Array2::from_shape_fn((5, 2), |(k, j)| {
            (k as f64 * 7.0) * if j == 0 { 1.0 } else { -0.5 }
        }),
        Covariances::Spherical(Array1::from(vec![1.0; 5])),
    )
    .unwrap();
    let data = Dataset::new(truth.sample(5000, 3).0);
    let p = FitParams::new(5)
        .covariance_type(CovarianceType::Diag)
        .n_init(12)
        .init(InitMethod::RandomFromData)
        .tol(1e-6)
        .max_iter(200)
        .seed(4);
    let full = p
        .clone()
        .check()
        .unwrap()
        .fit(data.view(), &mut Silent)
        .unwrap();
    let raced = p
        .racing(Racing::default())
        .check()
        .unwrap()
        .fit(data.view(), &mut Silent)
        .unwrap();
    assert_eq!(
        raced.report.best_restart, full.report.best_restart,
        "same winner"
    );
    assert_eq!(
        raced.model, full.model,
        "the winner runs to the end either way"
    );
    let stopped = raced
        .report
        .restarts
        .iter()
        .filter(|r| r.ending == Ending::Raced)
        .count();
    assert!(stopped > 0, "some restarts raced out");
    assert!(total_iterations(&raced.report.restarts) < total_iterations(&full.report.restarts));
    // Every raced-out restart was behind the leader when it stopped.
    for r in raced
        .report
        .restarts
        .iter()
        .filter(|r| r.ending == Ending::Raced)
    {
        assert!(r.lower_bound < raced.report.lower_bound, "{r:?}");
    }
}

#[test]
fn reseeding_stops_when_every_component_degenerates_again() {
    // The same column twice: every full covariance is singular without
    // reg_covar, so a re-seed cannot help; the restart is dropped rather
    // than re-seeded every iteration.
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
    let mut x = Vec::new();
    for i in 0..100 {
        let v: f64 = StandardNormal.sample(&mut rng);
        let v = v + 5.0 * (i % 2) as f64;
        x.extend_from_slice(&[v, v]);
    }
    let data = Dataset::from_row_major(x, 2).unwrap();
    let err = FitParams::new(2)
        .reg_covar(0.0)
        .max_iter(50)
        .n_init(2)
        .on_degenerate(DegeneratePolicy::Reseed)
        .check()
        .unwrap()
        .fit(data.view(), &mut Silent)
        .unwrap_err();
    let GmmError::AllRestartsDropped { n_init, last } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(*n_init, 2);
    assert!(
        last.contains("every component degenerate again after re-seeding")
            && last.contains("reg_covar"),
        "{last}"
    );
    // With reg_covar the same data fits.
    let fit = FitParams::new(2)
        .reg_covar(1e-6)
        .max_iter(50)
        .check()
        .unwrap()
        .fit(data.view(), &mut Silent)
        .unwrap();
    assert_ne!(fit.report.restarts[0].ending, Ending::Dropped);
}

/// Values whose squares overflow reach no initialization: the fit refuses
/// them with the column, never panics, whatever the start.
#[test]
fn values_too_large_to_square_are_refused_by_every_start() {
    let mut x = Vec::new();
    for i in 0..100 {
        x.extend([i as f64, (i % 7) as f64]);
    }
    x[2 * 17] = 3e154;
    let data = gmm_core::Dataset::from_row_major(x, 2).unwrap();
    for init in gmm_core::InitMethod::ALL {
        if init == gmm_core::InitMethod::Labeled {
            continue;
        }
        let err = gmm_core::FitParams::new(2)
            .init(init)
            .check()
            .unwrap()
            .fit(data.view(), &mut gmm_core::Silent)
            .unwrap_err();
        assert!(
            matches!(err, gmm_core::GmmError::ValuesTooLarge { column: 0, .. }),
            "{init}: {err}"
        );
    }
}

/// On identical rows with reg_covar = 0, re-seeding cannot help: with the
/// default `reseed` policy every covariance type ends with every restart
/// dropped (tied used to publish a re-seeded start with exit 0).
#[test]
fn reseeding_that_cannot_help_drops_the_restart_for_every_type() {
    let x: Vec<f64> = (0..50).flat_map(|_| [1.5, 2.5]).collect();
    let data = gmm_core::Dataset::from_row_major(x, 2).unwrap();
    for ct in gmm_core::CovarianceType::ALL {
        let result = gmm_core::FitParams::new(2)
            .covariance_type(ct)
            .reg_covar(0.0)
            .n_init(2)
            .check()
            .unwrap()
            .fit(data.view(), &mut gmm_core::Silent);
        match result {
            Err(gmm_core::GmmError::AllRestartsDropped { n_init: 2, .. }) => {}
            Err(e) => panic!("{ct}: {e}"),
            Ok(fit) => panic!("{ct}: published {:?}", fit.report),
        }
    }
}

/// With reg_covar = 0 a component started on one far row ends degenerate
/// under the `error` policy, for every covariance type that can sit on one
/// row, rather than winning on a spike's likelihood (the floor below which
/// a tiny positive variance counts as degenerate is checked in
/// `mstep::tests`, where such a variance can be set exactly).
#[test]
fn a_component_on_one_row_is_degenerate_not_a_winner() {
    use gmm_core::{CovarianceType, Covariances, DegeneratePolicy, GaussianMixture, GmmError};
    use ndarray::{Array1, Array2, Array3, array};
    let mut x = Vec::new();
    for i in 0..200 {
        let c = if i % 2 == 0 { 0.0 } else { 6.0 };
        let t = i as f64 * 0.37;
        x.extend([c + t.sin(), c + (1.7 * t).cos()]);
    }
    x.extend([40.1, -39.7]); // one row far from the rest
    let data = gmm_core::Dataset::from_row_major(x, 2).unwrap();
    for ct in CovarianceType::ALL {
        if ct == CovarianceType::Tied {
            continue; // a shared covariance cannot sit on one row
        }
        let means = array![[0.0, 0.0], [6.0, 6.0], [40.0, -40.0]];
        let weights = Array1::from(vec![0.49, 0.49, 0.02]);
        let covariances = match ct {
            CovarianceType::Full => {
                let mut c = Array3::zeros((3, 2, 2));
                for k in 0..3 {
                    c[(k, 0, 0)] = if k == 2 { 1e-3 } else { 0.5 };
                    c[(k, 1, 1)] = c[(k, 0, 0)];
                }
                Covariances::Full(c)
            }
            CovarianceType::Diag => Covariances::Diag(Array2::from_shape_fn((3, 2), |(k, _)| {
                if k == 2 { 1e-3 } else { 0.5 }
            })),
            _ => Covariances::Spherical(array![0.5, 0.5, 1e-3]),
        };
        let start = GaussianMixture::new(weights, means, covariances).unwrap();
        let err = gmm_core::FitParams::new(3)
            .covariance_type(ct)
            .reg_covar(0.0)
            .init_model(start)
            .on_degenerate(DegeneratePolicy::Error)
            .check()
            .unwrap()
            .fit(data.view(), &mut gmm_core::Silent)
            .unwrap_err();
        assert!(
            matches!(err, GmmError::Degenerate { component: 2, .. }),
            "{ct}: {err}"
        );
    }
}

/// A column spread over 1e7 beside a constant one: every family fits (the
/// constant column rests on reg_covar) or fails with an error, and none
/// panics. EEV and VEV once did: the eigenvalues of a component's
/// estimate, at a condition past 1/eps, came out below zero.
#[test]
fn every_family_fits_a_huge_column_beside_a_constant_one() {
    let mut r = Xoshiro256PlusPlus::seed_from_u64(3);
    let rows: Vec<f64> = (0..200)
        .flat_map(|i| {
            let centre = if i % 2 == 0 { 6e7 } else { -4e5 };
            let z: f64 = StandardNormal.sample(&mut r);
            [centre + 1e7 * z, 3.0]
        })
        .collect();
    let data = Dataset::from_row_major(rows, 2).unwrap();
    for ct in gmm_core::CovarianceType::FAMILIES {
        let fit = FitParams::new(2)
            .covariance_type(ct)
            .n_init(3)
            .seed(0)
            .check()
            .unwrap()
            .fit(data.view(), &mut Silent);
        if let Ok(fit) = fit {
            assert!(fit.report.mean_log_likelihood.is_finite(), "{ct}");
            assert_eq!(fit.model.covariance_type(), ct);
        }
    }
}
