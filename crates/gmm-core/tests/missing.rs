//! Missing values integrated out (`Dataset::with_missing_values`), checked
//! against an independent NumPy EM for incomplete data
//! (`scripts/missing_reference.py`, which documents the algorithm and the
//! fixtures under `tests/data/missing/`): 25 EM iterations from a fixed
//! start on data with 5 %, 20 % and 40 % of the values removed at random,
//! for the four covariance types. Also: without a missing value the
//! option changes no bit; the objective never decreases; the densities of
//! incomplete rows are those of the mixture of the observed columns; a
//! column with nothing observed is refused.

mod common;

use std::path::{Path, PathBuf};

use common::{
    Case, assert_identical, assert_trace_monotone, assert_valid_model, case_strategy, covariances,
    direct_density, fit_with, flat, in_pool, run_cases,
};
use gmm_core::{
    Collective, CovarianceType, Covariances, DEFAULT_CHUNK_ROWS, Dataset, FitParams,
    GaussianMixture, GmmError, InitMethod, LocalGroup, Partition, SemiSupervised,
    SemiSupervisedMode, Silent, share,
};
use ndarray::{Array1, Array2, Array3};
use proptest::prelude::*;
use serde_json::Value;

/// Parameters after 25 iterations (largest error seen: 5e-14, a
/// covariance of blobs3d at 40 %).
const RTOL_PARAMS: f64 = 1e-12;
/// Mean log-likelihoods of the trace and of the final model (3e-15).
const RTOL_OBJECTIVE: f64 = 1e-13;
/// Posterior probabilities (absolute) and per-row log-densities (1e-13).
const RTOL_ROWS: f64 = 1e-12;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A CSV of numbers with one header line, empty fields missing (NaN).
fn load(rel: &str) -> Dataset {
    let text = std::fs::read_to_string(repo_root().join(rel)).expect("data file");
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let d = lines.next().expect("header").split(',').count();
    let values: Vec<f64> = lines
        .flat_map(|l| l.split(',').map(|s| s.trim().parse().unwrap_or(f64::NAN)))
        .collect();
    Dataset::from_row_major(values, d)
        .expect("rows")
        .with_missing_values(true)
}

/// `|g - w| <= rtol * max(|w|, floor)`; returns the largest such ratio.
fn close(name: &str, got: &[f64], want: &[f64], rtol: f64, floor: f64) -> f64 {
    assert_eq!(got.len(), want.len(), "{name}: lengths");
    let mut worst = 0.0f64;
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let err = (g - w).abs() / w.abs().max(floor);
        worst = worst.max(err);
        assert!(
            err <= rtol,
            "{name}[{i}]: got {g:e}, want {w:e} ({err:.2e})"
        );
    }
    worst
}

fn fixtures() -> Vec<(String, Value)> {
    let dir = repo_root().join("tests/data/missing");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("tests/data/missing")
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("em_") && n.ends_with(".json"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 16, "4 data sets x 4 covariance types");
    names
        .into_iter()
        .map(|n| {
            let text = std::fs::read_to_string(dir.join(&n)).unwrap();
            (n, serde_json::from_str(&text).unwrap())
        })
        .collect()
}

fn params(fx: &Value, start: &GaussianMixture, chunk_rows: usize) -> FitParams {
    FitParams::new(start.n_components())
        .covariance_type(start.covariance_type())
        .reg_covar(fx["reg_covar"].as_f64().unwrap())
        .tol(0.0)
        .max_iter(fx["max_iter"].as_u64().unwrap() as usize)
        .n_init(1)
        .init_model(start.clone())
        .chunk_rows(chunk_rows)
}

#[test]
fn em_with_missing_values_matches_numpy() {
    let mut worst = [0.0f64; 4];
    for (name, fx) in fixtures() {
        let ct: CovarianceType = fx["covariance_type"].as_str().unwrap().parse().unwrap();
        let k = fx["n_components"].as_u64().unwrap() as usize;
        let data = load(fx["data"].as_str().unwrap());
        let d = data.n_features();
        let init = &fx["init"];
        let start = GaussianMixture::new(
            Array1::from(flat(&init["weights"])),
            Array2::from_shape_vec((k, d), flat(&init["means"])).unwrap(),
            covariances(ct, k, d, flat(&init["covariances"])),
        )
        .unwrap();
        for chunk_rows in [DEFAULT_CHUNK_ROWS, 97] {
            let at = |q: &str| format!("{name} (chunk_rows {chunk_rows}): {q}");
            let fit = params(&fx, &start, chunk_rows)
                .check()
                .unwrap()
                .fit(data.view(), &mut Silent)
                .unwrap_or_else(|e| panic!("{}: {e}", at("fit")));
            let m = &fit.model;
            let scale = flat(&fx["covariances"])
                .iter()
                .fold(0.0f64, |a, v| a.max(v.abs()));
            let p = [
                close(
                    &at("weights"),
                    m.weights().as_slice().unwrap(),
                    &flat(&fx["weights"]),
                    RTOL_PARAMS,
                    1e-12,
                ),
                close(
                    &at("means"),
                    m.means().as_slice().unwrap(),
                    &flat(&fx["means"]),
                    RTOL_PARAMS,
                    1.0,
                ),
                close(
                    &at("covariances"),
                    &m.covariances().values().collect::<Vec<_>>(),
                    &flat(&fx["covariances"]),
                    RTOL_PARAMS,
                    scale,
                ),
            ];
            worst[0] = p.iter().fold(worst[0], |a, &b| a.max(b));
            worst[1] = worst[1].max(close(
                &at("trace"),
                &fit.report.restarts[0].trace,
                &flat(&fx["lower_bounds"]),
                RTOL_OBJECTIVE,
                1e-12,
            ));
            let ll = m.score(data.view()).unwrap();
            worst[1] = worst[1].max(close(
                &at("final"),
                &[ll],
                &[fx["final_mean_log_likelihood"].as_f64().unwrap()],
                RTOL_OBJECTIVE,
                1e-12,
            ));
            let rows = m.score_samples(data.view()).unwrap();
            worst[2] = worst[2].max(close(
                &at("score_samples"),
                &rows,
                &flat(&fx["score_samples"]),
                RTOL_ROWS,
                1.0,
            ));
            let proba = m.predict_proba(data.view()).unwrap();
            worst[3] = worst[3].max(close(
                &at("predict_proba"),
                proba.as_slice().unwrap(),
                &flat(&fx["predict_proba"]),
                RTOL_ROWS,
                1.0,
            ));
            let labels: Vec<f64> = m
                .predict(data.view())
                .unwrap()
                .iter()
                .map(|&c| c as f64)
                .collect();
            assert_eq!(labels, flat(&fx["predict"]), "{}", at("predict"));
        }
    }
    println!(
        "largest relative errors: parameters {:.1e}, objectives {:.1e}, log-densities {:.1e}, posteriors {:.1e}",
        worst[0], worst[1], worst[2], worst[3]
    );
}

/// A case's rows with each value removed with probability `rate` (MCAR),
/// and the rows as they were.
fn with_holes(case: &Case, rate: f64, seed: u64) -> (Dataset, Dataset) {
    let full = case.dataset();
    let mut r = common::rng(seed);
    let values: Vec<f64> = full
        .values()
        .iter()
        .map(|v| if r.random_bool(rate) { f64::NAN } else { v })
        .collect();
    let holes = Dataset::from_row_major(values, case.d)
        .unwrap()
        .with_missing_values(true);
    (holes, full)
}

fn base(case: &Case, ct: CovarianceType) -> FitParams {
    FitParams::new(case.k_fit)
        .covariance_type(ct)
        .tol(0.0)
        .max_iter(15)
        .n_init(2)
        .seed(case.seed)
        .chunk_rows(64)
}

fn holes_strategy() -> impl Strategy<Value = (Case, f64, u64)> {
    (case_strategy(), 0.05f64..0.4, any::<u64>())
}

/// Marking complete rows as possibly incomplete changes no bit of a fit.
#[test]
fn without_missing_values_the_option_changes_nothing() {
    run_cases(8, case_strategy(), |case| {
        let plain = case.dataset();
        let marked = plain.clone().with_missing_values(true);
        for ct in CovarianceType::FAMILIES {
            let p = base(&case, ct);
            let what = format!("{ct}, {case:?}");
            assert_identical(&fit_with(2, &p, &plain), &fit_with(2, &p, &marked), &what);
        }
    });
}

/// EM for incomplete data never lowers the observed-data log-likelihood
/// (without `reg_covar`, as in `monotone.rs`; a fit whose covariance
/// becomes singular is skipped), for every covariance type and start, and
/// gives valid models with the default `reg_covar`; the same bits for 1
/// and 4 threads.
#[test]
fn incomplete_data_em_is_monotone_and_thread_independent() {
    let (fitted, skipped) = (std::cell::Cell::new(0), std::cell::Cell::new(0));
    run_cases(12, holes_strategy(), |(case, rate, seed)| {
        let (data, _) = with_holes(&case, rate, seed);
        for ct in CovarianceType::FAMILIES {
            for init in [
                InitMethod::KMeans,
                InitMethod::Random,
                InitMethod::KMeansPlusPlus,
            ] {
                let what = format!("{ct}, {init}, {rate:.2} missing, {case:?}");
                let p = base(&case, ct).init(init);
                let one = fit_with(1, &p, &data);
                assert_valid_model(&one.model, &what);
                assert_identical(&one, &fit_with(4, &p, &data), &what);
                let plain = p.clone().reg_covar(0.0).check().unwrap();
                match in_pool(2, || plain.fit(data.view(), &mut Silent)) {
                    Ok(fit) => {
                        assert_trace_monotone(&fit, &what);
                        fitted.set(fitted.get() + 1);
                    }
                    Err(GmmError::Degenerate { .. }) => skipped.set(skipped.get() + 1),
                    Err(e) => panic!("{what}: {e}"),
                }
            }
        }
    });
    let (f, s) = (fitted.get(), skipped.get());
    eprintln!("{f} fits without reg_covar, {s} skipped as degenerate");
    assert!(f > 0 && s * 3 <= f, "{s} of {} fits skipped", f + s);
}

/// A table split among 1, 2 and 3 in-process ranks gives the single
/// process's fit bit for bit: the column means that fill missing values
/// for the initializations, and the integrated rows' statistics, are
/// combined exactly.
#[test]
fn split_among_ranks_gives_the_single_process_fit() {
    run_cases(3, holes_strategy(), |(case, rate, seed)| {
        let (data, _) = with_holes(&case, rate, seed);
        for ct in CovarianceType::FAMILIES {
            let p = base(&case, ct).init(InitMethod::KMeans);
            let one = fit_with(2, &p, &data);
            let checked = p.clone().check().unwrap();
            let view = data.view();
            let n = view.n_rows();
            for ranks in [1, 2, 3] {
                let group = LocalGroup::ranks(ranks);
                let fits: Vec<_> = std::thread::scope(|sc| {
                    let handles: Vec<_> = group
                        .iter()
                        .map(|r| {
                            let checked = &checked;
                            sc.spawn(move || {
                                let (a, b) = share(n, 64, r.rank(), ranks);
                                let local = view.slice_rows(a, b).with_partition(Partition {
                                    comm: r,
                                    row_offset: a,
                                    global_rows: n,
                                });
                                checked.fit(local, &mut Silent).unwrap()
                            })
                        })
                        .collect();
                    handles.into_iter().map(|h| h.join().unwrap()).collect()
                });
                for (r, fit) in fits.iter().enumerate() {
                    assert_identical(&one, fit, &format!("{ct}: rank {r} of {ranks}, {case:?}"));
                }
            }
        }
    });
}

/// The density and posteriors of a row with missing entries are those of
/// the mixture of its observed columns, computed directly.
#[test]
fn incomplete_rows_have_the_marginal_density() {
    run_cases(8, holes_strategy(), |(case, rate, seed)| {
        let (data, _) = with_holes(&case, rate, seed);
        let d = case.d;
        for ct in CovarianceType::FAMILIES {
            let model = fit_with(2, &base(&case, ct), &data).model;
            let ln = model.score_samples(data.view()).unwrap();
            let proba = model.predict_proba(data.view()).unwrap();
            let k = model.n_components();
            for i in 0..data.n_rows() {
                let row: Vec<f64> = data.view().row(i).to_vec();
                let obs: Vec<usize> = (0..d).filter(|&j| !row[j].is_nan()).collect();
                let (want_ln, want_p) = if obs.is_empty() {
                    (0.0, model.weights().to_vec())
                } else {
                    let means =
                        Array2::from_shape_fn((k, obs.len()), |(c, a)| model.means()[(c, obs[a])]);
                    let cov = Array3::from_shape_fn((k, obs.len(), obs.len()), |(c, a, b)| {
                        model.covariances().dense(c, d)[(obs[a], obs[b])]
                    });
                    let sub = GaussianMixture::new(
                        model.weights().clone(),
                        means,
                        Covariances::Full(cov),
                    )
                    .unwrap();
                    let x: Vec<f64> = obs.iter().map(|&j| row[j]).collect();
                    direct_density(&sub, &x)
                };
                let what = format!("{ct}, row {i} {row:?}, {case:?}");
                assert!(
                    (ln[i] - want_ln).abs() <= 1e-9 * want_ln.abs().max(1.0),
                    "{what}: {} vs {want_ln}",
                    ln[i]
                );
                for c in 0..k {
                    assert!(
                        (proba[(i, c)] - want_p[c]).abs() <= 1e-9,
                        "{what}: posterior {c}"
                    );
                }
            }
        }
    });
}

/// Semi-supervised fits (labeled rows with missing entries clamped to
/// their class, or left out of EM) with row weights: valid models, the
/// same bits for 2 and 3 threads, and a monotone semi-supervised objective.
#[test]
fn labeled_and_weighted_rows_with_missing_values() {
    run_cases(6, holes_strategy(), |(case, rate, seed)| {
        let (data, _) = with_holes(&case, rate, seed);
        let k = case.k_true;
        let labeled = data
            .clone()
            .with_labels(case.labels(0.2), k)
            .unwrap()
            .with_weights(case.real_weights())
            .unwrap();
        for ct in CovarianceType::FAMILIES {
            for mode in [SemiSupervisedMode::Em, SemiSupervisedMode::Init] {
                let what = format!("{ct}, {mode:?}, {rate:.2} missing, {case:?}");
                let p = FitParams::new(k)
                    .covariance_type(ct)
                    .tol(0.0)
                    .max_iter(10)
                    .n_init(1)
                    .reg_covar(0.0)
                    .semi_supervised(SemiSupervised {
                        mode,
                        unlabeled_weight: 0.7,
                    })
                    .chunk_rows(64);
                let fit = fit_with(2, &p, &labeled);
                assert_valid_model(&fit.model, &what);
                for w in fit.report.restarts[0].trace.windows(2) {
                    assert!(w[1] >= w[0] - 1e-9 * w[0].abs(), "{what}: {w:?}");
                }
                assert_identical(&fit, &fit_with(3, &p, &labeled), &what);
            }
        }
    });
}

/// A column that is missing in every row cannot be fitted: the error names it.
#[test]
fn a_column_never_observed_is_refused() {
    let values = vec![1.0, f64::NAN, 2.0, f64::NAN, 4.0, f64::NAN, 5.0, f64::NAN];
    let data = Dataset::from_row_major(values, 2)
        .unwrap()
        .with_missing_values(true);
    let err = FitParams::new(2)
        .check()
        .unwrap()
        .fit(data.view(), &mut Silent)
        .unwrap_err();
    assert!(
        matches!(err, GmmError::NothingObserved { column: 1 }),
        "{err}"
    );
    // Infinities are still errors, NaN without the option too.
    let inf = Dataset::from_row_major(vec![1.0, f64::INFINITY, 2.0, 3.0], 2)
        .unwrap()
        .with_missing_values(true);
    let err = FitParams::new(1)
        .check()
        .unwrap()
        .fit(inf.view(), &mut Silent);
    assert!(matches!(
        err,
        Err(GmmError::NonFinite {
            row: 0,
            column: 1,
            ..
        })
    ));
    let nan = Dataset::from_row_major(vec![1.0, f64::NAN, 2.0, 3.0], 2).unwrap();
    let err = FitParams::new(1)
        .check()
        .unwrap()
        .fit(nan.view(), &mut Silent);
    assert!(matches!(
        err,
        Err(GmmError::NonFinite {
            row: 0,
            column: 1,
            ..
        })
    ));
}

/// A column whose observed values are all 0 (or tiny), with gaps, still
/// fits: the exact sums leave its conditional variances room.
#[test]
fn a_column_of_zeros_with_gaps_fits() {
    let mut r = common::rng(5);
    let mut values = Vec::new();
    for i in 0..400 {
        let c = (i % 2) as f64 * 4.0;
        values.push(c + r.random_range(-1.0..1.0));
        values.push(if i % 5 == 0 { f64::NAN } else { 0.0 });
        values.push(if i % 7 == 0 {
            f64::NAN
        } else {
            1e-30 * (i % 3) as f64
        });
    }
    let data = Dataset::from_row_major(values, 3)
        .unwrap()
        .with_missing_values(true);
    for ct in CovarianceType::FAMILIES {
        let fit = fit_with(2, &FitParams::new(2).covariance_type(ct).seed(1), &data);
        assert_valid_model(&fit.model, &format!("{ct}"));
    }
}

/// Patterns over more than 64 columns (two words of bits): the densities
/// of incomplete rows are still the observed columns' marginals.
#[test]
fn patterns_wider_than_64_columns() {
    let d = 70;
    let case = Case {
        seed: 3,
        k_true: 2,
        k_fit: 2,
        d,
        n: 400,
        separated: true,
    };
    let (data, _) = with_holes(&case, 0.02, 9);
    let model = fit_with(2, &base(&case, CovarianceType::Diag).max_iter(5), &data).model;
    let ln = model.score_samples(data.view()).unwrap();
    let mut checked = 0;
    for (i, &got) in ln.iter().enumerate() {
        let row: Vec<f64> = data.view().row(i).to_vec();
        let obs: Vec<usize> = (0..d).filter(|&j| !row[j].is_nan()).collect();
        if obs.len() == d || !obs.iter().any(|&j| j >= 64) {
            continue;
        }
        // Diagonal: the marginal is the product over observed columns.
        let lp: Vec<f64> = (0..2)
            .map(|c| {
                model.weights()[c].ln()
                    + obs
                        .iter()
                        .map(|&j| {
                            let v = model.covariances().dense(c, d)[(j, j)];
                            let z = row[j] - model.means()[(c, j)];
                            -0.5 * (z * z / v + v.ln() + (2.0 * std::f64::consts::PI).ln())
                        })
                        .sum::<f64>()
            })
            .collect();
        let max = lp[0].max(lp[1]);
        let want = max + ((lp[0] - max).exp() + (lp[1] - max).exp()).ln();
        assert!(
            (got - want).abs() <= 1e-9 * want.abs(),
            "row {i}: {} vs {want}",
            got
        );
        checked += 1;
    }
    assert!(checked > 50, "{checked} rows checked");
}
