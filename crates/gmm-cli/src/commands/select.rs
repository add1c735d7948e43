//! `gmm select`: a grid of component counts x covariance types, each cell
//! fitted with the same engine on one loaded dataset, the best by BIC (or
//! AIC, or ICL) written out in full.

use std::io::Write;
use std::time::Instant;

use anyhow::Result;
use gmm_core::{CovarianceType, Criterion, Ending, GmmError, Racing, SelectParams};
use gmm_io::OutputSet;
use serde::Serialize;
use serde_json::json;

use super::fit::{
    RunContext, Timings, fit_params, load_data, run_fit, semi_supervision, write_run,
};
use crate::args::SelectArgs;
use crate::config::{ConfigFile, FitSettings, OneOrMany, SettingName, name, setting_error};
use crate::distributed;
use crate::error::UsageError;
use crate::plots::{SelectionPoint, selection_svg};
use crate::progress::Verbosity;

/// One cell of the grid.
#[derive(Debug, Clone, Serialize)]
struct Cell {
    k: usize,
    covariance: CovarianceType,
    /// Total (weighted) log-likelihood of the fitted rows.
    log_likelihood: Option<f64>,
    bic: Option<f64>,
    aic: Option<f64>,
    icl: Option<f64>,
    n_parameters: usize,
    n_iter: Option<usize>,
    converged: Option<bool>,
    seconds: f64,
    /// Mean log-likelihood per row of the held-out rows.
    validation_log_likelihood: Option<f64>,
    /// Restarts stopped early by racing.
    restarts_raced: usize,
    /// Iterations run over all restarts.
    restart_iterations: usize,
    /// Why the cell has no fit, if it has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip)]
    fit: Option<gmm_core::Fit>,
}

impl Cell {
    fn value(&self, c: Criterion) -> Option<f64> {
        match c {
            Criterion::Bic => self.bic,
            Criterion::Aic => self.aic,
            Criterion::Icl => self.icl,
        }
    }
}

pub fn run(args: SelectArgs, comm: Option<&dyn distributed::Transport>) -> Result<()> {
    let cfg = match &args.fit.config {
        Some(p) => ConfigFile::load(p)?,
        None => ConfigFile::default(),
    };
    let raw = &cfg.raw.select;
    let criterion = match args.criterion.as_deref().or(raw.criterion.as_deref()) {
        Some(c) => c.parse().map_err(select_error)?,
        None => Criterion::default(),
    };
    let select = SelectParams {
        n_components: component_grid(&args, &cfg)?,
        covariance_types: covariance_grid(&args, &cfg)?,
        criterion,
        racing: (!args.no_racing && raw.racing.unwrap_or(true))
            .then(|| racing_settings(&args, raw)),
        validation_fraction: args.validation_fraction.or(raw.validation_fraction),
    }
    .check()
    .map_err(select_error)?;
    let (ks, covariances) = (&select.n_components, &select.covariance_types);
    let (racing, validation_fraction) = (select.racing, select.validation_fraction);
    if args.fit.checkpoint.is_some() || args.fit.resume {
        return Err(UsageError(
            "--checkpoint and --resume apply to gmm fit, not gmm select".into(),
        )
        .into());
    }
    // The settings of the first cell; each cell then sets K and the type.
    let mut base_args = args.fit.clone();
    base_args.components = Some(ks[0].to_string());
    base_args.covariance = Some(covariances[0].as_str().to_string());
    let base = FitSettings::resolve(&base_args, &cfg)?;
    // Under mpirun only rank 0 talks.
    let verbosity = Verbosity {
        quiet: args.fit.quiet || !distributed::is_root(comm),
        verbose: args.fit.verbose && distributed::is_root(comm),
    };
    let threads = super::init_threads(base.threads)?;
    let started = Instant::now();
    // Under mpirun every process holds the whole table and fits its cells.
    let data = load_data(&base, verbosity, comm, false)?;
    let load_secs = started.elapsed().as_secs_f64();
    let semi = semi_supervision(&base, &data)?;

    // Held-out rows: a fixed fraction chosen by (seed, row), weighted out of
    // every fit and scored on their own.
    let view = data.dataset.view();
    let split = validation_fraction.map(|f| {
        let w = |i: usize| view.weight(i);
        let held: Vec<bool> = (0..view.n_rows())
            .map(|i| held_out(base.params.seed, i, f))
            .collect();
        let train: Vec<f64> = (0..view.n_rows())
            .map(|i| if held[i] { 0.0 } else { w(i) })
            .collect();
        let valid: Vec<f64> = (0..view.n_rows())
            .map(|i| if held[i] { w(i) } else { 0.0 })
            .collect();
        (train, valid)
    });
    let train_view = match &split {
        Some((train, _)) => view.with_weights(Some(train)),
        None => view,
    };

    // The grid, cell by cell; under mpirun each process fits its share of
    // the cells on the whole table, and rank 0 gathers them.
    let grid = select.cells();
    let owner = assign_cells(&grid, data.columns.len(), comm.map_or(1, |c| c.size()));
    let rank = comm.map_or(0, |c| c.rank());
    let mut done: Vec<Option<CellRun>> = (0..grid.len()).map(|_| None).collect();
    let local = (|| -> Result<()> {
        for (i, &(covariance, k)) in grid.iter().enumerate() {
            if owner[i] != rank {
                continue;
            }
            let mut s = base.clone();
            s.params.n_components = k;
            s.params.covariance_type = covariance;
            verbosity.log(|| format!("cell K = {k}, {covariance}"));
            let t = Instant::now();
            let mut params = fit_params(&s, &data, semi)?;
            params.racing = racing;
            let result = params
                .check()
                .map_err(|e| anyhow::Error::from(setting_error(e)))
                .and_then(|p| run_fit(&p, train_view, &s, verbosity, None, None, None));
            let outcome = match result {
                Ok(run) => Ok(run.fit),
                Err(e) => match e.downcast_ref::<GmmError>() {
                    // A cell the data cannot support is reported, not fatal.
                    Some(
                        GmmError::TooFewRows { .. }
                        | GmmError::TooFewComponents { .. }
                        | GmmError::Degenerate { .. }
                        | GmmError::EmptyComponent { .. }
                        | GmmError::AllRestartsDropped { .. },
                    ) => Err(e.to_string()),
                    _ => return Err(e),
                },
            };
            // A fit cut short by Ctrl-C or SIGTERM is not a result.
            super::check_interrupted()?;
            done[i] = Some(CellRun {
                outcome,
                seconds: t.elapsed().as_secs_f64(),
            });
        }
        Ok(())
    })();
    if let Some(c) = comm {
        // Every process stops if one failed; then all hand their cells to rank 0.
        distributed::agree(comm, local)?;
        let exchanged = exchange_cells(c, &mut done);
        if c.rank() > 0 {
            // Whether rank 0 published.
            return distributed::agree(comm, Ok(()));
        }
        if let Err(e) = exchanged {
            // The others wait to learn whether rank 0 published.
            return distributed::agree(comm, Err(e));
        }
    } else {
        local?;
    }
    // Rank 0 (or the only process) writes; the others learn whether it did.
    let finish = || -> Result<()> {
        let mut cells = Vec::with_capacity(grid.len());
        for (&(covariance, k), run) in grid.iter().zip(done) {
            let run = run.expect("every cell was fitted by some process");
            let mut cell = Cell {
                k,
                covariance,
                log_likelihood: None,
                bic: None,
                aic: None,
                icl: None,
                n_parameters: gmm_core::n_parameters(covariance, k, data.columns.len()),
                n_iter: None,
                converged: None,
                seconds: run.seconds,
                validation_log_likelihood: None,
                restarts_raced: 0,
                restart_iterations: 0,
                error: None,
                fit: None,
            };
            match run.outcome {
                Ok(fit) => {
                    let r = &fit.report;
                    cell.log_likelihood = Some(r.mean_log_likelihood * r.n_rows);
                    cell.bic = Some(r.bic);
                    cell.aic = Some(r.aic);
                    cell.icl = Some(r.icl);
                    cell.n_iter = Some(r.n_iter);
                    cell.converged = Some(r.converged);
                    cell.restarts_raced = r
                        .restarts
                        .iter()
                        .filter(|x| x.ending == Ending::Raced)
                        .count();
                    cell.restart_iterations = r.restarts.iter().map(|x| x.n_iter).sum();
                    if let Some((_, valid)) = &split {
                        let v = view.without_labels().with_weights(Some(valid));
                        cell.validation_log_likelihood = Some(fit.model.score_sums(v)?.mean());
                    }
                    cell.fit = Some(fit);
                }
                Err(message) => cell.error = Some(message),
            }
            cells.push(cell);
        }

        let winner = cells
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.value(criterion).map(|v| (i, v)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(i, _)| i)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "no cell of the grid could be fitted: {}",
                    cells[0].error.clone().unwrap_or_default()
                )
            })?;

        // Outputs: the table, the picture, and the winner's run directory, all
        // published together.
        let dir = &base.out;
        let mut outputs = OutputSet::new();
        outputs.add_bytes(dir.join("selection.csv"), selection_csv(&cells).as_bytes())?;
        let w = &cells[winner];
        let summary = json!({
            "criterion": criterion.as_str(),
            "winner": { "k": w.k, "covariance": w.covariance, criterion.as_str(): w.value(criterion), "run_dir": dir.join("winner") },
            "racing": racing.map_or(json!(false), |r| json!({
                "first_round": r.first_round,
                "keep": r.keep,
                "margin": r.margin,
            })),
            "validation_fraction": validation_fraction,
            "rows": data.dataset.n_rows(),
            "columns": data.columns,
            "n_init": base.params.n_init,
            "seconds": { "load": load_secs, "total": started.elapsed().as_secs_f64() },
            "cells": cells,
        });
        let summary_text = serde_json::to_string_pretty(&summary)? + "\n";
        outputs.add_bytes(dir.join("selection.json"), summary_text.as_bytes())?;
        let points: Vec<SelectionPoint> = cells
            .iter()
            .filter_map(|c| {
                c.value(criterion).map(|value| SelectionPoint {
                    k: c.k,
                    covariance: c.covariance.to_string(),
                    value,
                })
            })
            .collect();
        let svg = selection_svg(
            &points,
            criterion.as_str(),
            Some((w.k, w.covariance.as_str())),
        )?;
        outputs.add_bytes(
            dir.join(format!("{}.svg", criterion.as_str())),
            svg.as_bytes(),
        )?;
        let mut s = base.clone();
        s.params.n_components = w.k;
        s.params.covariance_type = w.covariance;
        let fit = w.fit.as_ref().expect("the winner has a fit");
        let winner_dir = dir.join("winner");
        let timings = Timings {
            load: load_secs,
            fit: w.seconds,
            ..Timings::default()
        };
        let init = fit_params(&s, &data, semi)?
            .check()
            .map(|p| p.init_method().as_str())
            .unwrap_or("kmeans");
        write_run(
            &RunContext {
                s: &s,
                data: &data,
                semi,
                init,
                threads,
                started,
                verbosity,
                comm,
            },
            fit,
            timings,
            &winner_dir,
            &mut outputs,
        )?;
        super::check_interrupted()?;
        outputs.commit()?;

        let mut out = std::io::stdout().lock();
        if args.fit.json {
            write!(out, "{summary_text}")?;
        } else {
            write_table(&mut out, &cells, criterion, winner, dir)?;
        }
        Ok(())
    };
    match comm {
        None => finish(),
        Some(_) => distributed::agree(comm, finish()),
    }
}

/// A cell's fit, or why the data could not support it, and its time.
struct CellRun {
    outcome: std::result::Result<gmm_core::Fit, String>,
    seconds: f64,
}

/// Which process fits each cell of the grid: the costliest cells first,
/// each to the process with the least work so far (work estimated from K
/// and the covariance type's cost per row), the same on every process.
fn assign_cells(grid: &[(CovarianceType, usize)], d: usize, size: usize) -> Vec<usize> {
    let cost = |&(c, k): &(CovarianceType, usize)| {
        let per_component = match c {
            CovarianceType::Full | CovarianceType::Tied => d * d,
            CovarianceType::Diag | CovarianceType::Spherical => d,
        };
        (k * (per_component + d)) as u64
    };
    let mut order: Vec<usize> = (0..grid.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(cost(&grid[i])), i));
    let mut load = vec![0u64; size.max(1)];
    let mut owner = vec![0; grid.len()];
    for i in order {
        let r = (0..load.len())
            .min_by_key(|&r| (load[r], r))
            .expect("at least one process");
        owner[i] = r;
        load[r] += cost(&grid[i]);
    }
    owner
}

/// Gives rank 0 the cells the other processes fitted (exact to the bit).
fn exchange_cells(c: &dyn distributed::Transport, done: &mut [Option<CellRun>]) -> Result<()> {
    let mut mine = gmm_core::wire::Writer::new();
    for (i, run) in done.iter().enumerate() {
        let Some(run) = run else { continue };
        mine.usize(i);
        mine.f64(run.seconds);
        match &run.outcome {
            Ok(fit) => {
                mine.bool(true);
                mine.fit(fit);
            }
            Err(message) => {
                mine.bool(false);
                mine.str(message);
            }
        }
    }
    let all = c.all_gather_bytes(mine.as_bytes());
    if c.rank() != 0 {
        return Ok(());
    }
    for bytes in all.iter().skip(1) {
        let mut r = gmm_core::wire::Reader::new(bytes);
        while !r.is_empty() {
            let i = r.usize()?;
            let seconds = r.f64()?;
            let outcome = match r.bool()? {
                true => Ok(r.fit()?),
                false => Err(r.str()?.to_string()),
            };
            done[i] = Some(CellRun { outcome, seconds });
        }
    }
    Ok(())
}

/// The selection's settings that the command line and configs set, for
/// messages (see `config::SETTING_NAMES`).
const SELECT_NAMES: &[SettingName] = &[
    name("n_components", "components", "select", "components"),
    name("covariance_types", "covariance", "select", "covariance"),
    name("criterion", "criterion", "select", "criterion"),
    name(
        "racing_first_round",
        "racing-first-round",
        "select",
        "racing_first_round",
    ),
    name("racing_keep", "racing-keep", "select", "racing_keep"),
    name("racing_margin", "racing-margin", "select", "racing_margin"),
    name(
        "validation_fraction",
        "validation-fraction",
        "select",
        "validation_fraction",
    ),
];

/// An engine error about a selection setting, told with its flag and key.
fn select_error(e: GmmError) -> anyhow::Error {
    crate::config::setting_error_in(e, SELECT_NAMES).into()
}

/// The successive-halving settings from the flags, the `[select]` table
/// and the defaults, in that order (checked with the selection).
fn racing_settings(args: &SelectArgs, raw: &crate::config::RawSelect) -> Racing {
    let d = Racing::default();
    Racing {
        first_round: args
            .racing_first_round
            .or(raw.racing_first_round)
            .unwrap_or(d.first_round),
        keep: args.racing_keep.or(raw.racing_keep).unwrap_or(d.keep),
        margin: args.racing_margin.or(raw.racing_margin).unwrap_or(d.margin),
    }
}

/// Whether row `i` is held out: a hash of (seed, row) below the fraction.
fn held_out(seed: u64, i: usize, fraction: f64) -> bool {
    use gmm_core::hash::{GOLDEN_GAMMA, mix64};
    let z = mix64(seed ^ (i as u64).wrapping_mul(GOLDEN_GAMMA));
    ((z >> 11) as f64) * (1.0 / (1u64 << 53) as f64) < fraction
}

/// `1..10` (inclusive), `2,4,8` or `3`.
fn parse_components(text: &str) -> Result<Vec<usize>, String> {
    let bad = || format!("`{text}` is not a range `1..10` or a list `2,4,8` of component counts");
    let ks: Vec<usize> = if let Some((a, b)) = text.split_once("..") {
        let a: usize = a.trim().parse().map_err(|_| bad())?;
        let b: usize = b
            .trim()
            .trim_start_matches('=')
            .parse()
            .map_err(|_| bad())?;
        if a > b {
            return Err(bad());
        }
        (a..=b).collect()
    } else {
        text.split(',')
            .map(|t| t.trim().parse::<usize>().map_err(|_| bad()))
            .collect::<Result<_, _>>()?
    };
    if ks.is_empty() || ks.contains(&0) {
        return Err(format!("`{text}`: component counts must be at least 1"));
    }
    Ok(ks)
}

fn component_grid(args: &SelectArgs, cfg: &ConfigFile) -> Result<Vec<usize>> {
    let grid = match (
        &args.fit.components,
        &cfg.raw.select.components,
        cfg.raw.model.components,
    ) {
        (Some(flag), _, _) => {
            parse_components(flag).map_err(|e| UsageError(format!("--components: {e}")))?
        }
        (None, Some(OneOrMany::One(k)), _) => vec![*k],
        (None, Some(OneOrMany::Many(ks)), _) => ks.clone(),
        (None, Some(OneOrMany::Text(t)), _) => {
            parse_components(t).map_err(|e| UsageError(format!("[select] components: {e}")))?
        }
        (None, None, Some(k)) => vec![k],
        (None, None, None) => {
            return Err(UsageError(
                "no component counts: give --components 1..10 or [select] components".into(),
            )
            .into());
        }
    };
    Ok(grid)
}

fn covariance_grid(args: &SelectArgs, cfg: &ConfigFile) -> Result<Vec<CovarianceType>> {
    let names: Vec<String> = match (
        &args.fit.covariance,
        &cfg.raw.select.covariance,
        &cfg.raw.model.covariance,
    ) {
        (Some(flag), _, _) => flag.split(',').map(|s| s.trim().to_string()).collect(),
        (None, Some(OneOrMany::One(s) | OneOrMany::Text(s)), _) => {
            s.split(',').map(|s| s.trim().to_string()).collect()
        }
        (None, Some(OneOrMany::Many(v)), _) => v.clone(),
        (None, None, Some(c)) => vec![c.clone()],
        (None, None, None) => CovarianceType::ALL
            .iter()
            .map(|c| c.as_str().to_string())
            .collect(),
    };
    names
        .iter()
        .map(|n| {
            n.parse().map_err(|_| {
                UsageError(format!("--covariance / [select] covariance: `{n}` is not one of full, diag, spherical, tied")).into()
            })
        })
        .collect()
}

fn fmt(v: Option<f64>) -> String {
    v.map_or(String::new(), |v| format!("{v}"))
}

fn selection_csv(cells: &[Cell]) -> String {
    let mut out = String::from(
        "k,covariance,log_likelihood,bic,aic,icl,n_parameters,n_iter,converged,seconds,validation_log_likelihood,restarts_raced,error\n",
    );
    for c in cells {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
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
        ));
    }
    out
}

fn write_table(
    out: &mut impl Write,
    cells: &[Cell],
    criterion: Criterion,
    winner: usize,
    dir: &std::path::Path,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_grids_parse() {
        assert_eq!(parse_components("1..4").unwrap(), vec![1, 2, 3, 4]);
        assert_eq!(parse_components("2, 4,8").unwrap(), vec![2, 4, 8]);
        assert_eq!(parse_components("3").unwrap(), vec![3]);
        assert!(parse_components("0..3").is_err());
        assert!(parse_components("5..2").is_err());
        assert!(parse_components("a").is_err());
    }

    #[test]
    fn held_out_fraction_is_about_right_and_fixed_by_seed() {
        let n = 100_000;
        let held = (0..n).filter(|&i| held_out(7, i, 0.2)).count();
        assert!((held as f64 / n as f64 - 0.2).abs() < 0.01, "{held}");
        assert_eq!(
            (0..100).map(|i| held_out(7, i, 0.2)).collect::<Vec<_>>(),
            (0..100).map(|i| held_out(7, i, 0.2)).collect::<Vec<_>>()
        );
        assert_ne!(
            (0..100).map(|i| held_out(7, i, 0.5)).collect::<Vec<_>>(),
            (0..100).map(|i| held_out(8, i, 0.5)).collect::<Vec<_>>()
        );
    }
}
