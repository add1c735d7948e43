//! `gmm inspect`: a readable summary of a model file, or the same as JSON.

use std::io::Write;
use std::path::Path;

use anyhow::Result;
use gmm_core::{CovarianceType, GaussianMixture};
use gmm_io::ModelFile;
use serde_json::json;

use crate::args::InspectArgs;

pub fn run(args: InspectArgs) -> Result<()> {
    // The positional form or --model (clap requires exactly one).
    let path = args
        .model
        .or(args.model_flag)
        .expect("clap requires a model");
    let file = ModelFile::read(&path)?;
    let model = file
        .to_model()
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let summary = ModelSummary::new(&file, &model);
    let mut out = std::io::stdout().lock();
    if args.json {
        let v = summary_json(&path, &file, &summary);
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
    } else {
        write_text(&mut out, &path, &file, &summary)?;
    }
    Ok(())
}

/// What a covariance says about one component, per column.
#[derive(Debug, Clone, PartialEq)]
struct ComponentSummary {
    weight: f64,
    mean: Vec<f64>,
    /// Standard deviation of every column.
    std: Vec<f64>,
    /// The correlation of largest magnitude and its two columns (full and
    /// tied covariances with two or more columns).
    largest_correlation: Option<(f64, usize, usize)>,
}

struct ModelSummary {
    components: Vec<ComponentSummary>,
}

impl ModelSummary {
    fn new(file: &ModelFile, model: &GaussianMixture) -> Self {
        let d = model.n_features();
        let correlated = matches!(
            model.covariance_type().storage(),
            CovarianceType::Full | CovarianceType::Tied
        );
        let components = (0..model.n_components())
            .map(|k| {
                let cov = model.covariances().dense(k, d);
                let std: Vec<f64> = (0..d).map(|j| cov[(j, j)].max(0.0).sqrt()).collect();
                let mut largest: Option<(f64, usize, usize)> = None;
                if correlated {
                    for i in 0..d {
                        for j in i + 1..d {
                            let denom = std[i] * std[j];
                            if denom > 0.0 {
                                let r = cov[(i, j)] / denom;
                                if largest.is_none_or(|(best, _, _)| r.abs() > best.abs()) {
                                    largest = Some((r, i, j));
                                }
                            }
                        }
                    }
                }
                ComponentSummary {
                    weight: file.weights[k],
                    mean: model.means().row(k).to_vec(),
                    std,
                    largest_correlation: largest,
                }
            })
            .collect();
        ModelSummary { components }
    }
}

fn summary_json(path: &Path, file: &ModelFile, s: &ModelSummary) -> serde_json::Value {
    let classes = file.classes.as_ref();
    json!({
        "model": path,
        "format": file.format,
        "version": file.version,
        "covariance_type": file.covariance_type,
        "n_components": file.weights.len(),
        "n_features": file.columns.len(),
        "columns": file.columns,
        "column_types": file.column_types,
        "label_column": file.label_column,
        "classes": file.classes,
        "semi_supervised": file.semi_supervised,
        "decomposition": file.decomposition,
        "noise": file.noise,
        "components": s.components.iter().enumerate().map(|(k, c)| json!({
            "component": k,
            "weight": c.weight,
            "class": classes.and_then(|cl| cl.get(k)),
            "mean": c.mean,
            "std": c.std,
            "covariance_shared": matches!(
                file.covariance_type,
                CovarianceType::Tied | CovarianceType::Eei | CovarianceType::Eii
            ),
            "largest_correlation": c.largest_correlation.map(|(r, i, j)| json!({
                "value": r,
                "columns": [file.columns[i], file.columns[j]],
            })),
        })).collect::<Vec<_>>(),
        "mean_log_likelihood": file.mean_log_likelihood,
        "n_iter": file.n_iter,
        "converged": file.converged,
        "bic": file.bic,
        "aic": file.aic,
        "n_rows": file.n_rows,
        "total_weight": file.total_weight.unwrap_or(file.n_rows as f64),
        "n_parameters": file.n_parameters,
        "reg_covar": file.reg_covar,
        "provenance": file.provenance,
    })
}

fn write_text(
    out: &mut impl Write,
    path: &Path,
    file: &ModelFile,
    s: &ModelSummary,
) -> std::io::Result<()> {
    let k = file.weights.len();
    writeln!(out, "model                {}", path.display())?;
    writeln!(
        out,
        "format               {} version {}",
        file.format, file.version
    )?;
    let family = file.covariance_type;
    if family.is_constrained() {
        writeln!(
            out,
            "covariance           {family} (mclust's family: {})",
            family.describe()
        )?;
    } else {
        writeln!(
            out,
            "covariance           {family} (mclust's {})",
            family.mclust_name()
        )?;
    }
    writeln!(out, "components           {k}")?;
    writeln!(out, "columns              {}", file.columns.join(", "))?;
    if let Some(types) = &file.column_types {
        writeln!(out, "column types         {}", types.join(", "))?;
    }
    if let Some(classes) = &file.classes {
        writeln!(out, "classes              {}", classes.join(", "))?;
    }
    if let Some(label) = &file.label_column {
        writeln!(out, "label column         {label}")?;
    }
    if let Some(semi) = &file.semi_supervised {
        writeln!(
            out,
            "semi-supervised      {} (unlabeled weight {}, {} labeled rows)",
            semi.mode, semi.unlabeled_weight, semi.n_labeled
        )?;
    }

    writeln!(out)?;
    writeln!(out, "fit")?;
    writeln!(
        out,
        "  mean log-likelihood  {}",
        significant(file.mean_log_likelihood)
    )?;
    writeln!(
        out,
        "  iterations           {} ({})",
        file.n_iter,
        if file.converged {
            "converged"
        } else {
            "not converged"
        }
    )?;
    writeln!(out, "  BIC                  {}", significant(file.bic))?;
    writeln!(out, "  AIC                  {}", significant(file.aic))?;
    writeln!(out, "  rows                 {}", file.n_rows)?;
    if let Some(w) = file.total_weight {
        writeln!(out, "  total weight         {}", significant(w))?;
    }
    if let Some(noise) = &file.noise {
        writeln!(
            out,
            "  noise                weight {}, uniform over a volume of {}",
            significant(noise.weight),
            significant(noise.volume)
        )?;
    }
    writeln!(out, "  parameters           {}", file.n_parameters)?;
    writeln!(out, "  reg_covar            {:e}", file.reg_covar)?;

    writeln!(out)?;
    let shared = match file.covariance_type {
        CovarianceType::Tied | CovarianceType::Eei => {
            " (the covariance is shared by all components)"
        }
        CovarianceType::Spherical => " (one standard deviation per component)",
        CovarianceType::Eii => " (one standard deviation shared by all components)",
        _ => "",
    };
    writeln!(out, "components{shared}")?;
    let name_width = file
        .columns
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(0)
        .max("column".len());
    for (c, comp) in s.components.iter().enumerate() {
        let class = file
            .classes
            .as_ref()
            .and_then(|cl| cl.get(c))
            .map(|cl| format!(", class {cl}"))
            .unwrap_or_default();
        // mclust's volume and shape, for its constrained families.
        let volume = file
            .decomposition
            .as_ref()
            .map(|dec| {
                let shape: Vec<String> = dec.shape[c].iter().map(|v| significant(*v)).collect();
                format!(
                    ", volume {}, shape {}",
                    significant(dec.scale[c]),
                    shape.join(" ")
                )
            })
            .unwrap_or_default();
        writeln!(
            out,
            "  component {c}: weight {:.6}{class}{volume}",
            comp.weight
        )?;
        writeln!(
            out,
            "    {:<name_width$}  {:>14}  {:>14}",
            "column", "mean", "std dev"
        )?;
        for (j, name) in file.columns.iter().enumerate() {
            writeln!(
                out,
                "    {name:<name_width$}  {:>14}  {:>14}",
                significant(comp.mean[j]),
                significant(comp.std[j])
            )?;
        }
        if let Some((r, i, j)) = comp.largest_correlation {
            writeln!(
                out,
                "    largest correlation {} between {} and {}",
                fixed(r, 4),
                file.columns[i],
                file.columns[j]
            )?;
        }
    }

    if let Some(p) = &file.provenance {
        writeln!(out)?;
        writeln!(out, "provenance")?;
        writeln!(out, "  created              {}", p.created)?;
        writeln!(out, "  tool                 {} {}", p.tool, p.version)?;
        let rows: [(&str, Option<String>); 7] = [
            ("input", p.input.clone()),
            ("labeled", p.labeled.clone()),
            ("config", p.config.clone()),
            ("seed", p.seed.map(|v| v.to_string())),
            (
                "restarts",
                p.n_init.map(|n| match p.best_restart {
                    Some(b) => format!("{n} (restart {b} chosen)"),
                    None => n.to_string(),
                }),
            ),
            ("init", p.init.clone()),
            ("command", p.command.clone()),
        ];
        for (name, value) in rows {
            if let Some(v) = value {
                writeln!(out, "  {name:<20} {v}")?;
            }
        }
    }
    Ok(())
}

/// A number with seven significant digits, in scientific notation when very
/// large or small.
fn significant(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let magnitude = v.abs().log10().floor() as i32;
    if (-4..9).contains(&magnitude) {
        let decimals = (6 - magnitude).max(0) as usize;
        format!("{v:.decimals$}")
    } else {
        format!("{v:.6e}")
    }
}

/// `-0.0000` shows as `0.0000`.
fn fixed(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    if s.trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        s.trim_start_matches('-').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gmm_core::Covariances;
    use gmm_io::FitSummary;
    use ndarray::{Array3, array};

    #[test]
    fn significant_digits() {
        assert_eq!(significant(1.0), "1.000000");
        assert_eq!(significant(-3.25159265), "-3.251593");
        assert_eq!(significant(1234.56789), "1234.568");
        assert_eq!(significant(0.000123456789), "0.0001234568");
        assert_eq!(significant(1.5e12), "1.500000e12");
        assert_eq!(significant(0.0), "0");
        assert_eq!(fixed(-0.00001, 4), "0.0000");
        assert_eq!(fixed(-0.5, 2), "-0.50");
    }

    #[test]
    fn summary_gives_standard_deviations_and_the_strongest_correlation() {
        let mut cov = Array3::zeros((1, 3, 3));
        let c = array![[4.0, 1.0, -2.7], [1.0, 1.0, 0.0], [-2.7, 0.0, 9.0]];
        cov.index_axis_mut(ndarray::Axis(0), 0).assign(&c);
        let model =
            GaussianMixture::new(array![1.0], array![[1.0, 2.0, 3.0]], Covariances::Full(cov))
                .unwrap();
        let summary = FitSummary {
            mean_log_likelihood: -1.0,
            n_iter: 3,
            converged: true,
            bic: 1.0,
            aic: 1.0,
            n_rows: 10,
            total_weight: None,
            reg_covar: 1e-6,
        };
        let file = ModelFile::new(&model, vec!["a".into(), "b".into(), "c".into()], &summary);
        let s = ModelSummary::new(&file, &model);
        let comp = &s.components[0];
        assert_eq!(comp.std, vec![2.0, 1.0, 3.0]);
        // corr(a, b) = 0.5, corr(a, c) = -0.45: a and b.
        let (r, i, j) = comp.largest_correlation.unwrap();
        assert_eq!((i, j), (0, 1));
        assert!((r - 0.5).abs() < 1e-15);
        let mut text = Vec::new();
        write_text(&mut text, Path::new("m.json"), &file, &s).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(
            text.contains("largest correlation 0.5000 between a and b"),
            "{text}"
        );
    }
}
