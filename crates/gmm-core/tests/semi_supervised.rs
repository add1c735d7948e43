//! Semi-supervised fits: classes map to components `0..n_classes` in order,
//! labeled rows of well-separated data are predicted as their class, extra
//! components take the unlabeled structure, the objective reported is the
//! documented one, and restarts are chosen by it.
//!
//! (That the objective never decreases is tested in `monotone.rs`.)

mod common;

use common::{Case, as_type, assert_close, assert_valid_model, case_strategy, rng, run_cases};
use gmm_core::{
    CovarianceType, Covariances, Dataset, Fit, FitParams, GaussianMixture, InitMethod,
    SemiSupervised, SemiSupervisedMode, Silent, UNLABELED,
};
use ndarray::Array2;
use proptest::prelude::*;
use rand::RngExt;

fn em(lambda: f64) -> SemiSupervised {
    SemiSupervised {
        mode: SemiSupervisedMode::Em,
        unlabeled_weight: lambda,
    }
}

fn init_mode() -> SemiSupervised {
    SemiSupervised {
        mode: SemiSupervisedMode::Init,
        unlabeled_weight: 1.0,
    }
}

/// Well-separated clusters (means 20 apart, standard deviations at most 1.5).
/// Class `perm[c]` is cluster `c`, so that classes are not in the clusters'
/// order; about `fraction` of the rows are labeled, and at least one row of
/// every labeled cluster. Clusters `c` with `perm[c] == UNLABELED` get no
/// labels. Returns the rows, the labels and the true clusters.
fn separated(
    seed: u64,
    k: usize,
    d: usize,
    n: usize,
    perm: &[u32],
    fraction: f64,
) -> (Vec<f64>, Vec<u32>, Vec<u32>, GaussianMixture) {
    let truth = common::random_mixture(&mut rng(seed), k, d, Some(20.0));
    let (x, comp) = common::sample_shuffled(&truth, n, seed.wrapping_add(1));
    let mut r = rng(seed.wrapping_add(2));
    let mut seen = vec![false; k];
    let labels = comp
        .iter()
        .map(|&c| {
            let first = !seen[c as usize];
            seen[c as usize] = true;
            if first || r.random_bool(fraction) {
                perm[c as usize]
            } else {
                UNLABELED
            }
        })
        .collect();
    (x, labels, comp, truth)
}

/// A random permutation of `0..k`.
fn permutation(seed: u64, k: usize) -> Vec<u32> {
    let mut p: Vec<u32> = (0..k as u32).collect();
    let mut r = rng(seed ^ 0x5eed);
    for i in (1..k).rev() {
        p.swap(i, r.random_range(0..=i));
    }
    p
}

fn labeled_rows(labels: &[u32]) -> Vec<usize> {
    (0..labels.len())
        .filter(|&i| labels[i] != UNLABELED)
        .collect()
}

/// The rows `rows` of `data` as a data set of their own.
fn subset(x: &[f64], d: usize, rows: &[usize]) -> Dataset {
    let v = rows
        .iter()
        .flat_map(|&i| x[i * d..(i + 1) * d].iter().copied())
        .collect();
    Dataset::from_row_major(v, d).unwrap()
}

/// Fits well-separated data with as many components as classes and checks
/// that every labeled row is predicted as its class (class `c` is component
/// `c`, whatever the order of the clusters), and so is nearly every
/// unlabeled row.
fn check_labeled_rows_predicted(inits: &[InitMethod], lambdas: &[f64], cases: u32) {
    let strategy = (
        any::<u64>(),
        1usize..=4,
        1usize..=4,
        60usize..300,
        proptest::sample::select(lambdas.to_vec()),
        prop_oneof![Just(0.05), Just(0.3)],
        any::<bool>(),
    );
    run_cases(
        cases,
        strategy,
        |(seed, k, d, n, lambda, fraction, weighted)| {
            let perm = permutation(seed, k);
            let (x, labels, comp, _) = separated(seed, k, d, n, &perm, fraction);
            let mut data = Dataset::from_row_major(x.clone(), d)
                .unwrap()
                .with_labels(labels.clone(), k)
                .unwrap();
            if weighted {
                let w: Vec<f64> = (0..n).map(|i| 0.5 + (i % 3) as f64).collect();
                data = data.with_weights(w).unwrap();
            }
            let lab = labeled_rows(&labels);
            let labeled = subset(&x, d, &lab);
            for ct in CovarianceType::ALL {
                for &init in inits {
                    let what = format!(
                        "{ct}, {init}, lambda {lambda}, seed {seed}, k {k}, d {d}, n {n}, perm {perm:?}"
                    );
                    let p = FitParams::new(k)
                        .covariance_type(ct)
                        .init(init)
                        .n_init(3)
                        .seed(seed)
                        .semi_supervised(em(lambda));
                    let fit = common::fit(p, &data);
                    assert_valid_model(&fit.model, &what);
                    let pred = fit.model.predict(labeled.view()).unwrap();
                    let want: Vec<u32> = lab.iter().map(|&i| labels[i]).collect();
                    assert_eq!(pred, want, "{what}: labeled rows");
                    let all = fit.model.predict(data.view()).unwrap();
                    let wrong = (0..n).filter(|&i| all[i] != perm[comp[i] as usize]).count();
                    assert!(
                        wrong * 100 <= n,
                        "{what}: {wrong} of {n} rows misclassified"
                    );
                }
            }
        },
    );
}

/// The labeled start (the default for semi-supervised fits).
#[test]
fn labeled_rows_are_predicted_as_their_class() {
    check_labeled_rows_predicted(&[InitMethod::Labeled], &[0.3, 1.0, 2.0], 24);
}

/// The same with the initializations that do not look at labels: in a
/// semi-supervised fit they still start component `c` on class `c` (k-means
/// and random rows seed the classes first; random starts move the class
/// components onto the classes), since the labeled rows of class `c` are
/// tied to component `c`.
#[test]
fn labeled_rows_are_predicted_as_their_class_for_every_init() {
    check_labeled_rows_predicted(
        &[
            InitMethod::KMeans,
            InitMethod::KMeansPlusPlus,
            InitMethod::RandomFromData,
            InitMethod::RandomParams,
            InitMethod::Random,
        ],
        &[1.0, 2.0],
        16,
    );
}

/// One case of the above: two clusters 20 apart in 4 dimensions, 21
/// labeled rows. A class-blind k-means start once left both means between
/// the clusters (mean objective -6.31, every labeled row predicted as the
/// other class); the labeled start reaches -4.04 with the means on the
/// clusters, and so must `kmeans`.
#[test]
fn kmeans_start_of_a_semi_supervised_fit_follows_the_classes() {
    let (x, labels, _, _) = separated(3, 2, 4, 150, &[0, 1], 0.1);
    let data = Dataset::from_row_major(x.clone(), 4)
        .unwrap()
        .with_labels(labels.clone(), 2)
        .unwrap();
    let p = FitParams::new(2)
        .covariance_type(CovarianceType::Full)
        .n_init(3)
        .seed(3)
        .semi_supervised(em(1.0));
    let labeled = common::fit(p.clone(), &data);
    let kmeans = common::fit(p.init(InitMethod::KMeans), &data);
    let lab = labeled_rows(&labels);
    let want: Vec<u32> = lab.iter().map(|&i| labels[i]).collect();
    let rows = subset(&x, 4, &lab);
    assert_eq!(labeled.model.predict(rows.view()).unwrap(), want);
    assert_eq!(
        kmeans.model.predict(rows.view()).unwrap(),
        want,
        "kmeans start: objective {} (labeled start: {}), means {}",
        kmeans.report.lower_bound,
        labeled.report.lower_bound,
        kmeans.model.means()
    );
}

/// More components than classes: the fit succeeds, class `c` is component
/// `c` (its mean is the labeled cluster's), and the unlabeled cluster goes to
/// the components after the classes.
#[test]
fn extra_components_follow_the_classes() {
    let strategy = (
        any::<u64>(),
        2usize..=4,
        1usize..=3,
        100usize..300,
        0usize..=1,
        prop_oneof![Just(0.5), Just(1.0)],
    );
    run_cases(16, strategy, |(seed, k_true, d, n, extra, lambda)| {
        // The last cluster in permuted order has no labels.
        let n_classes = k_true - 1;
        let mut perm = permutation(seed, k_true);
        let hidden = perm.iter().position(|&c| c as usize == n_classes).unwrap();
        perm[hidden] = UNLABELED;
        let (x, labels, comp, truth) = separated(seed, k_true, d, n, &perm, 0.2);
        let data = Dataset::from_row_major(x.clone(), d)
            .unwrap()
            .with_labels(labels.clone(), n_classes)
            .unwrap();
        let k = k_true + extra;
        let lab = labeled_rows(&labels);
        let labeled = subset(&x, d, &lab);
        for ct in CovarianceType::ALL {
            let what = format!("{ct}, k {k}, lambda {lambda}, seed {seed}, d {d}, perm {perm:?}");
            let p = FitParams::new(k)
                .covariance_type(ct)
                .n_init(3)
                .seed(seed)
                .semi_supervised(em(lambda));
            let fit = common::fit(p, &data);
            assert_valid_model(&fit.model, &what);
            // Component c sits on the cluster labeled c.
            for (cluster, &class) in perm.iter().enumerate() {
                if class == UNLABELED {
                    continue;
                }
                let mu = truth.means().row(cluster);
                let m = fit.model.means().row(class as usize);
                let dist = (&m - &mu).mapv(|v| v * v).sum().sqrt();
                let tol = if extra == 0 { 1.0 } else { 2.5 };
                assert!(
                    dist < tol,
                    "{what}: class {class}: mean {m} vs cluster {mu}"
                );
            }
            let pred = fit.model.predict(labeled.view()).unwrap();
            for (&i, &p) in lab.iter().zip(&pred) {
                // A spare component may share a labeled cluster, but no row
                // goes to another class.
                assert!(
                    p == labels[i] || p as usize >= n_classes,
                    "{what}: row {i} of class {} predicted {p}",
                    labels[i]
                );
                if extra == 0 {
                    assert_eq!(p, labels[i], "{what}: row {i}");
                }
            }
            // The unlabeled cluster: components after the classes.
            let all = fit.model.predict(data.view()).unwrap();
            let hidden_rows: Vec<usize> = (0..n).filter(|&i| comp[i] as usize == hidden).collect();
            let outside = hidden_rows
                .iter()
                .filter(|&&i| (all[i] as usize) < n_classes)
                .count();
            assert!(
                outside * 100 <= hidden_rows.len(),
                "{what}: {outside} of {} rows of the unlabeled cluster went to a class",
                hidden_rows.len()
            );
        }
    });
}

/// The trace is the documented objective: for `em`, the labeled rows'
/// complete-data log-likelihood plus lambda times the unlabeled rows'
/// log-likelihood, over the total effective weight; for `init`, the
/// unlabeled rows' mean log-likelihood. Checked on the first iteration from
/// a given model, against a direct computation. The report's score is the
/// returned model's on all rows (`em`) or on the unlabeled rows (`init`).
#[test]
fn trace_is_the_documented_objective() {
    let strategy = (
        case_strategy(),
        prop_oneof![Just(0.0), Just(0.3), Just(1.0), Just(2.0)],
        prop_oneof![Just(0.1), Just(0.5)],
        any::<bool>(),
    );
    run_cases(24, strategy, |(case, lambda, fraction, weighted)| {
        let case = Case {
            k_fit: case.k_true,
            ..case
        };
        let (x, _) = case.rows();
        let labels = case.labels(fraction);
        let w: Vec<f64> = if weighted {
            // Labeled rows keep a positive weight: every class needs one.
            case.real_weights()
                .iter()
                .zip(&labels)
                .map(|(&w, &l)| if l == UNLABELED { w } else { w.max(0.5) })
                .collect()
        } else {
            vec![1.0; case.n]
        };
        let data = Dataset::from_row_major(x.clone(), case.d)
            .unwrap()
            .with_labels(labels.clone(), case.k_true)
            .unwrap()
            .with_weights(w.clone())
            .unwrap();
        let d = case.d;
        for ct in CovarianceType::ALL {
            let start = as_type(&case.truth(), ct);
            let what = format!("{ct}, lambda {lambda}, {case:?}");
            // Direct objectives of `start`.
            let (mut lab, mut unl, mut wl, mut wu) = (0.0, 0.0, 0.0, 0.0);
            for i in 0..case.n {
                let row = &x[i * d..(i + 1) * d];
                if labels[i] == UNLABELED {
                    unl += w[i] * common::direct_density(&start, row).0;
                    wu += w[i];
                } else {
                    lab += w[i] * common::direct_log_probs(&start, row)[labels[i] as usize];
                    wl += w[i];
                }
            }
            let p = FitParams::new(case.k_fit)
                .covariance_type(ct)
                .tol(0.0)
                .max_iter(3)
                .init_model(start.clone());
            if wl > 0.0 {
                let fit = common::fit(p.clone().semi_supervised(em(lambda)), &data);
                let want = (lab + lambda * unl) / (wl + lambda * wu);
                let got = fit.report.restarts[0].trace[0];
                assert_close(&[got], &[want], 1e-10, &format!("{what}: em objective"));
                // The report scores the returned model on every row.
                let plain = data.view().without_labels();
                let score = fit.model.score(plain).unwrap();
                assert_close(
                    &[fit.report.mean_log_likelihood, fit.report.n_rows],
                    &[score, w.iter().sum()],
                    1e-12,
                    &format!("{what}: em report"),
                );
            }
            if wu > 0.0 && lambda == 1.0 {
                let fit = match p
                    .semi_supervised(init_mode())
                    .check()
                    .unwrap()
                    .fit(data.view(), &mut Silent)
                {
                    Ok(f) => f,
                    // Fewer unlabeled rows with positive weight than components.
                    Err(gmm_core::GmmError::TooFewRows { .. }) => continue,
                    Err(e) => panic!("{what}: {e}"),
                };
                let got = fit.report.restarts[0].trace[0];
                assert_close(
                    &[got],
                    &[unl / wu],
                    1e-10,
                    &format!("{what}: init objective"),
                );
                // The report scores the returned model on the unlabeled rows.
                let unl_rows: Vec<usize> =
                    (0..case.n).filter(|&i| labels[i] == UNLABELED).collect();
                let ss = fit
                    .model
                    .score_samples(subset(&x, d, &unl_rows).view())
                    .unwrap();
                let total: f64 = unl_rows.iter().zip(&ss).map(|(&i, s)| w[i] * s).sum();
                assert_close(
                    &[fit.report.mean_log_likelihood, fit.report.n_rows],
                    &[total / wu, wu],
                    1e-12,
                    &format!("{what}: init report"),
                );
            }
        }
    });
}

/// The per-class maximum-likelihood fit of the labeled rows: weights,
/// means and biased covariances (plus `reg`), shaped for `ct`.
fn class_mle(
    x: &[f64],
    d: usize,
    labels: &[u32],
    k: usize,
    ct: CovarianceType,
    reg: f64,
) -> GaussianMixture {
    let mut n = vec![0.0; k];
    let mut means = Array2::<f64>::zeros((k, d));
    for (i, &c) in labels.iter().enumerate() {
        if c != UNLABELED {
            n[c as usize] += 1.0;
            for j in 0..d {
                means[(c as usize, j)] += x[i * d + j];
            }
        }
    }
    for c in 0..k {
        for j in 0..d {
            means[(c, j)] /= n[c];
        }
    }
    let mut covs = vec![Array2::<f64>::zeros((d, d)); k];
    for (i, &c) in labels.iter().enumerate() {
        if c != UNLABELED {
            let c = c as usize;
            for a in 0..d {
                for b in 0..d {
                    covs[c][(a, b)] +=
                        (x[i * d + a] - means[(c, a)]) * (x[i * d + b] - means[(c, b)]) / n[c];
                }
            }
        }
    }
    let total: f64 = n.iter().sum();
    let weights: Vec<f64> = n.iter().map(|v| v / total).collect();
    let cov = Covariances::from_dense(ct, &covs, &weights);
    let cov = match cov {
        Covariances::Full(mut c) => {
            for comp in 0..k {
                for j in 0..d {
                    c[(comp, j, j)] += reg;
                }
            }
            Covariances::Full(c)
        }
        Covariances::Diag(c) => Covariances::Diag(c + reg),
        Covariances::Spherical(c) => Covariances::Spherical(c + reg),
        Covariances::Tied(mut c) => {
            for j in 0..d {
                c[(j, j)] += reg;
            }
            Covariances::Tied(c)
        }
    };
    GaussianMixture::new(weights.into(), means, cov).unwrap()
}

/// With `unlabeled_weight = 0` only the labeled rows count, and their
/// responsibilities are fixed: one M-step gives the per-class
/// maximum-likelihood parameters, and EM stays there.
#[test]
fn zero_unlabeled_weight_gives_the_supervised_fit() {
    run_cases(16, case_strategy(), |case| {
        let case = Case {
            k_fit: case.k_true,
            ..case
        };
        let (x, comp) = case.rows();
        // Labels for every row of the first `d + 2` of each class and then
        // every third row.
        let mut count = vec![0; case.k_true];
        let labels: Vec<u32> = comp
            .iter()
            .enumerate()
            .map(|(i, &c)| {
                count[c as usize] += 1;
                if count[c as usize] <= case.d + 2 || i % 3 == 0 {
                    c
                } else {
                    UNLABELED
                }
            })
            .collect();
        if count.iter().any(|&c| c < case.d + 2) {
            return;
        }
        let data = Dataset::from_row_major(x.clone(), case.d)
            .unwrap()
            .with_labels(labels.clone(), case.k_true)
            .unwrap();
        for ct in CovarianceType::ALL {
            let what = format!("{ct}, {case:?}");
            let fit = common::fit(
                FitParams::new(case.k_fit)
                    .covariance_type(ct)
                    .tol(0.0)
                    .max_iter(4)
                    .n_init(2)
                    .seed(case.seed)
                    .semi_supervised(em(0.0)),
                &data,
            );
            let want = class_mle(&x, case.d, &labels, case.k_true, ct, 1e-6);
            common::assert_models_close(&fit.model, &want, 1e-10, &what);
            for r in &fit.report.restarts {
                let t = &r.trace;
                assert_close(&t[1..], &t[2..=2].repeat(t.len() - 1), 1e-12, &what);
            }
        }
    });
}

/// Several restarts: the returned model is the restart with the highest final
/// objective (the first of equals), and each restart runs exactly as it
/// would alone (restart 0 of a 5-restart fit is the 1-restart fit), so more
/// restarts never give a lower objective.
#[test]
fn best_restart_has_the_highest_objective() {
    let strategy = (case_strategy(), prop_oneof![Just(0.3), Just(1.0)]);
    run_cases(16, strategy, |(case, lambda)| {
        let case = Case {
            k_fit: case.k_fit.max(case.k_true),
            ..case
        };
        let data = case
            .dataset()
            .with_labels(case.labels(0.2), case.k_true)
            .unwrap();
        for ct in CovarianceType::ALL {
            let what = format!("{ct}, lambda {lambda}, {case:?}");
            let p = FitParams::new(case.k_fit)
                .covariance_type(ct)
                .tol(1e-6)
                .max_iter(50)
                .seed(case.seed)
                .semi_supervised(em(lambda));
            let five = common::fit(p.clone().n_init(5), &data);
            let one = common::fit(p.n_init(1), &data);
            assert_best_restart(&five, &what);
            assert_eq!(
                five.report.restarts[0], one.report.restarts[0],
                "{what}: restart 0"
            );
            assert!(
                five.report.lower_bound
                    >= one.report.lower_bound - 1e-12 * one.report.lower_bound.abs(),
                "{what}"
            );
        }
    });
}

/// The best restart is the first whose final objective is within 1e-12
/// relative of the highest (restarts at one optimum differ by rounding).
fn assert_best_restart(fit: &Fit, what: &str) {
    let r = &fit.report;
    let bounds: Vec<f64> = r.restarts.iter().map(|s| s.lower_bound).collect();
    let max = bounds.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let slack = 1e-12 * max.abs().max(1.0);
    let first_max = bounds.iter().position(|&b| b >= max - slack).unwrap();
    assert_eq!(r.best_restart, first_max, "{what}: {bounds:?}");
    assert_eq!(r.lower_bound, bounds[first_max], "{what}");
    assert_eq!(r.n_iter, r.restarts[first_max].n_iter, "{what}");
}

/// Few labeled rows (3 per class in 4 dimensions, overlapping clusters): the
/// class covariances of the first start are nearly singular, and the other
/// starts (pooled covariance, k-means from the class means, k-means from
/// random labeled rows) matter. Five restarts reach at least the objective
/// of the first alone, and the chosen one is the best.
#[test]
fn few_labeled_rows_with_restarts() {
    let mut helped = 0;
    let mut cases = 0;
    for seed in 0..12u64 {
        let k = 2 + (seed % 3) as usize;
        let d = 4;
        let n = 200 + 20 * seed as usize;
        let truth = common::random_mixture(&mut rng(seed), k, d, None);
        let (x, comp) = common::sample_shuffled(&truth, n, seed + 100);
        let mut count = vec![0; k];
        let labels: Vec<u32> = comp
            .iter()
            .map(|&c| {
                count[c as usize] += 1;
                if count[c as usize] <= 3 { c } else { UNLABELED }
            })
            .collect();
        assert!(count.iter().all(|&c| c >= 3), "seed {seed}");
        let data = Dataset::from_row_major(x, d)
            .unwrap()
            .with_labels(labels, k)
            .unwrap();
        for ct in CovarianceType::ALL {
            let what = format!("{ct}, seed {seed}, k {k}");
            let p = FitParams::new(k)
                .covariance_type(ct)
                .tol(1e-6)
                .max_iter(100)
                .seed(seed)
                .semi_supervised(em(1.0));
            let five = common::fit(p.clone().n_init(5), &data);
            let one = common::fit(p.n_init(1), &data);
            assert_best_restart(&five, &what);
            assert_valid_model(&five.model, &what);
            assert!(
                five.report.lower_bound >= one.report.lower_bound,
                "{what}: {} < {}",
                five.report.lower_bound,
                one.report.lower_bound
            );
            assert_eq!(five.report.restarts[0], one.report.restarts[0], "{what}");
            // The restarts start differently.
            let inits: std::collections::BTreeSet<&str> = five
                .report
                .restarts
                .iter()
                .map(|r| r.init.as_str())
                .collect();
            assert!(inits.len() >= 3, "{what}: {inits:?}");
            cases += 1;
            if five.report.lower_bound > one.report.lower_bound + 1e-9 {
                helped += 1;
            }
        }
    }
    eprintln!("restarts improved the objective in {helped} of {cases} fits");
    assert!(helped > 0, "restarts never found a better fit");
}
