//! mclust's constrained covariance families: the M-step that turns each
//! component's unconstrained covariance estimate into the member of a
//! family `Sigma_k = lambda_k D_k A_k D_k^T` that maximizes the expected
//! complete-data log-likelihood (Celeux & Govaert 1995), and the volume,
//! shape and orientation of a fitted model's covariances.
//!
//! The estimates are `S_k = W_k / n_k`, component `k`'s weighted scatter
//! about its new mean over its total responsibility, with `reg_covar` on
//! the diagonal (so a family member comes out, whatever `reg_covar`). The
//! M-step minimizes `sum_k n_k (log|Sigma_k| + tr(S_k Sigma_k^-1))` over
//! the family. `EII`, `EEI`, `EVI`, `EEV` and `EVV` have closed forms;
//! `VEI`, `VEE`, `VEV` alternate exact minimizations over the volumes and
//! the shared shape or matrix, and `EVE`, `VVE` over the shapes and the
//! shared orientation (Jacobi rotations, [`orientation`]), which start from
//! the last iteration's orientation. Each step of an iteration lowers the
//! objective; the iterations stop when no parameter moves by more than
//! [`TOLERANCE`] (relative) or after [`MAX_ITERATIONS`]. Everything is a function of the reduced
//! statistics alone, so the result is the same on every thread count and
//! rank.

mod decomposition;
mod orientation;
pub(crate) mod prior;

pub use decomposition::Decomposition;

use ndarray::{Array1, Array2, Array3, ArrayView2, Axis};

use crate::covariance::{CovarianceType, Covariances};

/// The iterative M-steps stop when no volume, shape or orientation entry
/// moves by more than this, relative to its size. mclust stops its own at
/// `sqrt(eps)`, about 1.5e-8; the tighter bound keeps EM's fixed point
/// where an exact M-step would put it.
pub const TOLERANCE: f64 = 1e-12;

/// The most iterations of an iterative M-step; each costs a few
/// operations on `K` matrices of `d x d`, none a pass over the data.
pub const MAX_ITERATIONS: usize = 1000;

/// The M-step of `family` from the estimates `estimate` (in the family's
/// storage: per-component variances, diagonals or matrices) and the
/// components' total responsibilities `n`. The four unconstrained families
/// return their estimates as they are.
pub(crate) fn constrain(family: CovarianceType, estimate: Covariances, n: &[f64]) -> Covariances {
    constrain_from(family, estimate, n, None)
}

/// [`constrain`], the iterative M-steps of `EVE` and `VVE` starting from
/// the orientation of `previous`, the covariances of the model whose
/// E-step gave the estimates (so that an M-step near EM's fixed point is a
/// round or two, and never ends worse than where it started).
pub(crate) fn constrain_from(
    family: CovarianceType,
    estimate: Covariances,
    n: &[f64],
    previous: Option<&Covariances>,
) -> Covariances {
    let total: f64 = n.iter().sum();
    match (family, estimate) {
        (CovarianceType::Eii, Covariances::Spherical(v)) => {
            let s = v.iter().zip(n).map(|(v, n)| v * n).sum::<f64>() / total;
            Covariances::Spherical(Array1::from_elem(v.len(), s))
        }
        (CovarianceType::Eei, Covariances::Diag(v)) => {
            let pooled = weighted_rows(&v, n, |_| 1.0 / total);
            Covariances::Diag(Array2::from_shape_fn(v.dim(), |(_, j)| pooled[j]))
        }
        (CovarianceType::Evi, Covariances::Diag(v)) => {
            let g: Vec<f64> = v.outer_iter().map(|r| geometric_mean(r.iter())).collect();
            let lambda = shared_volume(&g, n);
            Covariances::Diag(Array2::from_shape_fn(v.dim(), |(k, j)| {
                lambda * v[(k, j)] / g[k]
            }))
        }
        (CovarianceType::Vei, Covariances::Diag(v)) => Covariances::Diag(vei(&v, n)),
        (family, Covariances::Full(c)) if family.is_constrained() => {
            let s: Vec<Array2<f64>> = c.outer_iter().map(|m| m.to_owned()).collect();
            let sigma = match family {
                CovarianceType::Vee => vee(&s, n),
                CovarianceType::Eve | CovarianceType::Vve => {
                    let previous: Option<Vec<Array2<f64>>> = match previous {
                        Some(Covariances::Full(p)) => {
                            Some(p.outer_iter().map(|m| m.to_owned()).collect())
                        }
                        _ => None,
                    };
                    orientation::common(family, &s, n, previous.as_deref())
                }
                CovarianceType::Eev | CovarianceType::Vev => eev_vev(family, &s, n),
                CovarianceType::Evv => evv(&s, n),
                _ => unreachable!("the families held as full"),
            };
            Covariances::Full(stack(&sigma, c.dim()))
        }
        (_, estimate) => estimate,
    }
}

/// The member of `family` that its M-step makes of dense per-component
/// matrices, the components weighted by `weights`.
pub fn from_dense(family: CovarianceType, dense: &[Array2<f64>], weights: &[f64]) -> Covariances {
    constrain(
        family,
        Covariances::from_dense(family, dense, weights),
        weights,
    )
}

/// `sum_k f(k) n_k v_k` over the rows `v_k` of `v`.
fn weighted_rows(v: &Array2<f64>, n: &[f64], f: impl Fn(usize) -> f64) -> Vec<f64> {
    let mut out = vec![0.0; v.ncols()];
    for (k, row) in v.outer_iter().enumerate() {
        let w = n[k] * f(k);
        out.iter_mut().zip(row).for_each(|(o, x)| *o += w * x);
    }
    out
}

/// `(prod v)^(1/len)`, computed in logarithms.
pub(crate) fn geometric_mean<'a>(v: impl Iterator<Item = &'a f64>) -> f64 {
    let (sum, count) = v.fold((0.0, 0usize), |(s, c), x| (s + x.ln(), c + 1));
    (sum / count.max(1) as f64).exp()
}

/// `v` scaled to a geometric mean of 1 (a shape: determinant 1).
fn unit_determinant(v: &[f64]) -> Vec<f64> {
    let g = geometric_mean(v.iter());
    v.iter().map(|x| x / g).collect()
}

/// `|m|^(1/d)` of a positive definite matrix (NaN when it is not).
pub(crate) fn determinant_root(m: ArrayView2<'_, f64>) -> f64 {
    match crate::linalg::cholesky_lower(m) {
        Some(l) => geometric_mean(l.diag().iter()).powi(2),
        None => f64::NAN,
    }
}

/// The largest change from `old` to `new`, each entry relative to its
/// size (or to the largest entry's, for entries near zero).
fn relative_change<'a>(
    old: impl IntoIterator<Item = &'a f64>,
    new: impl IntoIterator<Item = &'a f64>,
) -> f64 {
    let pairs: Vec<(f64, f64)> = old
        .into_iter()
        .copied()
        .zip(new.into_iter().copied())
        .collect();
    let scale = pairs.iter().fold(0.0f64, |m, (_, b)| m.max(b.abs()));
    pairs
        .iter()
        .map(|(a, b)| (a - b).abs() / b.abs().max(1e-3 * scale).max(f64::MIN_POSITIVE))
        .fold(0.0, f64::max)
}

/// `VEI`: `Sigma_k = lambda_k B`, `B` diagonal with determinant 1.
fn vei(v: &Array2<f64>, n: &[f64]) -> Array2<f64> {
    let (lambda, b) = volumes_and_shape(v, n);
    Array2::from_shape_fn(v.dim(), |(c, j)| lambda[c] * b[j])
}

/// The volumes `lambda_k` and the shared shape `B` (determinant 1) that
/// best fit the rows `v_k` of per-component variances (along each axis)
/// as `lambda_k B`: alternates `lambda_k = mean_j(v_kj / B_j)` and `B ∝
/// sum_k n_k v_k / lambda_k`.
fn volumes_and_shape(v: &Array2<f64>, n: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let volumes = |b: &[f64]| -> Vec<f64> {
        v.outer_iter()
            .map(|row| row.iter().zip(b).map(|(x, b)| x / b).sum::<f64>() / b.len() as f64)
            .collect()
    };
    let mut b = unit_determinant(&weighted_rows(v, n, |_| 1.0));
    let mut lambda = volumes(&b);
    for _ in 0..MAX_ITERATIONS {
        let next = unit_determinant(&weighted_rows(v, n, |c| inverse_volume(lambda[c])));
        let next_lambda = volumes(&next);
        let change = relative_change(&b, &next).max(relative_change(&lambda, &next_lambda));
        (b, lambda) = (next, next_lambda);
        if change.is_nan() || change <= TOLERANCE {
            break;
        }
    }
    (lambda, b)
}

/// One volume for all components, `sum_k n_k g_k / n` over their own
/// volumes `g_k`; a singular component (no volume, or not a finite one,
/// as rounding can leave an estimate) adds none, so that only it fails.
pub(crate) fn shared_volume(g: &[f64], n: &[f64]) -> f64 {
    let total: f64 = n.iter().sum();
    g.iter()
        .zip(n)
        .filter(|(g, _)| g.is_finite() && **g > 0.0)
        .map(|(g, n)| g * n)
        .sum::<f64>()
        / total
}

/// `1 / lambda`, or 0 for a component without volume (collapsed onto a
/// point, or not finite): it then weighs nothing in the shared shape, and
/// only it fails (and is re-seeded), not every component with it.
fn inverse_volume(lambda: f64) -> f64 {
    if lambda > 0.0 && lambda.is_finite() {
        1.0 / lambda
    } else {
        0.0
    }
}

/// `sum_k w_k m_k`.
fn weighted_sum(m: &[Array2<f64>], w: impl Fn(usize) -> f64) -> Array2<f64> {
    let d = m[0].nrows();
    let mut out = Array2::zeros((d, d));
    for (k, mk) in m.iter().enumerate() {
        out.scaled_add(w(k), mk);
    }
    out
}

/// `tr(s c^-1)`, with `c^-1 = P P^T` from its precision Cholesky factor.
fn trace_over(s: &Array2<f64>, p: &Array2<f64>) -> f64 {
    let inverse = p.dot(&p.t());
    (s * &inverse).sum()
}

/// `VEE`: `Sigma_k = lambda_k C`, `|C| = 1`. Alternates `lambda_k =
/// tr(S_k C^-1) / d` and `C ∝ sum_k n_k S_k / lambda_k`.
fn vee(s: &[Array2<f64>], n: &[f64]) -> Vec<Array2<f64>> {
    let d = s[0].nrows() as f64;
    let unit = |m: Array2<f64>| {
        let g = determinant_root(m.view());
        m / g
    };
    let volumes = |c: &Array2<f64>| -> Vec<f64> {
        match crate::linalg::precision_cholesky(c.view()) {
            Some(p) => s.iter().map(|sk| trace_over(sk, &p) / d).collect(),
            None => vec![f64::NAN; s.len()],
        }
    };
    let mut c = unit(weighted_sum(s, |k| n[k]));
    let mut lambda = volumes(&c);
    for _ in 0..MAX_ITERATIONS {
        let next = unit(weighted_sum(s, |k| {
            if inverse_volume(lambda[k]) > 0.0 {
                n[k] / lambda[k]
            } else {
                0.0
            }
        }));
        let next_lambda = volumes(&next);
        let change = relative_change(&c, &next).max(relative_change(&lambda, &next_lambda));
        (c, lambda) = (next, next_lambda);
        if change.is_nan() || change <= TOLERANCE {
            break;
        }
    }
    lambda.iter().map(|l| &c * *l).collect()
}

/// Eigenvalues in decreasing order and their eigenvectors (columns), each
/// with its largest entry positive; NaN when `m` holds non-finite values.
pub(crate) fn eigen_decreasing(m: ArrayView2<'_, f64>) -> (Vec<f64>, Array2<f64>) {
    let d = m.nrows();
    let Some((values, vectors)) = crate::linalg::symmetric_eigen(m) else {
        return (vec![f64::NAN; d], Array2::from_elem((d, d), f64::NAN));
    };
    let order: Vec<usize> = (0..d).rev().collect();
    let mut out = Array2::zeros((d, d));
    for (to, &from) in order.iter().enumerate() {
        let column = vectors.column(from);
        let largest = column
            .iter()
            .copied()
            .fold(0.0f64, |m, v| if v.abs() > m.abs() { v } else { m });
        let sign = if largest < 0.0 { -1.0 } else { 1.0 };
        out.column_mut(to).assign(&(&column * sign));
    }
    (order.iter().map(|&i| values[i]).collect(), out)
}

/// `D diag(a) D^T`.
pub(crate) fn compose(d: &Array2<f64>, a: &[f64]) -> Array2<f64> {
    let scaled = Array2::from_shape_fn(d.dim(), |(i, j)| d[(i, j)] * a[j]);
    scaled.dot(&d.t())
}

/// `EEV` (`lambda D_k A D_k^T`, closed form: `A ∝ sum_k n_k omega_k` over
/// the eigenvalues `omega_k` of `S_k`, in decreasing order) and `VEV`
/// (`lambda_k D_k A D_k^T`: alternates `lambda_k = mean_j(omega_kj / A_j)`
/// and `A ∝ sum_k n_k omega_k / lambda_k`). `D_k` are `S_k`'s eigenvectors.
fn eev_vev(family: CovarianceType, s: &[Array2<f64>], n: &[f64]) -> Vec<Array2<f64>> {
    let total: f64 = n.iter().sum();
    // Eigenvalues at rounding level may come out at or below zero: held at
    // a rounding's size, the component is singular (and fails) without
    // making the shared shape NaN.
    let eigen: Vec<(Vec<f64>, Array2<f64>)> = s
        .iter()
        .map(|m| {
            let (mut omega, vectors) = eigen_decreasing(m.view());
            let floor = omega.first().copied().unwrap_or(0.0) * f64::EPSILON;
            omega.iter_mut().for_each(|w| *w = w.max(floor));
            (omega, vectors)
        })
        .collect();
    let omega = Array2::from_shape_fn((s.len(), s[0].nrows()), |(k, j)| eigen[k].0[j]);
    let (lambda, shape) = if family == CovarianceType::Eev {
        let pooled = weighted_rows(&omega, n, |_| 1.0);
        let g = geometric_mean(pooled.iter());
        (vec![g / total; s.len()], unit_determinant(&pooled))
    } else {
        volumes_and_shape(&omega, n)
    };
    eigen
        .iter()
        .zip(&lambda)
        .map(|((_, d), l)| compose(d, &shape.iter().map(|a| a * l).collect::<Vec<_>>()))
        .collect()
}

/// `EVV`: `lambda C_k`, `C_k = S_k / |S_k|^(1/d)`, `lambda = sum_k n_k
/// |S_k|^(1/d) / n`.
fn evv(s: &[Array2<f64>], n: &[f64]) -> Vec<Array2<f64>> {
    let g: Vec<f64> = s.iter().map(|m| determinant_root(m.view())).collect();
    let lambda = shared_volume(&g, n);
    s.iter().zip(&g).map(|(m, g)| m * (lambda / g)).collect()
}

fn stack(m: &[Array2<f64>], dim: (usize, usize, usize)) -> Array3<f64> {
    let mut out = Array3::zeros(dim);
    for (k, mk) in m.iter().enumerate() {
        out.index_axis_mut(Axis(0), k).assign(mk);
    }
    out
}

#[cfg(test)]
mod tests;
