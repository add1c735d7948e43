//! `bic.svg`: a model-selection criterion against the number of components.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::canvas::{
    DrawResult, FONT, LEGEND_WIDTH, SIZE, component_colour, drawing_failed, padded_range,
    plain_number, side_legend,
};

/// `bic.svg`: the criterion against K, one line per covariance type (in the
/// order given), each with its own colour, marker and dash pattern (so that
/// it reads in grey and for colour-blind readers), the winner circled, as
/// mclust draws it (but lower is better here, scikit-learn's sign). A cell
/// without a value (`NaN`: not fitted) leaves a gap in its line, and a note
/// names it. When the smallest K's values would squash the others (K = 1
/// is often far worse), they are drawn at the top edge, marked off scale.
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

/// How a covariance family's line is drawn.
#[derive(Clone, Copy)]
enum Marker {
    Circle,
    Square,
    Triangle,
    Diamond,
    Cross,
}

/// The style of a family: the four types always look the same (full,
/// diag, spherical, tied in that order), whichever the grid holds; other
/// names follow them.
fn style_index(family: &str, families: &[&str]) -> usize {
    const TYPES: [&str; 4] = ["full", "diag", "spherical", "tied"];
    TYPES.iter().position(|t| *t == family).unwrap_or_else(|| {
        4 + families
            .iter()
            .filter(|f| !TYPES.contains(f))
            .position(|f| *f == family)
            .unwrap_or(0)
    })
}

/// The marker and dash pattern (dash, gap; `None`: solid) of the i-th
/// family.
fn style(i: usize) -> (Marker, Option<(u32, u32)>) {
    const MARKERS: [Marker; 5] = [
        Marker::Circle,
        Marker::Square,
        Marker::Triangle,
        Marker::Diamond,
        Marker::Cross,
    ];
    const DASHES: [Option<(u32, u32)>; 4] = [None, Some((10, 5)), Some((3, 4)), Some((14, 4))];
    (MARKERS[i % MARKERS.len()], DASHES[i % DASHES.len()])
}

fn draw_marker<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x, y): (i32, i32),
    marker: Marker,
    colour: RGBColor,
) -> DrawResult<()>
where
    DB::ErrorType: 'static,
{
    let fill = colour.filled();
    match marker {
        Marker::Circle => area.draw(&Circle::new((x, y), 4, fill))?,
        Marker::Square => area.draw(&Rectangle::new([(x - 4, y - 4), (x + 4, y + 4)], fill))?,
        Marker::Triangle => area.draw(&Polygon::new(
            vec![(x, y - 5), (x - 5, y + 4), (x + 5, y + 4)],
            fill,
        ))?,
        Marker::Diamond => area.draw(&Polygon::new(
            vec![(x, y - 5), (x + 5, y), (x, y + 5), (x - 5, y)],
            fill,
        ))?,
        Marker::Cross => area.draw(&Cross::new((x, y), 4, colour.stroke_width(2)))?,
    }
    Ok(())
}

fn draw_line<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    points: Vec<(i32, i32)>,
    dash: Option<(u32, u32)>,
    colour: RGBColor,
) -> DrawResult<()>
where
    DB::ErrorType: 'static,
{
    match dash {
        None => area.draw(&PathElement::new(points, colour.stroke_width(2)))?,
        Some((d, g)) => area.draw(&DashedPathElement::new(
            points,
            d,
            g,
            colour.stroke_width(2),
        ))?,
    }
    Ok(())
}

/// The y-range: the values' padded range, unless the smallest K's values
/// lie so far above the others' that they would squash them: then the
/// others' range, and the value above which a point is off scale.
fn value_range(finite: &[&SelectionPoint], k_min: usize) -> ((f64, f64), Option<f64>) {
    let all = padded_range(finite.iter().map(|p| p.value)).unwrap_or((0.0, 1.0));
    let rest: Vec<f64> = finite
        .iter()
        .filter(|p| p.k > k_min)
        .map(|p| p.value)
        .collect();
    let lo = finite.iter().map(|p| p.value).fold(f64::INFINITY, f64::min);
    let hi = finite
        .iter()
        .map(|p| p.value)
        .fold(f64::NEG_INFINITY, f64::max);
    let rest_hi = rest.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let rest_span = rest_hi - lo;
    if rest.len() >= 2 && rest_span > 0.0 && hi - lo > 2.5 * rest_span {
        // The range stretches to the smallest K's values that are only a
        // little above the rest; those far above go off scale.
        let top = finite
            .iter()
            .map(|p| p.value)
            .filter(|&v| v <= lo + 1.5 * rest_span)
            .fold(rest_hi, f64::max);
        let pad = 0.08 * (top - lo);
        // Room at the top for the off-scale marks.
        ((lo - pad, top + 2.0 * pad), Some(top + pad))
    } else {
        (all, None)
    }
}

fn draw_selection(
    points: &[SelectionPoint],
    criterion: &str,
    winner: Option<(usize, &str)>,
    svg: &mut String,
) -> DrawResult<()> {
    let finite: Vec<&SelectionPoint> = points.iter().filter(|p| p.value.is_finite()).collect();
    let k_max = points.iter().map(|p| p.k).max().unwrap_or(1);
    let k_min = points.iter().map(|p| p.k).min().unwrap_or(1);
    let ((lo, hi), off_scale) = value_range(&finite, k_min);
    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let title = match winner {
        Some((k, c)) => format!(
            "{} by number of components: K = {k}, {c} chosen",
            criterion.to_uppercase()
        ),
        None => format!("{} by number of components", criterion.to_uppercase()),
    };
    let root = root.titled(&title, (FONT, 22))?;
    let (plot, panel) = root.split_horizontally(SIZE.0 - LEGEND_WIDTH);
    let mut chart = ChartBuilder::on(&plot)
        .margin(18)
        .margin_bottom(40)
        .x_label_area_size(48)
        .y_label_area_size(90)
        .build_cartesian_2d((k_min as f64 - 0.6)..(k_max as f64 + 0.6), lo..hi)?;
    chart
        .configure_mesh()
        .x_desc("number of components K")
        .y_desc(format!("{} (lower is better)", criterion.to_uppercase()))
        .x_labels((k_max - k_min + 1).min(20))
        .x_label_formatter(&|v| format!("{}", v.round() as i64))
        .y_label_formatter(&|v| plain_number(*v, hi - lo))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 16))
        .light_line_style(RGBColor(240, 240, 240))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()?;
    let mut families: Vec<&str> = Vec::new();
    for p in points {
        if !families.contains(&p.covariance.as_str()) {
            families.push(&p.covariance);
        }
    }
    let area = chart.plotting_area().strip_coord_spec();
    let at = |k: usize, v: f64| -> (i32, i32) {
        let shown = off_scale.map_or(v, |top| v.min(top));
        chart.backend_coord(&(k as f64, shown))
    };
    // Pixel coordinates relative to the plotting area.
    let (ox, oy) = chart.plotting_area().get_base_pixel();
    let local = |(x, y): (i32, i32)| (x - ox, y - oy);
    let mut gaps = Vec::new();
    let mut above = Vec::new();
    for family in &families {
        let i = style_index(family, &families);
        let (marker, dash) = style(i);
        let colour = component_colour(i);
        let mut cells: Vec<&SelectionPoint> =
            points.iter().filter(|p| p.covariance == *family).collect();
        cells.sort_by_key(|p| p.k);
        // Runs of fitted cells; a cell without a value breaks the line.
        for run in cells.split(|p| !p.value.is_finite()) {
            let line: Vec<(i32, i32)> = run.iter().map(|p| local(at(p.k, p.value))).collect();
            if line.len() > 1 {
                draw_line(&area, line, dash, colour)?;
            }
        }
        for p in &cells {
            if !p.value.is_finite() {
                gaps.push(format!("K = {} {}", p.k, p.covariance));
                continue;
            }
            let xy = local(at(p.k, p.value));
            draw_marker(&area, xy, marker, colour)?;
            if off_scale.is_some_and(|top| p.value > top) {
                above.push(format!(
                    "K = {} {}: {}",
                    p.k,
                    p.covariance,
                    plain_number(p.value, 10.0)
                ));
                area.draw(&PathElement::new(
                    vec![(xy.0, xy.1 - 7), (xy.0, xy.1 - 16)],
                    colour.stroke_width(2),
                ))?;
                area.draw(&Polygon::new(
                    vec![
                        (xy.0, xy.1 - 20),
                        (xy.0 - 4, xy.1 - 14),
                        (xy.0 + 4, xy.1 - 14),
                    ],
                    colour.filled(),
                ))?;
            }
        }
    }
    if let Some((k, c)) = winner
        && let Some(p) = finite.iter().find(|p| p.k == k && p.covariance == c)
    {
        area.draw(&Circle::new(
            local(at(p.k, p.value)),
            11,
            BLACK.stroke_width(2),
        ))?;
    }
    let legend: Vec<String> = families.iter().map(|f| f.to_string()).collect();
    side_legend(&panel, 24, &legend, |panel, (x, y), row| {
        let i = style_index(families[row], &families);
        let (marker, dash) = style(i);
        let colour = component_colour(i);
        draw_line(panel, vec![(x - 14, y), (x + 14, y)], dash, colour)?;
        draw_marker(panel, (x, y), marker, colour)
    })?;
    // Notes under the legend: the winner's mark, off-scale values, gaps.
    let mut notes = vec!["circled: the chosen cell".to_string()];
    if !above.is_empty() {
        notes.push("off scale (arrows), with their values:".into());
        notes.extend(above.iter().take(6).map(|a| format!("\t{a}")));
        if above.len() > 6 {
            notes.push(format!("\tand {} more", above.len() - 6));
        }
    }
    if !gaps.is_empty() {
        notes.push("gaps: cells not fitted".into());
        notes.push("(their error is in selection.csv):".into());
        notes.extend(gaps.iter().take(6).map(|g| format!("\t{g}")));
        if gaps.len() > 6 {
            notes.push(format!("\tand {} more", gaps.len() - 6));
        }
    }
    let top = 24 + 8 + 22 * legend.len() as i32 + 20;
    // A tab indents (SVG would collapse leading blanks).
    for (i, note) in notes.iter().enumerate() {
        let (x, text) = match note.strip_prefix('\t') {
            Some(rest) => (24, rest),
            None => (10, note.as_str()),
        };
        panel.draw(&Text::new(
            text.to_string(),
            (x, top + 18 * i as i32),
            (FONT, 13).into_font().color(&RGBColor(80, 80, 80)),
        ))?;
    }
    root.present()?;
    Ok(())
}

/// One cell of a model-selection grid, for [`selection_svg`]: its value
/// is `NaN` when the cell could not be fitted.
pub struct SelectionPoint {
    pub k: usize,
    pub covariance: String,
    pub value: f64,
}

#[cfg(test)]
mod tests {
    use super::super::canvas::test_support::{count, count_filled, legend_box, texts};
    use super::*;

    fn grid(values: &[(&str, [f64; 5])]) -> Vec<SelectionPoint> {
        values
            .iter()
            .flat_map(|(c, v)| {
                v.iter().enumerate().map(|(i, &value)| SelectionPoint {
                    k: i + 1,
                    covariance: c.to_string(),
                    value,
                })
            })
            .collect()
    }

    #[test]
    fn every_family_has_its_own_marker_and_the_legend_is_beside_the_plot() {
        let points = grid(&[
            ("full", [600.0, 520.0, 530.0, 540.0, 560.0]),
            ("diag", [610.0, 540.0, 535.0, 545.0, 550.0]),
            ("spherical", [620.0, 560.0, 545.0, 548.0, 552.0]),
            ("tied", [600.0, 530.0, 532.0, 538.0, 549.0]),
        ]);
        let svg = selection_svg(&points, "bic", Some((2, "full"))).unwrap();
        // Five cells and one legend swatch per family, each in its shape.
        let c = |i| component_colour(i);
        assert_eq!(count_filled(&svg, "circle", c(0)), 6);
        assert_eq!(count_filled(&svg, "rect", c(1)), 6);
        assert_eq!(count_filled(&svg, "polygon", c(2)), 6);
        assert_eq!(count_filled(&svg, "polygon", c(3)), 6);
        // Dashed families are drawn as dashes (many short paths); full's
        // line and its legend swatch are one path each.
        for i in 1..4 {
            assert!(
                count(&svg, "polyline", c(i)) > 10,
                "family {i} has no dashes"
            );
        }
        assert_eq!(count(&svg, "polyline", c(0)), 2, "full is solid");
        let (left, ..) = legend_box(&svg);
        assert!(left >= f64::from(SIZE.0 - LEGEND_WIDTH), "{left}");
        // Plain tick labels: no "540.0".
        let labels = texts(&svg);
        assert!(
            labels.iter().any(|t| t == "540" || t == "560"),
            "{labels:?}"
        );
        assert!(!labels.iter().any(|t| t.ends_with(".0")), "{labels:?}");
        assert!(labels.iter().any(|t| t == "tied"));
    }

    #[test]
    fn a_far_worse_smallest_k_goes_off_scale_and_failed_cells_leave_gaps() {
        let points = grid(&[
            ("full", [6552.0, 5220.0, 5265.0, f64::NAN, 5340.0]),
            ("diag", [6500.0, 5398.0, 5362.0, 5297.0, 5318.0]),
        ]);
        let svg = selection_svg(&points, "bic", Some((2, "full"))).unwrap();
        let labels = texts(&svg);
        // The axis stops near the others' largest value.
        let ticks: Vec<f64> = labels.iter().filter_map(|t| t.parse().ok()).collect();
        assert!(ticks.iter().all(|&t| t < 5600.0), "{ticks:?}");
        assert!(labels.iter().any(|t| t == "K = 1 full: 6552"), "{labels:?}");
        assert!(labels.iter().any(|t| t == "K = 4 full"), "{labels:?}");
        // full's line is broken at K = 4: K 5 alone has no segment.
        // full: the line of K 1..3, K = 1's off-scale arrow and the
        // legend's swatch; diag's are dashed.
        assert_eq!(count(&svg, "polyline", component_colour(0)), 3);
    }
}
