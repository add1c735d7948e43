//! `trace.svg`: the mean log-likelihood per iteration of every restart.

use anyhow::Result;
use gmm_core::FitReport;
use plotters::prelude::*;

use super::canvas::{DrawResult, FONT, SIZE, drawing_failed, padded_range};

/// Colour of the restarts that were not chosen.
pub const RESTART_COLOUR: RGBColor = RGBColor(140, 160, 185);
/// Colour of the chosen restart.
pub const CHOSEN_COLOUR: RGBColor = RGBColor(214, 39, 40);

/// `trace.svg`: one line per restart (markers at every point of short traces,
/// and at every restart's last point so that one-iteration restarts show).
pub fn trace_svg(report: &FitReport) -> Result<String> {
    let mut svg = String::new();
    draw_trace(report, &mut svg).map_err(|e| drawing_failed("trace.svg", e))?;
    Ok(svg)
}

fn draw_trace(report: &FitReport, svg: &mut String) -> DrawResult<()> {
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
    let chosen = report.restarts.get(report.best_restart);
    let caption = match chosen {
        Some(c) => format!(
            "Mean log-likelihood per iteration: {n_restarts} restart{}, restart {} chosen",
            if n_restarts == 1 { "" } else { "s" },
            c.restart
        ),
        None => "Mean log-likelihood per iteration".to_string(),
    };
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, (FONT, 22))
        .margin(18)
        .x_label_area_size(48)
        .y_label_area_size(96)
        .build_cartesian_2d(0u32..(longest as u32 + 1), lo..hi)?;
    chart
        .configure_mesh()
        .x_desc("iteration")
        .y_desc("mean log-likelihood per row")
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 16))
        .light_line_style(RGBColor(240, 240, 240))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()?;

    let mark_every_point = longest <= 50;
    let mut others_labelled = false;
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
        let is_chosen = i == report.best_restart;
        let (colour, width) = if is_chosen {
            (CHOSEN_COLOUR, 3)
        } else {
            (RESTART_COLOUR, 1)
        };
        let line = chart.draw_series(std::iter::once(PathElement::new(
            points.clone(),
            colour.stroke_width(width),
        )))?;
        if is_chosen {
            line.label(format!(
                "restart {} (chosen): {:.6}{}",
                r.restart,
                r.lower_bound,
                if r.converged {
                    format!(", converged in {}", r.n_iter)
                } else {
                    format!(", stopped after {}", r.n_iter)
                }
            ))
            .legend(move |(x, y)| Rectangle::new([(x, y - 4), (x + 16, y + 4)], colour.filled()));
        } else if !others_labelled {
            others_labelled = true;
            line.label("other restarts").legend(move |(x, y)| {
                Rectangle::new([(x, y - 2), (x + 16, y + 2)], colour.filled())
            });
        }
        let radius = if is_chosen { 4 } else { 3 };
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
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .label_font((FONT, 14))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(180, 180, 180))
        .draw()?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::canvas::test_support::{colour_hex, count};
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
        let svg = trace_svg(&r).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..80]);
        assert_eq!(count(&svg, "polyline", RESTART_COLOUR), 2);
        assert_eq!(count(&svg, "polyline", CHOSEN_COLOUR), 1);
        // Every point is marked on short traces: 3 + 1 muted, 4 chosen.
        let fill = |c| format!("fill=\"{}\"", colour_hex(c));
        let circles = |c| {
            svg.split('<')
                .filter(|e| e.starts_with("circle") && e.contains(&fill(c)))
                .count()
        };
        assert_eq!(circles(RESTART_COLOUR), 4);
        assert_eq!(circles(CHOSEN_COLOUR), 4);
        assert!(svg.contains("<text") && svg.contains("iteration"));
        assert!(svg.contains("restart 2 (chosen)"));
        assert!(svg.trim_end().ends_with("</svg>"));
    }

    #[test]
    fn trace_of_one_point_or_none_still_draws() {
        let svg = trace_svg(&report(vec![restart(0, vec![-1.0])], 0)).unwrap();
        assert_eq!(count(&svg, "polyline", CHOSEN_COLOUR), 1);
        let svg = trace_svg(&report(vec![restart(0, vec![])], 0)).unwrap();
        assert!(svg.starts_with("<svg"));
    }
}
