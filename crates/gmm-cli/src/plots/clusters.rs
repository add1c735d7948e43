//! `clusters.svg`: the rows coloured by their most probable component, with
//! each component's 1- and 2-sigma ellipses, on two columns or the data's two
//! leading principal axes (one column goes to [`super::density`]).

use anyhow::{Result, anyhow};
use gmm_core::{DataView, GaussianMixture};

use super::axes::Axes;
use super::canvas::drawing_failed;
use super::density::draw_density;
use super::scatter::{Component2, draw_clusters};

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
    // Each drawn row's component and its uncertainty, 1 - max posterior
    // (mclust's uncertainty plot: the less certain, the larger the point).
    let proba = model.predict_proba(DataView::new(&sample, d)?)?;
    let (components, uncertainty): (Vec<u32>, Vec<f64>) = proba
        .rows()
        .into_iter()
        .map(|r| {
            let (best, p) =
                r.iter().enumerate().fold(
                    (0, f64::NEG_INFINITY),
                    |b, (k, &p)| if p > b.1 { (k, p) } else { b },
                );
            (best as u32, 1.0 - p)
        })
        .unzip();

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
        &uncertainty,
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

#[cfg(test)]
mod tests {
    use super::super::canvas::component_colour;
    use super::super::canvas::test_support::{attr, colour_hex, count, legend_box};
    use super::super::scatter::Component2;
    use super::*;
    use gmm_core::Covariances;
    use ndarray::{Array1, Array2, Array3, array};
    use plotters::style::RGBColor;

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

    /// `clusters.svg` of `n` rows drawn from `model` with `seed`.
    fn plot_sample(model: &GaussianMixture, n: usize, seed: u64, columns: &[&str]) -> ClustersPlot {
        let (x, _) = model.sample(n, seed);
        let columns: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
        let view = DataView::new(x.as_slice().unwrap(), columns.len()).unwrap();
        clusters_svg(model, view, &columns, None).unwrap()
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
        // The rows, two marks per mean, the three sizes of the key.
        assert_eq!(svg.matches("<circle").count(), 300 + 2 * 2 + 3);
        assert!(svg.contains(">\nincome\n") || svg.contains("income"));
        assert!(svg.contains("age"));
    }

    #[test]
    fn the_legend_is_beside_the_data_scales_are_equal_and_uncertain_rows_larger() {
        // Two round components with different spreads on each axis, side
        // by side and overlapping: their ellipses must be drawn round.
        let model = GaussianMixture::new(
            array![0.5, 0.5],
            array![[0.0, 0.0], [3.0, 0.0]],
            Covariances::Spherical(Array1::from(vec![1.0, 1.0])),
        )
        .unwrap();
        let plot = plot_sample(&model, 400, 5, &["a", "b"]);
        let svg = &plot.svg;
        let (left, ..) = legend_box(svg);
        let circles: Vec<(f64, f64, f64)> = svg
            .split("<circle")
            .skip(1)
            .map(|c| {
                let c = format!(" {c}");
                (
                    attr(&c, "cx").unwrap(),
                    attr(&c, "cy").unwrap(),
                    attr(&c, "r").unwrap(),
                )
            })
            .collect();
        // Every row's point lies left of the legend.
        assert_eq!(circles.iter().filter(|c| c.0 < left).count(), 400 + 2 * 2);
        // Rows between the components are uncertain, drawn larger.
        let radii: std::collections::BTreeSet<u64> = circles.iter().map(|c| c.2 as u64).collect();
        assert!(radii.contains(&2) && radii.contains(&5), "{radii:?}");
        // The 1-sigma ellipse of component 0 is a circle in pixels.
        let ring = svg
            .split("<polyline")
            .skip(1)
            .find(|e| {
                e.contains(&format!("stroke=\"{}\"", colour_hex(component_colour(0))))
                    && e.contains("stroke-width=\"2\"")
            })
            .expect("the 1-sigma ellipse");
        let points = &ring[ring.find("points=\"").unwrap() + 8..];
        let xy: Vec<(f64, f64)> = points[..points.find('"').unwrap()]
            .split_whitespace()
            .map(|p| {
                let (a, b) = p.split_once(',').unwrap();
                (a.parse().unwrap(), b.parse().unwrap())
            })
            .collect();
        let span = |f: fn(&(f64, f64)) -> f64| {
            let v: Vec<f64> = xy.iter().map(f).collect();
            v.iter().cloned().fold(f64::MIN, f64::max) - v.iter().cloned().fold(f64::MAX, f64::min)
        };
        let (w, h) = (span(|p| p.0), span(|p| p.1));
        assert!((w - h).abs() <= 2.0, "{w} x {h} pixels");
    }

    #[test]
    fn columns_in_different_units_keep_their_own_scales() {
        // Income in dollars and age in years: one scale would flatten them.
        let model = GaussianMixture::new(
            array![0.5, 0.5],
            array![[40_000.0, 30.0], [90_000.0, 60.0]],
            Covariances::Diag(array![[1e8, 25.0], [1e8, 25.0]]),
        )
        .unwrap();
        let plot = plot_sample(&model, 300, 7, &["income", "age"]);
        let labels = super::super::canvas::test_support::texts(&plot.svg);
        assert!(
            labels
                .iter()
                .any(|t| t.starts_with("axes on their own scales")),
            "{labels:?}"
        );
        // Age's ticks stay in years.
        assert!(labels.iter().any(|t| t == "40" || t == "50"), "{labels:?}");
    }

    #[test]
    fn component_colours_stay_distinct_past_ten() {
        let colours: Vec<RGBColor> = (0..56).map(component_colour).collect();
        for (i, a) in colours.iter().enumerate() {
            for b in &colours[..i] {
                let d = (i32::from(a.0) - i32::from(b.0)).abs()
                    + (i32::from(a.1) - i32::from(b.1)).abs()
                    + (i32::from(a.2) - i32::from(b.2)).abs();
                assert!(d > 30, "component {i} looks like another ({a:?}, {b:?})");
            }
        }
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
        let plot = plot_sample(&model, 500, 3, &["x"]);
        assert_eq!(plot.projection, Projection::Density);
        assert!(plot.svg.contains("<rect") && plot.svg.contains("mixture"));
    }
}
