//! The degeneracy policy, in one place: what a restart does when a
//! component's covariance is not positive definite or the component is
//! empty, at initialization or after an M-step ([`DegeneratePolicy`]), and
//! how degenerate components are re-seeded.

use ndarray::{Array1, Array2, ArrayView1};

use crate::covariance::{CovarianceType, Covariances};
use crate::error::GmmError;
use crate::model::GaussianMixture;
use crate::mstep::{MStep, Trouble};
use crate::params::DegeneratePolicy;
use crate::summary::DataSummary;

/// Whether re-seeding can help a restart with degenerate components.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reseeding {
    /// It can: there is a fresh start to take.
    Possible,
    /// There is nothing to re-seed from (the statistics are not finite).
    Impossible,
    /// Every component degenerated again after an earlier re-seed.
    Futile,
}

/// What the policy says to do with a restart whose component degenerated.
#[derive(Debug)]
pub(super) enum Remedy {
    /// End the fit with this error.
    Fail(GmmError),
    /// Re-seed the degenerate components (at initialization: start broad).
    Reseed,
    /// Give the restart up, with this note in its report.
    Drop(String),
}

/// The policy's answer to `error` when re-seeding is as `reseeding` says.
pub(super) fn remedy(policy: DegeneratePolicy, reseeding: Reseeding, error: GmmError) -> Remedy {
    match (policy, reseeding) {
        (DegeneratePolicy::Error, _) => Remedy::Fail(error),
        (DegeneratePolicy::Reseed, Reseeding::Possible) => Remedy::Reseed,
        (DegeneratePolicy::Reseed, Reseeding::Futile) => Remedy::Drop(format!(
            "every component degenerate again after re-seeding: {error}"
        )),
        (DegeneratePolicy::Reseed, Reseeding::Impossible) | (DegeneratePolicy::DropRestart, _) => {
            Remedy::Drop(error.to_string())
        }
    }
}

/// The error that names a degenerate component.
pub(super) fn degeneracy_error(
    component: usize,
    trouble: Trouble,
    restart: usize,
    iteration: usize,
) -> GmmError {
    match trouble {
        Trouble::NotPositiveDefinite => GmmError::Degenerate {
            component,
            restart,
            iteration,
        },
        Trouble::Empty => GmmError::EmptyComponent {
            component,
            restart,
            iteration,
        },
    }
}

/// Re-initializes the `bad` components: each starts at one of the rows the
/// mixture explained worst, with the average covariance of the healthy
/// components (or the data's variances if none is healthy) and an equal
/// share of weight.
pub(super) fn reseed(
    m: MStep,
    bad: &[usize],
    worst_rows: &[Vec<f64>],
    summary: &DataSummary,
    reg_covar: f64,
) -> std::result::Result<GaussianMixture, usize> {
    let k = m.n.len();
    let d = m.means.ncols();
    let good: Vec<usize> = (0..k).filter(|j| !bad.contains(j)).collect();
    let data_cov = || {
        let mut c = Array2::zeros((d, d));
        for j in 0..d {
            c[(j, j)] = summary.col_var[j].max(f64::MIN_POSITIVE.sqrt()) + reg_covar;
        }
        c
    };
    let healthy_average = |covs: &Covariances| {
        let weight: f64 = good.iter().map(|&j| m.n[j]).sum();
        if good.is_empty() || !(weight > 0.0) {
            return data_cov();
        }
        let mut c = Array2::zeros((d, d));
        for &j in &good {
            c.scaled_add(m.n[j] / weight, &covs.dense(j, d));
        }
        c
    };
    let mut means = m.means.clone();
    let mut weights = m.weights.to_vec();
    let mut dense: Vec<Array2<f64>> = (0..k).map(|j| m.covariances().dense(j, d)).collect();
    let average = healthy_average(m.covariances());
    for (idx, &j) in bad.iter().enumerate() {
        let row = match worst_rows.get(idx) {
            Some(r) => r.clone(),
            None => summary.col_mean.clone(),
        };
        means.row_mut(j).assign(&ArrayView1::from(&row[..]));
        dense[j] = average.clone();
        weights[j] = 1.0 / k as f64;
    }
    let sum: f64 = weights.iter().sum();
    weights.iter_mut().for_each(|w| *w /= sum);
    let covariances = match m.family {
        // The shared covariance failed: start it over from the data.
        CovarianceType::Tied if bad.contains(&0) => Covariances::Tied(data_cov()),
        t => crate::family::from_dense(t, &dense, &weights),
    };
    GaussianMixture::new(Array1::from(weights), means, covariances)
        .map(|model| model.in_family(m.family))
        .map_err(|_| bad[0])
}
