//! The plane `clusters.svg` draws the rows in: two columns as they are, or
//! the two leading principal axes of the rows' weighted covariance.

use anyhow::{Result, anyhow};
use gmm_core::DataView;
use ndarray::Array2;
use rayon::prelude::*;

/// Rows per chunk of the moment pass (fixed, so results do not depend on threads).
const MOMENT_CHUNK_ROWS: usize = 8192;

/// The plane the rows are drawn in: `V^T (x - centre)` for two orthonormal
/// columns of `V`.
pub(super) struct Axes {
    centre: Option<Vec<f64>>,
    /// `d x 2`; `None` for the first two columns as they are.
    basis: Option<Array2<f64>>,
    /// The share of the total variance along each axis (principal axes only).
    pub(super) explained: [Option<f64>; 2],
}

impl Axes {
    pub(super) fn identity() -> Axes {
        Axes {
            centre: None,
            basis: None,
            explained: [None, None],
        }
    }

    /// The two leading eigenvectors of the rows' weighted covariance.
    pub(super) fn principal(data: DataView<'_>) -> Result<Axes> {
        let d = data.n_features();
        let (mean, cov) = weighted_moments(data);
        let (values, vectors) = gmm_core::linalg::symmetric_eigen(cov.view())
            .ok_or_else(|| anyhow!("drawing clusters.svg: the data's covariance is not finite"))?;
        let mut order: Vec<usize> = (0..d).collect();
        order.sort_by(|&i, &j| values[j].total_cmp(&values[i]));
        let total: f64 = values.iter().map(|v| v.max(0.0)).sum();
        let mut basis = Array2::zeros((d, 2));
        let mut explained = [None, None];
        for (axis, &i) in order.iter().take(2).enumerate() {
            let mut v = vectors.column(i).to_owned();
            // A fixed sign: the largest entry in magnitude is positive.
            let big = v
                .iter()
                .copied()
                .fold(0.0f64, |m, x| if x.abs() > m.abs() { x } else { m });
            if big < 0.0 {
                v.mapv_inplace(|x| -x);
            }
            basis.column_mut(axis).assign(&v);
            if total > 0.0 {
                explained[axis] = Some(values[i].max(0.0) / total);
            }
        }
        Ok(Axes {
            centre: Some(mean),
            basis: Some(basis),
            explained,
        })
    }

    pub(super) fn project(&self, x: &[f64]) -> (f64, f64) {
        match (&self.basis, &self.centre) {
            (Some(v), Some(c)) => {
                let (mut p, mut q) = (0.0, 0.0);
                for j in 0..x.len() {
                    let centred = x[j] - c[j];
                    p += v[(j, 0)] * centred;
                    q += v[(j, 1)] * centred;
                }
                (p, q)
            }
            _ => (x[0], x[1]),
        }
    }

    /// `V^T Sigma V`.
    pub(super) fn project_covariance(&self, cov: &Array2<f64>) -> [[f64; 2]; 2] {
        match &self.basis {
            Some(v) => {
                let p = v.t().dot(cov).dot(v);
                let off = 0.5 * (p[(0, 1)] + p[(1, 0)]);
                [[p[(0, 0)], off], [off, p[(1, 1)]]]
            }
            None => [[cov[(0, 0)], cov[(0, 1)]], [cov[(1, 0)], cov[(1, 1)]]],
        }
    }
}

/// The weighted mean and covariance of the rows, in two passes over fixed
/// chunks reduced in order (the same for any thread count).
///
/// Computed here because gmm-core offers no public equivalent: its data
/// summary keeps only the columns' variances, and a one-component full fit
/// adds `reg_covar` and fails on the singular covariances of collinear
/// columns, which principal axes handle.
fn weighted_moments(data: DataView<'_>) -> (Vec<f64>, Array2<f64>) {
    let d = data.n_features();
    let n = data.n_rows();
    let weight_of = |data: DataView<'_>, i: usize| {
        if data.row(i).iter().any(f64::is_nan) {
            0.0
        } else {
            data.weight(i)
        }
    };
    let chunks: Vec<(usize, usize)> = (0..n)
        .step_by(MOMENT_CHUNK_ROWS)
        .map(|s| (s, (s + MOMENT_CHUNK_ROWS).min(n)))
        .collect();
    let sums: Vec<(f64, Vec<f64>)> = chunks
        .par_iter()
        .map(|&(s, e)| {
            let mut w_sum = 0.0;
            let mut x_sum = vec![0.0; d];
            for i in s..e {
                // Rows with a missing value (NaN) have no place on the axes.
                let w = weight_of(data, i);
                w_sum += w;
                if w > 0.0 {
                    for (acc, x) in x_sum.iter_mut().zip(data.row(i).iter()) {
                        *acc += w * x;
                    }
                }
            }
            (w_sum, x_sum)
        })
        .collect();
    let mut total = 0.0;
    let mut mean = vec![0.0; d];
    for (w, x) in &sums {
        total += w;
        for (m, v) in mean.iter_mut().zip(x) {
            *m += v;
        }
    }
    let total = if total > 0.0 { total } else { 1.0 };
    mean.iter_mut().for_each(|m| *m /= total);
    let parts: Vec<Array2<f64>> = chunks
        .par_iter()
        .map(|&(s, e)| {
            let mut acc = Array2::<f64>::zeros((d, d));
            let mut centred = vec![0.0; d];
            for i in s..e {
                let w = weight_of(data, i);
                if w <= 0.0 {
                    continue;
                }
                for (c, (x, &m)) in centred.iter_mut().zip(data.row(i).iter().zip(&mean)) {
                    *c = x - m;
                }
                for a in 0..d {
                    let wa = w * centred[a];
                    for b in a..d {
                        acc[(a, b)] += wa * centred[b];
                    }
                }
            }
            acc
        })
        .collect();
    let mut cov = Array2::<f64>::zeros((d, d));
    for p in &parts {
        cov += p;
    }
    for a in 0..d {
        for b in a..d {
            let v = cov[(a, b)] / total;
            cov[(a, b)] = v;
            cov[(b, a)] = v;
        }
    }
    (mean, cov)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principal_axes_are_the_leading_eigenvectors() {
        // Rows spread along (1, 1, 0) mostly and (0, 0, 1) a little.
        let mut x = Vec::new();
        for i in 0..100 {
            let t = (i as f64 - 50.0) / 10.0;
            x.extend_from_slice(&[t, t, 0.5]);
            x.extend_from_slice(&[t, t, -0.5]);
        }
        let axes = Axes::principal(DataView::new(&x, 3).unwrap()).unwrap();
        let v = axes.basis.unwrap();
        let h = std::f64::consts::FRAC_1_SQRT_2;
        assert!(
            (v[(0, 0)] - h).abs() < 1e-9 && (v[(1, 0)] - h).abs() < 1e-9,
            "{v:?}"
        );
        assert!((v[(2, 1)].abs() - 1.0).abs() < 1e-9);
        let share = axes.explained[0].unwrap() + axes.explained[1].unwrap();
        assert!((share - 1.0).abs() < 1e-12);
    }
}
