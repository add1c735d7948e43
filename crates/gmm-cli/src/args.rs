//! The command line as typed (clap). Every fit setting is optional here: a
//! flag overrides the config file, which overrides the default.

use crate::args_help::{
    ABOUT, FIT_ABOUT, INSPECT_ABOUT, LONG_ABOUT, PREDICT_ABOUT, SAMPLE_ABOUT, SCORE_ABOUT,
    SELECT_ABOUT,
};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "gmm", version, about = ABOUT, long_about = LONG_ABOUT, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once; size is irrelevant
pub enum Command {
    /// Fit a mixture to a table and write the model, predictions and plots.
    #[command(long_about = FIT_ABOUT)]
    Fit(FitArgs),
    /// Write the posterior probabilities of every row of a table under a model.
    #[command(long_about = PREDICT_ABOUT)]
    Predict(PredictArgs),
    /// Score a table under a model: mean log-likelihood per row, BIC, AIC.
    #[command(long_about = SCORE_ABOUT)]
    Score(ScoreArgs),
    /// Draw rows from a model into a Parquet, CSV or Arrow file.
    #[command(long_about = SAMPLE_ABOUT)]
    Sample(SampleArgs),
    /// Summarize a model file: components, covariances, fit figures, provenance.
    #[command(long_about = INSPECT_ABOUT)]
    Inspect(InspectArgs),
    /// Choose the number of components and the covariance type by BIC.
    ///
    /// `gmm fit`'s flags that a selection cannot use are not shown; given
    /// anyway, they are refused with a message saying why.
    #[command(
        long_about = SELECT_ABOUT,
        mut_arg("init_model", |a| a.hide(true)),
        mut_arg("checkpoint", |a| a.hide(true)),
        mut_arg("resume", |a| a.hide(true)),
        mut_arg("split", |a| a.hide(true)),
    )]
    Select(SelectArgs),
}

/// A number as it serializes, except that one that is not finite (which
/// JSON cannot hold, and would read as absent) is written as text, so that
/// the setting it is given for refuses it rather than never seeing it.
fn finite_or_text<S: serde::Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(x) if !x.is_finite() => s.serialize_some(&x.to_string()),
        _ => serde::Serialize::serialize(v, s),
    }
}

/// Settings of a fit, as flags. Each overrides the config file's value.
/// A flag named as a field of `gmm_core::FitParams` sets that setting
/// (see `config::setting_names`); its help heading is its config section.
#[derive(Debug, Args, Default, Clone, serde::Serialize)]
pub struct FitArgs {
    /// A TOML config file (see configs/); flags override its values.
    pub config: Option<PathBuf>,

    /// Input table: .parquet (or a directory or glob of them), .arrow/.feather, .csv/.tsv, also compressed (.csv.gz, .csv.zst); a path or an s3://, gs://, az:// or https:// URL.
    #[arg(long, help_heading = "Data")]
    pub input: Option<String>,
    /// Feature columns, comma-separated names or globs (`x*`); default: every numeric column
    /// except the label, weight and id columns.
    #[arg(long, value_delimiter = ',', help_heading = "Data")]
    pub columns: Option<Vec<String>>,
    /// Column holding class labels (null or empty = unlabeled).
    #[arg(long, help_heading = "Data")]
    pub label_column: Option<String>,
    /// Column of non-negative row weights.
    #[arg(long, help_heading = "Data")]
    pub weight_column: Option<String>,
    /// Column of true/false (1/0) marking the rows that start as noise (mclust's
    /// `initialization = list(noise = ...)`), for --noise: the clusters start from the
    /// other rows, the noise's weight from the marked rows' share.
    #[arg(long, value_name = "COLUMN", help_heading = "Data")]
    pub noise_init_column: Option<String>,
    /// Columns that identify rows, copied in front of the predictions to
    /// join them back (comma-separated, or the flag repeated); never features.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "COLUMNS",
        help_heading = "Data"
    )]
    pub id_column: Option<Vec<String>>,
    /// More input columns copied into the predictions after the ids (any
    /// type; a feature too), comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "COLUMNS",
        help_heading = "Data"
    )]
    pub keep_columns: Option<Vec<String>>,
    /// A second table of labeled rows (same feature columns plus the label column).
    #[arg(long, help_heading = "Data")]
    pub labeled: Option<String>,
    /// CSV field delimiter (one character; `\t` for tab).
    #[arg(long, help_heading = "Data")]
    pub delimiter: Option<String>,
    /// Only the rows that pass a condition on data columns and on the
    /// `key=value` directories of a Parquet dataset (which become columns),
    /// e.g. "day >= '2026-11-01' and region in ('eu', 'us') and amount > 0".
    #[arg(long, value_name = "EXPR", help_heading = "Data")]
    pub filter: Option<String>,
    /// Rows with a missing feature value (null, or NaN): error (the
    /// default), drop (leave them out of the fit, count them, and give
    /// them null predictions) or marginalize (keep them: EM integrates the
    /// missing values out, and every row gets a prediction).
    #[arg(long, value_name = "error|drop|marginalize", help_heading = "Data")]
    pub missing: Option<String>,
    /// Memory budget for the selected data, such as 512MiB, 8GB or 2G
    /// (default: half of physical memory). Larger data is fitted out of core,
    /// streamed every iteration from a memory-mapped cache file; `unlimited`
    /// keeps it in memory.
    #[arg(long, value_name = "SIZE", help_heading = "Data")]
    pub max_memory: Option<String>,
    /// Directory of out-of-core cache files (default: .gmm-cache beside the
    /// run directory); a cache is reused while the input is unchanged.
    #[arg(long, value_name = "DIR", help_heading = "Data")]
    pub cache_dir: Option<String>,
    /// Hold the rows as f64 (default) or f32: f32 halves the memory and the
    /// out-of-core cache, each value rounded to the nearest f32 (7 digits);
    /// statistics are still summed in f64.
    #[arg(long, value_name = "f64|f32", help_heading = "Data")]
    pub precision: Option<String>,

    /// Number of mixture components K (for `gmm select`: a range `1..10`,
    /// inclusive, or a list `2,4,8`; by default 1..9, as mclust's Mclust()).
    #[arg(short = 'k', long, help_heading = "Model")]
    pub components: Option<String>,
    /// Covariance structure: full, diag, spherical or tied, or any of
    /// mclust's fourteen families by name (EII, VII, EEI, VEI, EVI, VVI, EEE,
    /// VEE, EVE, VVE, EEV, VEV, EVV, VVV).
    #[arg(long, help_heading = "Model")]
    pub covariance: Option<String>,
    /// Added to every covariance diagonal (scikit-learn's reg_covar); 0 allowed.
    #[arg(long, help_heading = "Model")]
    #[serde(serialize_with = "finite_or_text")]
    pub reg_covar: Option<f64>,
    /// mclust's conjugate prior (priorControl()): posterior-mode estimates, which
    /// keep components from collapsing without --reg-covar. Not for EVE, VEE, VVE, EVV.
    /// --prior=false turns off a config's `prior = true`.
    #[arg(
        long,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        help_heading = "Model"
    )]
    pub prior: Option<bool>,
    /// mclust's noise component: a uniform density over the data's region, with its own
    /// weight, for rows in no cluster; predictions give them component -1 and `proba_noise`.
    /// --noise=false turns off a config's `noise = true`.
    #[arg(
        long,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        help_heading = "Model"
    )]
    pub noise: Option<bool>,
    /// The volume the noise is uniform over (mclust's 1/Vinv); by default that of the rows,
    /// the smaller of their bounding box's and their principal components' box's.
    #[arg(long, help_heading = "Model")]
    #[serde(serialize_with = "finite_or_text")]
    pub noise_volume: Option<f64>,

    /// Initialization: kmeans, kmeans++, random, random-from-data, random-params, labeled,
    /// or hc (mclust's: hierarchical agglomeration of --hc-rows rows).
    #[arg(long, help_heading = "Fit")]
    pub init: Option<String>,
    /// Rows the hc initialization agglomerates (default 2000, as mclust; at most 10000).
    #[arg(long, help_heading = "Fit")]
    pub hc_rows: Option<usize>,
    /// Start the first restart from a saved model.json.
    #[arg(long, help_heading = "Fit")]
    pub init_model: Option<String>,
    /// Number of restarts; the best lower bound (last E-step's mean
    /// log-likelihood) wins.
    #[arg(long, help_heading = "Fit")]
    pub n_init: Option<usize>,
    /// Maximum EM iterations per restart.
    #[arg(long, help_heading = "Fit")]
    pub max_iter: Option<usize>,
    /// Convergence threshold on the change of the mean log-likelihood per row.
    #[arg(long, help_heading = "Fit")]
    #[serde(serialize_with = "finite_or_text")]
    pub tol: Option<f64>,
    /// Random seed; restart r draws from (seed, r).
    #[arg(long, help_heading = "Fit")]
    pub seed: Option<u64>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, help_heading = "Fit")]
    pub threads: Option<usize>,
    /// Rows per chunk of work.
    #[arg(long, help_heading = "Fit")]
    pub chunk_rows: Option<usize>,
    /// When a component degenerates (covariance not positive definite after
    /// reg_covar, or no rows left): reseed (default), error, or drop-restart.
    #[arg(long, help_heading = "Fit")]
    pub on_degenerate: Option<String>,
    /// A wall-clock budget for the fit, in seconds: restarts still running
    /// when it runs out stop after their current iteration, and the best so
    /// far is returned (converged: false, the reason in run.json).
    #[arg(long, value_name = "SECONDS", help_heading = "Fit")]
    #[serde(serialize_with = "finite_or_text")]
    pub max_seconds: Option<f64>,
    /// Save the state to DIR/checkpoint.json every N iterations, so that a
    /// killed job can go on with --resume.
    #[arg(long, value_name = "N", help_heading = "Fit")]
    pub checkpoint: Option<usize>,
    /// Go on from DIR/checkpoint.json, left by an earlier run with the same
    /// settings and data; the result is the one an uninterrupted run gives.
    #[arg(long, help_heading = "Fit")]
    pub resume: bool,
    /// Under mpirun, what the processes share out: rows (default: each
    /// reads and fits its share of the table) or restarts (each holds the
    /// whole table and runs every N-th restart). The model is the same.
    #[arg(long, value_name = "WHAT", help_heading = "Fit")]
    pub split: Option<String>,

    /// How labeled rows are used: em (kept in every M-step), init (only start EM), or off.
    #[arg(long, help_heading = "Semi-supervised")]
    pub semi_supervised: Option<String>,
    /// Weight of the unlabeled rows' log-likelihood in em mode (lambda).
    #[arg(long, help_heading = "Semi-supervised")]
    #[serde(serialize_with = "finite_or_text")]
    pub unlabeled_weight: Option<f64>,

    /// Run directory for model.json, predictions, trace.csv and plots; a path, or an s3://,
    /// gs:// or az:// URL (written locally, uploaded when complete).
    #[arg(long, help_heading = "Output")]
    pub out: Option<PathBuf>,
    /// Predictions file format: parquet (default), csv or arrow.
    #[arg(long, help_heading = "Output")]
    pub predictions_format: Option<String>,
    /// Do not draw trace.svg and clusters.svg (overrides [output] plots).
    #[arg(long, help_heading = "Output")]
    pub no_plots: bool,
    /// Print the summary as JSON.
    #[arg(long, help_heading = "Output")]
    pub json: bool,
    /// When standard error is not a terminal (a batch job's log): seconds
    /// between heartbeat lines (30, 2.5, 5m; 0: phase lines only)
    /// [default: 30; env: GMM_LOG_INTERVAL].
    #[arg(long, value_name = "SECONDS", help_heading = "Output")]
    pub log_interval: Option<String>,
    /// The format of those lines: text, json (one object per line) or none
    /// [default: text; env: GMM_LOG_FORMAT].
    #[arg(long, value_name = "FORMAT", help_heading = "Output")]
    pub log_format: Option<String>,
    /// No progress display.
    #[arg(short, long, help_heading = "Output", conflicts_with = "verbose")]
    pub quiet: bool,
    /// Log every phase and every iteration to standard error.
    #[arg(short, long, help_heading = "Output")]
    pub verbose: bool,
}

#[derive(Debug, Args, Clone)]
pub struct PredictArgs {
    /// The model file (model.json) to predict with.
    #[arg(long)]
    pub model: PathBuf,
    /// Table to predict: a path or an object storage URL, as `gmm fit --input`.
    #[arg(long)]
    pub input: String,
    /// Output file; its extension chooses the format (.parquet, .csv, .arrow). A path, or an
    /// s3://, gs:// or az:// URL (written locally, uploaded when complete).
    #[arg(long)]
    pub out: PathBuf,
    /// Columns that identify rows, copied in front of the predictions
    /// (comma-separated, or the flag repeated).
    #[arg(long, value_delimiter = ',', value_name = "COLUMNS")]
    pub id_column: Vec<String>,
    /// More input columns copied into the predictions after the ids.
    #[arg(long, value_delimiter = ',', value_name = "COLUMNS")]
    pub keep_columns: Vec<String>,
    #[command(flatten)]
    pub stream: StreamArgs,
}

/// What `predict` and `score` share: how the table is read, and how the
/// command runs.
#[derive(Debug, Args, Clone)]
pub struct StreamArgs {
    /// CSV field delimiter of the input.
    #[arg(long)]
    pub delimiter: Option<String>,
    /// Only the rows that pass a condition (as `gmm fit --filter`).
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,
    /// When standard error is not a terminal: seconds between heartbeat
    /// lines (as `gmm fit --log-interval`).
    #[arg(long, value_name = "SECONDS")]
    pub log_interval: Option<String>,
    /// The format of those lines: text, json or none (as `gmm fit`).
    #[arg(long, value_name = "FORMAT")]
    pub log_format: Option<String>,
    /// Rows with a missing feature value: error (the default), drop (they
    /// are left out: null predictions, not scored) or marginalize (the
    /// missing values are integrated out: predicted and scored from the
    /// observed ones).
    #[arg(long, value_name = "error|drop|marginalize")]
    pub missing: Option<String>,
    /// Round the rows to f32 first, or use them as they are (f64). Default:
    /// as the model's fit held its rows (f32 after --precision f32).
    #[arg(long, value_name = "f64|f32")]
    pub precision: Option<String>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress display.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args, Clone)]
pub struct ScoreArgs {
    /// The model file (model.json).
    #[arg(long)]
    pub model: PathBuf,
    /// Table to score: a path or an object storage URL, as `gmm fit --input`.
    #[arg(long)]
    pub input: String,
    /// Column of row weights.
    #[arg(long)]
    pub weight_column: Option<String>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub stream: StreamArgs,
}

#[derive(Debug, Args, Clone)]
pub struct SampleArgs {
    /// The model file (model.json) to draw from.
    #[arg(long)]
    pub model: PathBuf,
    /// Number of rows to draw.
    #[arg(short = 'n', long = "rows", value_name = "N")]
    pub rows: u64,
    /// Random seed; the same model, N and seed give the same rows.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output file; its extension chooses the format (.parquet, .csv, .arrow).
    #[arg(long)]
    pub out: PathBuf,
    /// Name of the column holding each row's component.
    #[arg(long, default_value = "component")]
    pub component_column: String,
    /// Worker threads (default: all cores). The rows do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress display.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args, Clone)]
pub struct InspectArgs {
    /// The model file (model.json) to summarize (or --model, as `predict`
    /// and `score` take it).
    #[arg(value_name = "MODEL", required_unless_present = "model_flag")]
    pub model: Option<PathBuf>,
    /// The model file, named as `predict` and `score` name it.
    #[arg(long = "model", value_name = "MODEL", conflicts_with = "model")]
    pub model_flag: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `gmm select`: every fit setting of `gmm fit`, plus the grid.
#[derive(Debug, Args, Clone)]
pub struct SelectArgs {
    #[command(flatten)]
    pub fit: FitArgs,
    /// The criterion that picks the winner: bic (default), aic or icl.
    #[arg(long, help_heading = "Selection")]
    pub criterion: Option<String>,
    /// Run every restart to the end instead of stopping the laggards.
    #[arg(long, help_heading = "Selection")]
    pub no_racing: bool,
    /// Racing: the first cut comes after this many iterations, then after
    /// every doubling of it [default: 5].
    #[arg(long, value_name = "N", help_heading = "Selection")]
    pub racing_first_round: Option<usize>,
    /// Racing: the fraction of the running restarts kept at each cut
    /// [default: 0.5].
    #[arg(long, value_name = "F", help_heading = "Selection")]
    pub racing_keep: Option<f64>,
    /// Racing: restarts within this mean log-likelihood per row of the
    /// leader are never cut [default: 0.001].
    #[arg(long, value_name = "M", help_heading = "Selection")]
    pub racing_margin: Option<f64>,
    /// Hold out this fraction of the rows and report their mean
    /// log-likelihood per cell.
    #[arg(long, value_name = "F", help_heading = "Selection")]
    pub validation_fraction: Option<f64>,
    /// Covariance families to compare: `all` (mclust's fourteen, as
    /// Mclust() compares them), `sklearn` (full, diag, spherical, tied: the
    /// default) or a list of names, as --covariance takes them.
    #[arg(long, value_name = "all|sklearn|LIST", help_heading = "Selection")]
    pub families: Option<String>,
}
