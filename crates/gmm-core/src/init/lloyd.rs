//! Lloyd's iterations of k-means starts, with Hamerly's bounds (Hamerly,
//! "Making k-means even faster", SDM 2010): each row keeps an upper bound on
//! the distance to its center and a lower bound on the distance to every
//! other center. After the centers move, the bounds move by as much; a row
//! whose upper bound stays below the larger of its lower bound and half the
//! distance from its center to the nearest other center cannot change
//! center, and is skipped without computing a distance. Late iterations,
//! where few rows change center, then cost a fraction of a pass.
//!
//! The assignments are exactly those of plain Lloyd iterations (up to ties
//! within rounding, where the bound keeps the current center). The centers'
//! sums are updated by the rows that change center: per chunk in `f64`, then
//! exactly across chunks ([`ExactStats`]); each row's decisions depend only
//! on that row and chunks are fixed by `chunk_rows`, so the result is the
//! same bits for any number of threads.

use rayon::prelude::*;

use crate::aligned::AlignedBuf;
use crate::init::context::InitContext;
use crate::init::kmeans::squared_distance;
use crate::kernel::{self, BLOCK, Block};
use crate::nearest::distance_model;
use crate::prepared::Prepared;
use crate::stats::{ExactStats, Layout, SecondMoment, SufficientStats};
use crate::values::Values;

/// Relative slack on the bound tests, so that rounding in the bounds never
/// skips a row whose nearest center changed.
const SLACK: f64 = 1e-12;

/// A row's center and its bounds (Euclidean distances, not squared).
#[derive(Clone, Copy)]
struct RowState {
    center: u32,
    /// Whether the row is held to its class (a labeled row under a clamping
    /// policy): it never changes center.
    held: bool,
    /// Whether the row weighs nothing: it never counts, and each pass skips
    /// it before reading anything else of it.
    idle: bool,
    upper: f64,
    lower: f64,
}

/// Rows of a chunk whose bounds could not rule out a change of center,
/// gathered into a block for the E-step's SIMD kernel, which computes
/// their distances to every center at once (`-1/2 |x - c|^2`).
#[derive(Default)]
struct Scan {
    /// Index in the chunk, weight and values of each gathered row.
    at: Vec<usize>,
    w: Vec<f64>,
    x: Vec<f64>,
    block: Block,
    lp: AlignedBuf,
}

impl Scan {
    fn push(&mut self, at: usize, x: &[f64], w: f64) {
        self.at.push(at);
        self.w.push(w);
        self.x.extend_from_slice(x);
    }

    fn full(&self) -> bool {
        self.at.len() == BLOCK
    }

    /// Each gathered row to its nearest center (the first of equals), with
    /// fresh bounds; the sums follow the rows that change center (all of
    /// them on the `first` pass, which has no centers yet).
    fn run(
        &mut self,
        model: &Prepared,
        origin: &[f64],
        chunk: &mut [RowState],
        part: &mut Delta,
        first: bool,
    ) {
        if self.at.is_empty() {
            return;
        }
        let (k, d) = (model.k, model.d);
        self.block.load(Values::F64(&self.x), d);
        self.lp.resize(k * BLOCK, 0.0);
        kernel::log_prob(model, &mut self.block, &mut self.lp);
        for (i, &at) in self.at.iter().enumerate() {
            let (mut best, mut b1, mut b2) = (0, f64::NEG_INFINITY, f64::NEG_INFINITY);
            for c in 0..k {
                let v = self.lp[c * BLOCK + i];
                if v > b1 {
                    b2 = b1;
                    (best, b1) = (c, v);
                } else if v > b2 {
                    b2 = v;
                }
            }
            let st = &mut chunk[at];
            st.upper = (-2.0 * b1).max(0.0).sqrt();
            st.lower = (-2.0 * b2).max(0.0).sqrt();
            let old = st.center as usize;
            if first || best != old {
                let x = &self.x[i * d..(i + 1) * d];
                if !first {
                    add_row(part, origin, old, x, self.w[i], -1.0);
                }
                add_row(part, origin, best, x, self.w[i], 1.0);
                st.center = best as u32;
            }
        }
        self.at.clear();
        self.w.clear();
        self.x.clear();
    }
}

/// A chunk's change of the centers' sums, and of their row counts.
struct Delta {
    stats: SufficientStats,
    rows: Vec<i64>,
}

/// Adds (`sign` 1) or removes (-1) a row of weight `w` to center `c`'s
/// sums, taken around `origin` (the centers Lloyd started from, `K x d`).
fn add_row(p: &mut Delta, origin: &[f64], c: usize, x: &[f64], w: f64, sign: f64) {
    let d = x.len();
    let s = &mut p.stats;
    s.n[c] += sign * w;
    p.rows[c] += sign as i64;
    let o = &origin[c * d..(c + 1) * d];
    for ((t, &v), &o) in s.s1[c * d..(c + 1) * d].iter_mut().zip(x).zip(o) {
        *t += sign * (w * (v - o));
    }
}

/// Lloyd iterations from `centers` on all rows (labeled rows held to their
/// class when the policy clamps them) until the centers move less than
/// `1e-4` times the mean column variance, as scikit-learn's `tol`, or for
/// `kmeans_max_iter` iterations. Returns the centers and the iterations run.
pub(super) fn lloyd(ctx: &InitContext<'_>, mut centers: Vec<f64>) -> (Vec<f64>, usize) {
    let data = ctx.data;
    let d = data.n_features();
    let k = ctx.params.n_components;
    let n = data.n_rows();
    let chunk_rows = ctx.params.chunk_rows.max(1);
    let layout = Layout {
        k,
        d,
        second: SecondMoment::Diag,
    };
    // Sums of w and w (x - origin) of each center's rows, around the
    // centers Lloyd starts from: fixed, so that a row changing center
    // removes what it added (up to the rounding of its chunk's partial sum),
    // and near the rows, so that the sums round at the scale of the
    // clusters, not of the values.
    let origin = &centers.clone();
    let scales = ctx.summary.scales(layout, origin);
    let tol = 1e-4 * ctx.summary.col_var.iter().sum::<f64>() / d.max(1) as f64;
    let clamp = matches!(ctx.policy, crate::estep::RowPolicy::Clamped { .. });
    let weight = |i: usize| ctx.policy.effective_weight(data.weight(i), data.label(i));
    let mut rows: Vec<RowState> = (0..n)
        .map(|i| RowState {
            center: 0,
            held: clamp && data.label(i).is_some(),
            idle: !(weight(i) > 0.0),
            upper: f64::INFINITY,
            lower: 0.0,
        })
        .collect();
    let mut sums = ExactStats::zeros(&scales);
    // Rows (of positive weight) per center: a center is empty when it has
    // none, whatever rounding is left in its sums (the chunks' partial sums
    // round before they are added exactly, so a row's removal need not
    // cancel its addition to the last bit).
    let mut counts = vec![0i64; k];
    // How far each center moved in the last update.
    let mut moved = vec![0.0; k];
    let mut iterations = 0;
    for it in 0..ctx.params.kmeans_max_iter {
        if ctx.interrupted() {
            break;
        }
        let first = it == 0;
        let (max1, arg1, max2) = two_largest(&moved);
        let half_gap = half_gaps(&centers, k, d);
        let model = distance_model(&centers, k, d);
        let centers_ref = &centers;
        let moved_ref = &moved;
        // Each chunk's change of the sums, added up exactly.
        let delta = rows
            .par_chunks_mut(chunk_rows)
            .enumerate()
            .map_init(Scan::default, |scan, (c, chunk)| {
                let mut row = Vec::new();
                let mut part = Delta {
                    stats: SufficientStats::zeros(layout),
                    rows: vec![0; k],
                };
                let first_row = c * chunk_rows;
                for o in 0..chunk.len() {
                    let i = first_row + o;
                    let st = &mut chunk[o];
                    if st.idle {
                        continue;
                    }
                    if st.held {
                        if first {
                            let x = data.row_f64(i, &mut row);
                            st.center = data.label(i).expect("held rows have a class");
                            add_row(&mut part, origin, st.center as usize, x, weight(i), 1.0);
                        }
                        continue;
                    }
                    // The row's values are read only past the bounds.
                    let x;
                    if first {
                        x = data.row_f64(i, &mut row);
                    } else {
                        let old = st.center as usize;
                        st.upper += moved_ref[old];
                        st.lower -= if old == arg1 { max2 } else { max1 };
                        let bound = st.lower.max(half_gap[old]);
                        if st.upper <= bound * (1.0 - SLACK) {
                            continue;
                        }
                        x = data.row_f64(i, &mut row);
                        st.upper = squared_distance(x, &centers_ref[old * d..(old + 1) * d]).sqrt();
                        if st.upper <= bound * (1.0 - SLACK) {
                            continue;
                        }
                    }
                    scan.push(o, x, weight(i));
                    if scan.full() {
                        scan.run(&model, origin, chunk, &mut part, first);
                    }
                }
                scan.run(&model, origin, chunk, &mut part, first);
                let mut exact = ExactStats::zeros(&scales);
                exact.add(&scales, &part.stats);
                (exact, part.rows)
            })
            .reduce(
                || (ExactStats::zeros(&scales), vec![0; k]),
                |(mut a, mut ra), (b, rb)| {
                    a.merge(&b);
                    ra.iter_mut().zip(rb).for_each(|(x, y)| *x += y);
                    (a, ra)
                },
            );
        sums.merge(&delta.0);
        counts.iter_mut().zip(delta.1).for_each(|(x, y)| *x += y);
        let Some(stats) = sums.totals(&scales) else {
            break;
        };
        iterations += 1;
        if let Some(p) = ctx.progress {
            p.iterations
                .store(iterations, std::sync::atomic::Ordering::Relaxed);
        }
        let mut shift = 0.0;
        let mut empty = Vec::new();
        for c in 0..k {
            let mu = &mut centers[c * d..(c + 1) * d];
            if counts[c] > 0 && stats.n[c] > 0.0 {
                let mut m2 = 0.0;
                for (j, v) in mu.iter_mut().enumerate() {
                    let new = origin[c * d + j] + stats.s1[c * d + j] / stats.n[c];
                    m2 += (new - *v) * (new - *v);
                    *v = new;
                }
                moved[c] = m2.sqrt();
                shift += m2;
            } else {
                empty.push(c);
            }
        }
        if !empty.is_empty() {
            // Move empty clusters onto the rows farthest from their centers.
            let far = super::kmeans::farthest_rows(ctx, &centers, empty.len());
            for (&c, &row) in empty.iter().zip(&far) {
                let mu = &mut centers[c * d..(c + 1) * d];
                let x = data.row_vec(row);
                moved[c] = squared_distance(mu, &x).sqrt();
                mu.copy_from_slice(&x);
            }
            continue;
        }
        if shift <= tol {
            break;
        }
    }
    (centers, iterations)
}

/// The largest value, its index, and the largest of the others.
fn two_largest(v: &[f64]) -> (f64, usize, f64) {
    let (mut m1, mut a1, mut m2) = (0.0, usize::MAX, 0.0);
    for (i, &x) in v.iter().enumerate() {
        if x > m1 {
            (m2, m1, a1) = (m1, x, i);
        } else if x > m2 {
            m2 = x;
        }
    }
    (m1, a1, m2)
}

/// Half the distance from each center to the nearest other one.
fn half_gaps(centers: &[f64], k: usize, d: usize) -> Vec<f64> {
    (0..k)
        .map(|a| {
            let ca = &centers[a * d..(a + 1) * d];
            (0..k)
                .filter(|&b| b != a)
                .map(|b| squared_distance(ca, &centers[b * d..(b + 1) * d]))
                .fold(f64::INFINITY, f64::min)
                .sqrt()
                / 2.0
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use rand::{RngExt, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    use super::*;
    use crate::data::Dataset;
    use crate::estep::RowPolicy;
    use crate::params::FitParams;
    use crate::summary::DataSummary;

    #[test]
    fn two_largest_and_gaps() {
        assert_eq!(two_largest(&[1.0, 3.0, 2.0]), (3.0, 1, 2.0));
        assert_eq!(two_largest(&[3.0, 3.0]), (3.0, 0, 3.0));
        let g = half_gaps(&[0.0, 0.0, 3.0, 4.0, 0.0, 1.0], 3, 2);
        assert_eq!(g, vec![0.5, 18f64.sqrt() / 2.0, 0.5]);
    }

    /// Plain Lloyd iterations: every row to its nearest center, every
    /// iteration; the same stopping rule.
    fn plain_lloyd(
        x: &[f64],
        w: &[f64],
        mut centers: Vec<f64>,
        tol: f64,
        max_iter: usize,
    ) -> (Vec<f64>, usize) {
        let d = x.len() / w.len();
        let k = centers.len() / d;
        for it in 1..=max_iter {
            let mut n = vec![0.0; k];
            let mut s = vec![0.0; k * d];
            for (xi, &wi) in x.chunks_exact(d).zip(w) {
                let c = (0..k)
                    .min_by(|&a, &b| {
                        squared_distance(xi, &centers[a * d..(a + 1) * d])
                            .total_cmp(&squared_distance(xi, &centers[b * d..(b + 1) * d]))
                    })
                    .unwrap();
                n[c] += wi;
                for j in 0..d {
                    s[c * d + j] += wi * xi[j];
                }
            }
            let mut shift = 0.0;
            for c in 0..k {
                for j in 0..d {
                    let new = s[c * d + j] / n[c];
                    shift += (new - centers[c * d + j]).powi(2);
                    centers[c * d + j] = new;
                }
            }
            if shift <= tol {
                return (centers, it);
            }
        }
        (centers, max_iter)
    }

    /// Hamerly's bounds skip rows, never change the result: the centers and
    /// the iteration count of plain Lloyd iterations on overlapping
    /// clusters (where many rows change center late), with unit and with
    /// uneven weights, for several chunk sizes (chunks only regroup the
    /// rows); and the same bits on 1 and 3 threads.
    #[test]
    fn bounds_give_plain_lloyd_iterations() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        for (d, weighted) in [(3, false), (5, true)] {
            let (n, k) = (3000, 6);
            let x: Vec<f64> = (0..n * d)
                .map(|i| (i % d) as f64 * 0.5 + (i / d % 4) as f64 + rng.random::<f64>() * 3.0)
                .collect();
            let w: Vec<f64> = (0..n)
                .map(|_| {
                    if weighted {
                        0.1 + rng.random::<f64>()
                    } else {
                        1.0
                    }
                })
                .collect();
            let mut data = Dataset::from_row_major(x.clone(), d).unwrap();
            if weighted {
                data = data.with_weights(w.clone()).unwrap();
            }
            let seeds: Vec<f64> = x[..k * d].to_vec();
            for chunk_rows in [7, 256, 4096] {
                let params = FitParams::new(k)
                    .chunk_rows(chunk_rows)
                    .kmeans_max_iter(100);
                let summary = DataSummary::new(data.view(), RowPolicy::Unsupervised, chunk_rows);
                let tol = 1e-4 * summary.col_var.iter().sum::<f64>() / d as f64;
                let progress = crate::observer::InitProgress::default();
                let ctx = InitContext {
                    data: data.view(),
                    policy: RowPolicy::Unsupervised,
                    summary: &summary,
                    params: &params,
                    interrupt: None,
                    deadline: None,
                    progress: Some(&progress),
                };
                let run = |threads| {
                    rayon::ThreadPoolBuilder::new()
                        .num_threads(threads)
                        .build()
                        .unwrap()
                        .install(|| lloyd(&ctx, seeds.clone()))
                };
                let (got, iters) = run(1);
                assert_eq!(run(3), (got.clone(), iters), "threads change the bits");
                let (want, want_iters) = plain_lloyd(&x, &w, seeds.clone(), tol, 100);
                assert!(iters > 5, "{iters} iterations: too easy a case");
                assert_eq!(iters, want_iters, "d {d}, chunk_rows {chunk_rows}");
                let counted = progress
                    .iterations
                    .load(std::sync::atomic::Ordering::Relaxed);
                assert_eq!(counted, iters, "iterations shown as they run");
                for (a, b) in got.iter().zip(&want) {
                    assert!(
                        (a - b).abs() <= 1e-12 * b.abs().max(1.0),
                        "{got:?}\n{want:?}"
                    );
                }
            }
        }
    }
}
