//! Exact binary encodings of models, restarts and fits, for sending them
//! between processes: every `f64` travels as its bits, so what arrives is
//! what was sent, NaN and infinities included (text formats would round or
//! refuse them).

use ndarray::{Array1, Array2, Array3};

use crate::collective::{Reader, put_f64s, put_u64};
use crate::covariance::{CovarianceType, Covariances};
use crate::error::GmmError;
use crate::model::GaussianMixture;
use crate::report::{Ending, Fit, FitReport, RestartReport};
use crate::state::RestartSnapshot;

fn put_f64(out: &mut Vec<u8>, v: f64) {
    put_u64(out, v.to_bits());
}

fn get_f64(r: &mut Reader<'_>) -> f64 {
    f64::from_bits(r.u64())
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_u64(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn get_str(r: &mut Reader<'_>) -> String {
    let n = r.u64() as usize;
    String::from_utf8_lossy(r.bytes(n)).into_owned()
}

fn type_code(t: CovarianceType) -> u64 {
    match t {
        CovarianceType::Full => 0,
        CovarianceType::Diag => 1,
        CovarianceType::Spherical => 2,
        CovarianceType::Tied => 3,
    }
}

fn put_covariances(out: &mut Vec<u8>, c: &Covariances) {
    let values: Vec<f64> = c.values().collect();
    put_f64s(out, &values);
}

fn get_covariances(r: &mut Reader<'_>, t: CovarianceType, k: usize, d: usize) -> Covariances {
    let v = r.f64s();
    let bad = "a model of the same engine";
    match t {
        CovarianceType::Full => Covariances::Full(Array3::from_shape_vec((k, d, d), v).expect(bad)),
        CovarianceType::Diag => Covariances::Diag(Array2::from_shape_vec((k, d), v).expect(bad)),
        CovarianceType::Spherical => Covariances::Spherical(Array1::from(v)),
        CovarianceType::Tied => Covariances::Tied(Array2::from_shape_vec((d, d), v).expect(bad)),
    }
}

pub(crate) fn put_model(out: &mut Vec<u8>, m: &GaussianMixture) {
    let (k, d) = m.means().dim();
    put_u64(out, type_code(m.covariance_type()));
    put_u64(out, k as u64);
    put_u64(out, d as u64);
    put_f64s(out, m.weights().as_slice().expect("contiguous"));
    put_f64s(out, m.means().as_slice().expect("contiguous"));
    put_covariances(out, m.covariances());
    put_covariances(out, m.precisions_cholesky());
}

pub(crate) fn get_model(r: &mut Reader<'_>) -> GaussianMixture {
    let t = CovarianceType::ALL[r.u64() as usize];
    let k = r.u64() as usize;
    let d = r.u64() as usize;
    let weights = Array1::from(r.f64s());
    let means = Array2::from_shape_vec((k, d), r.f64s()).expect("a model of the same engine");
    let covariances = get_covariances(r, t, k, d);
    let precisions = get_covariances(r, t, k, d);
    GaussianMixture::from_parts(weights, means, covariances, precisions)
}

fn ending_code(e: Ending) -> u64 {
    match e {
        Ending::Running => 0,
        Ending::Converged => 1,
        Ending::MaxIter => 2,
        Ending::Dropped => 3,
        Ending::Raced => 4,
    }
}

fn ending_of(code: u64) -> Ending {
    [
        Ending::Running,
        Ending::Converged,
        Ending::MaxIter,
        Ending::Dropped,
        Ending::Raced,
    ][code as usize]
}

fn put_report(out: &mut Vec<u8>, r: &RestartReport) {
    put_u64(out, r.restart as u64);
    put_str(out, &r.init);
    put_f64s(out, &r.trace);
    put_u64(out, r.n_iter as u64);
    put_u64(out, u64::from(r.converged));
    put_f64(out, r.lower_bound);
    put_u64(out, ending_code(r.ending));
    put_u64(out, r.regularizations as u64);
    put_u64(out, r.reseeded_components as u64);
    match &r.note {
        None => put_u64(out, 0),
        Some(n) => {
            put_u64(out, 1);
            put_str(out, n);
        }
    }
}

fn get_report(r: &mut Reader<'_>) -> RestartReport {
    RestartReport {
        restart: r.u64() as usize,
        init: get_str(r),
        trace: r.f64s(),
        n_iter: r.u64() as usize,
        converged: r.u64() == 1,
        lower_bound: get_f64(r),
        ending: ending_of(r.u64()),
        regularizations: r.u64() as usize,
        reseeded_components: r.u64() as usize,
        note: (r.u64() == 1).then(|| get_str(r)),
    }
}

pub(crate) fn put_snapshot(out: &mut Vec<u8>, s: &RestartSnapshot) {
    put_model(out, &s.model);
    put_report(out, &s.report);
    put_u64(out, u64::from(s.done));
}

pub(crate) fn get_snapshot(r: &mut Reader<'_>) -> RestartSnapshot {
    RestartSnapshot {
        model: get_model(r),
        report: get_report(r),
        done: r.u64() == 1,
    }
}

impl Fit {
    /// The fit as bytes that [`Fit::from_bytes`] turns back into the same
    /// fit, bit for bit (to send a fit from one process to another).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put_model(&mut out, &self.model);
        let rep = &self.report;
        put_u64(&mut out, rep.best_restart as u64);
        put_u64(&mut out, rep.restarts.len() as u64);
        for r in &rep.restarts {
            put_report(&mut out, r);
        }
        put_u64(&mut out, rep.n_iter as u64);
        put_u64(&mut out, u64::from(rep.converged));
        for v in [
            rep.lower_bound,
            rep.mean_log_likelihood,
            rep.n_rows,
            rep.bic,
            rep.aic,
            rep.icl,
        ] {
            put_f64(&mut out, v);
        }
        put_u64(&mut out, rep.n_parameters as u64);
        out
    }

    /// The fit [`Fit::to_bytes`] encoded. Panics on bytes that did not come
    /// from `to_bytes` of the same version of the engine.
    pub fn from_bytes(bytes: &[u8]) -> Fit {
        let r = &mut Reader::new(bytes);
        let model = get_model(r);
        let best_restart = r.u64() as usize;
        let n = r.u64() as usize;
        let restarts = (0..n).map(|_| get_report(r)).collect();
        let n_iter = r.u64() as usize;
        let converged = r.u64() == 1;
        let [lower_bound, mean_log_likelihood, n_rows, bic, aic, icl] = [(); 6].map(|_| get_f64(r));
        let n_parameters = r.u64() as usize;
        Fit {
            model,
            report: FitReport {
                best_restart,
                restarts,
                n_iter,
                converged,
                lower_bound,
                mean_log_likelihood,
                n_rows,
                n_parameters,
                bic,
                aic,
                icl,
            },
        }
    }
}

/// An error of one restart, as sent to the other ranks: the errors a
/// restart can end a fit with arrive as themselves, anything else as the
/// sending rank's message.
pub(crate) fn put_error(out: &mut Vec<u8>, e: &GmmError) {
    let (tag, place) = match *e {
        GmmError::Degenerate {
            component,
            restart,
            iteration,
        } => (1, [component, restart, iteration]),
        GmmError::EmptyComponent {
            component,
            restart,
            iteration,
        } => (2, [component, restart, iteration]),
        GmmError::Interrupted => (3, [0; 3]),
        ref other => {
            put_u64(out, 4);
            put_str(out, &other.to_string());
            return;
        }
    };
    put_u64(out, tag);
    for v in place {
        put_u64(out, v as u64);
    }
}

pub(crate) fn get_error(r: &mut Reader<'_>, rank: usize) -> GmmError {
    let three = |r: &mut Reader<'_>| [(); 3].map(|_| r.u64() as usize);
    match r.u64() {
        1 => {
            let [component, restart, iteration] = three(r);
            GmmError::Degenerate {
                component,
                restart,
                iteration,
            }
        }
        2 => {
            let [component, restart, iteration] = three(r);
            GmmError::EmptyComponent {
                component,
                restart,
                iteration,
            }
        }
        3 => {
            three(r);
            GmmError::Interrupted
        }
        _ => GmmError::OnRank {
            rank,
            message: get_str(r),
        },
    }
}
