//! `gmm score`: mean log-likelihood per row, BIC and AIC of a table under a model.

use std::io::Write;

use anyhow::Result;
use gmm_io::{DEFAULT_BATCH_ROWS, ModelFile};
use serde_json::json;

use crate::args::ScoreArgs;
use crate::progress::{Verbosity, spinner};

pub fn run(args: ScoreArgs) -> Result<()> {
    super::start_streaming(&args.stream, "score")?;
    let file = ModelFile::read(&args.model)?;
    let model = file
        .to_model()
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.model.display()))?;
    let source = super::open_streamed(&args.stream, &args.input)?;
    super::predict::check_column_types(&source, &file, &args.model)?;
    let proj = source
        .project(&super::predict::model_columns(
            &file,
            args.weight_column.clone(),
            args.stream.precision.as_deref(),
            args.stream.missing.as_deref(),
        )?)
        .map_err(|e| super::predict::missing_model_columns(e, &args.model, &file))?;
    let bar = spinner(
        Verbosity {
            quiet: args.stream.quiet,
            verbose: false,
        },
        &format!("scoring {}", args.input),
    );
    let d = file.columns.len();
    let (mut total, mut weight, mut rows, mut dropped) = (0.0, 0.0, 0usize, 0usize);
    // Under `--missing marginalize`, missing values (NaN) are integrated out.
    let marginalize = proj.missing == gmm_io::Missing::Marginalize;
    let mut incomplete = 0usize;
    crate::joblog::phase("score", || args.input.clone());
    let started = std::time::Instant::now();
    for batch in source.batches(&proj, DEFAULT_BATCH_ROWS)? {
        let b = batch?;
        // Rows left out for a missing value weigh -0.0: they add nothing.
        let view = gmm_core::DataView::new(&b.x, d)?
            .with_weights(b.weights.as_deref())
            .with_missing_values(marginalize);
        let s = model.score_sums(view)?;
        total += s.total;
        weight += s.weight;
        let left_out = b.weights.as_ref().map_or(0, |w| {
            w.iter()
                .filter(|&&v| gmm_io::Missing::is_dropped(v))
                .count()
        });
        rows += b.n_rows - left_out;
        dropped += left_out;
        if marginalize {
            incomplete +=
                b.x.chunks_exact(d)
                    .filter(|r| r.iter().any(|v| v.is_nan()))
                    .count();
        }
        let secs = started.elapsed().as_secs_f64().max(1e-9);
        let seen = (rows + dropped) as u64;
        crate::joblog::update(|s| {
            s.rows_done = Some(seen);
            s.rows_per_sec = Some(seen as f64 / secs);
        });
    }
    bar.finish_and_clear();
    if rows == 0 && dropped > 0 {
        anyhow::bail!(
            "{}: every row ({dropped}) misses a feature value; nothing to score",
            source.path().display()
        );
    }
    if rows == 0 {
        return Err(gmm_io::IoError::EmptyTable {
            path: source.path().to_path_buf(),
        }
        .into());
    }
    let p = model.n_parameters();
    let mean = total / weight;
    let bic = gmm_core::bic(total, weight, p);
    let aic = gmm_core::aic(total, p);
    crate::joblog::finish();
    let mut out = std::io::stdout().lock();
    if args.json {
        let v = json!({
            "model": args.model,
            "input": args.input,
            "covariance_type": file.covariance_type,
            "n_components": file.weights.len(),
            "n_features": file.columns.len(),
            "columns": file.columns,
            "n_rows": rows,
            "n_rows_dropped": dropped,
            "n_rows_incomplete": incomplete,
            "total_weight": weight,
            "mean_log_likelihood": mean,
            "bic": bic,
            "aic": aic,
            "n_parameters": p,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
    } else {
        writeln!(out, "rows                 {rows}")?;
        if dropped > 0 {
            writeln!(
                out,
                "rows dropped         {dropped} (a feature value missing)"
            )?;
        }
        if incomplete > 0 {
            writeln!(
                out,
                "rows incomplete      {incomplete} (missing values integrated out)"
            )?;
        }
        if args.weight_column.is_some() {
            writeln!(out, "total weight         {}", readable(weight, None))?;
        }
        writeln!(out, "mean log-likelihood  {mean:.10}")?;
        writeln!(out, "BIC                  {}", readable(bic, Some(6)))?;
        writeln!(out, "AIC                  {}", readable(aic, Some(6)))?;
    }
    Ok(())
}

/// A number as people read it: in scientific notation past 1e15 in
/// magnitude (a total weight of 1e300 was printed with 300 digits), else
/// with `decimals` places (or as short as it reads back).
fn readable(v: f64, decimals: Option<usize>) -> String {
    if v.is_finite() && v != 0.0 && !(1e-4..1e15).contains(&v.abs()) {
        return format!("{v:e}");
    }
    match decimals {
        Some(p) => format!("{v:.p$}"),
        None => format!("{v}"),
    }
}
