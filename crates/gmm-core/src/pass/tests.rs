use ndarray::{Array1, Array2};

use super::*;
use crate::ahead::take_asked;
use crate::covariance::{CovarianceType, Covariances};
use crate::model::GaussianMixture;

/// Two components on `d` features with unit covariances.
fn model(t: CovarianceType, d: usize) -> GaussianMixture {
    let dense = vec![Array2::eye(d); 2];
    let means = Array2::from_shape_fn((2, d), |(k, j)| (k + j) as f64 * 0.5);
    GaussianMixture::new(
        Array1::from(vec![0.4, 0.6]),
        means,
        Covariances::from_dense(t, &dense, &[0.4, 0.6]),
    )
    .unwrap()
}

/// The 64-byte lines that hold `x`.
fn lines(x: &[f64]) -> Vec<usize> {
    let start = x.as_ptr().addr();
    (start / 64 * 64..start + size_of_val(x))
        .step_by(64)
        .collect()
}

/// A fit's pass of `model(t, d)` over 3000 rows in chunks of 1000 (16
/// blocks a chunk, the last of 40 rows) on a pool of one thread, with
/// `before` and `after` on that thread around it: the rows, and what
/// `after` gives.
fn pass_on_one_thread<R: Send>(
    t: CovarianceType,
    d: usize,
    before: impl Fn() + Sync,
    after: impl Fn() -> R + Sync,
) -> (Vec<f64>, R) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let n = 3000;
    let x: Vec<f64> = (0..n * d).map(|i| (i % 11) as f64 * 0.25).collect();
    let data = DataView::new(&x, d).unwrap();
    let chunk_rows = 1000;
    let summary = DataSummary::new(data, RowPolicy::Unsupervised, chunk_rows);
    let prepared = Prepared::new(&model(t, d));
    let got = pool.install(|| {
        before();
        em_pass(
            std::slice::from_ref(&prepared),
            data,
            RowPolicy::Unsupervised,
            chunk_rows,
            &summary,
            None,
        );
        after()
    });
    (x, got)
}

/// A fit's pass has the scatter read the differences `log_prob` kept,
/// once per call of `accumulate` (a block, or a pair of them), for full and
/// tied models from 16 features on, and for no others.
#[test]
fn a_fit_pass_scatters_the_kept_differences() {
    // 48 blocks in 3 chunks.
    for (t, d, calls) in [
        (CovarianceType::Full, 16, 48),
        (CovarianceType::Tied, 20, 48),
        (CovarianceType::Full, 33, 24),
        (CovarianceType::Full, 8, 0),
        (CovarianceType::Diag, 16, 0),
    ] {
        let take = kernel::take_kept_scatters;
        let (_, kept) = pass_on_one_thread(
            t,
            d,
            || {
                take();
            },
            take,
        );
        assert_eq!(kept, calls, "{t:?} d={d}");
    }
}

/// A fit's pass asks for the lines of every block it reads but the first
/// group of blocks (one, or two where the scatter takes two at a time),
/// across chunks that end mid-block, and for no line outside the rows or
/// in the first group.
#[test]
fn a_fit_pass_prefetches_every_block_after_the_first_group() {
    for (t, d) in [
        (CovarianceType::Full, 2),
        (CovarianceType::Full, 33),
        (CovarianceType::Diag, 16),
        (CovarianceType::Spherical, 3),
    ] {
        let group = kernel::blocks_per_scatter(layout_of(&Prepared::new(&model(t, d))));
        // The pass and its prefetches on the pool's one thread.
        let (x, mut asked) = pass_on_one_thread(
            t,
            d,
            || {
                take_asked();
            },
            take_asked,
        );
        asked.sort_unstable();
        asked.dedup();
        let all = lines(&x);
        let want = lines(&x[group * BLOCK * d..]);
        assert!(
            asked.iter().all(|a| all.binary_search(a).is_ok()),
            "{t:?} d={d}: a line outside the rows"
        );
        let missing: Vec<usize> = want
            .iter()
            .filter(|l| asked.binary_search(l).is_err())
            .map(|l| (l - all[0]) / 64)
            .collect();
        assert!(
            missing.is_empty(),
            "{t:?} d={d}: lines {missing:?} not asked for"
        );
        // Nothing of the first group, which is loaded before any block could
        // ask for it: where the scatter takes two blocks, each looks at its
        // counterpart in the next pair, not at the second block of its own
        // (loaded right after it).
        let first = all.partition_point(|&l| l < want[0]);
        assert!(
            all[..first].iter().all(|l| asked.binary_search(l).is_err()),
            "{t:?} d={d}: a line of the first group asked for"
        );
    }
}
