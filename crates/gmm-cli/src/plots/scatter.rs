//! The plane of `clusters.svg`: the rows as points sized by their
//! uncertainty, the components' ellipses and means, on equal scales, and
//! the legend beside the data.

use plotters::prelude::*;

use super::canvas::{
    CURVE_POINTS, DrawResult, FONT, LEGEND_WIDTH, SIZE, component_colour, padded_range,
    plain_number, side_legend,
};

/// A component's mean and covariance in the plotted plane.
pub(super) struct Component2 {
    pub(super) centre: (f64, f64),
    pub(super) cov: [[f64; 2]; 2],
}

impl Component2 {
    /// The ellipse of Mahalanobis radius `r`: `centre + r L (cos t, sin t)`
    /// with `L L^T` the 2 x 2 covariance.
    pub(super) fn ellipse(&self, r: f64) -> Vec<(f64, f64)> {
        let [[a, b], [_, c]] = self.cov;
        let l11 = a.max(0.0).sqrt();
        let l21 = if l11 > 0.0 { b / l11 } else { 0.0 };
        let l22 = (c - l21 * l21).max(0.0).sqrt();
        (0..=CURVE_POINTS)
            .map(|i| {
                let t = std::f64::consts::TAU * i as f64 / CURVE_POINTS as f64;
                let (s, co) = t.sin_cos();
                (
                    self.centre.0 + r * l11 * co,
                    self.centre.1 + r * (l21 * co + l22 * s),
                )
            })
            .collect()
    }
}

/// Point radius (pixels) and opacity by uncertainty: three classes, as
/// mclust's uncertainty plot draws them.
fn point_style(uncertainty: f64) -> (u32, f64) {
    if uncertainty < UNCERTAIN[0] {
        (2, 0.35)
    } else if uncertainty < UNCERTAIN[1] {
        (3, 0.6)
    } else {
        (5, 0.85)
    }
}

/// The uncertainty (1 - max posterior) above which a point is drawn
/// medium, then large.
const UNCERTAIN: [f64; 2] = [0.05, 0.25];

/// The most two axes' units per pixel may differ for the picture to give
/// them one scale: columns in different units (income and age) keep their
/// own scales rather than flatten into a line.
const MAX_SCALE_RATIO: f64 = 5.0;

/// Widens the shorter range so that one unit is as many pixels on both
/// axes (`w` x `h` pixels): circles stay round, ellipses undistorted. `None`
/// when the two scales differ by more than [`MAX_SCALE_RATIO`].
fn equal_scales(
    x: (f64, f64),
    y: (f64, f64),
    (w, h): (u32, u32),
) -> Option<((f64, f64), (f64, f64))> {
    let (ux, uy) = (
        (x.1 - x.0) / f64::from(w.max(1)),
        (y.1 - y.0) / f64::from(h.max(1)),
    );
    if !(ux > 0.0 && uy > 0.0) || ux.max(uy) > MAX_SCALE_RATIO * ux.min(uy) {
        return None;
    }
    let per_pixel = ux.max(uy);
    let widen = |(lo, hi): (f64, f64), pixels: u32| {
        let half = per_pixel * f64::from(pixels.max(1)) / 2.0;
        let mid = (lo + hi) / 2.0;
        (mid - half, mid + half)
    };
    Some((widen(x, w), widen(y, h)))
}

#[allow(clippy::too_many_arguments)]
pub(super) fn draw_clusters(
    svg: &mut String,
    title: &str,
    labels: &[String; 2],
    points: &[(f64, f64)],
    components: &[u32],
    uncertainty: &[f64],
    shapes: &[Component2],
    legend: &[String],
) -> DrawResult<()> {
    let ellipses: Vec<[Vec<(f64, f64)>; 2]> = shapes
        .iter()
        .map(|c| [c.ellipse(1.0), c.ellipse(2.0)])
        .collect();
    let extent = points
        .iter()
        .copied()
        .chain(ellipses.iter().flat_map(|e| e[1].iter().copied()))
        .chain(shapes.iter().map(|c| c.centre));
    let (xs, ys): (Vec<f64>, Vec<f64>) = extent.unzip();
    let x = padded_range(xs.into_iter()).unwrap_or((-1.0, 1.0));
    let y = padded_range(ys.into_iter()).unwrap_or((-1.0, 1.0));

    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(title, (FONT, 20))?;
    let (plot, panel) = root.split_horizontally(SIZE.0 - LEGEND_WIDTH);
    let builder = |area| {
        let mut b = ChartBuilder::on(area);
        b.margin(18)
            .margin_bottom(24)
            .x_label_area_size(48)
            .y_label_area_size(80);
        b
    };
    // The plotting area's size, to give both axes the same scale.
    let pixels = builder(&plot)
        .build_cartesian_2d(0.0..1.0, 0.0..1.0)?
        .plotting_area()
        .dim_in_pixel();
    let equal = equal_scales(x, y, pixels);
    let ((x0, x1), (y0, y1)) = equal.unwrap_or((x, y));
    let mut chart = builder(&plot).build_cartesian_2d(x0..x1, y0..y1)?;
    chart
        .configure_mesh()
        .x_desc(labels[0].as_str())
        .y_desc(labels[1].as_str())
        .x_label_formatter(&|v| plain_number(*v, x1 - x0))
        .y_label_formatter(&|v| plain_number(*v, y1 - y0))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 16))
        .light_line_style(RGBColor(242, 242, 242))
        .bold_line_style(RGBColor(220, 220, 220))
        .draw()?;
    chart.draw_series(
        points
            .iter()
            .zip(components)
            .zip(uncertainty)
            .map(|((&p, &c), &u)| {
                let (radius, alpha) = point_style(u);
                // Past the components: a noise component's rows, in grey.
                let colour = if (c as usize) < shapes.len() {
                    component_colour(c as usize)
                } else {
                    RGBColor(150, 150, 150)
                };
                Circle::new(p, radius, colour.mix(alpha).filled())
            }),
    )?;
    for (k, (shape, [one, two])) in shapes.iter().zip(ellipses).enumerate() {
        let colour = component_colour(k);
        chart.draw_series(std::iter::once(PathElement::new(
            two,
            colour.mix(0.8).stroke_width(1),
        )))?;
        chart.draw_series(std::iter::once(PathElement::new(
            one,
            colour.stroke_width(2),
        )))?;
        chart.draw_series([
            Circle::new(shape.centre, 6, colour.filled()),
            Circle::new(shape.centre, 6, BLACK.stroke_width(1)),
        ])?;
        chart.draw_series(std::iter::once(Cross::new(
            shape.centre,
            4,
            BLACK.stroke_width(2),
        )))?;
    }
    // The legend beside the data (its first rows when there are many
    // components), then what the marks mean.
    let (_, panel_height) = panel.dim_in_pixel();
    let notes = [
        "ellipses: 1 and 2 standard deviations",
        "crosses: the means",
        if equal.is_some() {
            "axes on one scale"
        } else {
            "axes on their own scales (ellipses stretched)"
        },
        "point size: uncertainty, 1 - max posterior",
        if components.iter().any(|&c| c as usize >= shapes.len()) {
            "grey points: the noise component's"
        } else {
            ""
        },
    ]
    .into_iter()
    .filter(|n| !n.is_empty())
    .collect::<Vec<_>>();
    // Below the legend: a gap, the notes and the three sizes of the key.
    let below = 22 + 20 * notes.len() as i32 + 3 * 20 + 16;
    let room = (panel_height as i32 - 24 - 8 - below) / 22;
    let shown = legend.len().min(room.max(1) as usize);
    let mut entries: Vec<String> = legend[..shown].to_vec();
    if shown < legend.len() {
        entries.pop();
        entries.push(format!("... {} more components", legend.len() - shown + 1));
    }
    let listed = entries.len() - usize::from(shown < legend.len());
    side_legend(&panel, 24, &entries, |panel, (x, y), i| {
        if i < listed {
            panel.draw(&Rectangle::new(
                [(x - 7, y - 5), (x + 7, y + 5)],
                component_colour(i).filled(),
            ))?;
        }
        Ok(())
    })?;
    let mut top = 24 + 8 + 22 * entries.len() as i32 + 22;
    let grey = (FONT, 13).into_font().color(&RGBColor(80, 80, 80));
    for note in notes {
        panel.draw(&Text::new(note, (10, top), grey.clone()))?;
        top += 20;
    }
    let sizes = [
        format!("< {}", UNCERTAIN[0]),
        format!("{} to {}", UNCERTAIN[0], UNCERTAIN[1]),
        format!(">= {}", UNCERTAIN[1]),
    ];
    for (i, (u, text)) in [0.0, UNCERTAIN[0], UNCERTAIN[1]]
        .iter()
        .zip(sizes)
        .enumerate()
    {
        let (radius, alpha) = point_style(*u);
        let y = top + 20 * i as i32;
        panel.draw(&Circle::new(
            (24, y + 7),
            radius,
            RGBColor(90, 90, 90).mix(alpha).filled(),
        ))?;
        panel.draw(&Text::new(text, (36, y), grey.clone()))?;
    }
    root.present()?;
    Ok(())
}
