//! `clusters.svg`: the rows coloured by their most probable component, with
//! each component's 1- and 2-sigma ellipses, on two columns or the data's two
//! leading principal axes (one column goes to [`super::density`]).

use anyhow::{Result, anyhow};
use gmm_core::{DataView, GaussianMixture};
use plotters::prelude::*;

use super::axes::Axes;
use super::canvas::{
    CURVE_POINTS, DrawResult, FONT, SIZE, component_colour, drawing_failed, padded_range,
};
use super::density::draw_density;

/// At most this many rows are drawn, every `ceil(n / MAX_POINTS)`-th row, so
/// that the SVG stays small for any input.
pub const MAX_POINTS: usize = 5000;

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
    // Rows left out for a missing value are not drawn, nor rows whose
    // missing values were integrated out (a point needs every coordinate).
    let left_out = |i: usize| {
        gmm_io::Missing::is_dropped(data.weight(i)) || data.row(i).iter().any(f64::is_nan)
    };
    let picked: Vec<usize> = (0..n).step_by(step).filter(|&i| !left_out(i)).collect();
    let n = if data.weights().is_some() || data.missing_values() {
        (0..n).filter(|&i| !left_out(i)).count()
    } else {
        n
    };
    let mut sample = Vec::with_capacity(picked.len() * d);
    for &i in &picked {
        data.row(i).extend_into(&mut sample);
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

#[cfg(test)]
mod tests {
    use super::super::canvas::test_support::count;
    use super::*;
    use gmm_core::Covariances;
    use ndarray::{Array1, Array2, Array3, array};

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
