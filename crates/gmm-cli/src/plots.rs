//! The run directory's pictures, as SVG drawn by `plotters` with no system
//! libraries (text is SVG `<text>`, rendered by the viewer's fonts):
//!
//! - [`trace_svg`]: the mean log-likelihood per iteration of every restart,
//!   the chosen restart highlighted;
//! - [`clusters_svg`]: the rows coloured by their most probable component with
//!   each component's 1- and 2-sigma ellipses, on the two columns for 2-D
//!   data and on the data's two leading principal axes for more; for 1-D
//!   data, a histogram with the weighted component densities.

use anyhow::{Result, anyhow};
use gmm_core::{DataView, FitReport, GaussianMixture};
use ndarray::Array2;
use plotters::prelude::*;
use rayon::prelude::*;

/// At most this many rows are drawn, every `ceil(n / MAX_POINTS)`-th row, so
/// that the SVG stays small for any input.
pub const MAX_POINTS: usize = 5000;

/// Colour of the restarts that were not chosen.
pub const RESTART_COLOUR: RGBColor = RGBColor(140, 160, 185);
/// Colour of the chosen restart.
pub const CHOSEN_COLOUR: RGBColor = RGBColor(214, 39, 40);

/// Tableau's ten categorical colours, one per component (cycled past ten).
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

const SIZE: (u32, u32) = (900, 640);
const FONT: &str = "sans-serif";
/// Points of a drawn ellipse or density curve.
const CURVE_POINTS: usize = 120;
/// Rows per chunk of the moment pass (fixed, so results do not depend on threads).
const MOMENT_CHUNK_ROWS: usize = 8192;

type DrawResult<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn drawing_failed(what: &str, e: Box<dyn std::error::Error + Send + Sync>) -> anyhow::Error {
    anyhow!("drawing {what}: {e}")
}

/// The colour of component `k`.
pub fn component_colour(k: usize) -> RGBColor {
    PALETTE[k % PALETTE.len()]
}

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

/// How `clusters.svg` shows the data.
#[derive(Debug, Clone, PartialEq)]
pub enum Projection {
    /// Two columns, as they are.
    Columns,
    /// The two leading principal axes of the rows' (weighted) covariance,
    /// with the share of the total variance each explains.
    PrincipalAxes { explained: [f64; 2] },
    /// One column: a histogram with the weighted component densities.
    Density,
}

impl Projection {
    pub fn name(&self) -> &'static str {
        match self {
            Projection::Columns => "columns",
            Projection::PrincipalAxes { .. } => "principal_axes",
            Projection::Density => "density",
        }
    }
}

/// `clusters.svg` and what it shows.
#[derive(Debug, Clone)]
pub struct ClustersPlot {
    pub svg: String,
    pub projection: Projection,
    /// Rows drawn (every `step`-th row of the data).
    pub rows_drawn: usize,
    pub rows_total: usize,
}

/// `clusters.svg` of `data` (the rows to show, weighted or not) under
/// `model`; `classes` names the components of a semi-supervised fit.
pub fn clusters_svg(
    model: &GaussianMixture,
    data: DataView<'_>,
    columns: &[String],
    classes: Option<&[String]>,
) -> Result<ClustersPlot> {
    let d = data.n_features();
    let n = data.n_rows();
    if n == 0 {
        return Err(anyhow!("drawing clusters.svg: no rows"));
    }
    let mut svg = String::new();
    if d == 1 {
        draw_density(model, data, columns, &mut svg)
            .map_err(|e| drawing_failed("clusters.svg", e))?;
        return Ok(ClustersPlot {
            svg,
            projection: Projection::Density,
            rows_drawn: n,
            rows_total: n,
        });
    }
    let step = n.div_ceil(MAX_POINTS).max(1);
    let picked: Vec<usize> = (0..n).step_by(step).collect();
    let mut sample = Vec::with_capacity(picked.len() * d);
    for &i in &picked {
        sample.extend_from_slice(data.row(i));
    }
    let components = model.predict(DataView::new(&sample, d)?)?;

    let (axes, projection, labels) = if d == 2 {
        (
            Axes::identity(),
            Projection::Columns,
            [columns[0].clone(), columns[1].clone()],
        )
    } else {
        let axes = Axes::principal(data)?;
        let labels = [0, 1].map(|i| match axes.explained[i] {
            Some(share) => format!("PC{} ({:.1}% of variance)", i + 1, 100.0 * share),
            None => format!("PC{}", i + 1),
        });
        let explained = axes.explained.map(|e| e.unwrap_or(f64::NAN));
        (axes, Projection::PrincipalAxes { explained }, labels)
    };
    let points: Vec<(f64, f64)> = sample.chunks_exact(d).map(|x| axes.project(x)).collect();
    let k = model.n_components();
    let legend: Vec<String> = (0..k)
        .map(|c| {
            let class = classes
                .and_then(|cl| cl.get(c))
                .map(|class| format!(", class {class}"))
                .unwrap_or_default();
            format!("component {c}{class} (weight {:.3})", model.weights()[c])
        })
        .collect();
    let ellipses: Vec<Component2> = (0..k)
        .map(|c| {
            let cov = model.covariances().dense(c, d);
            let mean = model.means().row(c).to_vec();
            Component2 {
                centre: axes.project(&mean),
                cov: axes.project_covariance(&cov),
            }
        })
        .collect();
    // Short enough for the picture's width whatever the counts.
    let title = {
        let shown = if picked.len() < n {
            format!(
                ", {} of {} rows",
                crate::progress::thousands(picked.len() as u64),
                crate::progress::thousands(n as u64)
            )
        } else {
            String::new()
        };
        if d == 2 {
            format!(
                "{k} components ({} covariance){shown}",
                model.covariance_type()
            )
        } else {
            format!(
                "{k} components ({}), PC1-PC2 of {d} columns{shown}",
                model.covariance_type()
            )
        }
    };
    draw_clusters(
        &mut svg,
        &title,
        &labels,
        &points,
        &components,
        &ellipses,
        &legend,
    )
    .map_err(|e| drawing_failed("clusters.svg", e))?;
    Ok(ClustersPlot {
        svg,
        projection,
        rows_drawn: picked.len(),
        rows_total: n,
    })
}

/// A component's mean and covariance in the plotted plane.
struct Component2 {
    centre: (f64, f64),
    cov: [[f64; 2]; 2],
}

impl Component2 {
    /// The ellipse of Mahalanobis radius `r`: `centre + r L (cos t, sin t)`
    /// with `L L^T` the 2 x 2 covariance.
    fn ellipse(&self, r: f64) -> Vec<(f64, f64)> {
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

/// The plane the rows are drawn in: `V^T (x - centre)` for two orthonormal
/// columns of `V`.
struct Axes {
    centre: Option<Vec<f64>>,
    /// `d x 2`; `None` for the first two columns as they are.
    basis: Option<Array2<f64>>,
    explained: [Option<f64>; 2],
}

impl Axes {
    fn identity() -> Axes {
        Axes {
            centre: None,
            basis: None,
            explained: [None, None],
        }
    }

    /// The two leading eigenvectors of the rows' weighted covariance.
    fn principal(data: DataView<'_>) -> Result<Axes> {
        let d = data.n_features();
        let (mean, cov) = weighted_moments(data);
        let (values, vectors) = gmm_core::linalg::symmetric_eigen(cov.view())
            .ok_or_else(|| anyhow!("drawing clusters.svg: the data's covariance is not finite"))?;
        let mut order: Vec<usize> = (0..d).collect();
        order.sort_by(|&i, &j| values[j].total_cmp(&values[i]));
        let total: f64 = values.iter().map(|v| v.max(0.0)).sum();
        let mut basis = Array2::zeros((d, 2));
        let mut explained = [None, None];
        for (axis, &i) in order.iter().take(2).enumerate() {
            let mut v = vectors.column(i).to_owned();
            // A fixed sign: the largest entry in magnitude is positive.
            let big = v
                .iter()
                .copied()
                .fold(0.0f64, |m, x| if x.abs() > m.abs() { x } else { m });
            if big < 0.0 {
                v.mapv_inplace(|x| -x);
            }
            basis.column_mut(axis).assign(&v);
            if total > 0.0 {
                explained[axis] = Some(values[i].max(0.0) / total);
            }
        }
        Ok(Axes {
            centre: Some(mean),
            basis: Some(basis),
            explained,
        })
    }

    fn project(&self, x: &[f64]) -> (f64, f64) {
        match (&self.basis, &self.centre) {
            (Some(v), Some(c)) => {
                let (mut p, mut q) = (0.0, 0.0);
                for j in 0..x.len() {
                    let centred = x[j] - c[j];
                    p += v[(j, 0)] * centred;
                    q += v[(j, 1)] * centred;
                }
                (p, q)
            }
            _ => (x[0], x[1]),
        }
    }

    /// `V^T Sigma V`.
    fn project_covariance(&self, cov: &Array2<f64>) -> [[f64; 2]; 2] {
        match &self.basis {
            Some(v) => {
                let p = v.t().dot(cov).dot(v);
                let off = 0.5 * (p[(0, 1)] + p[(1, 0)]);
                [[p[(0, 0)], off], [off, p[(1, 1)]]]
            }
            None => [[cov[(0, 0)], cov[(0, 1)]], [cov[(1, 0)], cov[(1, 1)]]],
        }
    }
}

/// The weighted mean and covariance of the rows, in two passes over fixed
/// chunks reduced in order (the same for any thread count).
fn weighted_moments(data: DataView<'_>) -> (Vec<f64>, Array2<f64>) {
    let d = data.n_features();
    let n = data.n_rows();
    let chunks: Vec<(usize, usize)> = (0..n)
        .step_by(MOMENT_CHUNK_ROWS)
        .map(|s| (s, (s + MOMENT_CHUNK_ROWS).min(n)))
        .collect();
    let sums: Vec<(f64, Vec<f64>)> = chunks
        .par_iter()
        .map(|&(s, e)| {
            let mut w_sum = 0.0;
            let mut x_sum = vec![0.0; d];
            for i in s..e {
                let w = data.weight(i);
                w_sum += w;
                for (acc, &x) in x_sum.iter_mut().zip(data.row(i)) {
                    *acc += w * x;
                }
            }
            (w_sum, x_sum)
        })
        .collect();
    let mut total = 0.0;
    let mut mean = vec![0.0; d];
    for (w, x) in &sums {
        total += w;
        for (m, v) in mean.iter_mut().zip(x) {
            *m += v;
        }
    }
    let total = if total > 0.0 { total } else { 1.0 };
    mean.iter_mut().for_each(|m| *m /= total);
    let parts: Vec<Array2<f64>> = chunks
        .par_iter()
        .map(|&(s, e)| {
            let mut acc = Array2::<f64>::zeros((d, d));
            let mut centred = vec![0.0; d];
            for i in s..e {
                let w = data.weight(i);
                for (c, (&x, &m)) in centred.iter_mut().zip(data.row(i).iter().zip(&mean)) {
                    *c = x - m;
                }
                for a in 0..d {
                    let wa = w * centred[a];
                    for b in a..d {
                        acc[(a, b)] += wa * centred[b];
                    }
                }
            }
            acc
        })
        .collect();
    let mut cov = Array2::<f64>::zeros((d, d));
    for p in &parts {
        cov += p;
    }
    for a in 0..d {
        for b in a..d {
            let v = cov[(a, b)] / total;
            cov[(a, b)] = v;
            cov[(b, a)] = v;
        }
    }
    (mean, cov)
}

fn draw_clusters(
    svg: &mut String,
    title: &str,
    labels: &[String; 2],
    points: &[(f64, f64)],
    components: &[u32],
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
    let (x0, x1) = padded_range(xs.into_iter()).unwrap_or((-1.0, 1.0));
    let (y0, y1) = padded_range(ys.into_iter()).unwrap_or((-1.0, 1.0));

    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FONT, 20))
        .margin(18)
        .x_label_area_size(48)
        .y_label_area_size(80)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    chart
        .configure_mesh()
        .x_desc(labels[0].as_str())
        .y_desc(labels[1].as_str())
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 16))
        .light_line_style(RGBColor(242, 242, 242))
        .bold_line_style(RGBColor(220, 220, 220))
        .draw()?;
    chart.draw_series(
        points
            .iter()
            .zip(components)
            .map(|(&p, &c)| Circle::new(p, 2, component_colour(c as usize).mix(0.45).filled())),
    )?;
    for (k, (shape, [one, two])) in shapes.iter().zip(ellipses).enumerate() {
        let colour = component_colour(k);
        chart.draw_series(std::iter::once(PathElement::new(
            two,
            colour.mix(0.8).stroke_width(1),
        )))?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                one,
                colour.stroke_width(2),
            )))?
            .label(legend[k].as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], colour.filled()));
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
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font((FONT, 14))
        .background_style(WHITE.mix(0.8))
        .border_style(RGBColor(180, 180, 180))
        .draw()?;
    root.draw(&Text::new(
        "ellipses: 1 and 2 standard deviations; crosses: means",
        (18, SIZE.1 as i32 - 18),
        (FONT, 13).into_font().color(&RGBColor(90, 90, 90)),
    ))?;
    root.present()?;
    Ok(())
}

/// One column: a weighted histogram of the rows, each component's weighted
/// density `w_k N(x | mu_k, sigma_k^2)` and the mixture's density.
fn draw_density(
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
    let (x0, x1) = padded_range(values.iter().copied()).unwrap_or((-1.0, 1.0));
    const BINS: usize = 50;
    let width = (x1 - x0) / BINS as f64;
    let mut counts = [0.0f64; BINS];
    let mut total = 0.0;
    for (i, &x) in values.iter().enumerate() {
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
    let density = |c: usize, x: f64| {
        let s = sds[c].max(f64::MIN_POSITIVE);
        let z = (x - means[c]) / s;
        weights[c] * (-0.5 * z * z).exp() / (s * (std::f64::consts::TAU).sqrt())
    };
    let curves: Vec<Vec<(f64, f64)>> = (0..k)
        .map(|c| grid.iter().map(|&x| (x, density(c, x))).collect())
        .collect();
    let mixture: Vec<(f64, f64)> = grid
        .iter()
        .map(|&x| (x, (0..k).map(|c| density(c, x)).sum()))
        .collect();
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

/// The range of the finite values, widened by 5% on each side (and to a
/// visible width when they are all equal).
fn padded_range(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold(None, |acc: Option<(f64, f64)>, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })?;
    let span = hi - lo;
    let pad = if span > 0.0 {
        0.05 * span
    } else {
        (lo.abs() * 1e-3).max(1e-3)
    };
    Some((lo - pad, hi + pad))
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use gmm_core::{Covariances, RestartReport};
    use ndarray::{Array1, Array3, array};

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

    fn colour_hex(c: RGBColor) -> String {
        format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
    }

    fn count(svg: &str, tag: &str, colour: RGBColor) -> usize {
        let stroke = format!("stroke=\"{}\"", colour_hex(colour));
        svg.split('<')
            .filter(|e| e.starts_with(tag) && e.contains(&stroke))
            .count()
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

    fn two_component_model(d: usize) -> GaussianMixture {
        let mut means = Array2::zeros((2, d));
        means[(1, 0)] = 6.0;
        let mut cov = Array3::zeros((2, d, d));
        for k in 0..2 {
            for j in 0..d {
                cov[(k, j, j)] = 1.0 + j as f64;
            }
        }
        cov[(0, 0, 1)] = 0.5;
        cov[(0, 1, 0)] = 0.5;
        GaussianMixture::new(array![0.4, 0.6], means, Covariances::Full(cov)).unwrap()
    }

    #[test]
    fn ellipse_of_radius_r_has_mahalanobis_distance_r() {
        let c = Component2 {
            centre: (1.0, -2.0),
            cov: [[4.0, 1.2], [1.2, 2.0]],
        };
        let det = 4.0 * 2.0 - 1.2 * 1.2;
        for r in [1.0, 2.0] {
            for (x, y) in c.ellipse(r) {
                let (dx, dy) = (x - 1.0, y + 2.0);
                let m = (2.0 * dx * dx - 2.4 * dx * dy + 4.0 * dy * dy) / det;
                assert!((m.sqrt() - r).abs() < 1e-12, "{m}");
            }
        }
    }

    #[test]
    fn clusters_in_two_dimensions_draw_points_ellipses_and_means() {
        let model = two_component_model(2);
        let (x, _) = model.sample(300, 1);
        let x = x.as_slice().unwrap();
        let columns = vec!["income".to_string(), "age".to_string()];
        let plot = clusters_svg(&model, DataView::new(x, 2).unwrap(), &columns, None).unwrap();
        assert_eq!(plot.projection, Projection::Columns);
        assert_eq!(plot.rows_drawn, 300);
        let svg = &plot.svg;
        assert!(svg.starts_with("<svg"));
        for k in 0..2 {
            // The 1- and 2-sigma ellipses.
            assert_eq!(count(svg, "polyline", component_colour(k)), 2, "{k}");
        }
        assert_eq!(svg.matches("<circle").count(), 300 + 2 * 2);
        assert!(svg.contains(">\nincome\n") || svg.contains("income"));
        assert!(svg.contains("age"));
    }

    #[test]
    fn clusters_of_many_columns_use_principal_axes_and_subsample() {
        let model = two_component_model(4);
        let (x, _) = model.sample(12_000, 2);
        let x = x.as_slice().unwrap();
        let columns: Vec<String> = (0..4).map(|j| format!("x{j}")).collect();
        let plot = clusters_svg(&model, DataView::new(x, 4).unwrap(), &columns, None).unwrap();
        let Projection::PrincipalAxes { explained } = plot.projection else {
            panic!("{:?}", plot.projection)
        };
        // The means differ along x0 by 6: the first axis carries most variance.
        assert!(
            explained[0] > 0.5 && explained[1] < explained[0],
            "{explained:?}"
        );
        assert_eq!(plot.rows_drawn, 12_000usize.div_ceil(3));
        assert!(plot.rows_drawn <= MAX_POINTS);
        assert!(plot.svg.contains("PC1 ("));
    }

    #[test]
    fn principal_axes_are_the_leading_eigenvectors() {
        // Rows spread along (1, 1, 0) mostly and (0, 0, 1) a little.
        let mut x = Vec::new();
        for i in 0..100 {
            let t = (i as f64 - 50.0) / 10.0;
            x.extend_from_slice(&[t, t, 0.5]);
            x.extend_from_slice(&[t, t, -0.5]);
        }
        let axes = Axes::principal(DataView::new(&x, 3).unwrap()).unwrap();
        let v = axes.basis.unwrap();
        let h = std::f64::consts::FRAC_1_SQRT_2;
        assert!(
            (v[(0, 0)] - h).abs() < 1e-9 && (v[(1, 0)] - h).abs() < 1e-9,
            "{v:?}"
        );
        assert!((v[(2, 1)].abs() - 1.0).abs() < 1e-9);
        let share = axes.explained[0].unwrap() + axes.explained[1].unwrap();
        assert!((share - 1.0).abs() < 1e-12);
    }

    #[test]
    fn one_column_draws_a_density() {
        let model = GaussianMixture::new(
            array![0.5, 0.5],
            array![[0.0], [5.0]],
            Covariances::Spherical(Array1::from(vec![1.0, 0.5])),
        )
        .unwrap();
        let (x, _) = model.sample(500, 3);
        let plot = clusters_svg(
            &model,
            DataView::new(x.as_slice().unwrap(), 1).unwrap(),
            &["x".to_string()],
            None,
        )
        .unwrap();
        assert_eq!(plot.projection, Projection::Density);
        assert!(plot.svg.contains("<rect") && plot.svg.contains("mixture"));
    }
}
