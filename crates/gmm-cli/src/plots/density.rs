//! The one-column `clusters.svg`: a histogram of the rows with the weighted
//! component densities and the mixture's.

use gmm_core::{DataView, GaussianMixture};
use plotters::prelude::*;

use super::canvas::{CURVE_POINTS, DrawResult, FONT, SIZE, component_colour, padded_range};

/// One column: a weighted histogram of the rows, each component's weighted
/// density `w_k N(x | mu_k, sigma_k^2)` and the mixture's density.
pub(super) fn draw_density(
    model: &GaussianMixture,
    data: DataView<'_>,
    columns: &[String],
    svg: &mut String,
) -> DrawResult<()> {
    let values = data.values();
    let k = model.n_components();
    let means: Vec<f64> = (0..k).map(|c| model.means()[(c, 0)]).collect();
    let sds: Vec<f64> = (0..k)
        .map(|c| model.covariances().dense(c, 1)[(0, 0)].max(0.0).sqrt())
        .collect();
    let weights = model.weights();
    let (x0, x1) = padded_range(values.iter()).unwrap_or((-1.0, 1.0));
    const BINS: usize = 50;
    let width = (x1 - x0) / BINS as f64;
    let mut counts = [0.0f64; BINS];
    let mut total = 0.0;
    for (i, x) in values.iter().enumerate() {
        if !x.is_finite() {
            continue;
        }
        let b = (((x - x0) / width) as usize).min(BINS - 1);
        let w = data.weight(i);
        counts[b] += w;
        total += w;
    }
    let total = if total > 0.0 { total } else { 1.0 };
    let heights: Vec<f64> = counts.iter().map(|c| c / (total * width)).collect();
    let grid: Vec<f64> = (0..=CURVE_POINTS * 2)
        .map(|i| x0 + (x1 - x0) * i as f64 / (CURVE_POINTS * 2) as f64)
        .collect();
    // The mixture's density `p(x)` and each component's share of it,
    // `w_k N(x | mu_k, sigma_k^2) = p(k | x) p(x)`, as the core computes them.
    let on_grid = DataView::new(&grid, 1)?;
    let mixture_density: Vec<f64> = model
        .score_samples(on_grid)?
        .into_iter()
        .map(f64::exp)
        .collect();
    let posterior = model.predict_proba(on_grid)?;
    // The Gaussians' columns (a noise component's, last, is not drawn).
    let curves: Vec<Vec<(f64, f64)>> = posterior
        .columns()
        .into_iter()
        .take(model.n_components())
        .map(|share| {
            grid.iter()
                .zip(&mixture_density)
                .zip(share)
                .map(|((&x, &p), &r)| (x, r * p))
                .collect()
        })
        .collect();
    let mixture: Vec<(f64, f64)> = grid.iter().copied().zip(mixture_density).collect();
    let top = heights
        .iter()
        .copied()
        .chain(mixture.iter().map(|p| p.1))
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    let top = if top > 0.0 { top * 1.08 } else { 1.0 };

    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("{k} components of one column: histogram and weighted densities"),
            (FONT, 20),
        )
        .margin(18)
        .x_label_area_size(48)
        .y_label_area_size(80)
        .build_cartesian_2d(x0..x1, 0.0..top)?;
    chart
        .configure_mesh()
        .x_desc(columns[0].as_str())
        .y_desc("density")
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 16))
        .light_line_style(RGBColor(242, 242, 242))
        .bold_line_style(RGBColor(220, 220, 220))
        .draw()?;
    chart.draw_series(heights.iter().enumerate().map(|(b, &h)| {
        let left = x0 + b as f64 * width;
        Rectangle::new(
            [(left, 0.0), (left + width, h)],
            RGBColor(210, 210, 210).filled(),
        )
    }))?;
    for (c, curve) in curves.into_iter().enumerate() {
        let colour = component_colour(c);
        chart
            .draw_series(std::iter::once(PathElement::new(
                curve,
                colour.stroke_width(2),
            )))?
            .label(format!(
                "component {c}: mean {:.4}, sd {:.4}, weight {:.3}",
                means[c], sds[c], weights[c]
            ))
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], colour.filled()));
    }
    chart
        .draw_series(std::iter::once(PathElement::new(
            mixture,
            BLACK.stroke_width(2),
        )))?
        .label("mixture")
        .legend(|(x, y)| Rectangle::new([(x, y - 2), (x + 14, y + 2)], BLACK.filled()));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font((FONT, 14))
        .background_style(WHITE.mix(0.8))
        .border_style(RGBColor(180, 180, 180))
        .draw()?;
    root.present()?;
    Ok(())
}
