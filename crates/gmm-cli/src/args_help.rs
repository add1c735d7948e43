//! The long help texts of the `gmm` command and its subcommands.

pub(crate) const ABOUT: &str =
    "Fit Gaussian mixture models by EM on large tables, unsupervised or semi-supervised.";

pub(crate) const LONG_ABOUT: &str = "\
gmm fits Gaussian mixture models by Expectation-Maximization on tables of
millions of rows (Parquet, Arrow IPC or CSV), with full, diag, spherical or
tied covariances or any of mclust's fourteen families (EII ... VVV), many
random restarts, and labeled rows when some rows carry a class. It writes the model and per-row posterior probabilities back to files.

Settings come from a TOML config file (see configs/ for commented examples)
and from flags, which override the file. Paths inside a config are relative
to the config file.

A first run:
  gmm fit configs/customers.toml           # writes runs/customers/
  gmm inspect runs/customers/model.json
  gmm predict --model runs/customers/model.json --input new.csv --out p.csv

Standard output carries only results (text, or JSON with --json); progress
and log lines go to standard error, and the progress display is off when
standard error is not a terminal or with --quiet.

Exit status: 0 on success, 2 for a usage or config error, 1 for a data or
runtime error, 130 when interrupted.";

pub(crate) const FIT_ABOUT: &str = "\
Fit a Gaussian mixture by EM and write a run directory:

  DIR/model.json          the model (versioned JSON, scikit-learn shapes)
  DIR/predictions.parquet per input row: --id-column and --keep-columns
                          columns, component, class (semi-supervised),
                          probability, proba_0 .. proba_{K-1}, uncertainty
                          (--noise: component -1 for the noise, proba_noise)
  DIR/trace.csv           mean log-likelihood per iteration of every restart
  DIR/trace.svg           the same as a plot, one colour per restart, the
                          chosen one highlighted
  DIR/clusters.svg        the rows coloured by component and sized by their
                          uncertainty, with 1- and 2-sigma ellipses (on the
                          two leading principal axes when there are more
                          than two columns)
  DIR/run.json            resolved settings, timings per phase, every restart's
                          outcome, row and column counts, the version

Every file is written under a temporary name and appears only when the whole
run has succeeded; a failed or interrupted run leaves no partial output.

Restarts: restart r draws its start from (seed, r), so results do not depend
on the thread count; the restart with the best lower bound (the mean
log-likelihood of its last E-step, as scikit-learn ranks them) wins.

Tables larger than the memory budget (--max-memory, default half of physical
memory) are converted once into a cache file (in --cache-dir, default
.gmm-cache beside the run directory, reused while the input is unchanged),
memory-mapped and streamed every iteration: the results are bit for bit those
of an in-memory fit. Delete the cache directory to reclaim its space.

Labeled rows (a label column, or a second file given by --labeled) make the
fit semi-supervised: in `em` mode (the default) labeled rows keep their class
in every M-step; in `init` mode they only start EM on the unlabeled rows.

Examples:
  gmm fit configs/customers.toml
  gmm fit configs/customers-semi.toml --out runs/semi --json
  gmm fit configs/large-parquet.toml --threads 16 --no-plots
  gmm fit --input data.parquet --columns 'x*' -k 8 --n-init 10 --out runs/x
  gmm fit --input customers.csv --labeled survey.csv --label-column y -k 2
  gmm fit --input s3://lake/sales/ --columns 'x*' -k 8 --out s3://lake/runs/sales-k8";

pub(crate) const PREDICT_ABOUT: &str = "\
Stream a table through a model and write, for every row in order, the
--id-column and --keep-columns columns, `component`, `class` (for a
semi-supervised model: the component's class, in the label column's type),
`probability`, `proba_0` .. `proba_{K-1}` and `uncertainty` (mclust's,
1 - probability); for a model with a noise component, `component` -1 for
a row the noise explains best and `proba_noise`. The output format follows the
extension of --out (.parquet, .csv, .arrow). The table must have the columns
the model was fitted on; other columns are ignored. The file appears only
when complete; an output at an object storage URL is uploaded then.

Examples:
  gmm predict --model runs/customers/model.json --input new.csv --out new-pred.csv
  gmm predict --model model.json --input 'data/day=*/part-*.parquet' \\
              --id-column customer_id,day --keep-columns region --out predictions.parquet
  gmm predict --model model.json --input s3://lake/new/ --out s3://lake/scored/new.parquet";

pub(crate) const SCORE_ABOUT: &str = "\
Stream a table through a model and print the mean log-likelihood per row,
BIC, AIC and the number of rows (with --json, as one JSON object). With
--weight-column, rows count by their weight.

Examples:
  gmm score --model runs/customers/model.json --input data/customers/unlabeled.csv
  gmm score --model model.json --input holdout.parquet --json";

pub(crate) const SAMPLE_ABOUT: &str = "\
Draw rows from a model: one column per model column (float64) and a
`component` column (uint32) naming the component each row came from. The
output format follows the extension of --out (.parquet, .csv, .arrow) and the
file appears only when complete.

Rows are drawn in blocks of 65536: block b uses the seed (seed, b) (block 0
uses the seed itself, so up to 65536 rows are exactly the model's own
sample(n, seed)). Within a block, the number of rows per component is drawn
from the weights first and rows come grouped by component, as in
scikit-learn's GaussianMixture.sample; shuffle them if order matters. The same
model, n and seed always give the same file.

Examples:
  gmm sample --model runs/customers/model.json -n 1000 --out sample.csv
  gmm sample --model model.json -n 10000000 --seed 7 --out big.parquet";

pub(crate) const INSPECT_ABOUT: &str = "\
Print a readable summary of a model file: its format and version, covariance
type and columns; per component the weight, the class (semi-supervised fits),
the mean and a covariance summary (standard deviation of every column, and
for full or tied covariances the largest correlation between two columns);
the fit's figures (mean log-likelihood, iterations, convergence, BIC, AIC,
rows); and its provenance (input, config, seed, version, date, command).

With --json, the same as one JSON object.

Examples:
  gmm inspect runs/customers/model.json
  gmm inspect model.json --json | jq '.components[].weight'";

pub(crate) const SELECT_ABOUT: &str = "\
Fit every cell of a grid of component counts x covariance types, each with
n_init restarts on one loaded dataset, and pick the cell with the lowest BIC
(or AIC, or ICL: BIC plus twice the classification entropy). Restarts of a
cell race: after a few iterations those clearly behind the leader stop
(successive halving; --no-racing runs every restart to the end).

Writes DIR/selection.csv (one row per cell: k, covariance, log_likelihood,
bic, aic, icl, n_parameters, n_iter, converged, seconds, ...) and
DIR/selection.json (the same cells, K and type named n_components and
covariance_type as in model files; --json prints it), DIR/bic.svg (BIC against K, one line per covariance type, the
winner marked), and the winning model's full run directory in DIR/winner/.

With --validation-fraction F, a fraction F of the rows (chosen by the seed)
is held out of every fit and scored as a second opinion next to BIC.

Examples:
  gmm select configs/model-selection.toml
  gmm select --input data.parquet --columns 'x*' --components 1..10 \\
      --covariance full,diag,spherical,tied --n-init 10 --out runs/select";
