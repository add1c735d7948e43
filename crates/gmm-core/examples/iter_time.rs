use gmm_core::*;
use ndarray::Array2;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).map_or(1_000_000, |s| s.parse().unwrap());
    let d: usize = args.get(2).map_or(16, |s| s.parse().unwrap());
    let k: usize = args.get(3).map_or(8, |s| s.parse().unwrap());
    let ct: CovarianceType = args.get(4).map_or("full", |s| s.as_str()).parse().unwrap();
    let iters: usize = args.get(5).map_or(3, |s| s.parse().unwrap());
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(1);
    let x = Array2::from_shape_fn((n, d), |(i, j)| {
        let z: f64 = StandardNormal.sample(&mut rng);
        z + ((i % k) as f64) * (if j % 2 == 0 { 2.0 } else { -1.0 })
    });
    let data = Dataset::new(x);
    let precision: Precision = args.get(6).map_or("f64", |s| s.as_str()).parse().unwrap();
    let data = match precision {
        Precision::F64 => data,
        Precision::F32 => {
            let narrow = data.to_f32();
            drop(data);
            narrow
        }
    };
    let p = FitParams::new(k)
        .covariance_type(ct)
        .tol(0.0)
        .max_iter(1)
        .init(InitMethod::RandomFromData)
        .check()
        .unwrap();
    let init = p.fit(data.view(), &mut Silent).unwrap().model;
    let time = |it: usize| {
        let p = FitParams::new(k)
            .covariance_type(ct)
            .tol(0.0)
            .max_iter(it)
            .init_model(init.clone())
            .check()
            .unwrap();
        let t = std::time::Instant::now();
        let fit = p.fit(data.view(), &mut Silent).unwrap();
        (t.elapsed().as_secs_f64(), fit.report.lower_bound)
    };
    let (t1, _) = time(1);
    let (tn, ll) = time(1 + iters);
    println!(
        "n={n} d={d} k={k} {ct} {precision}: {:.6} s/iter ll={ll} (a 1-iteration fit: {t1:.6} s)",
        (tn - t1) / iters as f64
    );
}
