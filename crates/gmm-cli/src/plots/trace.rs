//! `trace.svg`: the mean log-likelihood (or, for a semi-supervised fit in
//! `em` mode, the semi-supervised objective) per iteration of every restart.

use anyhow::Result;
use gmm_core::FitReport;
use plotters::prelude::*;

use super::canvas::{
    DrawResult, FONT, LEGEND_WIDTH, SIZE, component_colour, drawing_failed, padded_range,
    plain_number, side_legend,
};

/// The opacity of the lines of the restarts not chosen, which lie under
/// the chosen one where they agree.
pub const OTHERS_OPACITY: f64 = 0.85;

/// Colour of the chosen restart.
pub const CHOSEN_COLOUR: RGBColor = RGBColor(214, 39, 40);

/// The colour of restart `r` when it is not the chosen one: the component
/// palette without its reds (Tableau's red and light red, the dark hues
/// at 0 degrees), which would look like the chosen restart's.
pub fn restart_colour(r: usize) -> RGBColor {
    let reddish = |k: usize| k == 3 || k == 13 || (k >= 20 && (k - 20).is_multiple_of(12));
    let k = (0..).filter(|&k| !reddish(k)).nth(r).unwrap_or(0);
    component_colour(k)
}

/// What the trace measures: the log-likelihood, or the semi-supervised
/// objective that EM maximizes when labeled rows stay in every M-step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Measure {
    LogLikelihood,
    SemiSupervisedObjective,
}

/// `trace.svg`: one line per restart, each in its own colour and named in
/// the legend beside the plot with its final value (markers at every
/// point of short traces, and at every restart's last point so that
/// one-iteration restarts show); the chosen restart is drawn last, thick
/// and red.
pub fn trace_svg(report: &FitReport, measure: Measure) -> Result<String> {
    let mut svg = String::new();
    draw_trace(report, measure, &mut svg).map_err(|e| drawing_failed("trace.svg", e))?;
    Ok(svg)
}

fn draw_trace(report: &FitReport, measure: Measure, svg: &mut String) -> DrawResult<()> {
    let n_restarts = report.restarts.len();
    let longest = report
        .restarts
        .iter()
        .map(|r| r.trace.len())
        .max()
        .unwrap_or(0);
    let (lo, hi) = padded_range(report.restarts.iter().flat_map(|r| r.trace.iter().copied()))
        .unwrap_or((-1.0, 1.0));
    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let what = match measure {
        Measure::LogLikelihood => "Mean log-likelihood",
        Measure::SemiSupervisedObjective => "Semi-supervised objective",
    };
    let chosen = report.restarts.get(report.best_restart);
    let caption = match chosen {
        Some(c) => format!(
            "{what} per iteration: {n_restarts} restart{}, restart {} chosen",
            if n_restarts == 1 { "" } else { "s" },
            c.restart
        ),
        None => format!("{what} per iteration"),
    };
    let root = root.titled(&caption, (FONT, 20))?;
    let (plot, panel) = root.split_horizontally(SIZE.0 - LEGEND_WIDTH);
    let mut chart = ChartBuilder::on(&plot)
        .margin(18)
        .x_label_area_size(48)
        .y_label_area_size(96)
        .build_cartesian_2d(0u32..(longest as u32 + 1), lo..hi)?;
    chart
        .configure_mesh()
        .x_desc("iteration")
        .y_desc(match measure {
            Measure::LogLikelihood => "mean log-likelihood per row",
            Measure::SemiSupervisedObjective => "semi-supervised objective per row",
        })
        .y_label_formatter(&|v| plain_number(*v, hi - lo))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 16))
        .light_line_style(RGBColor(240, 240, 240))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()?;

    let mark_every_point = longest <= 50;
    let style = |i: usize| {
        if i == report.best_restart {
            (CHOSEN_COLOUR, 3, 4)
        } else {
            (restart_colour(report.restarts[i].restart), 1, 3)
        }
    };
    // The chosen restart last, on top of the others.
    let order = (0..n_restarts)
        .filter(|&i| i != report.best_restart)
        .chain((report.best_restart < n_restarts).then_some(report.best_restart));
    for i in order {
        let r = &report.restarts[i];
        let points: Vec<(u32, f64)> = r
            .trace
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_finite())
            .map(|(t, &v)| (t as u32 + 1, v))
            .collect();
        if points.is_empty() {
            continue;
        }
        let (colour, width, radius) = style(i);
        chart.draw_series(std::iter::once(PathElement::new(
            points.clone(),
            colour
                .mix(if width == 1 { OTHERS_OPACITY } else { 1.0 })
                .stroke_width(width),
        )))?;
        let marked: Vec<(u32, f64)> = if mark_every_point {
            points
        } else {
            points.last().copied().into_iter().collect()
        };
        chart.draw_series(
            marked
                .into_iter()
                .map(|p| Circle::new(p, radius, colour.filled())),
        )?;
    }
    // The legend: the chosen restart first, then the others in order, as
    // many as the panel holds.
    // Each restart's final value; the iterations are on the x axis.
    let describe = |i: usize| {
        let r = &report.restarts[i];
        let status = match (i == report.best_restart, r.converged) {
            (true, true) => " (chosen)",
            (true, false) => " (chosen, stopped)",
            (false, true) => "",
            (false, false) => " (stopped)",
        };
        if r.lower_bound.is_finite() {
            format!("restart {}{status}: {:.6}", r.restart, r.lower_bound)
        } else {
            format!("restart {}{status}: no value", r.restart)
        }
    };
    let listed: Vec<usize> = (report.best_restart < n_restarts)
        .then_some(report.best_restart)
        .into_iter()
        .chain((0..n_restarts).filter(|&i| i != report.best_restart))
        .collect();
    let (_, height) = panel.dim_in_pixel();
    let room = ((height as i32 - 60) / 22).max(2) as usize;
    let mut entries: Vec<String> = listed.iter().take(room).map(|&i| describe(i)).collect();
    if listed.len() > room {
        entries.pop();
        entries.push(format!("... {} more restarts", listed.len() - room + 1));
    }
    side_legend(&panel, 24, &entries, |panel, (x, y), row| {
        if row + 1 == entries.len() && listed.len() > room {
            return Ok(());
        }
        let (colour, width, radius) = style(listed[row]);
        panel.draw(&PathElement::new(
            vec![(x - 14, y), (x + 14, y)],
            colour.stroke_width(width),
        ))?;
        panel.draw(&Circle::new((x, y), radius, colour.filled()))?;
        Ok(())
    })?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::canvas::test_support::{attr, count, count_filled, legend_box, texts};
    use super::*;
    use gmm_core::RestartReport;

    fn restart(restart: usize, trace: Vec<f64>) -> RestartReport {
        RestartReport {
            restart,
            init: "kmeans".into(),
            n_iter: trace.len(),
            converged: true,
            lower_bound: trace.last().copied().unwrap_or(-1e300),
            trace,
            ending: gmm_core::Ending::Converged,
            regularizations: 0,
            reseeded_components: 0,
            note: None,
        }
    }

    fn report(restarts: Vec<RestartReport>, best: usize) -> FitReport {
        let chosen = &restarts[best];
        serde_json::from_value(serde_json::json!({
            "best_restart": best,
            "n_iter": chosen.n_iter,
            "converged": true,
            "lower_bound": chosen.lower_bound,
            "mean_log_likelihood": chosen.lower_bound,
            "n_rows": 10.0,
            "n_parameters": 5,
            "bic": 0.0,
            "aic": 0.0,
            "icl": 0.0,
            "restarts": restarts,
        }))
        .unwrap()
    }

    #[test]
    fn trace_has_one_line_per_restart_and_marks_single_points() {
        let r = report(
            vec![
                restart(0, vec![-3.0, -2.5, -2.4]),
                restart(1, vec![-2.9]),
                restart(2, vec![-3.5, -2.2, -2.1, -2.1]),
            ],
            2,
        );
        let svg = trace_svg(&r, Measure::LogLikelihood).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..80]);
        // One line per restart in its own colour, and one legend swatch.
        assert_eq!(count(&svg, "polyline", restart_colour(0)), 2);
        assert_eq!(count(&svg, "polyline", restart_colour(1)), 2);
        assert_eq!(count(&svg, "polyline", CHOSEN_COLOUR), 2);
        // Every point is marked on short traces (3, 1 and 4), plus the
        // legend's marks.
        assert_eq!(count_filled(&svg, "circle", restart_colour(0)), 3 + 1);
        assert_eq!(count_filled(&svg, "circle", restart_colour(1)), 1 + 1);
        assert_eq!(count_filled(&svg, "circle", CHOSEN_COLOUR), 4 + 1);
        let labels = texts(&svg);
        assert!(labels.iter().any(|t| t == "iteration"));
        // Every restart is named, with its final value; the chosen first.
        let named: Vec<&String> = labels
            .iter()
            .filter(|t| t.starts_with("restart "))
            .collect();
        assert_eq!(named.len(), 3, "{labels:?}");
        assert_eq!(named[0], "restart 2 (chosen): -2.100000");
        assert_eq!(named[1], "restart 0: -2.400000");
        // The legend lies beside the plot, right of every point drawn.
        let (left, ..) = legend_box(&svg);
        assert!(left >= f64::from(SIZE.0 - LEGEND_WIDTH));
        let right_of_legend = svg
            .split("<circle")
            .skip(1)
            .filter(|c| attr(&format!(" {c}"), "cx").unwrap() >= left)
            .count();
        assert_eq!(
            right_of_legend, 3,
            "only the legend's marks lie in its panel"
        );
        assert!(svg.trim_end().ends_with("</svg>"));
        let semi = trace_svg(&r, Measure::SemiSupervisedObjective).unwrap();
        assert!(
            texts(&semi)
                .iter()
                .any(|t| t == "semi-supervised objective per row")
        );
    }

    #[test]
    fn trace_of_one_point_or_none_still_draws() {
        let svg = trace_svg(
            &report(vec![restart(0, vec![-1.0])], 0),
            Measure::LogLikelihood,
        )
        .unwrap();
        // The line and the legend's swatch.
        assert_eq!(count(&svg, "polyline", CHOSEN_COLOUR), 2);
        let svg = trace_svg(&report(vec![restart(0, vec![])], 0), Measure::LogLikelihood).unwrap();
        assert!(svg.starts_with("<svg"));
    }
}
