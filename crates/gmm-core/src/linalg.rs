//! Small dense linear algebra on `d x d` matrices, delegated to faer.

use faer::linalg::triangular_inverse::invert_lower_triangular;
use faer::{Mat, MatRef, Par, Side};
use ndarray::{Array2, ArrayView2};

fn to_faer(a: ArrayView2<'_, f64>) -> Mat<f64> {
    Mat::from_fn(a.nrows(), a.ncols(), |i, j| a[(i, j)])
}

fn from_faer(a: MatRef<'_, f64>) -> Array2<f64> {
    Array2::from_shape_fn((a.nrows(), a.ncols()), |(i, j)| a[(i, j)])
}

/// Smallest accepted `L_jj^2 / a_jj`: the share of column `j`'s variance not
/// explained by the columns before it. Below it the matrix is singular to
/// working precision (a column is a combination of others, or a component
/// collapsed onto a subspace) and densities computed from it would be noise.
/// The test is per column, so columns of very different scales are fine.
pub const MIN_RELATIVE_PIVOT: f64 = 1e-12;

/// The lower Cholesky factor `L` with `a = L L^T`, or `None` when `a` is not
/// numerically positive definite (see [`MIN_RELATIVE_PIVOT`]) or holds
/// non-finite values.
pub fn cholesky_lower(a: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
    if a.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let llt = to_faer(a).llt(Side::Lower).ok()?;
    let l = from_faer(llt.L());
    let ok = (0..l.nrows()).all(|i| {
        let p = l[(i, i)];
        p.is_finite() && p > 0.0 && p * p >= MIN_RELATIVE_PIVOT * a[(i, i)]
    });
    ok.then_some(l)
}

/// The upper-triangular precision Cholesky factor `P = L^-T` of a covariance
/// `Sigma = L L^T`, so that `Sigma^-1 = P P^T` (scikit-learn's
/// `precisions_cholesky_`).
pub fn precision_cholesky(cov: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
    precision_from_lower(&cholesky_lower(cov)?)
}

/// The precision Cholesky factor `P = L^-T` from the covariance's lower
/// Cholesky factor `L` (as [`cholesky_lower`] gives it), or `None` when an
/// entry of `P` is not finite.
pub fn precision_from_lower(l: &Array2<f64>) -> Option<Array2<f64>> {
    let d = l.nrows();
    let lf = to_faer(l.view());
    let mut inv = Mat::<f64>::zeros(d, d);
    invert_lower_triangular(inv.as_mut(), lf.as_ref(), Par::Seq);
    // P = (L^-1)^T; only the lower triangle of `inv` is meaningful.
    let p = Array2::from_shape_fn((d, d), |(i, j)| if i <= j { inv[(j, i)] } else { 0.0 });
    p.iter().all(|v| v.is_finite()).then_some(p)
}

/// The covariance `(P P^T)^-1` from an upper-triangular precision Cholesky factor.
pub fn covariance_from_precision_cholesky(p: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
    let d = p.nrows();
    // P upper => P^T lower; P^-T = (P^T)^-1 is lower, and Sigma = P^-T P^-1.
    let pt = Mat::from_fn(d, d, |i, j| if i >= j { p[(j, i)] } else { 0.0 });
    let mut inv = Mat::<f64>::zeros(d, d);
    invert_lower_triangular(inv.as_mut(), pt.as_ref(), Par::Seq);
    let inv = Mat::from_fn(d, d, |i, j| if i >= j { inv[(i, j)] } else { 0.0 });
    let cov = &inv * inv.transpose();
    let out = from_faer(cov.as_ref());
    out.iter().all(|v| v.is_finite()).then_some(out)
}

/// Whether every entry of `a` is within `rtol` of `b`'s, measured against
/// `b`'s largest magnitude (a NaN is never within).
pub fn within(a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>, rtol: f64) -> bool {
    let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    a.iter().zip(b).all(|(x, y)| (x - y).abs() <= rtol * scale)
}

/// Eigenvalues (ascending) and eigenvectors (columns) of a symmetric matrix.
pub fn symmetric_eigen(a: ArrayView2<'_, f64>) -> Option<(Vec<f64>, Array2<f64>)> {
    if a.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let evd = to_faer(a).self_adjoint_eigen(Side::Lower).ok()?;
    let values = (0..a.nrows()).map(|i| evd.S()[i]).collect();
    Some((values, from_faer(evd.U())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn precision_cholesky_inverts_covariance() {
        let cov = array![[4.0, 1.2, 0.3], [1.2, 2.0, -0.4], [0.3, -0.4, 1.5]];
        let p = precision_cholesky(cov.view()).unwrap();
        // P is upper triangular and cov * P P^T = I.
        assert_eq!(p[(1, 0)], 0.0);
        let prec = p.dot(&p.t());
        let id = cov.dot(&prec);
        for i in 0..3 {
            for j in 0..3 {
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((id[(i, j)] - want).abs() < 1e-12, "{id:?}");
            }
        }
        let back = covariance_from_precision_cholesky(p.view()).unwrap();
        for (a, b) in back.iter().zip(cov.iter()) {
            assert!((a - b).abs() < 1e-12);
        }
    }

    #[test]
    fn singular_matrix_has_no_cholesky() {
        let cov = array![[1.0, 1.0], [1.0, 1.0]];
        assert!(precision_cholesky(cov.view()).is_none());
        // Singular up to rounding: the second column repeats the first.
        let x = [0.1f64, 0.7, -0.3, 1.9];
        let s = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| p * q).sum::<f64>();
        let y: Vec<f64> = x.iter().map(|v| v * 3.0 + 1e-17).collect();
        let near = array![[s(&x, &x), s(&x, &y)], [s(&y, &x), s(&y, &y)]];
        assert!(cholesky_lower(near.view()).is_none(), "{near:?}");
        // Very different scales are not singular.
        let scaled = array![[1e12, 0.5], [0.5, 1e-12]];
        assert!(cholesky_lower(scaled.view()).is_some());
        let nan = array![[f64::NAN, 0.0], [0.0, 1.0]];
        assert!(cholesky_lower(nan.view()).is_none());
    }

    #[test]
    fn eigen_of_diagonal() {
        let a = array![[3.0, 0.0], [0.0, 1.0]];
        let (vals, _) = symmetric_eigen(a.view()).unwrap();
        assert!((vals[0] - 1.0).abs() < 1e-14 && (vals[1] - 3.0).abs() < 1e-14);
    }
}
