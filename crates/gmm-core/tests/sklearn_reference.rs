//! gmm-core against scikit-learn, digit for digit.
//!
//! The fixtures under `tests/data/sklearn/` are written by
//! `scripts/make_fixtures.py` (scikit-learn 1.9.1, numpy 2.4.6; its docstring
//! lists the exact calls). Each test loops over one family of fixtures:
//!
//! - `em_*`: 25 EM iterations (tol 0) from fixed starting parameters, for the
//!   four covariance types on two data sets. Every parameter, the objective
//!   trace, the information criteria and the per-row predictions must agree.
//! - `semi_init_customers.json`: the seed tutorial's semi-supervised start
//!   (class weights, means and biased covariances of the labeled rows) then EM
//!   on the unlabeled rows until tol 1e-3.
//! - `best_*`: the best log-likelihood that 30 scikit-learn k-means starts
//!   reach; ten of ours must reach it too.
//!
//! The tolerances below are powers of ten at least 30 times the largest error
//! seen over all fixtures (errors are 1e-16 to 2e-14 relative); the test
//! prints the largest error of each quantity (`cargo test -- --nocapture`).

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use common::{covariances, flat, load, repo_root};
use gmm_core::{
    CovarianceType, Covariances, DEFAULT_CHUNK_ROWS, Dataset, FitParams, GaussianMixture,
    SemiSupervised, SemiSupervisedMode, Silent, UNLABELED,
};
use ndarray::{Array1, Array2, Array3};
use serde_json::Value;

/// Parameters after EM: weights, means, covariances, precision factors
/// (largest error seen: 2e-14, a mean of em_blobs3d_diag).
const RTOL_PARAMS: f64 = 1e-12;
/// Mean log-likelihoods (lower bound, trace, score) and BIC / AIC
/// (largest error seen: 3e-15).
const RTOL_OBJECTIVE: f64 = 1e-13;
/// Posterior probabilities (absolute) and per-row log-densities
/// (largest error seen: 1e-14).
const RTOL_ROWS: f64 = 1e-12;

/// Each fit runs with the default chunk size (one chunk for these data sets)
/// and with small ragged chunks, so that the chunked, exactly reduced pass is
/// what is compared.
const CHUNK_ROWS: [usize; 2] = [DEFAULT_CHUNK_ROWS, 97];

fn fixture_dir() -> PathBuf {
    repo_root().join("tests/data/sklearn")
}

/// The fixtures whose file names start with `prefix`, sorted.
fn fixtures(prefix: &str) -> Vec<(String, Value)> {
    let dir = fixture_dir();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| {
            e.expect("directory entry")
                .file_name()
                .into_string()
                .unwrap()
        })
        .filter(|n| n.starts_with(prefix) && n.ends_with(".json"))
        .collect();
    names.sort();
    assert!(
        !names.is_empty(),
        "no fixtures {prefix}* in {}",
        dir.display()
    );
    names
        .into_iter()
        .map(|n| {
            let text = std::fs::read_to_string(dir.join(&n))
                .unwrap_or_else(|e| panic!("cannot read {n}: {e}"));
            let v = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{n}: bad JSON: {e}"));
            (n, v)
        })
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|s| s.as_str().expect("string").to_string())
        .collect()
}

fn num(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("`{key}` is not a number"))
}

fn uint(v: &Value, key: &str) -> usize {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("`{key}` is not an integer")) as usize
}

fn covariance_type(v: &Value) -> CovarianceType {
    v["covariance_type"]
        .as_str()
        .expect("covariance_type")
        .parse()
        .expect("a covariance type")
}

/// Entries per block of covariance-shaped values: one component's matrix,
/// vector or scalar.
fn block_len(ct: CovarianceType, d: usize) -> usize {
    match ct {
        CovarianceType::Full | CovarianceType::Tied => d * d,
        CovarianceType::Diag => d,
        CovarianceType::Spherical => 1,
        other => unreachable!("scikit-learn has no {other}"),
    }
}

/// The model of a fixture's `init` block.
fn init_model(init: &Value, ct: CovarianceType, k: usize, d: usize) -> GaussianMixture {
    GaussianMixture::new(
        Array1::from(flat(&init["weights"])),
        Array2::from_shape_vec((k, d), flat(&init["means"])).expect("K x d means"),
        covariances(ct, k, d, flat(&init["covariances"])),
    )
    .expect("a valid starting model")
}

/// The largest error seen per quantity, relative to its tolerance's scale.
#[derive(Default)]
struct Worst(BTreeMap<String, (f64, String)>);

impl Worst {
    fn note(&mut self, quantity: &str, err: f64, at: &str) {
        let e = self
            .0
            .entry(quantity.to_string())
            .or_insert((0.0, String::new()));
        if err > e.0 {
            *e = (err, at.to_string());
        }
    }

    fn print(&self, title: &str) {
        println!("{title}: largest errors (relative to each entry's scale)");
        for (q, (e, at)) in &self.0 {
            println!("  {q:<22} {e:9.2e}  {at}");
        }
    }
}

/// Asserts `|g - w| <= rtol * max(|w|, floor)` entry by entry. `scale`
/// gives the floor of entry `i` (e.g. the largest entry of its matrix, so that
/// near-zero off-diagonals are judged against the matrix's size).
fn assert_close_with(
    worst: &mut Worst,
    name: &str,
    got: &[f64],
    want: &[f64],
    rtol: f64,
    scale: impl Fn(usize) -> f64,
) {
    assert_eq!(
        got.len(),
        want.len(),
        "{name}: {} values, want {}",
        got.len(),
        want.len()
    );
    let quantity = name.rsplit(": ").next().unwrap_or(name);
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let s = w.abs().max(scale(i));
        let err = (g - w).abs() / s;
        worst.note(quantity, err, name);
        assert!(
            err <= rtol,
            "{name}[{i}]: got {g:e}, want {w:e}: error {:.3e} is {err:.2e} of scale {s:.3e}, over rtol {rtol:e}",
            (g - w).abs()
        );
    }
}

/// Relative comparison with a tiny floor for exact zeros.
fn assert_close(worst: &mut Worst, name: &str, got: &[f64], want: &[f64], rtol: f64) {
    assert_close_with(worst, name, got, want, rtol, |_| 1e-12);
}

/// Comparison of blocked values (one matrix or vector per component) judged
/// against the largest entry of each block.
fn assert_close_blocks(
    worst: &mut Worst,
    name: &str,
    got: &[f64],
    want: &[f64],
    block: usize,
    rtol: f64,
) {
    let maxima: Vec<f64> = want
        .chunks(block)
        .map(|b| b.iter().fold(1e-12f64, |m, v| m.max(v.abs())))
        .collect();
    assert_close_with(worst, name, got, want, rtol, |i| maxima[i / block]);
}

fn covariance_values(c: &Covariances) -> Vec<f64> {
    c.values().collect()
}

/// Compares a fitted model, its report and its predictions on `data` with a
/// fixture's `result` block.
fn check_result(
    worst: &mut Worst,
    name: &str,
    fit: &gmm_core::Fit,
    data: &Dataset,
    want: &Value,
    ct: CovarianceType,
    d: usize,
) {
    let model = &fit.model;
    let report = &fit.report;
    let at = |q: &str| format!("{name}: {q}");
    let block = block_len(ct, d);

    // Parameters.
    assert_close(
        worst,
        &at("weights"),
        model.weights().as_slice().unwrap(),
        &flat(&want["weights"]),
        RTOL_PARAMS,
    );
    assert_close_blocks(
        worst,
        &at("means"),
        model.means().as_slice().unwrap(),
        &flat(&want["means"]),
        d,
        RTOL_PARAMS,
    );
    assert_close_blocks(
        worst,
        &at("covariances"),
        &covariance_values(model.covariances()),
        &flat(&want["covariances"]),
        block,
        RTOL_PARAMS,
    );
    assert_close_blocks(
        worst,
        &at("precisions_cholesky"),
        &covariance_values(model.precisions_cholesky()),
        &flat(&want["precisions_cholesky"]),
        block,
        RTOL_PARAMS,
    );

    // Iterations and objective.
    assert_eq!(report.n_iter, uint(want, "n_iter"), "{name}: n_iter");
    assert_eq!(
        report.converged,
        want["converged"].as_bool().expect("converged"),
        "{name}: converged"
    );
    assert_eq!(report.restarts.len(), 1, "{name}: one restart");
    assert_close(
        worst,
        &at("trace"),
        &report.restarts[0].trace,
        &flat(&want["lower_bounds"]),
        RTOL_OBJECTIVE,
    );
    let objective = [
        ("lower_bound", report.lower_bound, "lower_bound"),
        ("score", report.mean_log_likelihood, "score"),
        ("bic", report.bic, "bic"),
        ("aic", report.aic, "aic"),
        ("model.score", model.score(data.view()).unwrap(), "score"),
        ("model.bic", model.bic(data.view()).unwrap(), "bic"),
        ("model.aic", model.aic(data.view()).unwrap(), "aic"),
    ];
    for (q, got, key) in objective {
        assert_close(worst, &at(q), &[got], &[num(want, key)], RTOL_OBJECTIVE);
    }

    // Rows.
    let labels = model.predict(data.view()).unwrap();
    let want_labels: Vec<u32> = flat(&want["labels"]).iter().map(|&v| v as u32).collect();
    let differ: Vec<usize> = (0..labels.len().max(want_labels.len()))
        .filter(|&i| labels.get(i) != want_labels.get(i))
        .collect();
    assert!(
        differ.is_empty(),
        "{name}: labels differ on {} of {} rows (first rows {:?})",
        differ.len(),
        want_labels.len(),
        &differ[..differ.len().min(10)]
    );
    let proba = model.predict_proba(data.view()).unwrap();
    assert_close_with(
        worst,
        &at("proba"),
        proba.as_slice().unwrap(),
        &flat(&want["proba"]),
        RTOL_ROWS,
        |_| 1.0,
    );
    assert_close_with(
        worst,
        &at("score_samples"),
        &model.score_samples(data.view()).unwrap(),
        &flat(&want["score_samples"]),
        RTOL_ROWS,
        |_| 1.0,
    );
}

#[test]
fn em_iterations_match_sklearn() {
    let mut worst = Worst::default();
    let all = fixtures("em_");
    assert_eq!(
        all.len(),
        8,
        "em fixtures: 2 data sets x 4 covariance types"
    );
    for (name, fx) in &all {
        let ct = covariance_type(fx);
        let k = uint(fx, "n_components");
        let columns = strings(&fx["columns"]);
        let d = columns.len();
        let data = load(fx["dataset"].as_str().expect("dataset"), &columns);
        let start = init_model(&fx["init"], ct, k, d);
        for chunk_rows in CHUNK_ROWS {
            let name = &format!("{name} (chunk_rows {chunk_rows})");
            let fit = FitParams::new(k)
                .covariance_type(ct)
                .reg_covar(num(fx, "reg_covar"))
                .tol(num(fx, "tol"))
                .max_iter(uint(fx, "max_iter"))
                .n_init(1)
                .init_model(start.clone())
                .seed(0)
                .chunk_rows(chunk_rows)
                .check()
                .unwrap_or_else(|e| panic!("{name}: {e}"))
                .fit(data.view(), &mut Silent)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            check_result(&mut worst, name, &fit, &data, &fx["result"], ct, d);
        }
    }
    worst.print("em_*");
}

#[test]
fn semi_supervised_init_matches_sklearn() {
    let mut worst = Worst::default();
    let all = fixtures("semi_init_");
    for (name, fx) in &all {
        let ct = covariance_type(fx);
        assert_eq!(ct, CovarianceType::Full, "{name}");
        let k = uint(fx, "n_components");
        let columns = strings(&fx["columns"]);
        let d = columns.len();
        let unlabeled = load(fx["dataset"].as_str().expect("dataset"), &columns);
        let labeled_path = fx["labeled"].as_str().expect("labeled");
        let mut with_y = columns.clone();
        with_y.push("y".into());
        let labeled = load(labeled_path, &with_y);

        // Unlabeled rows first, then the labeled rows with their class
        // (classes 0..k in sorted order, as the fixture's script maps them).
        let mut values: Vec<f64> = unlabeled.view().values().to_vec();
        let mut labels = vec![UNLABELED; unlabeled.n_rows()];
        for row in labeled.view().values().to_vec().chunks_exact(d + 1) {
            values.extend_from_slice(&row[..d]);
            let y = row[d];
            assert!(
                y >= 0.0 && y < k as f64 && y.fract() == 0.0,
                "{name}: class {y}"
            );
            labels.push(y as u32);
        }
        let stacked = Dataset::from_row_major(values, d)
            .unwrap()
            .with_labels(labels, k)
            .unwrap();

        // Init mode: the labeled rows only start EM on the unlabeled rows.
        let params = |max_iter: usize, chunk_rows: usize| {
            FitParams::new(k)
                .covariance_type(ct)
                .reg_covar(num(fx, "reg_covar"))
                .tol(num(fx, "tol"))
                .max_iter(max_iter)
                .n_init(1)
                .seed(0)
                .chunk_rows(chunk_rows)
                .semi_supervised(SemiSupervised {
                    mode: SemiSupervisedMode::Init,
                    unlabeled_weight: 1.0,
                })
                .check()
                .unwrap_or_else(|e| panic!("{name}: {e}"))
        };

        // The start is the fixture's: class weights, means and biased
        // covariances plus reg_covar (max_iter 0 returns the start).
        let start = init_model(&fx["init"], ct, k, d);
        let ours = params(0, DEFAULT_CHUNK_ROWS)
            .fit(stacked.view(), &mut Silent)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .model;
        assert_close(
            &mut worst,
            &format!("{name}: init weights"),
            ours.weights().as_slice().unwrap(),
            start.weights().as_slice().unwrap(),
            1e-14,
        );
        assert_close_blocks(
            &mut worst,
            &format!("{name}: init means"),
            ours.means().as_slice().unwrap(),
            start.means().as_slice().unwrap(),
            d,
            1e-13,
        );
        assert_close_blocks(
            &mut worst,
            &format!("{name}: init covariances"),
            &covariance_values(ours.covariances()),
            &covariance_values(start.covariances()),
            d * d,
            1e-13,
        );

        for chunk_rows in CHUNK_ROWS {
            let name = &format!("{name} (chunk_rows {chunk_rows})");
            let fit = params(uint(fx, "max_iter"), chunk_rows)
                .fit(stacked.view(), &mut Silent)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(
                fit.report.n_rows,
                unlabeled.n_rows() as f64,
                "{name}: n_rows"
            );
            check_result(&mut worst, name, &fit, &unlabeled, &fx["result"], ct, d);
        }

        // The seed tutorial passed the class covariances where scikit-learn
        // wants precisions. The script records how often that fit's labels
        // agree with the right one's: not always, so the mistake matters.
        let agreement = num(fx, "tutorial_mistake_agreement");
        assert!(
            agreement < 1.0,
            "{name}: the tutorial's mistake changes no label ({agreement})"
        );
    }
    worst.print("semi_init_*");
}

/// All orderings of `0..k`.
fn permutations(k: usize) -> Vec<Vec<usize>> {
    if k == 0 {
        return vec![Vec::new()];
    }
    let mut out = Vec::new();
    for p in permutations(k - 1) {
        for i in 0..=p.len() {
            let mut q = p.clone();
            q.insert(i, k - 1);
            out.push(q);
        }
    }
    out
}

/// How far the best fit's weights and means may be from scikit-learn's
/// (absolute; both data sets have unit-scale columns).
const BEST_PARAMS_ATOL: f64 = 1e-4;

#[test]
fn restarts_reach_sklearn_best() {
    let all = fixtures("best_");
    assert_eq!(
        all.len(),
        8,
        "best fixtures: 2 data sets x 4 covariance types"
    );
    let mut failures = Vec::new();
    for (name, fx) in &all {
        let ct = covariance_type(fx);
        let k = uint(fx, "n_components");
        let columns = strings(&fx["columns"]);
        let data = load(fx["dataset"].as_str().expect("dataset"), &columns);
        let fit = FitParams::new(k)
            .covariance_type(ct)
            .reg_covar(num(fx, "reg_covar"))
            .n_init(10)
            .seed(0)
            .tol(1e-10)
            .max_iter(2000)
            .check()
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .fit(data.view(), &mut Silent)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let best = num(fx, "best_score");
        let ours = fit.report.mean_log_likelihood;
        println!(
            "{name}: ours {ours:.12} sklearn best {best:.12} (ours - best = {:+.2e})",
            ours - best
        );
        // The same optimum: weights and means agree up to the order of the
        // components (both fits stop at tol 1e-10, not at the exact optimum).
        let d = columns.len();
        let want_w = flat(&fx["best_weights"]);
        let want_m = flat(&fx["best_means"]);
        let (err, perm) = permutations(k)
            .into_iter()
            .map(|p| {
                let mut err = 0.0f64;
                for (c, &pc) in p.iter().enumerate() {
                    err = err.max((fit.model.weights()[pc] - want_w[c]).abs());
                    for j in 0..d {
                        err = err.max((fit.model.means()[(pc, j)] - want_m[c * d + j]).abs());
                    }
                }
                (err, p)
            })
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .expect("k >= 1");
        println!("{name}: weights and means within {err:.2e} (components {perm:?})");
        if err > BEST_PARAMS_ATOL {
            failures.push(format!(
                "{name}: weights or means differ from scikit-learn's best by {err:.3e}"
            ));
        }
        if ours < best - 1e-6 {
            failures.push(format!(
                "{name}: mean log-likelihood {ours} is below scikit-learn's best {best} by {:.3e}",
                best - ours
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Data far from the origin fits as accurately as centred data: each `em_*`
/// fixture's data is moved by 1e6 in every column, its starting parameters
/// with it, and the fit, moved back, must match scikit-learn's fit of the
/// original data. Adding 1e6 rounds the data to about 1e-10, so the
/// parameters agree to 1e-8 relative rather than 1e-12. (Columns of very
/// different scales are compared in `scaled_columns_match_sklearn`.)
#[test]
fn shifted_data_match_sklearn() {
    const RTOL_MOVED: f64 = 1e-8;
    const SHIFT: f64 = 1e6;
    let mut worst = Worst::default();
    for (name, fx) in fixtures("em_") {
        let ct = covariance_type(&fx);
        let k = uint(&fx, "n_components");
        let columns = strings(&fx["columns"]);
        let d = columns.len();
        let data = load(fx["dataset"].as_str().expect("dataset"), &columns);
        let moved =
            Dataset::from_row_major(data.values().iter().map(|v| v + SHIFT).collect(), d).unwrap();
        let start = init_model(&fx["init"], ct, k, d);
        let moved_start = GaussianMixture::new(
            start.weights().clone(),
            start.means().mapv(|v| v + SHIFT),
            start.covariances().clone(),
        )
        .unwrap();
        let fit = FitParams::new(k)
            .covariance_type(ct)
            .reg_covar(num(&fx, "reg_covar"))
            .tol(num(&fx, "tol"))
            .max_iter(uint(&fx, "max_iter"))
            .init_model(moved_start)
            .check()
            .unwrap()
            .fit(moved.view(), &mut Silent)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let want = &fx["result"];
        let name = format!("{name} moved by {SHIFT:e}");
        let means: Vec<f64> = fit.model.means().iter().map(|v| v - SHIFT).collect();
        assert_close(
            &mut worst,
            &format!("{name} weights"),
            fit.model.weights().as_slice().unwrap(),
            &flat(&want["weights"]),
            RTOL_MOVED,
        );
        assert_close_blocks(
            &mut worst,
            &format!("{name} means"),
            &means,
            &flat(&want["means"]),
            d,
            RTOL_MOVED,
        );
        assert_close_blocks(
            &mut worst,
            &format!("{name} covariances"),
            &covariance_values(fit.model.covariances()),
            &flat(&want["covariances"]),
            block_len(ct, d),
            RTOL_MOVED,
        );
        let labels = fit.model.predict(moved.view()).unwrap();
        let want_labels: Vec<u32> = want["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u32)
            .collect();
        assert_eq!(labels, want_labels, "{name}: labels");
    }
    worst.print("shifted by 1e6");
}

/// Columns of very different scales (x1 * 1e-6, x2 * 1e6) fit as accurately
/// as the original data: each `scaled_*` fixture is scikit-learn's fit of
/// the unscaled data (reg_covar 0); our fit of the scaled data, mapped back
/// to the original units, must agree as closely as `em_*` fits do.
#[test]
fn scaled_columns_match_sklearn() {
    const RTOL_SCALED: f64 = 1e-11;
    let mut worst = Worst::default();
    let all = fixtures("scaled_");
    assert_eq!(
        all.len(),
        6,
        "scaled fixtures: 2 data sets x full, diag, tied"
    );
    for (name, fx) in all {
        let ct = covariance_type(&fx);
        let k = uint(&fx, "n_components");
        let columns = strings(&fx["columns"]);
        let d = columns.len();
        let s = flat(&fx["column_scales"]);
        let data = load(fx["dataset"].as_str().expect("dataset"), &columns);
        let scaled = Dataset::from_row_major(
            data.values()
                .iter()
                .enumerate()
                .map(|(i, v)| v * s[i % d])
                .collect(),
            d,
        )
        .unwrap();
        let scale_cov = |c: &Covariances, f: &dyn Fn(usize) -> f64| -> Covariances {
            match c {
                Covariances::Full(a) => {
                    Covariances::Full(Array3::from_shape_fn(a.dim(), |(m, i, j)| {
                        a[(m, i, j)] * f(i) * f(j)
                    }))
                }
                Covariances::Tied(a) => {
                    Covariances::Tied(Array2::from_shape_fn(a.dim(), |(i, j)| {
                        a[(i, j)] * f(i) * f(j)
                    }))
                }
                Covariances::Diag(a) => {
                    Covariances::Diag(Array2::from_shape_fn(a.dim(), |(m, j)| {
                        a[(m, j)] * f(j) * f(j)
                    }))
                }
                Covariances::Spherical(_) => unreachable!("no spherical scaled fixtures"),
            }
        };
        let start = init_model(&fx["init"], ct, k, d);
        let scaled_start = GaussianMixture::new(
            start.weights().clone(),
            Array2::from_shape_fn((k, d), |(m, j)| start.means()[(m, j)] * s[j]),
            scale_cov(start.covariances(), &|j| s[j]),
        )
        .unwrap();
        let fit = FitParams::new(k)
            .covariance_type(ct)
            .reg_covar(0.0)
            .tol(0.0)
            .max_iter(uint(&fx, "max_iter"))
            .init_model(scaled_start)
            .check()
            .unwrap()
            .fit(scaled.view(), &mut Silent)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let want = &fx["result"];
        let means: Vec<f64> = fit
            .model
            .means()
            .indexed_iter()
            .map(|((_, j), v)| v / s[j])
            .collect();
        let cov = covariance_values(&scale_cov(fit.model.covariances(), &|j| 1.0 / s[j]));
        assert_close(
            &mut worst,
            &format!("{name} weights"),
            fit.model.weights().as_slice().unwrap(),
            &flat(&want["weights"]),
            RTOL_SCALED,
        );
        assert_close_blocks(
            &mut worst,
            &format!("{name} means"),
            &means,
            &flat(&want["means"]),
            d,
            RTOL_SCALED,
        );
        assert_close_blocks(
            &mut worst,
            &format!("{name} covariances"),
            &cov,
            &flat(&want["covariances"]),
            block_len(ct, d),
            RTOL_SCALED,
        );
        // The mean log-likelihood moves by -sum ln s_j under the scaling.
        let shift: f64 = s.iter().map(|v| v.ln()).sum();
        assert_close(
            &mut worst,
            &format!("{name} lower bound"),
            &[fit.report.lower_bound + shift],
            &[num(want, "lower_bound")],
            RTOL_SCALED,
        );
        let labels = fit.model.predict(scaled.view()).unwrap();
        let want_labels: Vec<u32> = want["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u32)
            .collect();
        assert_eq!(labels, want_labels, "{name}: labels");
    }
    worst.print("scaled columns");
}

/// BIC and AIC of scikit-learn's fitted parameters, computed by gmm on the
/// same rows, equal scikit-learn's `bic()` and `aic()` (model selection
/// compares these numbers across grids, so they must mean the same thing).
#[test]
fn information_criteria_match_sklearn_for_the_same_parameters() {
    let mut worst = Worst::default();
    for (name, fx) in fixtures("em_").into_iter().chain(fixtures("semi_")) {
        let ct = covariance_type(&fx);
        let k = uint(&fx, "n_components");
        let columns = strings(&fx["columns"]);
        let d = columns.len();
        let data = load(fx["dataset"].as_str().expect("dataset"), &columns);
        let r = &fx["result"];
        let model = GaussianMixture::new(
            Array1::from(flat(&r["weights"])),
            Array2::from_shape_vec((k, d), flat(&r["means"])).unwrap(),
            covariances(ct, k, d, flat(&r["covariances"])),
        )
        .unwrap();
        let bic = model.bic(data.view()).unwrap();
        let aic = model.aic(data.view()).unwrap();
        assert_close(
            &mut worst,
            &format!("{name} bic"),
            &[bic],
            &[num(r, "bic")],
            1e-10,
        );
        assert_close(
            &mut worst,
            &format!("{name} aic"),
            &[aic],
            &[num(r, "aic")],
            1e-10,
        );
    }
    worst.print("information criteria");
}
