//! The families with one orientation shared by components of their own
//! shapes, `EVE` (`lambda D A_k D^T`) and `VVE` (`D C_k D^T`, `C_k =
//! lambda_k A_k`): no closed form. Given `D`, the best shapes are the
//! diagonals of `D^T S_k D` (scaled to determinant 1 and one shared volume
//! for `EVE`); given the shapes, `D` minimizes `sum_k n_k sum_j d_j^T S_k
//! d_j / c_kj` over orthogonal matrices, which Jacobi rotations do one
//! plane at a time, each the exact minimum in its plane.

use ndarray::Array2;

use super::{
    MAX_ITERATIONS, TOLERANCE, compose, eigen_decreasing, geometric_mean, relative_change,
};
use crate::covariance::CovarianceType;

/// Most sweeps over all planes for one orientation update.
const MAX_SWEEPS: usize = 100;

/// The covariances of `EVE` or `VVE` from the estimates `s` and the
/// components' total responsibilities `n`, starting from the orientation
/// of the pooled estimate.
pub(super) fn common(family: CovarianceType, s: &[Array2<f64>], n: &[f64]) -> Vec<Array2<f64>> {
    let pooled = super::weighted_sum(s, |k| n[k]);
    let (_, mut orientation) = eigen_decreasing(pooled.view());
    let scatter: Vec<Array2<f64>> = s.iter().zip(n).map(|(m, n)| m * *n).collect();
    let mut c = diagonals(family, s, n, &orientation);
    for _ in 0..MAX_ITERATIONS {
        orientation = rotate(&scatter, &c, orientation);
        let next = diagonals(family, s, n, &orientation);
        let change = relative_change(c.iter().flatten(), next.iter().flatten());
        c = next;
        if change.is_nan() || change <= TOLERANCE {
            break;
        }
    }
    c.iter().map(|ck| compose(&orientation, ck)).collect()
}

/// The best `c_kj` given the orientation: the diagonal of `D^T S_k D`,
/// and for `EVE` that diagonal scaled to determinant 1 times the shared
/// volume `sum_k n_k |diag|^(1/d) / n`.
fn diagonals(
    family: CovarianceType,
    s: &[Array2<f64>],
    n: &[f64],
    orientation: &Array2<f64>,
) -> Vec<Vec<f64>> {
    let m: Vec<Vec<f64>> = s
        .iter()
        .map(|sk| orientation.t().dot(sk).dot(orientation).diag().to_vec())
        .collect();
    if family == CovarianceType::Vve {
        return m;
    }
    let g: Vec<f64> = m.iter().map(|mk| geometric_mean(mk.iter())).collect();
    let total: f64 = n.iter().sum();
    let lambda = g.iter().zip(n).map(|(g, n)| g * n).sum::<f64>() / total;
    m.iter()
        .zip(&g)
        .map(|(mk, g)| mk.iter().map(|v| lambda * v / g).collect())
        .collect()
}

/// The orientation minimizing `sum_k sum_j d_j^T W_k d_j / c_kj`, from
/// `orientation` by Jacobi sweeps. Rotating columns `i, j` by `theta`
/// changes the sum by `P cos 2theta + Q sin 2theta` (less its value at
/// 0), with `P = sum_k (T_ii - T_jj) / 2 (1/c_ki - 1/c_kj)` and `Q = sum_k
/// T_ij (1/c_ki - 1/c_kj)` over `T = D^T W_k D`: least at `(cos, sin)(2
/// theta) = -(P, Q) / hypot(P, Q)`.
pub(super) fn rotate(w: &[Array2<f64>], c: &[Vec<f64>], orientation: Array2<f64>) -> Array2<f64> {
    let d = orientation.nrows();
    let mut dm = orientation;
    let mut t: Vec<Array2<f64>> = w.iter().map(|wk| dm.t().dot(wk).dot(&dm)).collect();
    for _ in 0..MAX_SWEEPS {
        let mut largest = 0.0f64;
        for i in 0..d {
            for j in i + 1..d {
                let (mut p, mut q) = (0.0, 0.0);
                for (tk, ck) in t.iter().zip(c) {
                    let gap = 1.0 / ck[i] - 1.0 / ck[j];
                    p += 0.5 * (tk[(i, i)] - tk[(j, j)]) * gap;
                    q += tk[(i, j)] * gap;
                }
                let r = p.hypot(q);
                if r.is_nan() || r <= 0.0 {
                    continue;
                }
                let theta = 0.5 * (-q).atan2(-p);
                largest = largest.max(theta.abs());
                let (sin, cos) = theta.sin_cos();
                rotate_columns(&mut dm, i, j, cos, sin);
                for tk in &mut t {
                    rotate_columns(tk, i, j, cos, sin);
                    rotate_rows(tk, i, j, cos, sin);
                }
            }
        }
        if largest <= TOLERANCE {
            break;
        }
    }
    dm
}

/// Columns `i, j` become `cos a_i + sin a_j` and `-sin a_i + cos a_j`.
fn rotate_columns(a: &mut Array2<f64>, i: usize, j: usize, cos: f64, sin: f64) {
    for r in 0..a.nrows() {
        let (x, y) = (a[(r, i)], a[(r, j)]);
        a[(r, i)] = cos * x + sin * y;
        a[(r, j)] = -sin * x + cos * y;
    }
}

fn rotate_rows(a: &mut Array2<f64>, i: usize, j: usize, cos: f64, sin: f64) {
    for col in 0..a.ncols() {
        let (x, y) = (a[(i, col)], a[(j, col)]);
        a[(i, col)] = cos * x + sin * y;
        a[(j, col)] = -sin * x + cos * y;
    }
}
