//! A mixture laid out for the E-step kernels ([`crate::kernel`]), and the
//! scalar log-sum-exp used where a row needs special care.

use crate::covariance::{CovarianceType, Covariances};
use crate::model::GaussianMixture;

const LN_2PI: f64 = 1.837_877_066_409_345_3;

/// Flat means and precision factors, relative to a center `c` that the data
/// blocks are shifted by, and the per-component constant
/// `ln pi_k + ln det P_k - d/2 ln 2 pi`.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub k: usize,
    pub d: usize,
    pub covariance_type: CovarianceType,
    /// The center the data is shifted by.
    pub center: Vec<f64>,
    /// `K x d`, the means themselves.
    pub means: Vec<f64>,
    /// `K x d`, the means minus the center.
    pub means_c: Vec<f64>,
    /// Full: `K x d x d` upper factors, row-major; tied: `d x d`; diag:
    /// `K x d`; spherical: `K`.
    pub precision: Vec<f64>,
    pub log_const: Vec<f64>,
}

impl Prepared {
    /// Centered on the mixture's mean `sum_k pi_k mu_k`, which lies among the data.
    pub fn new(model: &GaussianMixture) -> Self {
        let center = model.means().t().dot(model.weights()).to_vec();
        Prepared::with_center(model, &center)
    }

    pub fn with_center(model: &GaussianMixture, center: &[f64]) -> Self {
        let (k, d) = model.means().dim();
        let means: Vec<f64> = model.means().iter().copied().collect();
        let means_c = means
            .iter()
            .enumerate()
            .map(|(i, m)| m - center[i % d])
            .collect();
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
            center: center.to_vec(),
            means,
            means_c,
            precision,
            log_const,
        }
    }
}

/// Max-shifted log-sum-exp of one row of weighted log-probabilities. On return
/// `row` holds the posterior probabilities, and the result is `ln p(x)`.
pub(crate) fn log_sum_exp_normalize(row: &mut [f64]) -> f64 {
    let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        // No component gives the row any density (or a value overflowed);
        // spread it evenly.
        let u = 1.0 / row.len() as f64;
        row.iter_mut().for_each(|r| *r = u);
        return if max.is_nan() {
            f64::NAN
        } else {
            f64::NEG_INFINITY
        };
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
    use crate::kernel::{BLOCK, Block, log_prob, normalize};
    use ndarray::{Array2, array};

    #[test]
    fn log_sum_exp_is_shift_invariant_and_normalizes() {
        let mut row = [-1000.0, -1001.0, -1002.0];
        let lse = log_sum_exp_normalize(&mut row);
        let want = -1000.0 + (1.0 + (-1.0f64).exp() + (-2.0f64).exp()).ln();
        assert!((lse - want).abs() < 1e-12);
        assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-15);
        assert!(row[0] > row[1] && row[1] > row[2]);
    }

    /// The kernels against the density written out, for every covariance type.
    #[test]
    fn kernels_match_closed_form_densities() {
        let dense = [
            array![[2.0, 0.5, 0.1], [0.5, 1.0, -0.2], [0.1, -0.2, 0.7]],
            array![[1.0, 0.0, 0.3], [0.0, 0.5, 0.0], [0.3, 0.0, 2.0]],
        ];
        let means = array![[1.0, -1.0, 0.5], [0.0, 2.0, -3.0]];
        let weights = [0.3, 0.7];
        let rows: Vec<[f64; 3]> = (0..11)
            .map(|i| [i as f64 * 0.3 - 1.0, (i as f64).sin(), 0.1 * i as f64])
            .collect();
        for t in CovarianceType::ALL {
            let cov = Covariances::from_dense(t, &dense, &weights);
            let model = GaussianMixture::new(array![0.3, 0.7], means.clone(), cov.clone()).unwrap();
            let prep = Prepared::new(&model);
            let x: Vec<f64> = rows.iter().flatten().copied().collect();
            let mut block = Block::default();
            block.load(&x, 3, &prep.center);
            let mut lp = vec![0.0; 2 * BLOCK];
            log_prob(&prep, &block, &mut lp);
            for (i, xi) in rows.iter().enumerate() {
                for k in 0..2 {
                    let s = cov.dense(k, 3);
                    let want = log_density(&s, &means.row(k).to_vec(), xi) + weights[k].ln();
                    let got = lp[k * BLOCK + i];
                    assert!(
                        (got - want).abs() < 1e-12 * want.abs().max(1.0),
                        "{t} row {i} k {k}: {got} vs {want}"
                    );
                }
            }
            let mut log_norm = vec![0.0; BLOCK];
            normalize(&mut lp, 2, &mut log_norm);
            for i in 0..rows.len() {
                assert!((lp[i] + lp[BLOCK + i] - 1.0).abs() < 1e-14);
            }
        }
    }

    /// `ln N(x | mu, S)` by Cholesky, independently of the kernels.
    fn log_density(s: &Array2<f64>, mu: &[f64], x: &[f64]) -> f64 {
        let l = crate::linalg::cholesky_lower(s.view()).unwrap();
        let d = mu.len();
        // Solve L y = x - mu.
        let mut y = vec![0.0; d];
        for i in 0..d {
            let mut v = x[i] - mu[i];
            for j in 0..i {
                v -= l[(i, j)] * y[j];
            }
            y[i] = v / l[(i, i)];
        }
        let m: f64 = y.iter().map(|v| v * v).sum();
        let log_det: f64 = (0..d).map(|i| 2.0 * l[(i, i)].ln()).sum();
        -0.5 * (d as f64 * LN_2PI + log_det + m)
    }
}
