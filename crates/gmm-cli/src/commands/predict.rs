//! `gmm predict`: stream a table through a model into a predictions file.

use anyhow::Result;
use gmm_io::{
    ColumnSpec, DEFAULT_BATCH_ROWS, InputFormat, ModelFile, OutputFormat, PredictionWriter,
    TableSource, is_numeric, type_name,
};

use crate::args::PredictArgs;
use crate::config::parse_precision;
use crate::error::UsageError;
use crate::progress::{Verbosity, spinner};

pub fn run(args: PredictArgs) -> Result<()> {
    super::start_streaming(&args.stream, "predict")?;
    crate::interrupt::check_interrupted()?;
    let file = ModelFile::read(&args.model)?;
    let model = file
        .to_model()
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.model.display()))?;
    // A mistake on the command line, as for `gmm sample`.
    let format = OutputFormat::from_path(&args.out).map_err(|e| UsageError(e.to_string()))?;
    gmm_io::overlap::check_output(gmm_io::overlap::Output::File(&args.out), &args.input)
        .map_err(UsageError)?;
    let classes = gmm_io::ComponentClasses::of_model(&file)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.model.display()))?;
    let copied = [&args.id_column[..], &args.keep_columns[..]].concat();
    gmm_io::check_passthrough_columns(
        &copied,
        model.n_components(),
        classes.is_some(),
        model.noise().is_some(),
    )
    .map_err(UsageError)?;
    let source = super::open_streamed(&args.stream, &args.input)?;
    check_column_types(&source, &file, &args.model)?;
    let proj = source
        .project(&ColumnSpec {
            ids: args.id_column.clone(),
            keep: args.keep_columns.clone(),
            ..model_columns(
                &file,
                None,
                args.stream.precision.as_deref(),
                args.stream.missing.as_deref(),
            )?
        })
        .map_err(|e| missing_model_columns(e, &args.model, &file))?;
    let columns = gmm_io::PredictionColumns {
        passthrough: source.passthrough_field(&proj),
        classes,
        rows_left_out: proj.missing == gmm_io::Missing::Drop,
        noise: model.noise().is_some(),
    };
    let bar = spinner(
        Verbosity {
            quiet: args.stream.quiet,
            verbose: false,
        },
        &format!("predicting {}", args.input),
    );
    // An output at a URL is written locally, then uploaded.
    let place = gmm_io::storage::OutputPlace::new(&args.out, &gmm_io::ObjectStorage::default())?;
    let mut writer =
        PredictionWriter::create(place.local(), format, model.n_components(), columns)?;
    let d = file.columns.len();
    let mut rows = 0;
    crate::joblog::phase("predict", || {
        format!("{} -> {}", args.input, args.out.display())
    });
    let started = std::time::Instant::now();
    for batch in source.batches(&proj, DEFAULT_BATCH_ROWS)? {
        let b = batch?;
        crate::interrupt::check_interrupted()?;
        // Under `--missing marginalize`, missing values (NaN) are integrated out.
        let view = gmm_core::DataView::new(&b.x, d)?
            .with_missing_values(proj.missing == gmm_io::Missing::Marginalize);
        let mut proba = model.predict_proba(view)?;
        if let Some(w) = &b.weights {
            left_out(&mut proba, w);
        }
        writer.write(b.passthrough.as_ref(), proba.as_slice().expect("row-major"))?;
        rows += b.n_rows;
        bar.set_message(format!("predicting {}: {rows} rows", args.input));
        let secs = started.elapsed().as_secs_f64().max(1e-9);
        crate::joblog::update(|s| {
            s.rows_done = Some(rows as u64);
            s.rows_per_sec = Some(rows as f64 / secs);
        });
    }
    if rows == 0 {
        return Err(gmm_io::IoError::EmptyTable {
            path: source.path().to_path_buf(),
        }
        .into());
    }
    let file = writer.finish()?;
    crate::interrupt::check_interrupted()?;
    file.commit()?;
    if place.is_remote() {
        crate::joblog::phase("upload", || args.out.display().to_string());
        bar.set_message(format!("uploading {}", args.out.display()));
        place.publish_file()?;
    }
    bar.finish_and_clear();
    crate::joblog::finish();
    println!("wrote {rows} predictions to {}", args.out.display());
    Ok(())
}

/// Probabilities of NaN for the rows left out for a missing value (weight
/// `-0.0`), which the predictions writer writes as nulls.
pub(crate) fn left_out(proba: &mut ndarray::Array2<f64>, weights: &[f64]) {
    for (mut row, &w) in proba.rows_mut().into_iter().zip(weights) {
        if gmm_io::Missing::is_dropped(w) {
            row.fill(f64::NAN);
        }
    }
}

/// A table that lacks one of the model's columns: the message also says
/// which columns the model needs.
pub fn missing_model_columns(
    err: gmm_io::IoError,
    model: &std::path::Path,
    file: &ModelFile,
) -> anyhow::Error {
    let feature = match &err {
        gmm_io::IoError::MissingColumn { column, .. } => file.columns.contains(column),
        // A model column named like a glob is matched as a pattern.
        gmm_io::IoError::NoColumnsMatch { .. } => true,
        _ => false,
    };
    if !feature {
        return err.into();
    }
    anyhow::Error::new(err).context(format!(
        "{}: the model was fitted on columns [{}]",
        model.display(),
        file.columns.join(", ")
    ))
}

/// Refuses a table whose column of a model's feature holds something other
/// than numbers, naming the column, both types and what to do. Any numeric
/// type may stand for any other (an `int64` column where the model saw
/// `float64` is fine: features are read in the job's precision whatever
/// their type). CSV stores no
/// types: a text value there fails later, with its row. A missing column is
/// left to the projection, which lists the table's columns.
pub fn check_column_types(
    source: &TableSource,
    file: &ModelFile,
    model: &std::path::Path,
) -> Result<()> {
    if source.format() == InputFormat::Csv {
        return Ok(());
    }
    for (j, column) in file.columns.iter().enumerate() {
        let Ok(field) = source.schema().field_with_name(column) else {
            continue;
        };
        if is_numeric(field.data_type()) {
            continue;
        }
        let fitted = file
            .column_types
            .as_ref()
            .and_then(|t| t.get(j))
            .map_or("numeric", String::as_str);
        anyhow::bail!(
            "{}: column `{column}` is {}, but the model {} was fitted on it as {fitted}; \
             give the table a numeric `{column}` (any integer, floating-point or decimal type \
             will do: cast the column where the table is written)",
            source.path().display(),
            type_name(field.data_type()),
            model.display(),
        );
    }
    Ok(())
}

/// The model's columns, by name, plus the weight column asked for.
pub fn model_columns(
    file: &ModelFile,
    weight: Option<String>,
    precision: Option<&str>,
    missing: Option<&str>,
) -> Result<ColumnSpec, UsageError> {
    // Exact names: a column literally named like a glob must not expand.
    Ok(ColumnSpec {
        features: file.columns.iter().map(|c| glob_escape(c)).collect(),
        label: None,
        weight,
        noise_init: None,
        ids: Vec::new(),
        keep: Vec::new(),
        missing: match missing {
            Some(m) => crate::config::parse_missing(m, "--missing".into())?,
            None => gmm_io::Missing::Error,
        },
        // Unless told otherwise, rows are held as the model's were.
        precision: match precision {
            Some(p) => parse_precision(p, "--precision".into())?,
            None => file
                .provenance
                .as_ref()
                .and_then(|p| p.precision)
                .unwrap_or_default(),
        },
    })
}

fn glob_escape(name: &str) -> String {
    if name.contains(['*', '?', '[']) {
        name.chars()
            .map(|c| {
                if matches!(c, '*' | '?' | '[' | ']') {
                    format!("[{c}]")
                } else {
                    c.to_string()
                }
            })
            .collect()
    } else {
        name.to_string()
    }
}
