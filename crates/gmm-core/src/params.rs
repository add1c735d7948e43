//! Fit settings: the one type that says how a fit runs, whatever front end
//! fills it (the CLI's flags and TOML sections, a Python estimator's
//! arguments). Defaults live in [`FitParams::default`], checks in
//! [`FitParams::check`], which turns the settings into [`ValidFitParams`]
//! before any work; the type serializes with serde (run files, checkpoints,
//! model provenance record it as it is). It holds no run state: a saved
//! [`crate::FitState`] to go on from is handed to [`ValidFitParams::resume`],
//! not stored here.

use serde::{Deserialize, Serialize};

pub use crate::choices::{DegeneratePolicy, InitMethod, SemiSupervisedMode};
use crate::chunks::DEFAULT_CHUNK_ROWS;
use crate::covariance::CovarianceType;
use crate::error::{GmmError, Result};
use crate::model::GaussianMixture;

/// The most components a fit takes: every restart holds K covariance
/// matrices, and each row K responsibilities per pass.
pub const MAX_COMPONENTS: usize = 100_000;
/// The most restarts a fit runs (all of them held at once).
pub const MAX_RESTARTS: usize = 100_000;
/// The most rows in a chunk of work (each thread holds a chunk's
/// responsibilities).
pub const MAX_CHUNK_ROWS: usize = 1 << 24;

/// The most rows the `hc` initialization agglomerates: its table of the
/// cost of every pair of rows takes 400 MB there.
pub const MAX_HC_ROWS: usize = 10_000;

/// Successive halving of restarts: after `first_round` iterations, and
/// after every doubling of that count, the restarts still running are
/// ranked by their objective and all but the best `keep` fraction stop,
/// unless they are within `margin` (mean log-likelihood per row) of the
/// leader.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Racing {
    pub first_round: usize,
    pub keep: f64,
    pub margin: f64,
}

impl Default for Racing {
    fn default() -> Self {
        Racing {
            first_round: 5,
            keep: 0.5,
            margin: 1e-3,
        }
    }
}

impl Racing {
    /// Checks the values on their own; the error names the field
    /// (`racing_first_round`, `racing_keep`, `racing_margin`).
    pub fn check(&self) -> Result<()> {
        let bad = |name: &'static str, reason: String| Err(GmmError::InvalidParam { name, reason });
        if self.first_round == 0 {
            return bad("racing_first_round", "must be at least 1".into());
        }
        if !(self.keep > 0.0 && self.keep <= 1.0) {
            return bad(
                "racing_keep",
                format!("{} must be above 0 and at most 1", self.keep),
            );
        }
        if !(self.margin >= 0.0 && self.margin.is_finite()) {
            return bad(
                "racing_margin",
                format!("{} must be a non-negative number", self.margin),
            );
        }
        Ok(())
    }
}

/// Semi-supervised settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SemiSupervised {
    pub mode: SemiSupervisedMode,
    /// lambda: the weight of the unlabeled rows' log-likelihood in `em` mode.
    pub unlabeled_weight: f64,
}

impl SemiSupervised {
    /// Checks the values on their own; the error names the field.
    pub fn check(&self) -> Result<()> {
        if !(self.unlabeled_weight.is_finite() && self.unlabeled_weight >= 0.0) {
            return Err(GmmError::InvalidParam {
                name: "unlabeled_weight",
                reason: format!("{} must be finite and non-negative", self.unlabeled_weight),
            });
        }
        Ok(())
    }
}

impl Default for SemiSupervised {
    fn default() -> Self {
        SemiSupervised {
            mode: SemiSupervisedMode::Em,
            unlabeled_weight: 1.0,
        }
    }
}

/// Everything a fit can be told. Build with [`FitParams::new`] and the
/// setters (or deserialize it: missing fields take their defaults), then
/// [`FitParams::check`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FitParams {
    pub n_components: usize,
    pub covariance_type: CovarianceType,
    pub reg_covar: f64,
    pub tol: f64,
    pub max_iter: usize,
    pub n_init: usize,
    /// `None`: `labeled` for semi-supervised fits, `kmeans` otherwise.
    pub init: Option<InitMethod>,
    /// A warm start: the first restart starts from these parameters. Not
    /// serialized: a front end records where the model came from.
    #[serde(skip)]
    pub init_model: Option<GaussianMixture>,
    /// The lower bound the warm-start model ended its own fit with (a model
    /// file's mean log-likelihood): the warm restart's first iteration is
    /// compared with it, so that refitting a converged model converges at
    /// once, as scikit-learn's `warm_start` does with its `lower_bound_`.
    #[serde(skip)]
    pub init_model_lower_bound: Option<f64>,
    pub seed: u64,
    pub chunk_rows: usize,
    pub semi_supervised: Option<SemiSupervised>,
    /// Lloyd iterations of the `kmeans` initialization.
    pub kmeans_max_iter: usize,
    /// Rows sampled for k-means++ seeding when the data has more.
    pub init_sample_rows: usize,
    /// Rows the initializations run on (Lloyd iterations, class
    /// statistics, random responsibilities): all rows when the table has at
    /// most this many (or 1,000 per component, if that is more), else a
    /// uniform sample of about that many plus every labeled row. Bounds
    /// the cost of starting a fit on a huge table: 25,000 rows place K
    /// centers as well as a million do (EM then refines them on every row;
    /// the best log-likelihoods of 10 restarts on the speed grid are those
    /// of 100,000 rows, higher, or within 6e-6 relative), and keep the
    /// starts of all restarts under the time of one EM iteration there.
    pub init_rows: usize,
    /// Rows the `hc` initialization agglomerates (mclust's
    /// `mclust.options("subset")`, 2,000): all of them when there are no
    /// more (of those the initializations read, `init_rows`). Memory and
    /// time grow with its square; at most [`MAX_HC_ROWS`].
    pub hc_rows: usize,
    /// mclust's conjugate prior (`priorControl()` with its defaults): every
    /// M-step gives the posterior mode, which keeps components from
    /// collapsing without `reg_covar` (see [`crate::family::prior`]). Not
    /// for EVE, VEE, VVE and EVV, which mclust has no prior for.
    pub prior: bool,
    /// mclust's noise component: a uniform density over the data's region
    /// with its own weight, for rows in no cluster (see [`crate::Noise`]).
    pub noise: bool,
    /// The volume the noise is uniform over (mclust's `1 / Vinv`); by
    /// default mclust's `hypvol` of the rows: the smaller of the volumes of
    /// their bounding box and of their box along the principal components.
    pub noise_volume: Option<f64>,
    pub on_degenerate: DegeneratePolicy,
    /// Stop restarts that fall clearly behind (off by default).
    pub racing: Option<Racing>,
    /// Hand the observer a [`crate::FitState`] every this many iterations.
    pub checkpoint_every: Option<usize>,
    /// A wall-clock budget in seconds, initialization included: when it has
    /// run out at the end of an iteration, the restarts still running stop
    /// there (not converged) and the best so far is returned. The result
    /// then depends on the machine's speed.
    pub max_seconds: Option<f64>,
}

/// The defaults of every setting, in one place (scikit-learn's where it
/// has the setting).
impl Default for FitParams {
    fn default() -> Self {
        FitParams {
            n_components: 1,
            covariance_type: CovarianceType::Full,
            reg_covar: 1e-6,
            tol: 1e-3,
            max_iter: 100,
            n_init: 1,
            init: None,
            init_model: None,
            init_model_lower_bound: None,
            seed: 0,
            chunk_rows: DEFAULT_CHUNK_ROWS,
            semi_supervised: None,
            kmeans_max_iter: 30,
            init_sample_rows: 100_000,
            init_rows: 25_000,
            hc_rows: 2_000,
            prior: false,
            noise: false,
            noise_volume: None,
            on_degenerate: DegeneratePolicy::Reseed,
            racing: None,
            checkpoint_every: None,
            max_seconds: None,
        }
    }
}

impl FitParams {
    /// `n_components` components, every other setting at its default.
    pub fn new(n_components: usize) -> Self {
        FitParams {
            n_components,
            ..FitParams::default()
        }
    }
    pub fn on_degenerate(mut self, v: DegeneratePolicy) -> Self {
        self.on_degenerate = v;
        self
    }
    pub fn racing(mut self, v: Racing) -> Self {
        self.racing = Some(v);
        self
    }
    pub fn max_seconds(mut self, v: f64) -> Self {
        self.max_seconds = Some(v);
        self
    }
    pub fn checkpoint_every(mut self, v: usize) -> Self {
        self.checkpoint_every = Some(v);
        self
    }

    pub fn covariance_type(mut self, v: CovarianceType) -> Self {
        self.covariance_type = v;
        self
    }
    pub fn reg_covar(mut self, v: f64) -> Self {
        self.reg_covar = v;
        self
    }
    pub fn tol(mut self, v: f64) -> Self {
        self.tol = v;
        self
    }
    pub fn max_iter(mut self, v: usize) -> Self {
        self.max_iter = v;
        self
    }
    pub fn n_init(mut self, v: usize) -> Self {
        self.n_init = v;
        self
    }
    pub fn init(mut self, v: InitMethod) -> Self {
        self.init = Some(v);
        self
    }
    pub fn init_model(mut self, v: GaussianMixture) -> Self {
        self.init_model = Some(v);
        self
    }
    pub fn seed(mut self, v: u64) -> Self {
        self.seed = v;
        self
    }
    pub fn chunk_rows(mut self, v: usize) -> Self {
        self.chunk_rows = v;
        self
    }
    pub fn semi_supervised(mut self, v: SemiSupervised) -> Self {
        self.semi_supervised = Some(v);
        self
    }
    pub fn kmeans_max_iter(mut self, v: usize) -> Self {
        self.kmeans_max_iter = v;
        self
    }
    pub fn init_sample_rows(mut self, v: usize) -> Self {
        self.init_sample_rows = v;
        self
    }
    pub fn init_rows(mut self, v: usize) -> Self {
        self.init_rows = v;
        self
    }
    pub fn hc_rows(mut self, v: usize) -> Self {
        self.hc_rows = v;
        self
    }
    pub fn prior(mut self, v: bool) -> Self {
        self.prior = v;
        self
    }
    pub fn noise(mut self, v: bool) -> Self {
        self.noise = v;
        self
    }
    pub fn noise_volume(mut self, v: Option<f64>) -> Self {
        self.noise_volume = v;
        self
    }

    /// Checks every setting on its own and against the others; checks
    /// against the data happen when fitting.
    pub fn check(self) -> Result<ValidFitParams> {
        self.check_values()?;
        let bad = |name: &'static str, reason: String| Err(GmmError::InvalidParam { name, reason });
        if self.init == Some(InitMethod::Labeled) && self.semi_supervised.is_none() {
            return bad(
                "init",
                "`labeled` needs a semi-supervised fit (labeled rows)".into(),
            );
        }
        if let Some(m) = &self.init_model
            && m.n_components() != self.n_components
        {
            return bad(
                "init_model",
                format!(
                    "the model has {} components but {} were asked for",
                    m.n_components(),
                    self.n_components
                ),
            );
        }
        Ok(ValidFitParams(self))
    }

    /// Checks each value on its own (ranges), without the settings that a
    /// front end fills only once the data is read (semi-supervision, a
    /// warm-start model): what a front end can check before any work. The
    /// error names the field.
    pub fn check_values(&self) -> Result<()> {
        let bad = |name: &'static str, reason: String| Err(GmmError::InvalidParam { name, reason });
        if self.n_components == 0 {
            return bad("n_components", "must be at least 1".into());
        }
        if self.n_components > MAX_COMPONENTS {
            return bad(
                "n_components",
                format!(
                    "{} is more than the {MAX_COMPONENTS} components gmm fits",
                    self.n_components
                ),
            );
        }
        if !(self.reg_covar.is_finite() && self.reg_covar >= 0.0) {
            return bad(
                "reg_covar",
                format!("{} must be finite and non-negative", self.reg_covar),
            );
        }
        if !(self.tol.is_finite() && self.tol >= 0.0) {
            return bad(
                "tol",
                format!("{} must be finite and non-negative", self.tol),
            );
        }
        if self.n_init == 0 {
            return bad("n_init", "must be at least 1".into());
        }
        if self.n_init > MAX_RESTARTS {
            return bad(
                "n_init",
                format!(
                    "{} is more than the {MAX_RESTARTS} restarts gmm runs",
                    self.n_init
                ),
            );
        }
        if self.chunk_rows == 0 {
            return bad("chunk_rows", "must be at least 1".into());
        }
        if self.chunk_rows > MAX_CHUNK_ROWS {
            return bad(
                "chunk_rows",
                format!(
                    "{} is more than {MAX_CHUNK_ROWS} rows per chunk",
                    self.chunk_rows
                ),
            );
        }
        if self.init_sample_rows == 0 {
            return bad("init_sample_rows", "must be at least 1".into());
        }
        if self.init_rows == 0 {
            return bad("init_rows", "must be at least 1".into());
        }
        if self.prior && !self.covariance_type.has_prior() {
            return bad(
                "prior",
                format!(
                    "mclust has no prior for {}; use it with EII, VII, EEI, VEI, EVI, VVI, EEE, EEV, VEV or VVV",
                    self.covariance_type.mclust_name()
                ),
            );
        }
        if let Some(v) = self.noise_volume {
            if !self.noise {
                return bad(
                    "noise_volume",
                    "sets the volume of a noise component, and the fit has none: turn noise on, or leave the volume out".into(),
                );
            }
            crate::noise::check_volume(v).or_else(|e| bad("noise_volume", e))?;
        }
        if let Some(m) = &self.init_model
            && m.noise().is_some()
            && !self.noise
        {
            return bad(
                "init_model",
                "the start has a noise component: fit with noise, or start from a model without one".into(),
            );
        }
        if self.init == Some(InitMethod::Hc) && self.hc_rows < self.n_components {
            return bad(
                "hc_rows",
                format!(
                    "{} rows cannot be cut into {} clusters; raise it to at least {}",
                    self.hc_rows, self.n_components, self.n_components
                ),
            );
        }
        if !(2..=MAX_HC_ROWS).contains(&self.hc_rows) {
            return bad(
                "hc_rows",
                format!(
                    "{} is not between 2 and {MAX_HC_ROWS} (the agglomeration holds every pair of rows: {} MB at {MAX_HC_ROWS})",
                    self.hc_rows,
                    MAX_HC_ROWS * MAX_HC_ROWS * 4 / 1_000_000
                ),
            );
        }
        if let Some(s) = &self.semi_supervised {
            s.check()?;
        }
        if let Some(r) = &self.racing {
            r.check()?;
        }
        if self.checkpoint_every == Some(0) {
            return bad("checkpoint_every", "must be at least 1".into());
        }
        if let Some(s) = self.max_seconds
            && !(s.is_finite() && s > 0.0)
        {
            return bad(
                "max_seconds",
                format!("{s} must be a positive number of seconds"),
            );
        }
        Ok(())
    }
}

/// Settings that passed [`FitParams::check`].
#[derive(Debug, Clone, PartialEq)]
pub struct ValidFitParams(pub(crate) FitParams);

impl ValidFitParams {
    pub fn params(&self) -> &FitParams {
        &self.0
    }

    /// The initialization that restarts use.
    pub fn init_method(&self) -> InitMethod {
        self.0.init.unwrap_or(if self.0.semi_supervised.is_some() {
            InitMethod::Labeled
        } else {
            InitMethod::KMeans
        })
    }
}
