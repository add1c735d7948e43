//! Helpers shared by the property tests: random mixtures to sample data from,
//! fitting shortcuts and the invariants every fitted model must satisfy.
//!
//! Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use gmm_core::{
    CovarianceType, Covariances, Dataset, Fit, FitParams, GaussianMixture, InitMethod, Silent,
    UNLABELED,
};
use ndarray::{Array1, Array2, Array3};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

pub type Rng = Xoshiro256PlusPlus;

/// Property-test settings: `cases` cases, no regression files, and a fixed
/// seed so that the suite is reproducible (set `PROPTEST_RNG_SEED` to explore
/// other cases).
pub fn config(cases: u32) -> ProptestConfig {
    let mut c = ProptestConfig::with_cases(cases);
    c.failure_persistence = None;
    if matches!(c.rng_seed, RngSeed::Random) {
        c.rng_seed = RngSeed::Fixed(0x6d6d_2d63_6f72_6501);
    }
    c
}

/// Runs `test` on `cases` values of `strategy` (shrinking a failure) and
/// panics with the minimal failing value.
pub fn run_cases<S: Strategy>(cases: u32, strategy: S, test: impl Fn(S::Value))
where
    S::Value: std::fmt::Debug,
{
    let mut runner = proptest::test_runner::TestRunner::new(config(cases));
    if let Err(e) = runner.run(&strategy, |v| {
        test(v);
        Ok(())
    }) {
        panic!("{e}");
    }
}

pub fn rng(seed: u64) -> Rng {
    Xoshiro256PlusPlus::seed_from_u64(seed)
}

/// The six initializations that do not need labels.
pub const UNSUPERVISED_INITS: [InitMethod; 6] = [
    InitMethod::KMeans,
    InitMethod::KMeansPlusPlus,
    InitMethod::Random,
    InitMethod::RandomFromData,
    InitMethod::RandomParams,
    InitMethod::Hc,
];

/// A random symmetric positive definite `d x d` matrix with eigenvalues in
/// `[floor, floor + d / 2]`: `A A^T / (2 d) + floor I`, `A` uniform in `[-1, 1]`.
pub fn random_spd(rng: &mut Rng, d: usize, floor: f64) -> Array2<f64> {
    let a = Array2::from_shape_fn((d, d), |_| rng.random_range(-1.0..1.0));
    let mut c = a.dot(&a.t()) / (2.0 * d as f64);
    // Exactly symmetric.
    for i in 0..d {
        for j in 0..i {
            c[(i, j)] = c[(j, i)];
        }
        c[(i, i)] += floor;
    }
    c
}

/// A random full-covariance mixture of `k` components in `d` dimensions.
/// Separated: the means lie `spacing` apart along the first axis (the
/// components' standard deviations are at most 1.5), so that every row is
/// closest to its own mean by several standard deviations. Overlapping: the
/// means are uniform in `[-1.5, 1.5]^d`.
pub fn random_mixture(rng: &mut Rng, k: usize, d: usize, spacing: Option<f64>) -> GaussianMixture {
    let raw: Vec<f64> = (0..k).map(|_| rng.random_range(0.3..1.0)).collect();
    let total: f64 = raw.iter().sum();
    let weights = Array1::from_iter(raw.iter().map(|w| w / total));
    let means = Array2::from_shape_fn((k, d), |(c, j)| match spacing {
        Some(s) if j == 0 => s * c as f64 + rng.random_range(-0.5..0.5),
        Some(_) => rng.random_range(-2.0..2.0),
        None => rng.random_range(-1.5..1.5),
    });
    let mut cov = Array3::zeros((k, d, d));
    for c in 0..k {
        cov.index_axis_mut(ndarray::Axis(0), c)
            .assign(&random_spd(rng, d, 0.2));
    }
    GaussianMixture::new(weights, means, Covariances::Full(cov)).expect("a valid mixture")
}

/// `n` rows sampled from `model`, shuffled; returns the rows (row-major) and
/// the component of each.
pub fn sample_shuffled(model: &GaussianMixture, n: usize, seed: u64) -> (Vec<f64>, Vec<u32>) {
    let (x, comp) = model.sample(n, seed);
    let d = x.ncols();
    let mut order: Vec<usize> = (0..n).collect();
    let mut r = rng(seed ^ 0xabcd_ef01);
    for i in (1..n).rev() {
        let j = r.random_range(0..=i);
        order.swap(i, j);
    }
    let mut values = Vec::with_capacity(n * d);
    let mut labels = Vec::with_capacity(n);
    for &i in &order {
        values.extend(x.row(i).iter().copied());
        labels.push(comp[i]);
    }
    (values, labels)
}

/// A random data set for the property tests.
#[derive(Debug, Clone)]
pub struct Case {
    pub seed: u64,
    /// Components of the mixture the rows are drawn from.
    pub k_true: usize,
    /// Components fitted.
    pub k_fit: usize,
    pub d: usize,
    pub n: usize,
    pub separated: bool,
}

pub fn case_strategy() -> impl Strategy<Value = Case> {
    (
        any::<u64>(),
        1usize..=4,
        1usize..=4,
        1usize..=4,
        50usize..400,
        any::<bool>(),
    )
        .prop_map(|(seed, k_true, k_fit, d, n, separated)| Case {
            seed,
            k_true,
            k_fit,
            d,
            n,
            separated,
        })
}

impl Case {
    pub fn truth(&self) -> GaussianMixture {
        let spacing = self.separated.then_some(12.0);
        random_mixture(&mut rng(self.seed), self.k_true, self.d, spacing)
    }

    /// The rows and their true components.
    pub fn rows(&self) -> (Vec<f64>, Vec<u32>) {
        sample_shuffled(&self.truth(), self.n, self.seed.wrapping_add(1))
    }

    pub fn dataset(&self) -> Dataset {
        Dataset::from_row_major(self.rows().0, self.d).unwrap()
    }

    /// Real weights in `[0, 3)`, about one row in ten with weight 0.
    pub fn real_weights(&self) -> Vec<f64> {
        let mut r = rng(self.seed.wrapping_add(2));
        (0..self.n)
            .map(|_| {
                if r.random_range(0..10) == 0 {
                    0.0
                } else {
                    r.random_range(0.0..3.0)
                }
            })
            .collect()
    }

    /// The true component of about a `fraction` of the rows as their class
    /// (`k_true` classes), the rest unlabeled; the first row of every
    /// component is always labeled, so that every class that has rows has a
    /// labeled one (the engine refuses classes without labeled rows).
    pub fn labels(&self, fraction: f64) -> Vec<u32> {
        let (_, comp) = self.rows();
        let mut r = rng(self.seed.wrapping_add(3));
        let mut seen = vec![false; self.k_true];
        comp.iter()
            .map(|&c| {
                let first = !std::mem::replace(&mut seen[c as usize], true);
                if first || r.random_bool(fraction) {
                    c
                } else {
                    UNLABELED
                }
            })
            .collect()
    }
}

/// A fit that must succeed.
pub fn fit(params: FitParams, data: &Dataset) -> Fit {
    let describe = format!("{params:?}");
    params
        .check()
        .expect("valid parameters")
        .fit(data.view(), &mut Silent)
        .unwrap_or_else(|e| panic!("fit failed: {e}\nparams: {describe}"))
}

/// `t[i + 1] >= t[i] - 1e-9 |t[i]|` for every step of every restart's trace.
pub fn assert_trace_monotone(fit: &Fit, what: &str) {
    for r in &fit.report.restarts {
        assert!(
            !r.trace.is_empty(),
            "{what}: restart {} has no trace",
            r.restart
        );
        assert!(
            r.trace.iter().all(|v| v.is_finite()),
            "{what}: {:?}",
            r.trace
        );
        for (i, w) in r.trace.windows(2).enumerate() {
            assert!(
                w[1] >= w[0] - 1e-9 * w[0].abs(),
                "{what}: restart {} ({}): the objective decreased at iteration {} -> {}: \
                 {} -> {} (by {:e})\ntrace: {:?}",
                r.restart,
                r.init,
                i + 1,
                i + 2,
                w[0],
                w[1],
                w[0] - w[1],
                r.trace
            );
        }
    }
}

fn max_abs<'a>(it: impl IntoIterator<Item = &'a f64>) -> f64 {
    it.into_iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

/// Every invariant of a mixture's parameters: weights a distribution,
/// covariances symmetric positive definite and in the model's family, precision factors upper
/// triangular with a positive diagonal and inverse to the covariances.
pub fn assert_valid_model(m: &GaussianMixture, what: &str) {
    let (k, d) = m.means().dim();
    let w = m.weights();
    assert_eq!(w.len(), k, "{what}");
    assert!(
        w.iter().all(|&v| v >= 0.0 && v.is_finite()),
        "{what}: weights {w}"
    );
    let sum: f64 = w.sum();
    assert!((sum - 1.0).abs() <= 1e-12, "{what}: weights sum to {sum}");
    assert!(
        m.means().iter().all(|v| v.is_finite()),
        "{what}: means {}",
        m.means()
    );
    let storage = m.covariance_type().storage();
    assert_eq!(m.covariances().covariance_type(), storage);
    assert_eq!(m.precisions_cholesky().covariance_type(), storage);
    // A member of its family: the family's M-step from its covariances
    // gives them back.
    if let Err(e) = m.clone().with_covariance_type(m.covariance_type()) {
        panic!("{what}: {e}");
    }
    match (m.covariances(), m.precisions_cholesky()) {
        (Covariances::Full(c), Covariances::Full(p)) => {
            assert_eq!(c.dim(), (k, d, d), "{what}");
            assert_eq!(p.dim(), (k, d, d), "{what}");
            for comp in 0..k {
                let ck = c.index_axis(ndarray::Axis(0), comp).to_owned();
                let pk = p.index_axis(ndarray::Axis(0), comp).to_owned();
                assert_spd_with_factor(&ck, &pk, &format!("{what}: component {comp}"));
            }
        }
        (Covariances::Tied(c), Covariances::Tied(p)) => {
            assert_eq!(c.dim(), (d, d), "{what}");
            assert_spd_with_factor(c, p, &format!("{what}: tied"));
        }
        (Covariances::Diag(c), Covariances::Diag(p)) => {
            assert_eq!(c.dim(), (k, d), "{what}");
            assert_eq!(p.dim(), (k, d), "{what}");
            for (v, pv) in c.iter().zip(p) {
                assert!(v.is_finite() && *v > 0.0, "{what}: variance {v}");
                let want = 1.0 / v.sqrt();
                assert!((pv - want).abs() <= 1e-14 * want, "{what}: {pv} vs {want}");
            }
        }
        (Covariances::Spherical(c), Covariances::Spherical(p)) => {
            assert_eq!(c.len(), k, "{what}");
            assert_eq!(p.len(), k, "{what}");
            for (v, pv) in c.iter().zip(p) {
                assert!(v.is_finite() && *v > 0.0, "{what}: variance {v}");
                let want = 1.0 / v.sqrt();
                assert!((pv - want).abs() <= 1e-14 * want, "{what}: {pv} vs {want}");
            }
        }
        (c, p) => panic!("{what}: covariances {c:?} with factors {p:?}"),
    }
}

/// `c` symmetric (to 1e-14 relative) and positive definite, `p` upper
/// triangular with a positive diagonal and `c P P^T = I`.
fn assert_spd_with_factor(c: &Array2<f64>, p: &Array2<f64>, what: &str) {
    let d = c.nrows();
    let scale = max_abs(c.iter());
    for i in 0..d {
        for j in 0..i {
            assert!(
                (c[(i, j)] - c[(j, i)]).abs() <= 1e-14 * scale,
                "{what}: not symmetric at ({i}, {j}): {c}"
            );
        }
    }
    assert!(
        gmm_core::linalg::cholesky_lower(c.view()).is_some(),
        "{what}: not positive definite: {c}"
    );
    for i in 0..d {
        assert!(p[(i, i)] > 0.0, "{what}: factor diagonal {p}");
        for j in 0..i {
            assert_eq!(p[(i, j)], 0.0, "{what}: factor not upper triangular {p}");
        }
    }
    let id = c.dot(&p.dot(&p.t()));
    // The error of an inverse grows with the condition number; the fits here
    // have condition numbers up to about 1e6 (components on a few rows with
    // reg_covar 1e-6), so allow for it.
    let cond = condition_bound(c, p);
    for i in 0..d {
        for j in 0..d {
            let want = if i == j { 1.0 } else { 0.0 };
            assert!(
                (id[(i, j)] - want).abs() <= 1e-8_f64.max(1e-13 * cond),
                "{what}: Sigma P P^T = {id} (condition ~{cond:e})"
            );
        }
    }
}

/// An upper bound on the condition number of `c` from `||c|| ||P P^T||`
/// (Frobenius norms).
fn condition_bound(c: &Array2<f64>, p: &Array2<f64>) -> f64 {
    let prec = p.dot(&p.t());
    let f = |m: &Array2<f64>| m.iter().map(|v| v * v).sum::<f64>().sqrt();
    f(c) * f(&prec)
}

/// All covariance values, in scikit-learn's row-major order.
pub fn cov_values(m: &GaussianMixture) -> Vec<f64> {
    m.covariances().values().collect()
}

/// `|a_i - b_i| <= rtol * max(max |a|, max |b|)` for every entry: closeness
/// relative to the scale of the whole array (small off-diagonal covariances
/// are held to the scale of the matrix).
pub fn assert_close(a: &[f64], b: &[f64], rtol: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    let scale = max_abs(a).max(max_abs(b));
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= rtol * scale,
            "{what}: entry {i}: {x} vs {y} (difference {:e}, allowed {:e})\n{a:?}\n{b:?}",
            (x - y).abs(),
            rtol * scale
        );
    }
}

/// Models equal to `rtol` relative, array by array.
pub fn assert_models_close(a: &GaussianMixture, b: &GaussianMixture, rtol: f64, what: &str) {
    assert_eq!(a.covariance_type(), b.covariance_type(), "{what}");
    assert_close(
        a.weights().as_slice().unwrap(),
        b.weights().as_slice().unwrap(),
        rtol,
        &format!("{what}: weights"),
    );
    assert_close(
        a.means().as_slice().unwrap(),
        b.means().as_slice().unwrap(),
        rtol,
        &format!("{what}: means"),
    );
    assert_close(
        &cov_values(a),
        &cov_values(b),
        rtol,
        &format!("{what}: covariances"),
    );
}

/// A model of the fit's covariance type, for warm starts: `truth` with its
/// covariances converted (a fixed start that every fit can share), for
/// mclust's constrained families the member their M-step makes of them.
pub fn as_type(truth: &GaussianMixture, ct: CovarianceType) -> GaussianMixture {
    let (k, d) = truth.means().dim();
    let dense: Vec<Array2<f64>> = (0..k).map(|c| truth.covariances().dense(c, d)).collect();
    let cov = gmm_core::covariances_in_family(ct, &dense, truth.weights().as_slice().unwrap());
    GaussianMixture::new(truth.weights().clone(), truth.means().clone(), cov)
        .unwrap()
        .with_covariance_type(ct)
        .unwrap()
}

/// A perturbed copy of a model as a start: means moved by up to `jitter`,
/// weights made uniform, every covariance the identity plus the first
/// component's. Keeps starts away from the answer so that EM has work to do.
pub fn rough_start(
    truth: &GaussianMixture,
    k: usize,
    ct: CovarianceType,
    jitter: f64,
    seed: u64,
) -> GaussianMixture {
    let d = truth.n_features();
    let mut r = rng(seed);
    let kt = truth.n_components();
    let means = Array2::from_shape_fn((k, d), |(c, j)| {
        truth.means()[(c % kt, j)] + r.random_range(-jitter..jitter)
    });
    let base = truth.covariances().dense(0, d);
    let dense: Vec<Array2<f64>> = (0..k)
        .map(|_| {
            let mut m = base.clone();
            for i in 0..d {
                m[(i, i)] += 1.0;
            }
            m
        })
        .collect();
    let weights = Array1::from_elem(k, 1.0 / k as f64);
    let cov = gmm_core::covariances_in_family(ct, &dense, weights.as_slice().unwrap());
    GaussianMixture::new(weights, means, cov)
        .unwrap()
        .with_covariance_type(ct)
        .unwrap()
}

/// `ln pi_k + ln N(x | mu_k, Sigma_k)` for every component, straight from the
/// dense covariances: `L = chol(Sigma_k)`, `z = L^-1 (x - mu_k)`,
/// `ln N = -(d ln 2 pi + |z|^2) / 2 - sum ln L_ii`.
pub fn direct_log_probs(m: &GaussianMixture, x: &[f64]) -> Vec<f64> {
    const LN_2PI: f64 = 1.837_877_066_409_345_3;
    let (k, d) = m.means().dim();
    (0..k)
        .map(|c| {
            let cov = m.covariances().dense(c, d);
            let l = gmm_core::linalg::cholesky_lower(cov.view()).expect("positive definite");
            let mut z = vec![0.0; d];
            for i in 0..d {
                let mut s = x[i] - m.means()[(c, i)];
                for j in 0..i {
                    s -= l[(i, j)] * z[j];
                }
                z[i] = s / l[(i, i)];
            }
            let log_det: f64 = (0..d).map(|i| l[(i, i)].ln()).sum();
            let sq: f64 = z.iter().map(|v| v * v).sum();
            m.weights()[c].ln() - 0.5 * (d as f64 * LN_2PI + sq) - log_det
        })
        .collect()
}

/// `ln p(x)` and the posteriors of one row, from [`direct_log_probs`].
pub fn direct_density(m: &GaussianMixture, x: &[f64]) -> (f64, Vec<f64>) {
    let lp = direct_log_probs(m, x);
    let max = lp.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let sum: f64 = lp.iter().map(|v| (v - max).exp()).sum();
    let ln_p = max + sum.ln();
    (ln_p, lp.iter().map(|v| (v - ln_p).exp()).collect())
}

pub fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

pub fn fit_with(threads: usize, params: &FitParams, data: &Dataset) -> Fit {
    let params = params.clone().check().unwrap();
    in_pool(threads, || params.fit(data.view(), &mut Silent).unwrap())
}

/// Bit for bit: every parameter array, every restart's trace and the whole
/// report.
pub fn assert_identical(a: &Fit, b: &Fit, what: &str) {
    assert!(
        a.model.weights() == b.model.weights(),
        "{what}: weights {} vs {}",
        a.model.weights(),
        b.model.weights()
    );
    assert!(
        a.model.means() == b.model.means(),
        "{what}: means {} vs {}",
        a.model.means(),
        b.model.means()
    );
    assert!(
        a.model.covariances() == b.model.covariances(),
        "{what}: covariances {:?} vs {:?}",
        a.model.covariances(),
        b.model.covariances()
    );
    assert!(
        a.model.precisions_cholesky() == b.model.precisions_cholesky(),
        "{what}: precision factors"
    );
    for (ra, rb) in a.report.restarts.iter().zip(&b.report.restarts) {
        assert!(
            ra.trace == rb.trace,
            "{what}: restart {} traces\n{:?}\n{:?}",
            ra.restart,
            ra.trace,
            rb.trace
        );
    }
    assert!(
        a.report == b.report,
        "{what}: reports {:?} vs {:?}",
        a.report,
        b.report
    );
}

/// All numbers of a (nested) JSON array, row-major: a fixture's arrays.
pub fn flat(v: &serde_json::Value) -> Vec<f64> {
    fn walk(v: &serde_json::Value, out: &mut Vec<f64>) {
        match v {
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            serde_json::Value::Number(n) => out.push(n.as_f64().expect("f64")),
            other => panic!("not a number: {other}"),
        }
    }
    let mut out = Vec::new();
    walk(v, &mut out);
    out
}

/// Covariance-shaped values in scikit-learn's shapes.
pub fn covariances(ct: CovarianceType, k: usize, d: usize, values: Vec<f64>) -> Covariances {
    match ct.storage() {
        CovarianceType::Full => {
            Covariances::Full(Array3::from_shape_vec((k, d, d), values).expect("K x d x d"))
        }
        CovarianceType::Diag => {
            Covariances::Diag(Array2::from_shape_vec((k, d), values).expect("K x d"))
        }
        CovarianceType::Spherical => {
            assert_eq!(values.len(), k);
            Covariances::Spherical(Array1::from(values))
        }
        CovarianceType::Tied => {
            Covariances::Tied(Array2::from_shape_vec((d, d), values).expect("d x d"))
        }
        other => unreachable!("{other} is not a storage"),
    }
}

/// The repository's root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A CSV of numbers with one header line: the header and the rows.
pub fn read_csv(rel: &str) -> (Vec<String>, Vec<Vec<f64>>) {
    let path = repo_root().join(rel);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<String> = lines
        .next()
        .unwrap_or_else(|| panic!("{rel} is empty"))
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    let rows = lines
        .enumerate()
        .map(|(i, line)| {
            let row: Vec<f64> = line
                .split(',')
                .map(|s| {
                    s.trim()
                        .parse()
                        .unwrap_or_else(|e| panic!("{rel} row {}: {s:?}: {e}", i + 1))
                })
                .collect();
            assert_eq!(row.len(), header.len(), "{rel} row {}", i + 1);
            row
        })
        .collect();
    (header, rows)
}

/// The columns named `columns` of a CSV, as a dataset.
pub fn load(rel: &str, columns: &[String]) -> Dataset {
    let (header, rows) = read_csv(rel);
    let idx: Vec<usize> = columns
        .iter()
        .map(|c| {
            header
                .iter()
                .position(|h| h == c)
                .unwrap_or_else(|| panic!("{rel} has no column {c}"))
        })
        .collect();
    let values = rows
        .iter()
        .flat_map(|r| idx.iter().map(move |&j| r[j]))
        .collect();
    Dataset::from_row_major(values, columns.len()).expect("rows of equal length")
}

/// One fit of real mclust, as the scripts in `scripts/mclust_*.R` write
/// them: the fixture, its family, K, and its data set's columns.
pub struct MclustFixture {
    pub name: String,
    pub json: serde_json::Value,
    pub family: CovarianceType,
    pub k: usize,
    pub data: Dataset,
}

impl MclustFixture {
    /// The fixtures of fits in `dir` (under the repository's root), sorted
    /// by name: every JSON file but the selections and agglomerations.
    pub fn all_in(dir: &str) -> Vec<MclustFixture> {
        let dir = repo_root().join(dir);
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .expect("the fixtures")
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".json") && !n.starts_with("select_") && !n.starts_with("hc_"))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|name| {
                let text = std::fs::read_to_string(dir.join(&name)).unwrap();
                let json: serde_json::Value = serde_json::from_str(&text).unwrap();
                let family = json["covariance_type"].as_str().unwrap().parse().unwrap();
                let k = json["n_components"].as_u64().unwrap() as usize;
                let columns: Vec<String> = json["columns"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_str().unwrap().to_string())
                    .collect();
                let data = load(json["dataset"].as_str().unwrap(), &columns);
                MclustFixture {
                    name,
                    json,
                    family,
                    k,
                    data,
                }
            })
            .collect()
    }

    /// The parameters `p` (`weights`, `means`, `covariances` in the family's
    /// storage) as a model.
    pub fn model(&self, p: &serde_json::Value) -> GaussianMixture {
        let d = self.data.n_features();
        GaussianMixture::new(
            Array1::from(flat(&p["weights"])),
            Array2::from_shape_vec((self.k, d), flat(&p["means"])).expect("K x d means"),
            covariances(self.family, self.k, d, flat(&p["covariances"])),
        )
        .expect("a valid model")
    }

    /// The model of `p` beside a noise component of `weight` and `volume`
    /// (the weights in `p` sum to `1 - weight`).
    pub fn model_with_noise(
        &self,
        p: &serde_json::Value,
        weight: f64,
        volume: f64,
    ) -> GaussianMixture {
        let d = self.data.n_features();
        GaussianMixture::new_with_noise(
            Array1::from(flat(&p["weights"])),
            Array2::from_shape_vec((self.k, d), flat(&p["means"])).expect("K x d means"),
            covariances(self.family, self.k, d, flat(&p["covariances"])),
            Some(gmm_core::Noise::new(weight, volume).expect("a noise component")),
        )
        .expect("a valid model")
    }
}

/// The largest relative difference between two models' parameters: each
/// weight and mean against its own size (a mean within 1e-9 of zero
/// against 1e-9), each covariance entry `(i, j)` against `sqrt(c_ii c_jj)`
/// of `want`'s, the scale of its row and column.
pub fn parameter_gap(got: &GaussianMixture, want: &GaussianMixture) -> f64 {
    let (k, d) = (want.n_components(), want.n_features());
    let mut gap = 0.0f64;
    for (x, y) in got.weights().iter().zip(want.weights()) {
        gap = gap.max((x - y).abs() / y.abs());
    }
    if let (Some(x), Some(y)) = (got.noise(), want.noise()) {
        // A noise weight that EM drives to 0 (no rows in no cluster) is
        // measured against 1e-6: EM takes it towards 0 by a factor per
        // iteration, and where each tool stops it is some 1e-13.
        gap = gap.max((x.weight - y.weight).abs() / y.weight.abs().max(1e-6));
    }
    for (x, y) in got.means().iter().zip(want.means()) {
        gap = gap.max((x - y).abs() / y.abs().max(1e-9));
    }
    for c in 0..k {
        let (s, t) = (
            got.covariances().dense(c, d),
            want.covariances().dense(c, d),
        );
        for i in 0..d {
            for j in 0..d {
                gap = gap.max((s[(i, j)] - t[(i, j)]).abs() / (t[(i, i)] * t[(j, j)]).sqrt());
            }
        }
    }
    gap
}
