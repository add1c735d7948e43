//! The encodings of the engine's records in the wire format: mixtures,
//! restart reports and snapshots, fit states and fits.

use ndarray::{Array1, Array2, Array3};

use crate::covariance::{CovarianceType, Covariances};
use crate::error::{GmmError, Result};
use crate::model::GaussianMixture;
use crate::report::{Ending, Fit, FitReport, RestartReport};
use crate::state::{FitState, RestartSnapshot};
use crate::wire::{Reader, Writer};

impl Writer {
    /// A mixture: its covariance type and shape, then every parameter
    /// including the precision factors, so that it reads back bit for bit.
    pub fn model(&mut self, m: &GaussianMixture) {
        let (k, d) = m.means().dim();
        self.u64(type_code(m.covariance_type()));
        self.usize(k);
        self.usize(d);
        self.f64s(m.weights().as_slice().expect("contiguous"));
        self.f64s(m.means().as_slice().expect("contiguous"));
        self.covariances(m.covariances());
        self.covariances(m.precisions_cholesky());
        match m.noise() {
            None => self.bool(false),
            Some(n) => {
                self.bool(true);
                self.f64(n.weight);
                self.f64(n.volume);
            }
        }
    }

    fn covariances(&mut self, c: &Covariances) {
        let values: Vec<f64> = c.values().collect();
        self.f64s(&values);
    }

    pub fn restart_report(&mut self, r: &RestartReport) {
        self.usize(r.restart);
        self.str(&r.init);
        self.f64s(&r.trace);
        self.usize(r.n_iter);
        self.bool(r.converged);
        self.f64(r.lower_bound);
        self.u64(ending_code(r.ending));
        self.usize(r.regularizations);
        self.usize(r.reseeded_components);
        match &r.note {
            None => self.bool(false),
            Some(n) => {
                self.bool(true);
                self.str(n);
            }
        }
    }

    pub fn restart_snapshot(&mut self, s: &RestartSnapshot) {
        self.model(&s.model);
        self.restart_report(&s.report);
        self.bool(s.done);
    }

    /// A fit's state between iterations (what a checkpoint holds).
    pub fn fit_state(&mut self, s: &FitState) {
        self.usize(s.iteration);
        self.usize(s.restarts.len());
        for r in &s.restarts {
            self.restart_snapshot(r);
        }
    }

    /// A fitted mixture and its report.
    pub fn fit(&mut self, f: &Fit) {
        self.model(&f.model);
        let rep = &f.report;
        self.usize(rep.best_restart);
        self.usize(rep.restarts.len());
        for r in &rep.restarts {
            self.restart_report(r);
        }
        self.usize(rep.n_iter);
        self.bool(rep.converged);
        for v in [
            rep.lower_bound,
            rep.mean_log_likelihood,
            rep.n_rows,
            rep.bic,
            rep.aic,
            rep.icl,
            rep.icl_mclust,
        ] {
            self.f64(v);
        }
        self.usize(rep.n_parameters);
    }

    /// An error that ends a restart, as sent to the other ranks: the errors
    /// a restart can end a fit with arrive as themselves, anything else as
    /// the sending rank's message ([`Reader::error`]).
    pub(crate) fn error(&mut self, e: &GmmError) {
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
                self.u64(4);
                self.str(&other.to_string());
                return;
            }
        };
        self.u64(tag);
        for v in place {
            self.usize(v);
        }
    }
}

impl Reader<'_> {
    /// A mixture written by [`Writer::model`]. Shapes are checked; values
    /// are taken as written (they were computed by the engine).
    pub fn model(&mut self) -> Result<GaussianMixture> {
        let at = self.pos;
        let code = self.u64()?;
        let t = usize::try_from(code)
            .ok()
            .and_then(|c| wire_types().nth(c))
            .ok_or_else(|| GmmError::Malformed {
                offset: at,
                reason: format!("{code} is not a covariance type"),
            })?;
        let k = self.usize()?;
        let d = self.usize()?;
        let weights = Array1::from(self.f64s()?);
        if weights.len() != k {
            return Err(self.malformed(format!("{} weights for {k} components", weights.len())));
        }
        let means = self.f64s()?;
        let means = Array2::from_shape_vec((k, d), means)
            .map_err(|_| self.malformed(format!("means that are not {k} x {d}")))?;
        let covariances = self.covariances(t.storage(), k, d)?;
        let precisions = self.covariances(t.storage(), k, d)?;
        let noise = if self.bool()? {
            let (weight, volume) = (self.f64()?, self.f64()?);
            Some(crate::Noise::new(weight, volume).map_err(|e| self.malformed(e.to_string()))?)
        } else {
            None
        };
        Ok(
            GaussianMixture::from_parts(weights, means, covariances, precisions)
                .in_family(t)
                .set_noise(noise),
        )
    }

    fn covariances(&mut self, t: CovarianceType, k: usize, d: usize) -> Result<Covariances> {
        let v = self.f64s()?;
        let n = v.len();
        let shaped = match t {
            CovarianceType::Full => Array3::from_shape_vec((k, d, d), v).map(Covariances::Full),
            CovarianceType::Diag => Array2::from_shape_vec((k, d), v).map(Covariances::Diag),
            CovarianceType::Spherical if n == k => Ok(Covariances::Spherical(Array1::from(v))),
            CovarianceType::Spherical => {
                return Err(self.malformed(format!("{n} spherical variances for {k} components")));
            }
            CovarianceType::Tied => Array2::from_shape_vec((d, d), v).map(Covariances::Tied),
            _ => unreachable!("a storage"),
        };
        shaped.map_err(|_| {
            self.malformed(format!(
                "{n} values of {t} covariances for {k} components of {d} features"
            ))
        })
    }

    pub fn restart_report(&mut self) -> Result<RestartReport> {
        Ok(RestartReport {
            restart: self.usize()?,
            init: self.str()?.to_string(),
            trace: self.f64s()?,
            n_iter: self.usize()?,
            converged: self.bool()?,
            lower_bound: self.f64()?,
            ending: self.ending()?,
            regularizations: self.usize()?,
            reseeded_components: self.usize()?,
            note: match self.bool()? {
                true => Some(self.str()?.to_string()),
                false => None,
            },
        })
    }

    fn ending(&mut self) -> Result<Ending> {
        let at = self.pos;
        let code = self.u64()?;
        ENDINGS
            .iter()
            .find(|(c, _)| *c == code)
            .map(|&(_, e)| e)
            .ok_or_else(|| GmmError::Malformed {
                offset: at,
                reason: format!("{code} is not how a restart ends"),
            })
    }

    pub fn restart_snapshot(&mut self) -> Result<RestartSnapshot> {
        Ok(RestartSnapshot {
            model: self.model()?,
            report: self.restart_report()?,
            done: self.bool()?,
        })
    }

    pub fn fit_state(&mut self) -> Result<FitState> {
        let iteration = self.usize()?;
        let n = self.len(1)?;
        let restarts = (0..n)
            .map(|_| self.restart_snapshot())
            .collect::<Result<_>>()?;
        Ok(FitState {
            iteration,
            restarts,
        })
    }

    pub fn fit(&mut self) -> Result<Fit> {
        let model = self.model()?;
        let best_restart = self.usize()?;
        let n = self.len(1)?;
        let restarts = (0..n)
            .map(|_| self.restart_report())
            .collect::<Result<_>>()?;
        let n_iter = self.usize()?;
        let converged = self.bool()?;
        let lower_bound = self.f64()?;
        let mean_log_likelihood = self.f64()?;
        let n_rows = self.f64()?;
        let bic = self.f64()?;
        let aic = self.f64()?;
        let icl = self.f64()?;
        let icl_mclust = self.f64()?;
        let n_parameters = self.usize()?;
        Ok(Fit {
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
                icl_mclust,
            },
        })
    }

    /// An error written by [`Writer::error`] on rank `rank`.
    pub(crate) fn error(&mut self, rank: usize) -> Result<GmmError> {
        fn three(r: &mut Reader<'_>) -> Result<[usize; 3]> {
            Ok([r.usize()?, r.usize()?, r.usize()?])
        }
        Ok(match self.u64()? {
            1 => {
                let [component, restart, iteration] = three(self)?;
                GmmError::Degenerate {
                    component,
                    restart,
                    iteration,
                }
            }
            2 => {
                let [component, restart, iteration] = three(self)?;
                GmmError::EmptyComponent {
                    component,
                    restart,
                    iteration,
                }
            }
            3 => {
                three(self)?;
                GmmError::Interrupted
            }
            _ => GmmError::OnRank {
                rank,
                message: self.str()?.to_string(),
            },
        })
    }
}

impl Fit {
    /// The fit as bytes that [`Fit::from_bytes`] turns back into the same
    /// fit, bit for bit (to send a fit from one process to another).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.fit(self);
        w.into_bytes()
    }

    /// The fit [`Fit::to_bytes`] encoded; an error on bytes that are
    /// truncated or were not written by this version of the engine.
    pub fn from_bytes(bytes: &[u8]) -> Result<Fit> {
        let mut r = Reader::new(bytes);
        let fit = r.fit()?;
        r.finish()?;
        Ok(fit)
    }
}

/// The families by wire code: scikit-learn's four first (the codes they
/// had before the others), then mclust's other ten in its order.
fn wire_types() -> impl Iterator<Item = CovarianceType> {
    CovarianceType::ALL.into_iter().chain(
        CovarianceType::FAMILIES
            .into_iter()
            .filter(|c| c.is_constrained()),
    )
}

fn type_code(t: CovarianceType) -> u64 {
    wire_types()
        .position(|c| c == t)
        .expect("every family has a code") as u64
}

const ENDINGS: [(u64, Ending); 6] = [
    (0, Ending::Running),
    (1, Ending::Converged),
    (2, Ending::MaxIter),
    (3, Ending::Dropped),
    (4, Ending::Raced),
    (5, Ending::TimeLimit),
];

fn ending_code(e: Ending) -> u64 {
    ENDINGS
        .iter()
        .find(|(_, x)| *x == e)
        .expect("every ending has a code")
        .0
}
