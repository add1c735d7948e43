//! The predictions file of a run, and under mpirun with rows split, each
//! rank's predictions sent to rank 0 in batches.

use anyhow::Result;
use gmm_core::GaussianMixture;
use gmm_io::PredictionWriter;

use crate::dataset::LoadedData;
use crate::distributed;

/// Rows per batch when writing predictions.
const PREDICT_BATCH_ROWS: usize = 65_536;

/// Predictions of the input rows, batch by batch.
pub(super) fn write_predictions(
    model: &GaussianMixture,
    data: &LoadedData,
    path: &std::path::Path,
    format: gmm_io::OutputFormat,
    classes: Option<gmm_io::ComponentClasses>,
    rows_left_out: bool,
    comm: Option<&dyn distributed::Transport>,
) -> Result<gmm_io::PendingFile> {
    let columns = gmm_io::PredictionColumns {
        passthrough: data.passthrough_field.clone(),
        classes,
        rows_left_out,
        noise: model.noise().is_some(),
    };
    let mut writer = PredictionWriter::create(path, format, model.n_components(), columns)?;
    let view = data.dataset.view().without_labels();
    let mut start = 0;
    while start < data.n_input_rows {
        crate::interrupt::check_interrupted()?;
        let end = (start + PREDICT_BATCH_ROWS).min(data.n_input_rows);
        let proba = proba_of(model, view, start, end)?;
        let passthrough = data
            .passthrough
            .as_ref()
            .map(|a| a.slice(start, end - start));
        writer.write(passthrough.as_ref(), proba.as_slice().expect("row-major"))?;
        start = end;
    }
    // Rows split under mpirun: the other ranks' rows follow, in rank order.
    if let (Some(c), Some(_)) = (comm, data.share) {
        // Each row's probabilities: the Gaussians', and the noise's.
        let k = model.n_components() + usize::from(model.noise().is_some());
        for r in 1..c.size() {
            loop {
                crate::interrupt::check_interrupted()?;
                let Some((passthrough, proba)) = decode_predictions(&c.recv_bytes(r), k)? else {
                    break;
                };
                writer.write(passthrough.as_ref(), &proba)?;
            }
        }
    }
    Ok(writer.finish()?)
}

/// Sends this rank's predictions to rank 0, batch by batch, then an end mark.
pub(crate) fn send_predictions(
    c: &dyn distributed::Transport,
    model: &GaussianMixture,
    data: &LoadedData,
) -> Result<()> {
    let view = data.dataset.view().without_labels();
    let mut start = 0;
    while start < data.n_input_rows {
        let end = (start + PREDICT_BATCH_ROWS).min(data.n_input_rows);
        let proba = proba_of(model, view, start, end)?;
        let passthrough = data
            .passthrough
            .as_ref()
            .map(|a| a.slice(start, end - start));
        let mut msg = gmm_core::wire::Writer::new();
        msg.bool(true);
        msg.f64s(proba.as_slice().expect("row-major"));
        msg.bool(passthrough.is_some());
        if let Some(passthrough) = passthrough {
            let schema = std::sync::Arc::new(gmm_io::arrow::datatypes::Schema::new(vec![
                gmm_io::arrow::datatypes::Field::new(
                    "passthrough",
                    passthrough.data_type().clone(),
                    true,
                ),
            ]));
            let batch =
                gmm_io::arrow::array::RecordBatch::try_new(schema.clone(), vec![passthrough])?;
            let mut ipc = Vec::new();
            let mut w = gmm_io::arrow::ipc::writer::StreamWriter::try_new(&mut ipc, &schema)?;
            w.write(&batch)?;
            w.finish()?;
            drop(w);
            msg.bytes(&ipc);
        }
        c.send_bytes(0, msg.as_bytes());
        start = end;
    }
    let mut end = gmm_core::wire::Writer::new();
    end.bool(false);
    c.send_bytes(0, end.as_bytes());
    Ok(())
}

/// A batch of another rank's predictions: its passthrough columns (if any) and
/// probabilities, or `None` at the end mark.
#[allow(clippy::type_complexity)]
fn decode_predictions(
    msg: &[u8],
    k: usize,
) -> Result<Option<(Option<gmm_io::arrow::array::ArrayRef>, Vec<f64>)>> {
    let mut r = gmm_core::wire::Reader::new(msg);
    if !r.bool()? {
        return Ok(None);
    }
    let proba = r.f64s()?;
    if proba.len() % k != 0 {
        anyhow::bail!("{} probabilities are not rows of {k}", proba.len());
    }
    let passthrough = if r.bool()? {
        let mut reader = gmm_io::arrow::ipc::reader::StreamReader::try_new(
            std::io::Cursor::new(r.bytes()?),
            None,
        )?;
        let batch = reader.next().transpose()?.expect("one batch");
        Some(batch.column(0).clone())
    } else {
        None
    };
    r.finish()?;
    Ok(Some((passthrough, proba)))
}

/// The probabilities of rows `start..end`; NaN for rows left out for a
/// missing value, which the writer writes as nulls.
fn proba_of(
    model: &GaussianMixture,
    view: gmm_core::DataView<'_>,
    start: usize,
    end: usize,
) -> Result<ndarray::Array2<f64>> {
    let rows = view.slice_rows(start, end);
    let mut proba = model.predict_proba(rows)?;
    if let Some(w) = rows.weights() {
        crate::commands::predict::left_out(&mut proba, w);
    }
    Ok(proba)
}
