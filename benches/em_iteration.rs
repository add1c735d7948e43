//! One EM iteration (the fused E+M pass over every row, then the M-step) per
//! shape of the grid in `benches/shapes.toml`, in a rayon pool of each
//! listed thread count; and several restarts advancing together through one
//! pass (1, 4, 10 models), to show what sharing the pass saves.
//!
//! ```sh
//! cargo bench -p gmm-core --bench em_iteration                   # quick grid
//! GMM_BENCH_GRID=full cargo bench -p gmm-core --bench em_iteration
//! cargo bench -p gmm-core --bench em_iteration -- restarts/       # a filter
//! python3 scripts/criterion_table.py                              # one table
//! ```
//!
//! `GMM_BENCH_SHAPES` points at another shapes file. Under `cargo test
//! --benches` (criterion's test mode) every benchmark of the grid runs once
//! on a few rows, so the suite stays fast.

use std::collections::{BTreeMap, BTreeSet};
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use gmm_core::bench::Iteration;
use gmm_core::{CovarianceType, Covariances, DataView, GaussianMixture, Precision, Values};
use ndarray::{Array1, Array2, Array3};
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShapesFile {
    settings: Settings,
    grid: BTreeMap<String, Vec<ShapeSet>>,
    #[serde(default)]
    restarts: BTreeMap<String, Vec<ShapeSet>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    chunk_rows: usize,
    reg_covar: f64,
    seed: u64,
    data_components: usize,
    warm_up_iterations: usize,
    sample_size: usize,
    warm_up_seconds: f64,
    measurement_seconds: f64,
    max_data_bytes: u64,
    test_rows: usize,
}

/// A thread count, or "all".
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Threads {
    Count(usize),
    Named(String),
}

/// A Cartesian product of shapes; `models` only for restart sets.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShapeSet {
    rows: Vec<usize>,
    d: Vec<usize>,
    k: Vec<usize>,
    covariance: Vec<String>,
    threads: Vec<Threads>,
    #[serde(default)]
    models: Option<Vec<usize>>,
    /// How the rows are held: "f64" (the default) and/or "f32".
    #[serde(default)]
    precision: Option<Vec<String>>,
}

/// One benchmark: a shape, a thread count and a number of models per pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Case {
    rows: usize,
    d: usize,
    k: usize,
    covariance: CovarianceType,
    /// `None` for the shape grid, `Some(m)` for the restart benchmarks.
    models: Option<usize>,
    threads: usize,
    precision: Precision,
}

/// Sorted by rows and d first, so that consecutive cases share their data.
impl Ord for Case {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // f64 first: the warm-up model of a shape comes from its f64 rows.
        let key = |c: &Case| {
            let (k, cov, p) = (c.k, c.covariance.as_str(), c.precision != Precision::F64);
            (c.rows, c.d, k, cov, c.models, c.threads, p)
        };
        key(self).cmp(&key(other))
    }
}

impl PartialOrd for Case {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Case {
    fn shape(&self) -> String {
        format!("n{}_d{}_k{}", self.rows, self.d, self.k)
    }

    fn group(&self) -> String {
        match self.models {
            None => format!("{}/{}", self.covariance, self.shape()),
            Some(_) => format!("restarts/{}/{}", self.covariance, self.shape()),
        }
    }

    /// `threads=T` (with `,precision=f32` for rows held as f32: f64 cases
    /// keep their names, and their criterion history).
    fn id(&self) -> String {
        let held = match self.precision {
            Precision::F64 => String::new(),
            p => format!(",precision={p}"),
        };
        match self.models {
            None => format!("threads={}{held}", self.threads),
            Some(m) => format!("models={m},threads={}{held}", self.threads),
        }
    }
}

fn expand(sets: &[ShapeSet], all_threads: usize, restarts: bool, out: &mut BTreeSet<Case>) {
    for set in sets {
        let models: Vec<Option<usize>> = match (&set.models, restarts) {
            (Some(m), true) => m.iter().map(|&m| Some(m)).collect(),
            (None, false) => vec![None],
            (None, true) => panic!("shapes.toml: a [[restarts.*]] entry needs `models`"),
            (Some(_), false) => panic!("shapes.toml: `models` belongs in [[restarts.*]] entries"),
        };
        let threads: BTreeSet<usize> = set
            .threads
            .iter()
            .map(|t| match t {
                Threads::Count(n) if *n > 0 => *n,
                Threads::Named(s) if s == "all" => all_threads,
                other => panic!("shapes.toml: threads must be positive or \"all\", not {other:?}"),
            })
            .collect();
        let precisions: Vec<Precision> = match &set.precision {
            None => vec![Precision::F64],
            Some(names) => names
                .iter()
                .map(|n| {
                    n.parse()
                        .unwrap_or_else(|e| panic!("shapes.toml: precision {n:?}: {e}"))
                })
                .collect(),
        };
        for &rows in &set.rows {
            for &d in &set.d {
                for &k in &set.k {
                    for cov in &set.covariance {
                        let covariance: CovarianceType = cov
                            .parse()
                            .unwrap_or_else(|e| panic!("shapes.toml: covariance {cov:?}: {e}"));
                        for &m in &models {
                            for &threads in &threads {
                                for &precision in &precisions {
                                    out.insert(Case {
                                        rows,
                                        d,
                                        k,
                                        covariance,
                                        models: m,
                                        threads,
                                        precision,
                                    });
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `rows x d` values (row-major) from a mixture of `components` Gaussians
/// with random means (standard deviation 3) and diagonal scales in
/// [0.5, 2]. Blocks of rows draw from streams seeded by (seed, block), so
/// the data does not depend on the thread count.
fn generate(rows: usize, d: usize, components: usize, seed: u64) -> Vec<f64> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let means: Vec<f64> = (0..components * d)
        .map(|_| {
            let z: f64 = StandardNormal.sample(&mut rng);
            3.0 * z
        })
        .collect();
    let scales: Vec<f64> = (0..components * d)
        .map(|_| 0.5 + 1.5 * rng.random::<f64>())
        .collect();
    const BLOCK_ROWS: usize = 65_536;
    let mut x = vec![0.0; rows * d];
    x.par_chunks_mut(BLOCK_ROWS * d)
        .enumerate()
        .for_each(|(b, block)| {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(
                seed ^ (b as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
            );
            for row in block.chunks_exact_mut(d) {
                let c = rng.random_range(0..components);
                for (j, v) in row.iter_mut().enumerate() {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    *v = means[c * d + j] + scales[c * d + j] * z;
                }
            }
        });
    x
}

/// A starting model: means at `k` rows spread through the data, every
/// covariance the data's per-column variance, equal weights.
fn initial_model(x: &[f64], rows: usize, d: usize, k: usize, t: CovarianceType) -> GaussianMixture {
    let mut mean = vec![0.0; d];
    for row in x.chunks_exact(d) {
        mean.iter_mut().zip(row).for_each(|(m, v)| *m += v);
    }
    mean.iter_mut().for_each(|m| *m /= rows as f64);
    let mut var = vec![0.0; d];
    for row in x.chunks_exact(d) {
        for j in 0..d {
            var[j] += (row[j] - mean[j]).powi(2);
        }
    }
    var.iter_mut().for_each(|v| *v = *v / rows as f64 + 1e-6);
    let means = Array2::from_shape_fn((k, d), |(c, j)| x[(c * rows / k) * d + j]);
    let cov = match t.storage() {
        CovarianceType::Full => Covariances::Full(Array3::from_shape_fn((k, d, d), |(_, i, j)| {
            if i == j { var[i] } else { 0.0 }
        })),
        CovarianceType::Diag => Covariances::Diag(Array2::from_shape_fn((k, d), |(_, j)| var[j])),
        CovarianceType::Spherical => {
            Covariances::Spherical(Array1::from_elem(k, var.iter().sum::<f64>() / d as f64))
        }
        CovarianceType::Tied => Covariances::Tied(Array2::from_diag(&Array1::from(var))),
        other => unreachable!("{other} is not a storage"),
    };
    GaussianMixture::new(Array1::from_elem(k, 1.0 / k as f64), means, cov)
        .expect("a valid starting model")
}

/// Criterion's positional FILTER argument, if any (the first argument that is
/// neither an option nor an option's value).
fn name_filter(args: &[String]) -> Option<String> {
    const WITH_VALUE: &[&str] = &[
        "-c",
        "--color",
        "--colour",
        "-s",
        "--save-baseline",
        "-b",
        "--baseline",
        "--baseline-lenient",
        "--format",
        "--profile-time",
        "--load-baseline",
        "--output-format",
        "--plotting-backend",
        "--sample-size",
        "--warm-up-time",
        "--measurement-time",
        "--nresamples",
        "--noise-threshold",
        "--confidence-level",
        "--significance-level",
    ];
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        if WITH_VALUE.contains(&a.as_str()) {
            it.next();
        } else if !a.starts_with('-') {
            return Some(a.clone());
        }
    }
    None
}

fn shapes_path() -> PathBuf {
    std::env::var_os("GMM_BENCH_SHAPES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../benches/shapes.toml")
        })
}

fn main() {
    let path = shapes_path();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let file: ShapesFile =
        toml::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()));
    let s = &file.settings;
    let grid = std::env::var("GMM_BENCH_GRID").unwrap_or_else(|_| "quick".into());
    let Some(sets) = file.grid.get(&grid) else {
        panic!(
            "GMM_BENCH_GRID={grid}: {} has grids {:?}",
            path.display(),
            file.grid.keys().collect::<Vec<_>>()
        );
    };
    // Criterion measures under `cargo bench` (which passes --bench) and runs
    // each benchmark once otherwise (`cargo test --benches`).
    let args: Vec<String> = std::env::args().collect();
    let flag = |f: &str| args.iter().any(|a| a == f);
    let measuring = flag("--bench") && !flag("--test") && !flag("--list");
    let filter = name_filter(&args);
    let all_threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut cases = BTreeSet::new();
    expand(sets, all_threads, false, &mut cases);
    if let Some(sets) = file.restarts.get(&grid) {
        expand(sets, all_threads, true, &mut cases);
    }

    let mut c = Criterion::default()
        .sample_size(s.sample_size)
        .warm_up_time(Duration::from_secs_f64(s.warm_up_seconds))
        .measurement_time(Duration::from_secs_f64(s.measurement_seconds))
        .configure_from_args();
    let pools: BTreeMap<usize, rayon::ThreadPool> = cases
        .iter()
        .map(|c| c.threads)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(|t| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .expect("a rayon pool");
            (t, pool)
        })
        .collect();

    // Cases come sorted by (rows, d, ...): each dataset is generated once and
    // dropped before the next.
    let mut data: Option<((usize, usize), Vec<f64>)> = None;
    // The same rows as f32, made when an f32 case first needs them.
    let mut narrow: Option<Vec<f32>> = None;
    let mut models: BTreeMap<(usize, &str), GaussianMixture> = BTreeMap::new();
    for case in &cases {
        // Criterion would skip it too; skipping here saves making its data.
        // (A filter is a regex to criterion: only plain ones are applied here.)
        let name = format!("{}/{}", case.group(), case.id());
        let skip = filter.as_ref().is_some_and(|f| {
            if flag("--exact") {
                name != *f
            } else {
                !f.contains(|c: char| r"\.+*?()|[]{}^$".contains(c)) && !name.contains(f.as_str())
            }
        });
        if skip {
            continue;
        }
        let rows = if measuring {
            case.rows
        } else {
            case.rows.min(s.test_rows)
        };
        let bytes = (rows * case.d * case.precision.bytes()) as u64;
        // The f64 rows are made first (and kept) for an f32 case too.
        let held = match case.precision {
            Precision::F64 => bytes,
            _ => bytes + (rows * case.d * 8) as u64,
        };
        if held > s.max_data_bytes {
            eprintln!(
                "skipping {}/{}: {held} bytes of data is over max_data_bytes ({})",
                case.group(),
                case.id(),
                s.max_data_bytes
            );
            continue;
        }
        if data.as_ref().map(|(key, _)| *key) != Some((rows, case.d)) {
            // Free the previous data before generating the next.
            drop(data.take());
            narrow = None;
            models.clear();
            let x = generate(rows, case.d, s.data_components, s.seed);
            data = Some(((rows, case.d), x));
        }
        let x = &data.as_ref().expect("generated above").1;
        let values = match case.precision {
            Precision::F64 => Values::F64(x),
            Precision::F32 => {
                Values::F32(narrow.get_or_insert_with(|| x.iter().map(|&v| v as f32).collect()))
            }
        };
        let view = DataView::of_values(values, case.d).expect("finite data");
        let it = Iteration::new(view, s.chunk_rows);
        let model = models
            .entry((case.k, case.covariance.as_str()))
            .or_insert_with(|| {
                let mut m = initial_model(x, rows, case.d, case.k, case.covariance);
                for _ in 0..s.warm_up_iterations {
                    m = it.run(std::slice::from_ref(&m), s.reg_covar).0.remove(0);
                }
                m
            })
            .clone();
        let batch = vec![model; case.models.unwrap_or(1)];
        let mut group = c.benchmark_group(case.group());
        group.sampling_mode(SamplingMode::Flat);
        group.throughput(Throughput::ElementsAndBytes {
            elements: (rows * batch.len()) as u64,
            // The data is read once per pass, whatever the number of models.
            bytes,
        });
        let pool = &pools[&case.threads];
        group.bench_function(BenchmarkId::from_parameter(case.id()), |b| {
            pool.install(|| b.iter(|| black_box(it.run(black_box(&batch), s.reg_covar))))
        });
        group.finish();
    }
    c.final_summary();
}
