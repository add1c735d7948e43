//! Model-based agglomerative hierarchical clustering, as mclust's `hc()`
//! runs it before `Mclust()`'s EM (Banfield & Raftery 1993; Fraley 1998):
//! every row starts as its own cluster, and the two whose merge lowers the
//! classification likelihood least are merged until one is left
//! ([`agglomerate`]); cutting the merges at `K` clusters ([`Merges::partition`])
//! gives the partition EM starts from. Rows are first transformed as
//! mclust's default `hcUse = "SVD"` does ([`svd_transform`]); one column is
//! cut at quantiles instead ([`quantile_classes`], mclust's `qclass`).
//!
//! The cost is quadratic in rows (a table of every pair's cost) and cubic
//! in columns per pair: mclust agglomerates a sample of 2,000 rows of a
//! larger table, and so does `--init hc` (see `init::hc`).

mod criterion;
mod pairs;

pub use criterion::HcModel;
use criterion::{Cluster, Criterion};
use pairs::Pairs;

/// The merges of an agglomeration of `n` rows: merge `s` joins clusters
/// `a` and `b`, where ids below `n` are rows and id `n + s` is the cluster
/// merge `s` made.
#[derive(Debug, Clone, PartialEq)]
pub struct Merges {
    n: usize,
    steps: Vec<(usize, usize)>,
}

impl Merges {
    pub fn n_rows(&self) -> usize {
        self.n
    }

    /// The merges in order, as pairs of cluster ids.
    pub fn steps(&self) -> &[(usize, usize)] {
        &self.steps
    }

    /// The partition into `g` clusters (`1 <= g <= n`): each row's
    /// cluster, numbered `0..g` in order of each cluster's first row (as
    /// mclust's `hclass` numbers them).
    pub fn partition(&self, g: usize) -> Vec<usize> {
        assert!((1..=self.n).contains(&g), "1 <= g <= rows");
        let n = self.n;
        // Each id's parent after the first n - g merges.
        let mut parent: Vec<usize> = (0..n + (n - g)).collect();
        for (s, &(a, b)) in self.steps.iter().take(n - g).enumerate() {
            parent[a] = n + s;
            parent[b] = n + s;
        }
        let root = |mut i: usize| {
            while parent[i] != i {
                i = parent[i];
            }
            i
        };
        let mut label = std::collections::HashMap::new();
        (0..n)
            .map(|i| {
                let next = label.len();
                *label.entry(root(i)).or_insert(next)
            })
            .collect()
    }
}

/// Agglomerates the rows `x` (row-major, `d` columns) under `model`'s
/// criterion; `stop` is asked between merges and ends the agglomeration
/// (`None`) when it says so.
pub fn agglomerate(x: &[f64], d: usize, model: HcModel, stop: &dyn Fn() -> bool) -> Option<Merges> {
    assert!(d > 0 && x.len().is_multiple_of(d), "whole rows");
    let n = x.len() / d;
    let criterion = Criterion::new(model, x, d);
    let mut clusters: Vec<Cluster> = x.chunks_exact(d).map(|r| criterion.singleton(r)).collect();
    // The id of the cluster in each slot.
    let mut ids: Vec<usize> = (0..n).collect();
    let mut w = Vec::new();
    let mut pairs = Pairs::new(n, |i, j| criterion.cost(&clusters[i], &clusters[j], &mut w));
    let mut steps = Vec::with_capacity(n.saturating_sub(1));
    while pairs.live() > 1 {
        if stop() {
            return None;
        }
        let (i, j) = pairs.best();
        steps.push((ids[i], ids[j]));
        let union = criterion.merge(&clusters[i], &clusters[j]);
        clusters[i] = union;
        ids[i] = n + steps.len() - 1;
        clusters.swap_remove(j);
        ids.swap_remove(j);
        let union = &clusters[i];
        let others = &clusters;
        pairs.merged(i, j, |k| criterion.cost(union, &others[k], &mut w));
    }
    Some(Merges { n, steps })
}

/// mclust's `hcUse = "SVD"`: columns centered and scaled to unit standard
/// deviation (columns without spread dropped), then rotated onto their
/// principal axes and each axis divided by the square root of its singular
/// value. Returns the rows and their number of columns. Axes whose
/// singular value is zero to rounding (columns that repeat others) are
/// dropped, where mclust's would be infinite.
pub fn svd_transform(x: &[f64], d: usize) -> (Vec<f64>, usize) {
    let n = x.len() / d;
    let mut cols: Vec<Vec<f64>> = Vec::new();
    for j in 0..d {
        let col: Vec<f64> = x.iter().skip(j).step_by(d).copied().collect();
        let mean = col.iter().sum::<f64>() / n as f64;
        let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n as f64 - 1.0);
        let sd = var.sqrt();
        if sd > 0.0 && sd.is_finite() {
            cols.push(col.iter().map(|v| (v - mean) / sd).collect());
        }
    }
    let p = cols.len();
    if p == 0 {
        return (vec![0.0; n], 1);
    }
    let gram = ndarray::Array2::from_shape_fn((p, p), |(a, b)| {
        cols[a]
            .iter()
            .zip(&cols[b])
            .map(|(u, v)| u * v)
            .sum::<f64>()
    });
    let (values, vectors) =
        crate::linalg::symmetric_eigen(gram.view()).expect("a finite Gram matrix");
    let top = values.iter().copied().fold(0.0, f64::max);
    let keep: Vec<usize> = (0..p)
        .filter(|&a| values[a] > top * f64::EPSILON * n.max(p) as f64)
        .collect();
    let q = keep.len();
    let mut z = vec![0.0; n * q];
    for (out, &a) in keep.iter().enumerate() {
        // Singular value sqrt(lambda); divide by its square root.
        let scale = values[a].powf(-0.25);
        for (b, col) in cols.iter().enumerate() {
            let v = vectors[(b, a)] * scale;
            for (i, &c) in col.iter().enumerate() {
                z[i * q + out] += c * v;
            }
        }
    }
    (z, q)
}

/// mclust's `qclass`: one column cut into `k` classes at its quantiles
/// (R's default, type 7), merging the closest cut points when ties leave
/// more; classes `0..k` from the smallest values up.
pub fn quantile_classes(x: &[f64], k: usize) -> Vec<usize> {
    let n = x.len();
    let mut sorted = x.to_vec();
    sorted.sort_by(f64::total_cmp);
    // R's type 7, with R's arithmetic: index = 1 + (n - 1) p, 1-based.
    let quantile = |p: f64| {
        let index = 1.0 + (n - 1) as f64 * p;
        let lo = index.floor();
        let hi = index.ceil();
        let (a, b) = (sorted[lo as usize - 1], sorted[hi as usize - 1]);
        if index > lo && b != a {
            let h = index - lo;
            (1.0 - h) * a + h * b
        } else {
            a
        }
    };
    let mut q: Vec<f64> = Vec::new();
    let mut m = k;
    while q.len() < k + 1 && m < 2 * n + k + 2 {
        m += 1;
        q.clear();
        // seq(0, 1, length = m): t * by, at most 1.
        let by = 1.0 / (m - 1) as f64;
        for t in 0..m {
            let v = quantile((t as f64 * by).min(1.0));
            if !q.contains(&v) {
                q.push(v);
            }
        }
    }
    if q.len() > k + 1 {
        // Drop the left end of each of the smallest gaps (R's stable order).
        let mut order: Vec<usize> = (0..q.len() - 1).collect();
        order.sort_by(|&a, &b| (q[a + 1] - q[a]).total_cmp(&(q[b + 1] - q[b])));
        let drop: Vec<usize> = order[..q.len() - k - 1].to_vec();
        q = q
            .iter()
            .enumerate()
            .filter(|(i, _)| !drop.contains(i))
            .map(|(_, &v)| v)
            .collect();
    }
    let mean = x.iter().sum::<f64>() / n as f64;
    let sd = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n as f64 - 1.0)).sqrt();
    let eps = sd * f64::EPSILON.sqrt();
    let last = q.len() - 1;
    q[0] = sorted[0] - eps;
    q[last] = sorted[n - 1] + eps;
    x.iter()
        .map(|&v| {
            // Past the last cut point when `max + eps` rounds to `max`
            // (values far from zero for their spread): the top class.
            (0..last).find(|&c| v >= q[c] && v < q[c + 1]).unwrap_or(
                if v >= q[last.saturating_sub(1)] {
                    last.saturating_sub(1)
                } else {
                    0
                },
            )
        })
        .collect()
}

#[cfg(test)]
mod tests;
