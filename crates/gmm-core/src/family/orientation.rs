//! The families with one orientation shared by components of their own
//! shapes, `EVE` (`lambda D A_k D^T`) and `VVE` (`D C_k D^T`, `C_k =
//! lambda_k A_k`): no closed form. Given `D`, the best shapes are the
//! diagonals of `D^T S_k D` (scaled to determinant 1 and one shared volume
//! for `EVE`); given the shapes, `D` minimizes `sum_k n_k sum_j d_j^T S_k
//! d_j / c_kj` over orthogonal matrices, which Jacobi rotations do one
//! plane at a time, each the exact minimum in its plane.

use ndarray::Array2;

use super::{TOLERANCE, compose, eigen_decreasing, geometric_mean, relative_change};
use crate::covariance::CovarianceType;

/// The least gain of the minimized sum, relative to it, worth a rotation.
const NEGLIGIBLE: f64 = 1e-15;

/// The most rounds of one M-step. Where the shapes nearly tie the
/// orientation converges slowly; the rounds of the next M-step go on
/// from where these stopped, and each round lowers the objective.
const MAX_ROUNDS: usize = 50;

/// The covariances of `EVE` or `VVE` from the estimates `s` and the
/// components' total responsibilities `n`, starting from the orientation
/// of `previous` (the last iteration's covariances, which share one; it is
/// found again from them, as the model holds covariances, not their
/// decomposition) when given.
pub(super) fn common(
    family: CovarianceType,
    s: &[Array2<f64>],
    n: &[f64],
    previous: Option<&[Array2<f64>]>,
) -> Vec<Array2<f64>> {
    let start = previous
        .filter(|p| p.len() == s.len())
        .map(|p| shared(family, p, n, None).0);
    let (orientation, c) = shared(family, s, n, start);
    c.iter().map(|ck| compose(&orientation, ck)).collect()
}

/// The shared orientation `D` and the diagonals `c_k` (`Sigma_k = D
/// diag(c_k) D^T`) that best fit the estimates `s`, from `start` or else
/// the orientation of the pooled estimate. Each round is one Jacobi sweep
/// and the diagonals it calls for; the rounds stop when no rotation gains
/// and no diagonal moves by more than [`TOLERANCE`], or after
/// [`MAX_ROUNDS`] (from the last iteration's orientation, the next M-step
/// goes on where this one stopped). Of covariances that share an
/// orientation, it finds that orientation (whatever ties their pooled
/// eigenvalues have). The rotated scatters `T_k = D^T W_k D` are kept
/// across rounds, rotated with `D`.
pub(super) fn shared(
    family: CovarianceType,
    s: &[Array2<f64>],
    n: &[f64],
    start: Option<Array2<f64>>,
) -> (Array2<f64>, Vec<Vec<f64>>) {
    let mut orientation = start.unwrap_or_else(|| {
        let pooled = super::weighted_sum(s, |k| n[k]);
        eigen_decreasing(pooled.view()).1
    });
    let mut t: Vec<Array2<f64>> = s
        .iter()
        .zip(n)
        .map(|(sk, nk)| orientation.t().dot(&(sk * *nk)).dot(&orientation))
        .collect();
    let mut c = diagonals(family, &t, n);
    for _ in 0..MAX_ROUNDS {
        let largest = sweep(&mut t, &c, &mut orientation);
        let next = diagonals(family, &t, n);
        let change = relative_change(c.iter().flatten(), next.iter().flatten());
        c = next;
        if (change.is_nan() || change <= TOLERANCE) && largest <= TOLERANCE {
            break;
        }
    }
    (orientation, c)
}

/// The best `c_kj` given the orientation: the diagonal of `D^T S_k D`
/// (`T_k / n_k`), and for `EVE` that diagonal scaled to determinant 1 times
/// the shared volume `sum_k n_k |diag|^(1/d) / n`.
fn diagonals(family: CovarianceType, t: &[Array2<f64>], n: &[f64]) -> Vec<Vec<f64>> {
    let m: Vec<Vec<f64>> = t
        .iter()
        .zip(n)
        .map(|(tk, nk)| tk.diag().iter().map(|v| v / nk).collect())
        .collect();
    if family == CovarianceType::Vve {
        return m;
    }
    let g: Vec<f64> = m.iter().map(|mk| geometric_mean(mk.iter())).collect();
    let lambda = super::shared_volume(&g, n);
    m.iter()
        .zip(&g)
        .map(|(mk, g)| mk.iter().map(|v| lambda * v / g).collect())
        .collect()
}

/// One Jacobi sweep over the planes `i, j` towards the orientation
/// minimizing `sum_k sum_j d_j^T W_k d_j / c_kj`, rotating `D` and `T_k =
/// D^T W_k D` alike; returns the largest angle turned. Rotating columns
/// `i, j` by `theta` changes the sum by `P cos 2theta + Q sin 2theta` (less
/// its value at 0), with `P = sum_k (T_ii - T_jj) / 2 (1/c_ki - 1/c_kj)` and
/// `Q = sum_k T_ij (1/c_ki - 1/c_kj)`: least at `(cos, sin)(2 theta) = -(P,
/// Q) / hypot(P, Q)`, a gain of `P + hypot(P, Q)`. A rotation that would
/// gain less than [`NEGLIGIBLE`] of the sum is not made: where two shapes
/// tie, the plane's angle is rounding noise.
fn sweep(t: &mut [Array2<f64>], c: &[Vec<f64>], orientation: &mut Array2<f64>) -> f64 {
    let d = orientation.nrows();
    // A component without a usable diagonal (singular, not finite) has no
    // say in the orientation: the others' must not stop for it.
    let usable: Vec<bool> = c
        .iter()
        .map(|ck| ck.iter().all(|v| v.is_finite() && *v > 0.0))
        .collect();
    let total: f64 = t
        .iter()
        .zip(c)
        .zip(&usable)
        .filter(|(_, ok)| **ok)
        .map(|((tk, ck), _)| (0..d).map(|j| tk[(j, j)] / ck[j]).sum::<f64>())
        .sum();
    let mut largest = 0.0f64;
    for i in 0..d {
        for j in i + 1..d {
            let (mut p, mut q) = (0.0, 0.0);
            for ((tk, ck), _) in t.iter().zip(c).zip(&usable).filter(|(_, ok)| **ok) {
                let gap = 1.0 / ck[i] - 1.0 / ck[j];
                p += 0.5 * (tk[(i, i)] - tk[(j, j)]) * gap;
                q += tk[(i, j)] * gap;
            }
            let gain = p + p.hypot(q);
            // Also when NaN, on either side.
            #[allow(clippy::neg_cmp_op_on_partial_ord)]
            if !(gain > NEGLIGIBLE * total.abs()) {
                continue;
            }
            let theta = 0.5 * (-q).atan2(-p);
            largest = largest.max(theta.abs());
            let (sin, cos) = theta.sin_cos();
            rotate_columns(orientation, i, j, cos, sin);
            for tk in t.iter_mut() {
                rotate_columns(tk, i, j, cos, sin);
                rotate_rows(tk, i, j, cos, sin);
            }
        }
    }
    largest
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
