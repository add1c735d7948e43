//! trace.svg and clusters.svg in the run directory.

use crate::common::*;

/// How plots draw restarts: the others thin, each in its own colour; the
/// chosen one thick and red. And the colours of the first two components.
const RESTART: &str = "opacity=\"0.85\"";
const CHOSEN: &str = "stroke=\"#D62728\"";
const COMPONENT_0: &str = "#1F77B4";
const COMPONENT_1: &str = "#FF7F0E";

#[test]
fn fit_draws_the_trace_and_the_clusters() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    ok(&gmm(&[
        "fit",
        "configs/customers.toml",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]));
    let trace = std::fs::read_to_string(out.join("trace.svg")).unwrap();
    assert_svg(&trace);
    // n_init = 10: nine thin lines, each in its own colour, and the
    // chosen one, in the plot; the legend beside it names all ten.
    let others = plotted(&trace, RESTART);
    assert_eq!(others.len(), 9);
    let colours: std::collections::BTreeSet<&str> = others
        .iter()
        .map(|e| {
            e.split("stroke=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
        })
        .collect();
    assert_eq!(colours.len(), 9, "{colours:?}");
    assert_eq!(plotted(&trace, CHOSEN).len(), 1);
    assert_eq!(
        trace.matches(">\nrestart ").count() + trace.matches(">restart ").count(),
        10
    );
    let run = read_json(&out.join("run.json"));
    let best = run["best_restart"].as_u64().unwrap();
    assert!(
        trace.contains(&format!("restart {best} (chosen)")),
        "legend"
    );
    assert!(trace.contains("iteration") && trace.contains("mean log-likelihood per row"));
    // The chosen line has one point per iteration of its restart.
    let chosen = plotted(&trace, CHOSEN)[0];
    let points = chosen.split("points=\"").nth(1).unwrap().split('"').next();
    let n_iter = run["restarts"][best as usize]["n_iter"].as_u64().unwrap();
    assert_eq!(
        points.unwrap().split_whitespace().count() as u64,
        n_iter,
        "{chosen}"
    );

    let clusters = std::fs::read_to_string(out.join("clusters.svg")).unwrap();
    assert_svg(&clusters);
    for colour in [COMPONENT_0, COMPONENT_1] {
        let stroke = format!("stroke=\"{colour}\"");
        // The 1- and 2-sigma ellipses.
        let ellipses = svg_elements(&clusters, "polyline", &[&stroke]);
        assert_eq!(ellipses.len(), 2, "{colour}");
        // Each closes on itself.
        for e in ellipses {
            let pts: Vec<&str> = e
                .split("points=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .split_whitespace()
                .collect();
            assert!(pts.len() > 50);
            assert_eq!(pts.first(), pts.last());
        }
    }
    // 1000 customers plus two marks per mean and the key's three sizes of
    // uncertainty; the points lie left of the legend, sized 2, 3 or 5.
    let circles = svg_elements(&clusters, "circle", &[]);
    assert_eq!(circles.len(), 1000 + 4 + 3);
    let attr = |e: &str, name: &str| -> f64 {
        e.split(&format!(" {name}=\""))
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let in_plot: Vec<&&str> = circles.iter().filter(|e| attr(e, "cx") < 630.0).collect();
    assert_eq!(in_plot.len(), 1004);
    let large = in_plot.iter().filter(|e| attr(e, "r") == 5.0).count();
    assert!(large > 10 && large < 200, "{large} uncertain customers");
    assert!(
        clusters.contains("\nx1\n") && clusters.contains("\nx2\n"),
        "axis labels"
    );
    assert_eq!(run["plots"]["clusters.svg"]["projection"], "columns");
    assert_eq!(run["plots"]["clusters.svg"]["rows_drawn"], 1000);
}

#[test]
fn no_plots_flag_and_config_leave_them_out() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("flag");
    ok(&gmm(&[
        "fit",
        "configs/customers.toml",
        "--out",
        out.to_str().unwrap(),
        "--no-plots",
        "-q",
    ]));
    assert_eq!(
        files_in(&out),
        ["model.json", "predictions.csv", "run.json", "trace.csv"]
    );
    let run = read_json(&out.join("run.json"));
    assert_eq!(run["plots"]["drawn"], false);
    assert_eq!(run["settings"]["output"]["plots"], false);

    let cfg = tmp.path().join("noplots.toml");
    let text = std::fs::read_to_string(root().join("configs/customers.toml"))
        .unwrap()
        .replace("../data/", &format!("{}/data/", root().display()))
        + "plots = false\n";
    std::fs::write(&cfg, text).unwrap();
    let out = tmp.path().join("config");
    ok(&gmm(&[
        "fit",
        cfg.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]));
    assert!(!out.join("trace.svg").exists() && !out.join("clusters.svg").exists());
    assert!(out.join("model.json").exists());
}

#[test]
fn more_than_two_columns_are_drawn_on_principal_axes() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    ok(&gmm(&[
        "fit",
        "--input",
        "tests/data/blobs3d.csv",
        "-k",
        "3",
        "--n-init",
        "2",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]));
    let clusters = std::fs::read_to_string(out.join("clusters.svg")).unwrap();
    assert_svg(&clusters);
    assert!(clusters.contains("PC1 (") && clusters.contains("PC2 ("));
    let run = read_json(&out.join("run.json"));
    let info = &run["plots"]["clusters.svg"];
    assert_eq!(info["projection"], "principal_axes");
    let explained = f64s(&info["explained_variance"]);
    assert!(explained[0] >= explained[1] && explained[0] + explained[1] <= 1.0 + 1e-12);
    let trace = std::fs::read_to_string(out.join("trace.svg")).unwrap();
    assert_eq!(plotted(&trace, RESTART).len(), 1);
    assert_eq!(plotted(&trace, CHOSEN).len(), 1);
}

/// The lines of a picture with attribute `attr` that lie in the plot, left
/// of the legend's panel (900 - 270 pixels).
pub fn plotted<'a>(svg: &'a str, attr: &str) -> Vec<&'a str> {
    svg_elements(svg, "polyline", &[attr])
        .into_iter()
        .filter(|e| {
            let points = e.split("points=\"").nth(1).unwrap();
            let x: f64 = points.split(',').next().unwrap().trim().parse().unwrap();
            x < 630.0
        })
        .collect()
}

#[test]
fn one_column_is_drawn_as_densities() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    ok(&gmm(&[
        "fit",
        "--input",
        "tests/data/blobs3d.csv",
        "--columns",
        "x1",
        "-k",
        "2",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]));
    let clusters = std::fs::read_to_string(out.join("clusters.svg")).unwrap();
    assert_svg(&clusters);
    assert!(clusters.contains("mixture") && clusters.contains("density"));
    let run = read_json(&out.join("run.json"));
    assert_eq!(run["plots"]["clusters.svg"]["projection"], "density");
}
