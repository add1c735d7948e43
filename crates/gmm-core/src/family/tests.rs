use ndarray::{Array2, Array3, array};

use super::*;

/// Three components' estimates in 3 dimensions, each a different ellipse.
fn estimates() -> (Vec<Array2<f64>>, Vec<f64>) {
    let s = vec![
        array![[4.0, 1.2, 0.3], [1.2, 2.0, -0.4], [0.3, -0.4, 1.5]],
        array![[1.0, -0.3, 0.2], [-0.3, 3.0, 0.9], [0.2, 0.9, 2.5]],
        array![[0.5, 0.1, 0.0], [0.1, 0.8, 0.2], [0.0, 0.2, 6.0]],
    ];
    (s, vec![30.0, 50.0, 20.0])
}

fn held(family: CovarianceType, s: &[Array2<f64>]) -> Covariances {
    let full = stack(s, (s.len(), 3, 3));
    let dense: Vec<Array2<f64>> = s.to_vec();
    match family.storage() {
        CovarianceType::Full => Covariances::Full(full),
        other => Covariances::from_dense(other, &dense, &[1.0; 3]),
    }
}

/// `sum_k n_k (log|Sigma_k| + tr(S_k Sigma_k^-1))`, what the M-step minimizes.
fn objective(sigma: &Covariances, s: &[Array2<f64>], n: &[f64]) -> f64 {
    (0..s.len())
        .map(|k| {
            let m = sigma.dense(k, 3);
            let p = crate::linalg::precision_cholesky(m.view()).unwrap();
            n[k] * (3.0 * determinant_root(m.view()).ln() + trace_over(&s[k], &p))
        })
        .sum()
}

/// Each family's M-step gives a member of the family (its decomposition
/// has the family's equalities), the member is its own M-step (a fixed
/// point), and it beats every other member tried: the unconstrained
/// estimates' nearest members of the more constrained families, and
/// random perturbations of its own parameters within the family.
#[test]
fn each_family_minimizes_its_objective_and_keeps_its_members() {
    let (s, n) = estimates();
    for family in CovarianceType::FAMILIES {
        let estimate = held(family, &s);
        // The family's own problem: the estimates seen through its storage.
        let seen: Vec<Array2<f64>> = (0..3).map(|k| estimate.dense(k, 3)).collect();
        let sigma = constrain(family, estimate, &n);
        let best = objective(&sigma, &seen, &n);
        let again = constrain(family, sigma.clone(), &n);
        for (a, b) in again.values().zip(sigma.values()) {
            assert!((a - b).abs() < 1e-9, "{family}: not a fixed point");
        }
        // Members of sub-families are members: none does better.
        for other in CovarianceType::FAMILIES {
            if other.storage() != family.storage() && family.storage() != CovarianceType::Full {
                continue;
            }
            let candidate = constrain(other, held(other, &seen), &n);
            let candidate = match (&candidate, family.storage()) {
                (c, CovarianceType::Full) => Covariances::Full(stack(
                    &(0..3).map(|k| c.dense(k, 3)).collect::<Vec<_>>(),
                    (3, 3, 3),
                )),
                (c, _) => c.clone(),
            };
            if !is_member(family, &candidate, &n) {
                continue;
            }
            let value = objective(&candidate, &seen, &n);
            assert!(
                best <= value + 1e-9 * value.abs(),
                "{family} {best} > {other} {value}"
            );
        }
    }
}

fn is_member(family: CovarianceType, c: &Covariances, n: &[f64]) -> bool {
    let again = constrain(family, c.clone(), n);
    again
        .values()
        .zip(c.values())
        .all(|(a, b)| (a - b).abs() <= 1e-8 * b.abs().max(1.0))
}

/// The decomposition has the family's equalities and gives the
/// covariances back.
#[test]
fn decompositions_show_each_familys_equalities() {
    let (s, n) = estimates();
    let weights = Array1::from_iter(n.iter().map(|v| v / 100.0));
    let means = Array2::from_shape_fn((3, 3), |(k, j)| (k * 3 + j) as f64);
    for family in CovarianceType::FAMILIES {
        let sigma = constrain(family, held(family, &s), &n);
        let model = crate::GaussianMixture::new(weights.clone(), means.clone(), sigma.clone())
            .unwrap()
            .with_covariance_type(family)
            .unwrap();
        let dec = model.decomposition();
        for k in 0..3 {
            let back = dec.covariance(k);
            let want = sigma.dense(k, 3);
            for (a, b) in back.iter().zip(&want) {
                assert!((a - b).abs() < 1e-10, "{family} component {k}");
            }
            let det: f64 = dec.shape[k].iter().product();
            assert!(
                (det - 1.0).abs() < 1e-12,
                "{family}: shape determinant {det}"
            );
        }
        let name = family.mclust_name().as_bytes();
        let same = |v: &dyn Fn(usize) -> Vec<f64>| {
            (1..3).all(|k| v(k).iter().zip(v(0)).all(|(a, b)| (a - b).abs() < 1e-9))
        };
        let volume_equal = same(&|k| vec![dec.scale[k]]);
        let shape_equal = same(&|k| dec.shape[k].clone());
        let orientation_equal = same(&|k| dec.orientation[k].iter().copied().collect());
        assert_eq!(volume_equal, name[0] == b'E', "{family} volume");
        assert_eq!(shape_equal, name[1] != b'V', "{family} shape");
        assert_eq!(orientation_equal, name[2] != b'V', "{family} orientation");
        if name[2] == b'I' {
            assert_eq!(dec.orientation[0], Array2::<f64>::eye(3));
        }
    }
}

/// A model file's covariances that break their family are refused.
#[test]
fn a_model_outside_its_family_is_refused() {
    let (s, _) = estimates();
    let model = crate::GaussianMixture::new(
        array![0.3, 0.5, 0.2],
        Array2::zeros((3, 3)),
        Covariances::Full(Array3::from_shape_fn((3, 3, 3), |(k, i, j)| s[k][(i, j)])),
    )
    .unwrap();
    for family in [
        CovarianceType::Evv,
        CovarianceType::Vee,
        CovarianceType::Eve,
    ] {
        let err = model
            .clone()
            .with_covariance_type(family)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("not of the") && err.contains(family.as_str()),
            "{err}"
        );
    }
    let err = model
        .with_covariance_type(CovarianceType::Eei)
        .unwrap_err()
        .to_string();
    assert!(err.contains("held as diag"), "{err}");
}

/// Two components whose shapes mirror each other under one orientation:
/// their weighted sum is isotropic, so its eigenvectors say nothing of the
/// orientation. The decomposition still finds it (and gives the
/// covariances back), as a model file of such a fit must.
#[test]
fn a_shared_orientation_is_found_where_the_pooled_matrix_is_isotropic() {
    let (c, s) = (30f64.to_radians().cos(), 30f64.to_radians().sin());
    let d = array![[c, -s], [s, c]];
    let sigma = vec![compose(&d, &[4.0, 1.0]), compose(&d, &[1.0, 4.0])];
    for family in [CovarianceType::Eve, CovarianceType::Vve] {
        let model = crate::GaussianMixture::new(
            array![0.5, 0.5],
            array![[-5.0, 0.0], [5.0, 0.0]],
            Covariances::Full(stack(&sigma, (2, 2, 2))),
        )
        .unwrap()
        .with_covariance_type(family)
        .unwrap();
        let dec = model.decomposition();
        for (k, want) in sigma.iter().enumerate() {
            let back = dec.covariance(k);
            for (a, b) in back.iter().zip(want) {
                assert!(
                    (a - b).abs() < 1e-10,
                    "{family} component {k}: {back} vs {want}"
                );
            }
        }
    }
}

/// One component collapsed onto a point (zero variances, or an estimate
/// whose rounding leaves an eigenvalue below zero): only it comes out
/// unusable; the shared volume, shape or matrix of the others stays finite.
#[test]
fn a_collapsed_component_does_not_spoil_the_others() {
    let n = [50.0, 50.0];
    let finite = |out: &Covariances| out.dense(0, 2).iter().all(|v| v.is_finite());
    for diag in [
        Covariances::Diag(array![[2.0, 1.0], [0.0, 0.0]]),
        // Rounding can leave an estimate's variance just below zero.
        Covariances::Diag(array![[2.0, 1.0], [-1e-18, 1.0]]),
    ] {
        for family in [
            CovarianceType::Vei,
            CovarianceType::Evi,
            CovarianceType::Eei,
        ] {
            let out = constrain(family, diag.clone(), &n);
            assert!(finite(&out), "{family}: {out:?}");
        }
    }
    let wide = array![[2.0, 0.3], [0.3, 1.0]];
    let singular = array![[1.0, 1.0], [1.0, 1.0 - 1e-17]];
    let below = array![[-1e-18, 0.0], [0.0, 1.0]];
    for other in [singular, below] {
        let full = Covariances::Full(stack(&[wide.clone(), other], (2, 2, 2)));
        for family in [
            CovarianceType::Vee,
            CovarianceType::Eve,
            CovarianceType::Vve,
            CovarianceType::Eev,
            CovarianceType::Vev,
            CovarianceType::Evv,
        ] {
            let out = constrain(family, full.clone(), &n);
            assert!(finite(&out), "{family}: {out:?}");
        }
    }
}
