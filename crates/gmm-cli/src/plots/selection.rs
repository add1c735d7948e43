//! `bic.svg`: a model-selection criterion against the number of components.

use anyhow::Result;
use plotters::prelude::*;

use super::canvas::{DrawResult, FONT, SIZE, component_colour, drawing_failed, padded_range};

/// `bic.svg`: the criterion against K, one line per covariance type (in the
/// order given), the winner circled, as mclust draws it (but lower is better
/// here, scikit-learn's sign).
pub fn selection_svg(
    points: &[SelectionPoint],
    criterion: &str,
    winner: Option<(usize, &str)>,
) -> Result<String> {
    let mut svg = String::new();
    draw_selection(points, criterion, winner, &mut svg)
        .map_err(|e| drawing_failed("bic.svg", e))?;
    Ok(svg)
}

fn draw_selection(
    points: &[SelectionPoint],
    criterion: &str,
    winner: Option<(usize, &str)>,
    svg: &mut String,
) -> DrawResult<()> {
    let finite: Vec<&SelectionPoint> = points.iter().filter(|p| p.value.is_finite()).collect();
    let k_max = finite.iter().map(|p| p.k).max().unwrap_or(1);
    let k_min = finite.iter().map(|p| p.k).min().unwrap_or(1);
    let (lo, hi) = padded_range(finite.iter().map(|p| p.value)).unwrap_or((0.0, 1.0));
    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let title = match winner {
        Some((k, c)) => format!(
            "{} by number of components: K = {k}, {c} chosen",
            criterion.to_uppercase()
        ),
        None => format!("{} by number of components", criterion.to_uppercase()),
    };
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FONT, 22))
        .margin(18)
        .x_label_area_size(48)
        .y_label_area_size(110)
        .build_cartesian_2d((k_min as f64 - 0.5)..(k_max as f64 + 0.5), lo..hi)?;
    chart
        .configure_mesh()
        .x_desc("number of components K")
        .y_desc(format!("{} (lower is better)", criterion.to_uppercase()))
        .x_labels((k_max - k_min + 1).min(20))
        .x_label_formatter(&|v| format!("{}", v.round() as i64))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 16))
        .light_line_style(RGBColor(240, 240, 240))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()?;
    let mut covariances: Vec<&str> = Vec::new();
    for p in &finite {
        if !covariances.contains(&p.covariance.as_str()) {
            covariances.push(&p.covariance);
        }
    }
    for (i, cov) in covariances.iter().enumerate() {
        let colour = component_colour(i);
        let mut line: Vec<(f64, f64)> = finite
            .iter()
            .filter(|p| p.covariance == *cov)
            .map(|p| (p.k as f64, p.value))
            .collect();
        line.sort_by(|a, b| a.0.total_cmp(&b.0));
        chart
            .draw_series(std::iter::once(PathElement::new(
                line.clone(),
                colour.stroke_width(2),
            )))?
            .label(cov.to_string())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
            });
        chart.draw_series(
            line.iter()
                .map(|&(x, y)| Circle::new((x, y), 4, colour.filled())),
        )?;
    }
    if let Some((k, c)) = winner
        && let Some(p) = finite.iter().find(|p| p.k == k && p.covariance == c)
    {
        chart.draw_series(std::iter::once(Circle::new(
            (p.k as f64, p.value),
            11,
            BLACK.stroke_width(2),
        )))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(180, 180, 180))
        .label_font((FONT, 14))
        .draw()?;
    root.present()?;
    Ok(())
}

/// One cell of a model-selection grid, for [`selection_svg`].
pub struct SelectionPoint {
    pub k: usize,
    pub covariance: String,
    pub value: f64,
}
