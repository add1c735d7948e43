use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, Par};
fn main() {
    let n = 1024;
    let a = Mat::<f64>::from_fn(n, n, |i, j| ((i * 7 + j * 3) % 11) as f64 * 0.1);
    let b = Mat::<f64>::from_fn(n, n, |i, j| ((i + 2 * j) % 5) as f64 * 0.2);
    let mut c = Mat::<f64>::zeros(n, n);
    matmul(
        c.as_mut(),
        Accum::Replace,
        a.as_ref(),
        b.as_ref(),
        1.0,
        Par::Seq,
    );
    let reps = 5;
    let t = std::time::Instant::now();
    for _ in 0..reps {
        matmul(
            c.as_mut(),
            Accum::Replace,
            a.as_ref(),
            b.as_ref(),
            1.0,
            Par::Seq,
        );
    }
    let el = t.elapsed().as_secs_f64();
    println!(
        "GEMM {n}^3 1 thread: {:.2} GFLOP/s",
        2.0 * (n * n * n) as f64 * reps as f64 / el / 1e9
    );
}
