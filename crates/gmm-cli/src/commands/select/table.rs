//! selection.csv and the table `gmm select` prints.

use std::io::Write;

use anyhow::Result;
use gmm_core::Criterion;

use super::Cell;

fn fmt(v: Option<f64>) -> String {
    v.map_or(String::new(), |v| format!("{v}"))
}

pub(super) fn selection_csv(cells: &[Cell]) -> String {
    let mut out = String::from(
        "k,covariance,log_likelihood,bic,aic,icl,n_parameters,n_iter,converged,seconds,validation_log_likelihood,restarts_raced,error,at_variance_floor,mclust_model,bic_mclust,icl_mclust\n",
    );
    for c in cells {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            c.k,
            c.covariance,
            fmt(c.log_likelihood),
            fmt(c.bic),
            fmt(c.aic),
            fmt(c.icl),
            c.n_parameters,
            c.n_iter.map_or(String::new(), |n| n.to_string()),
            c.converged.map_or(String::new(), |b| b.to_string()),
            c.seconds,
            fmt(c.validation_log_likelihood),
            c.restarts_raced,
            c.error
                .as_deref()
                .map_or(String::new(), |e| format!("\"{}\"", e.replace('"', "'"))),
            c.at_variance_floor,
            c.mclust_model,
            fmt(c.bic_mclust),
            fmt(c.icl_mclust),
        ));
    }
    out
}

pub(super) fn write_table(
    out: &mut impl Write,
    cells: &[Cell],
    criterion: Criterion,
    winner: usize,
    dir: &std::path::Path,
    fitted_rows: u64,
) -> Result<()> {
    let valid = cells.iter().any(|c| c.validation_log_likelihood.is_some());
    writeln!(
        out,
        "{:>3}  {:<9}  {:>14}  {:>14}  {:>14}  {:>6}  {:>5}{}",
        "k",
        "covariance",
        "BIC",
        "AIC",
        "ICL",
        "params",
        "iter",
        if valid { "  held-out ll/row" } else { "" }
    )?;
    for (i, c) in cells.iter().enumerate() {
        let num = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.3}"));
        writeln!(
            out,
            "{:>3}  {:<9}  {:>14}  {:>14}  {:>14}  {:>6}  {:>5}{}{}",
            c.k,
            c.covariance.as_str(),
            num(c.bic),
            num(c.aic),
            num(c.icl),
            c.n_parameters,
            c.n_iter.map_or("-".into(), |n| n.to_string()),
            if valid {
                format!("  {:>16}", num(c.validation_log_likelihood))
            } else {
                String::new()
            },
            if i == winner { "  <- chosen" } else { "" },
        )?;
        if let Some(e) = &c.error {
            writeln!(out, "     not fitted: {e}")?;
        }
        if c.error.is_none() && c.n_parameters as u64 >= fitted_rows {
            writeln!(
                out,
                "     {} parameters for {fitted_rows} rows: as many as the rows or more, so the criterion says little",
                c.n_parameters
            )?;
        }
        if c.at_variance_floor {
            writeln!(
                out,
                "     a covariance stays positive definite only thanks to reg_covar: a component sits at the variance floor"
            )?;
        }
    }
    let w = &cells[winner];
    writeln!(
        out,
        "chosen by {}: K = {}, {} covariance; run directory {}",
        criterion.as_str().to_uppercase(),
        w.k,
        w.covariance,
        dir.join("winner").display()
    )?;
    Ok(())
}
