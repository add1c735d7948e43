//! The command line as typed (clap). Every fit setting is optional here: a
//! flag overrides the config file, which overrides the default.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

const ABOUT: &str =
    "Fit Gaussian mixture models by EM on large tables, unsupervised or semi-supervised.";

const LONG_ABOUT: &str = "\
gmm fits Gaussian mixture models by Expectation-Maximization on tables of
millions of rows (Parquet, Arrow IPC or CSV), with full, diag, spherical or
tied covariances, many random restarts, and labeled rows when some rows carry
a class. It writes the model and per-row posterior probabilities back to files.

Settings come from a TOML config file (see configs/ for commented examples)
and from flags, which override the file. Paths inside a config are relative
to the config file.

Exit status: 0 on success, 2 for a usage or config error, 1 for a data or
runtime error.";

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
}

const FIT_ABOUT: &str = "\
Fit a Gaussian mixture by EM and write a run directory:

  DIR/model.json          the model (versioned JSON, scikit-learn shapes)
  DIR/predictions.parquet per input row: component, probability, proba_0..
  DIR/trace.csv           mean log-likelihood per iteration of every restart

Labeled rows (a label column, or a second file given by --labeled) make the
fit semi-supervised: in `em` mode (the default) labeled rows keep their class
in every M-step; in `init` mode they only start EM on the unlabeled rows.

Examples:
  gmm fit configs/customers-semi.toml
  gmm fit --input data.parquet --columns 'x*' -k 8 --n-init 10 --out runs/x";

const PREDICT_ABOUT: &str = "\
Stream a table through a model and write, for every row in order, the id
column (if --id-column is given), `component`, `probability` and `proba_0` ..
`proba_{K-1}`. The output format follows the extension of --out (.parquet,
.csv, .arrow). The table must have the columns the model was fitted on.";

const SCORE_ABOUT: &str = "\
Stream a table through a model and print the mean log-likelihood per row,
BIC, AIC and the number of rows (with --json, as one JSON object).";

/// Settings of a fit, as flags. Each overrides the config file's value.
#[derive(Debug, Args, Default, Clone)]
pub struct FitArgs {
    /// A TOML config file (see configs/); flags override its values.
    pub config: Option<PathBuf>,

    /// Input table: .parquet (or a directory or glob of them), .arrow/.feather, .csv/.tsv.
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
    /// Column copied through to the predictions to identify rows.
    #[arg(long, help_heading = "Data")]
    pub id_column: Option<String>,
    /// A second table of labeled rows (same feature columns plus the label column).
    #[arg(long, help_heading = "Data")]
    pub labeled: Option<String>,
    /// CSV field delimiter (one character; `\t` for tab).
    #[arg(long, help_heading = "Data")]
    pub delimiter: Option<String>,

    /// Number of mixture components K.
    #[arg(short = 'k', long, help_heading = "Model")]
    pub components: Option<usize>,
    /// Covariance structure: full, diag, spherical or tied.
    #[arg(long, help_heading = "Model")]
    pub covariance: Option<String>,
    /// Added to every covariance diagonal (scikit-learn's reg_covar); 0 allowed.
    #[arg(long, help_heading = "Model")]
    pub reg_covar: Option<f64>,

    /// Initialization: kmeans, kmeans++, random, random-from-data, random-params, labeled.
    #[arg(long, help_heading = "Fit")]
    pub init: Option<String>,
    /// Start the first restart from a saved model.json.
    #[arg(long, help_heading = "Fit")]
    pub init_model: Option<String>,
    /// Number of restarts; the best final log-likelihood wins.
    #[arg(long, help_heading = "Fit")]
    pub n_init: Option<usize>,
    /// Maximum EM iterations per restart.
    #[arg(long, help_heading = "Fit")]
    pub max_iter: Option<usize>,
    /// Convergence threshold on the change of the mean log-likelihood per row.
    #[arg(long, help_heading = "Fit")]
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

    /// How labeled rows are used: em (kept in every M-step), init (only start EM), or off.
    #[arg(long, help_heading = "Semi-supervised")]
    pub semi_supervised: Option<String>,
    /// Weight of the unlabeled rows' log-likelihood in em mode (lambda).
    #[arg(long, help_heading = "Semi-supervised")]
    pub unlabeled_weight: Option<f64>,

    /// Run directory for model.json, predictions, trace.csv and plots.
    #[arg(long, help_heading = "Output")]
    pub out: Option<PathBuf>,
    /// Predictions file format: parquet (default), csv or arrow.
    #[arg(long, help_heading = "Output")]
    pub predictions_format: Option<String>,
    /// Print the summary as JSON.
    #[arg(long, help_heading = "Output")]
    pub json: bool,
    /// No progress display.
    #[arg(short, long, help_heading = "Output")]
    pub quiet: bool,
    /// Log every iteration to standard error.
    #[arg(short, long, help_heading = "Output")]
    pub verbose: bool,
}

#[derive(Debug, Args, Clone)]
pub struct PredictArgs {
    /// The model file (model.json) to predict with.
    #[arg(long)]
    pub model: PathBuf,
    /// Table to predict.
    #[arg(long)]
    pub input: String,
    /// Output file; its extension chooses the format (.parquet, .csv, .arrow).
    #[arg(long)]
    pub out: PathBuf,
    /// Column copied through to the predictions.
    #[arg(long)]
    pub id_column: Option<String>,
    /// CSV field delimiter of the input.
    #[arg(long)]
    pub delimiter: Option<String>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args, Clone)]
pub struct ScoreArgs {
    /// The model file (model.json).
    #[arg(long)]
    pub model: PathBuf,
    /// Table to score.
    #[arg(long)]
    pub input: String,
    /// Column of row weights.
    #[arg(long)]
    pub weight_column: Option<String>,
    /// CSV field delimiter of the input.
    #[arg(long)]
    pub delimiter: Option<String>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    #[arg(short, long)]
    pub quiet: bool,
}
