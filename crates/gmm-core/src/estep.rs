//! The E-step on a block of rows: weighted log-densities
//! `ln pi_k + ln N(x | mu_k, Sigma_k)` of every row under every component, and
//! their max-shifted log-sum-exp. Written once; fit, predict and score use it.

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

use crate::covariance::{CovarianceType, Covariances};
use crate::model::GaussianMixture;

const LN_2PI: f64 = 1.837_877_066_409_345_3;

/// A mixture laid out for the E-step kernels: flat row-major means and
/// precision factors, and the per-component constant
/// `ln pi_k + ln det P_k - d/2 ln 2 pi`.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub k: usize,
    pub d: usize,
    pub covariance_type: CovarianceType,
    /// `K x d`.
    pub means: Vec<f64>,
    /// Full: `K x d x d` upper factors; tied: `d x d`; diag: `K x d`; spherical: `K`.
    pub precision: Vec<f64>,
    pub log_const: Vec<f64>,
}

impl Prepared {
    pub fn new(model: &GaussianMixture) -> Self {
        let (k, d) = model.means().dim();
        let means = model.means().iter().copied().collect();
        let p = model.precisions_cholesky();
        let precision: Vec<f64> = p.values().collect();
        let log_det: Vec<f64> = match p {
            Covariances::Full(p) => p
                .outer_iter()
                .map(|pk| (0..d).map(|i| pk[(i, i)].ln()).sum())
                .collect(),
            Covariances::Tied(p) => {
                let ld: f64 = (0..d).map(|i| p[(i, i)].ln()).sum();
                vec![ld; k]
            }
            Covariances::Diag(p) => p
                .outer_iter()
                .map(|pk| pk.iter().map(|v| v.ln()).sum())
                .collect(),
            Covariances::Spherical(p) => p.iter().map(|v| d as f64 * v.ln()).collect(),
        };
        let log_const = model
            .weights()
            .iter()
            .zip(&log_det)
            .map(|(w, ld)| w.ln() + ld - 0.5 * d as f64 * LN_2PI)
            .collect();
        Prepared {
            k,
            d,
            covariance_type: model.covariance_type(),
            means,
            precision,
            log_const,
        }
    }

    pub fn mean(&self, k: usize) -> &[f64] {
        &self.means[k * self.d..(k + 1) * self.d]
    }

    /// Writes `ln pi_k + ln N(x_i | k)` for the `rows` rows of `x` into `out`
    /// (`rows x K`, row-major). `scratch` is grown as needed.
    pub fn weighted_log_prob(
        &self,
        x: &[f64],
        rows: usize,
        out: &mut [f64],
        scratch: &mut Vec<f64>,
    ) {
        let (k_total, d) = (self.k, self.d);
        debug_assert_eq!(x.len(), rows * d);
        debug_assert_eq!(out.len(), rows * k_total);
        match self.covariance_type {
            CovarianceType::Full | CovarianceType::Tied => {
                scratch.resize(2 * rows * d, 0.0);
                let (z, y) = scratch.split_at_mut(rows * d);
                for k in 0..k_total {
                    let mu = self.mean(k);
                    center(x, mu, z);
                    let p = match self.covariance_type {
                        CovarianceType::Full => &self.precision[k * d * d..(k + 1) * d * d],
                        _ => &self.precision[..],
                    };
                    matmul(
                        MatMut::from_row_major_slice_mut(&mut y[..], rows, d),
                        Accum::Replace,
                        MatRef::from_row_major_slice(z, rows, d),
                        MatRef::from_row_major_slice(p, d, d),
                        1.0,
                        Par::Seq,
                    );
                    let c = self.log_const[k];
                    for (i, yi) in y.chunks_exact(d).enumerate() {
                        out[i * k_total + k] = c - 0.5 * sum_squares(yi);
                    }
                }
            }
            CovarianceType::Diag => {
                for (xi, oi) in x.chunks_exact(d).zip(out.chunks_exact_mut(k_total)) {
                    for k in 0..k_total {
                        let mu = self.mean(k);
                        let p = &self.precision[k * d..(k + 1) * d];
                        let mut s = 0.0;
                        for j in 0..d {
                            let t = (xi[j] - mu[j]) * p[j];
                            s += t * t;
                        }
                        oi[k] = self.log_const[k] - 0.5 * s;
                    }
                }
            }
            CovarianceType::Spherical => {
                for (xi, oi) in x.chunks_exact(d).zip(out.chunks_exact_mut(k_total)) {
                    for k in 0..k_total {
                        let mu = self.mean(k);
                        let mut s = 0.0;
                        for j in 0..d {
                            let t = xi[j] - mu[j];
                            s += t * t;
                        }
                        let p = self.precision[k];
                        oi[k] = self.log_const[k] - 0.5 * s * p * p;
                    }
                }
            }
        }
    }
}

/// `z_i = x_i - mu` for every row.
pub(crate) fn center(x: &[f64], mu: &[f64], z: &mut [f64]) {
    let d = mu.len();
    for (zi, xi) in z.chunks_exact_mut(d).zip(x.chunks_exact(d)) {
        for j in 0..d {
            zi[j] = xi[j] - mu[j];
        }
    }
}

fn sum_squares(v: &[f64]) -> f64 {
    v.iter().map(|a| a * a).sum()
}

/// Max-shifted log-sum-exp of one row of weighted log-probabilities. On return
/// `row` holds the posterior probabilities, and the result is `ln p(x)`.
#[inline]
pub(crate) fn log_sum_exp_normalize(row: &mut [f64]) -> f64 {
    let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        // No component gives the row any density; spread it evenly.
        let u = 1.0 / row.len() as f64;
        row.iter_mut().for_each(|r| *r = u);
        return f64::NEG_INFINITY;
    }
    let mut sum = 0.0;
    for r in row.iter_mut() {
        *r = (*r - max).exp();
        sum += *r;
    }
    let inv = 1.0 / sum;
    row.iter_mut().for_each(|r| *r *= inv);
    max + sum.ln()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array3, array};

    #[test]
    fn log_sum_exp_is_shift_invariant_and_normalizes() {
        let mut row = [-1000.0, -1001.0, -1002.0];
        let lse = log_sum_exp_normalize(&mut row);
        let want = -1000.0 + (1.0 + (-1.0f64).exp() + (-2.0f64).exp()).ln();
        assert!((lse - want).abs() < 1e-12);
        assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-15);
        assert!(row[0] > row[1] && row[1] > row[2]);
    }

    #[test]
    fn full_density_matches_closed_form() {
        // One 2-d component with covariance [[2, 0.5], [0.5, 1]].
        let cov = array![[2.0, 0.5], [0.5, 1.0]];
        let model = GaussianMixture::new(
            array![1.0],
            array![[1.0, -1.0]],
            Covariances::Full(
                Array3::from_shape_vec((1, 2, 2), cov.iter().copied().collect()).unwrap(),
            ),
        )
        .unwrap();
        let prep = Prepared::new(&model);
        let x = [2.0, 0.5];
        let mut out = [0.0];
        prep.weighted_log_prob(&x, 1, &mut out, &mut Vec::new());
        let det: f64 = 2.0 * 1.0 - 0.25;
        let inv = [[1.0 / det, -0.5 / det], [-0.5 / det, 2.0 / det]];
        let dx = [1.0, 1.5];
        let m = dx[0] * (inv[0][0] * dx[0] + inv[0][1] * dx[1])
            + dx[1] * (inv[1][0] * dx[0] + inv[1][1] * dx[1]);
        let want = -0.5 * (2.0 * LN_2PI + det.ln() + m);
        assert!((out[0] - want).abs() < 1e-13, "{} vs {want}", out[0]);
    }
}
