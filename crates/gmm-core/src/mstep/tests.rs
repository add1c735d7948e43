//! The M-step's checks of degenerate components, and its factorizations.

use super::*;
use ndarray::array;

fn step(means: Array2<f64>, covariances: Covariances) -> MStep {
    MStep::new(
        covariances.covariance_type(),
        array![0.5, 0.5],
        means,
        covariances,
        vec![10.0, 10.0],
        0.0,
    )
}

/// A variance of 3e-32 is positive (it passed before), yet a component
/// with it sits on a point: below the floor it is degenerate, for
/// every covariance type, unless `reg_covar` holds it up. Near the
/// origin, in data of that scale, the same variance is resolved; beside
/// a component 1e16 times wider, it is a collapse without `reg_covar`.
#[test]
fn a_variance_below_the_floor_is_degenerate() {
    let tiny = 3e-32;
    let small = 1e-31;
    let cases = [
        (
            Covariances::Diag(array![[1.0, 1.0], [1.0, tiny]]),
            Covariances::Diag(array![[small, small], [small, tiny]]),
        ),
        (
            Covariances::Spherical(array![1.0, tiny]),
            Covariances::Spherical(array![small, tiny]),
        ),
        (
            Covariances::Full(array![[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, tiny]]]),
            Covariances::Full(array![
                [[small, 0.0], [0.0, small]],
                [[small, 0.0], [0.0, tiny]]
            ]),
        ),
    ];
    for (wide, round) in cases {
        let m = step(array![[0.0, 0.0], [1.0, 1.0]], wide.clone());
        assert_eq!(m.failing(0.0), [(1, Trouble::NotPositiveDefinite)]);
        // Near the origin the same variance is resolved.
        let near = step(array![[0.0, 0.0], [1e-12, 1e-12]], round);
        assert_eq!(near.failing(0.0), [], "scale is the component's values");
        // Beside a component 1e16 times wider: collapsed, without reg_covar.
        let beside = step(array![[0.0, 0.0], [1e-12, 1e-12]], wide);
        assert_eq!(beside.failing(0.0), [(1, Trouble::NotPositiveDefinite)]);
        assert_eq!(beside.failing(1e-40), [], "reg_covar: its floor alone");
    }
    // Tied: a conditional variance (column 1 given column 0) near zero.
    let c = 0.999_999_999_999_999_9;
    let m = step(
        array![[0.0, 0.0], [1.0, 1.0]],
        Covariances::Tied(array![[1.0, c], [c, 1.0]]),
    );
    assert_eq!(m.failing(0.0), [(0, Trouble::NotPositiveDefinite)]);
}

/// One far component (an outlier on its own, or a constant column near
/// 2^62) does not make the others singular, and with `reg_covar` it is
/// regularized rather than singular, as a constant column near 5 is.
#[test]
fn the_floor_follows_each_component_and_reg_covar() {
    let means = array![[0.0, 3.0], [1e20, 2f64.powi(62)]];
    let diag = |reg: f64| Covariances::Diag(array![[1.0, 1.0], [reg, reg]]);
    assert_eq!(step(means.clone(), diag(1e-6)).failing(1e-6), []);
    let full = Covariances::Full(array![[[1.0, 0.5], [0.5, 1.0]], [[1e-6, 0.0], [0.0, 1e-6]]]);
    assert_eq!(step(means.clone(), full).failing(1e-6), []);
    // Without reg_covar nothing holds the far component up.
    assert_eq!(
        step(means.clone(), diag(1e-6)).failing(0.0),
        [(1, Trouble::NotPositiveDefinite)]
    );
    // A tied covariance must resolve every component's values.
    let tied = Covariances::Tied(array![[1.0, 0.0], [0.0, 1.0]]);
    assert_eq!(
        step(means, tied).failing(0.0),
        [(0, Trouble::NotPositiveDefinite)]
    );
}

/// Each covariance is factored once, in `MStep::new`: the count of
/// components that only `reg_covar` holds up, and the full and tied
/// precision factors `into_model` hands on, are what factoring each
/// covariance again at each use gives.
#[test]
fn one_factorization_counts_and_inverts_as_separate_ones() {
    let reg = 1e-6;
    let means = array![[0.0, 0.0], [1.0, 1.0]];
    // Component 1 is rank one, positive definite only with reg_covar.
    let rank_one = [[1.0 + reg, 1.0], [1.0, 1.0 + reg]];
    let full = Covariances::Full(array![[[2.0, 0.5], [0.5, 1.0]], rank_one]);
    let cases = [
        (full.clone(), 1),
        (Covariances::Tied(ndarray::arr2(&rank_one)), 1),
        (Covariances::Tied(array![[2.0, 0.5], [0.5, 1.0]]), 0),
        (Covariances::Diag(array![[1.0, reg], [1.0, 1.0]]), 1),
        (Covariances::Spherical(array![1.0, reg]), 1),
    ];
    for (c, regularized) in cases {
        let m = MStep::new(
            c.covariance_type(),
            array![0.5, 0.5],
            means.clone(),
            c.clone(),
            vec![10.0, 10.0],
            reg,
        );
        assert_eq!(m.regularized, regularized, "{c:?}");
        assert_eq!(m.failing(reg), [], "{c:?}");
        let model = m.into_model().expect("positive definite");
        // Full and tied factors come from `new`; the others are formed by
        // `compute_precision_cholesky` either way.
        if matches!(c, Covariances::Full(_) | Covariances::Tied(_)) {
            let separate = compute_precision_cholesky(&c, 2).expect("positive definite");
            assert_eq!(model.precisions_cholesky(), &separate, "{c:?}");
        }
    }
    // Without reg_covar, nothing counts as regularized (a covariance less
    // nothing factors as it did).
    let m = MStep::new(
        CovarianceType::Full,
        array![0.5, 0.5],
        means.clone(),
        full,
        vec![10.0, 10.0],
        0.0,
    );
    assert_eq!(m.regularized, 0);
    // A covariance with no factor fails, and names its component.
    let broken = Covariances::Full(array![[[1.0, 0.0], [0.0, 1.0]], [[1.0, 2.0], [2.0, 1.0]]]);
    let m = MStep::new(
        CovarianceType::Full,
        array![0.5, 0.5],
        means,
        broken,
        vec![10.0, 10.0],
        reg,
    );
    assert_eq!(m.failing(reg), [(1, Trouble::NotPositiveDefinite)]);
    // Not counted as regularized: it has no factor with reg_covar either.
    assert_eq!(m.regularized, 0);
    assert_eq!(m.into_model().err(), Some(1));
}
