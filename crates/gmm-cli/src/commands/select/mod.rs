//! `gmm select`: a grid of component counts x covariance types, each cell
//! fitted with the same engine on one loaded dataset, the best by BIC (or
//! AIC, or ICL) written out in full.

mod flags;
mod grid;
mod spread;
mod table;

use std::io::Write;
use std::time::Instant;

use anyhow::Result;
use gmm_core::{CovarianceType, Criterion, Ending, GmmError, SelectParams};
use gmm_io::OutputSet;
use serde::Serialize;
use serde_json::json;

use super::fit::{fit_params, load_data, run_fit, semi_supervision};
use crate::args::SelectArgs;
use crate::config::{ConfigFile, FitSettings, setting_error};
use crate::distributed;
use crate::plots::{SelectionPoint, selection_svg};
use crate::progress::Verbosity;
use crate::rundir::{RunContext, Timings, write_run};
use flags::{refuse_fit_only, select_words};
use grid::{component_grid, covariance_grid, racing_settings, select_error};
use spread::{assign_cells, exchange_cells};
use table::{selection_csv, write_table};

/// The files of a selection's directory (the winner's run directory aside).
const SELECT_FILES: &[&str] = &[
    "selection.csv",
    "selection.json",
    "bic.svg",
    "aic.svg",
    "icl.svg",
    "winner",
];

/// One cell of the grid.
#[derive(Debug, Clone, Serialize)]
struct Cell {
    /// `n_components` and `covariance_type` in JSON, as in the model file
    /// (`k` and `covariance` are selection.csv's columns).
    #[serde(rename = "n_components")]
    k: usize,
    #[serde(rename = "covariance_type")]
    covariance: CovarianceType,
    /// Total (weighted) log-likelihood of the fitted rows.
    log_likelihood: Option<f64>,
    bic: Option<f64>,
    /// BIC as mclust reports it, 2 log L - p ln n: `-bic`, higher is better.
    bic_mclust: Option<f64>,
    /// The covariance family's name in mclust.
    mclust_model: &'static str,
    aic: Option<f64>,
    icl: Option<f64>,
    /// ICL as mclust's `icl()` computes it (rows classified to their most
    /// probable component), in its sign: higher is better.
    icl_mclust: Option<f64>,
    n_parameters: usize,
    n_iter: Option<usize>,
    converged: Option<bool>,
    seconds: f64,
    /// Mean log-likelihood per row of the held-out rows.
    validation_log_likelihood: Option<f64>,
    /// Restarts stopped early by racing.
    restarts_raced: usize,
    /// Whether the chosen restart needed reg_covar to keep a covariance
    /// positive definite: a component at the variance floor, which a
    /// criterion may reward for nothing.
    at_variance_floor: bool,
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
    refuse_fit_only(&args, &cfg)?;
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
    // The settings of the first cell; each cell then sets K and the type.
    let mut base_args = args.fit.clone();
    base_args.components = Some(ks[0].to_string());
    base_args.covariance = Some(covariances[0].as_str().to_string());
    let mut base = FitSettings::resolve(&base_args, &cfg)?;
    base.command = Some(crate::config::model_command(
        "select",
        &args.fit,
        &select_words(&args),
    ));
    // The hc start cuts its sample into each cell's K: refused before any
    // fit when the largest K is more than the sample's rows.
    let largest = ks.iter().copied().max().unwrap_or(1);
    if base.params.init == Some(gmm_core::InitMethod::Hc) && base.params.hc_rows < largest {
        return Err(crate::error::UsageError(format!(
            "--hc-rows / [fit] hc_rows: {} rows cannot be cut into {largest} clusters (the grid's largest K); raise it to at least {largest}",
            base.params.hc_rows
        ))
        .into());
    }
    let place = crate::rundir::remote_out(&mut base)?;
    // Under mpirun only rank 0 talks.
    let verbosity = Verbosity {
        quiet: args.fit.quiet || !distributed::is_root(comm),
        verbose: args.fit.verbose && distributed::is_root(comm),
    };
    crate::rundir::check_run_dir(&base, SELECT_FILES)?;
    // The winner's predictions may have as many components as the grid's largest.
    super::fit::check_copied_columns(&base, ks.iter().copied().max().unwrap_or(1))?;
    crate::joblog::start("select", base.log, verbosity.quiet);
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
    // The rows every cell is fitted on, as its model file counts them.
    let held_out = split
        .as_ref()
        .map_or(0, |(_, valid)| valid.iter().filter(|v| **v > 0.0).count());
    let fitted_rows = crate::rundir::fitted_rows(&data, semi, held_out) as u64;
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
            let name = format!("K={k} {covariance}");
            crate::joblog::cell(Some(name.clone()));
            crate::joblog::phase("cell", || {
                format!("fitting {name} ({} of {})", i + 1, grid.len())
            });
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
                    // Rows held out for validation leave fewer to fit: say so.
                    Some(GmmError::TooFewRows { rows, components })
                        if validation_fraction.is_some() =>
                    {
                        Err(format!(
                            "{rows} rows are left to fit after holding out a fraction of {} of them for validation, fewer than the {components} components; lower --validation-fraction",
                            validation_fraction.unwrap_or(0.0)
                        ))
                    }
                    Some(
                        GmmError::TooFewRows { .. }
                        | GmmError::TooFewComponents { .. }
                        | GmmError::Degenerate { .. }
                        | GmmError::EmptyComponent { .. }
                        | GmmError::NoiseTookEveryRow { .. }
                        | GmmError::AllRestartsDropped { .. },
                    ) => Err(e.to_string()),
                    _ => return Err(e),
                },
            };
            // A fit cut short by Ctrl-C or SIGTERM is not a result.
            crate::interrupt::check_interrupted()?;
            done[i] = Some(CellRun {
                outcome,
                seconds: t.elapsed().as_secs_f64(),
            });
        }
        Ok(())
    })();
    crate::joblog::cell(None);
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
                bic_mclust: None,
                mclust_model: covariance.mclust_name(),
                aic: None,
                icl: None,
                icl_mclust: None,
                // A noise component's weight and volume count too, as in mclust.
                n_parameters: gmm_core::n_parameters(covariance, k, data.columns.len())
                    + if base.params.noise {
                        gmm_core::NOISE_PARAMETERS
                    } else {
                        0
                    },
                n_iter: None,
                converged: None,
                seconds: run.seconds,
                validation_log_likelihood: None,
                restarts_raced: 0,
                at_variance_floor: false,
                restart_iterations: 0,
                error: None,
                fit: None,
            };
            match run.outcome {
                Ok(fit) => {
                    let r = &fit.report;
                    cell.log_likelihood = Some(r.mean_log_likelihood * r.n_rows);
                    cell.bic = Some(r.bic);
                    cell.bic_mclust = Some(-r.bic);
                    cell.icl_mclust = Some(r.icl_mclust);
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
                    cell.at_variance_floor = r
                        .restarts
                        .get(r.best_restart)
                        .is_some_and(|x| x.regularizations > 0);
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
        let shown = crate::rundir::shown_out(&base);
        let shown_dir = std::path::Path::new(&shown);
        let mut outputs = OutputSet::new();
        outputs.add_bytes(dir.join("selection.csv"), selection_csv(&cells).as_bytes())?;
        let w = &cells[winner];
        let warnings = super::result_warnings(
            &w.fit.as_ref().expect("the winner has a fit").report,
            w.n_parameters,
            fitted_rows,
            base.params.reg_covar,
        );
        let summary = json!({
            "criterion": criterion.as_str(),
            "winner": {
                "n_components": w.k,
                "covariance_type": w.covariance,
                criterion.as_str(): w.value(criterion),
                "run_dir": shown_dir.join("winner"),
                "model": shown_dir.join("winner").join("model.json"),
            },
            "model": shown_dir.join("winner").join("model.json"),
            "covariance_type": w.covariance,
            "n_components": w.k,
            "racing": racing.map_or(json!(false), |r| json!({
                "first_round": r.first_round,
                "keep": r.keep,
                "margin": r.margin,
            })),
            "validation_fraction": validation_fraction,
            "n_features": data.columns.len(),
            "columns": data.columns,
            "n_rows": data.dataset.n_rows() - data.n_dropped,
            "n_rows_dropped": data.n_dropped,
            "n_rows_incomplete": data.n_incomplete,
            "n_init": base.params.n_init,
            "seconds": { "load": load_secs, "total": started.elapsed().as_secs_f64() },
            "cells": cells,
            "warnings": warnings,
        });
        let summary_text = serde_json::to_string_pretty(&summary)? + "\n";
        outputs.add_bytes(dir.join("selection.json"), summary_text.as_bytes())?;
        // A cell without a fit leaves a gap in its line.
        let points: Vec<SelectionPoint> = cells
            .iter()
            .map(|c| SelectionPoint {
                k: c.k,
                covariance: c.covariance.to_string(),
                value: c.value(criterion).unwrap_or(f64::NAN),
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
                held_out,
            },
            fit,
            timings,
            &winner_dir,
            &mut outputs,
        )?;
        crate::rundir::retire_stale(&mut outputs, dir, SELECT_FILES);
        crate::interrupt::check_interrupted()?;
        outputs.commit()?;
        if place.is_remote() {
            crate::joblog::phase("upload", || shown.clone());
            let known: Vec<String> = SELECT_FILES
                .iter()
                .filter(|n| **n != "winner")
                .map(|n| n.to_string())
                .chain(
                    crate::rundir::RUN_FILES
                        .iter()
                        .map(|n| format!("winner/{n}")),
                )
                .collect();
            let known: Vec<&str> = known.iter().map(String::as_str).collect();
            place.publish_dir(&known)?;
        }
        crate::joblog::finish();

        super::print_warnings(&warnings);
        let mut out = std::io::stdout().lock();
        if args.fit.json {
            write!(out, "{summary_text}")?;
        } else {
            write_table(&mut out, &cells, criterion, winner, shown_dir, fitted_rows)?;
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

/// Whether row `i` is held out: a hash of (seed, row) below the fraction.
fn held_out(seed: u64, i: usize, fraction: f64) -> bool {
    use gmm_core::hash::{GOLDEN_GAMMA, mix64};
    let z = mix64(seed ^ (i as u64).wrapping_mul(GOLDEN_GAMMA));
    ((z >> 11) as f64) * (1.0 / (1u64 << 53) as f64) < fraction
}

#[cfg(test)]
mod tests {
    use super::*;

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
