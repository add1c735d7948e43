//! `gmm sample`: draw rows from a model into a table file, block by block so
//! that large samples are never held in memory whole.

use std::sync::Arc;

use anyhow::Result;
use gmm_core::GaussianMixture;
use gmm_io::arrow::array::{ArrayRef, Float64Array, RecordBatch, UInt32Array};
use gmm_io::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use gmm_io::{BatchWriter, ModelFile, OutputFormat};
use rayon::prelude::*;

use crate::args::SampleArgs;
use crate::error::UsageError;
use crate::progress::{Verbosity, rows_bar};

/// Rows drawn with one seed; also the rows per written batch.
pub const SAMPLE_BLOCK_ROWS: u64 = 65_536;

pub fn run(args: SampleArgs) -> Result<()> {
    let threads = super::init_threads(args.threads)?;
    crate::interrupt::check_interrupted()?;
    if args.rows == 0 {
        return Err(UsageError("-n/--rows: must be at least 1".into()).into());
    }
    let file = ModelFile::read(&args.model)?;
    let model = file
        .to_model()
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.model.display()))?;
    if model.noise().is_some() {
        return Err(UsageError(format!(
            "{}: the model has a noise component, which has a volume but no region to draw rows from; refit without --noise to sample its Gaussians",
            args.model.display()
        ))
        .into());
    }
    let format = OutputFormat::from_path(&args.out).map_err(|e| UsageError(e.to_string()))?;
    gmm_io::overlap::check_output(
        gmm_io::overlap::Output::File(&args.out),
        &args.model.to_string_lossy(),
    )
    .map_err(UsageError)?;
    if file.columns.contains(&args.component_column) {
        return Err(UsageError(format!(
            "the model has a column named `{}`; name the component column otherwise with --component-column",
            args.component_column
        ))
        .into());
    }
    let schema = sample_schema(&file.columns, &args.component_column);
    // An output at a URL is written locally, then uploaded.
    let place = gmm_io::storage::OutputPlace::new(&args.out, &gmm_io::ObjectStorage::default())?;
    let mut writer = BatchWriter::create(place.local(), format, schema.clone())?;
    let bar = rows_bar(
        Verbosity {
            quiet: args.quiet,
            verbose: false,
        },
        args.rows,
        "sampling",
    );
    let n_blocks = args.rows.div_ceil(SAMPLE_BLOCK_ROWS);
    // A few blocks per thread at a time, drawn in parallel, written in order.
    let window = (threads as u64).max(1);
    let mut first = 0u64;
    while first < n_blocks {
        crate::interrupt::check_interrupted()?;
        let last = (first + window).min(n_blocks);
        let batches: Vec<RecordBatch> = (first..last)
            .into_par_iter()
            .map(|b| {
                let start = b * SAMPLE_BLOCK_ROWS;
                let rows = SAMPLE_BLOCK_ROWS.min(args.rows - start) as usize;
                sample_batch(&model, &schema, rows, block_seed(args.seed, b))
            })
            .collect::<Result<_>>()?;
        for batch in &batches {
            writer.write(batch)?;
            bar.inc(batch.num_rows() as u64);
        }
        first = last;
    }
    let out = writer.finish()?;
    crate::interrupt::check_interrupted()?;
    out.commit()?;
    place.publish_file()?;
    bar.finish_and_clear();
    Ok(())
}

/// The seed of block `b`: the seed itself for block 0 (so a sample of at
/// most one block is the model's own `sample(n, seed)`), then a SplitMix64
/// mix of the seed and the block index.
pub fn block_seed(seed: u64, block: u64) -> u64 {
    if block == 0 {
        seed
    } else {
        splitmix64(seed ^ splitmix64(block))
    }
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One float64 column per model column, then the component (uint32).
fn sample_schema(columns: &[String], component: &str) -> SchemaRef {
    let mut fields: Vec<Field> = columns
        .iter()
        .map(|c| Field::new(c, DataType::Float64, false))
        .collect();
    fields.push(Field::new(component, DataType::UInt32, false));
    Arc::new(Schema::new(fields))
}

fn sample_batch(
    model: &GaussianMixture,
    schema: &SchemaRef,
    rows: usize,
    seed: u64,
) -> Result<RecordBatch> {
    let (x, components) = model.sample(rows, seed);
    let mut columns: Vec<ArrayRef> = x
        .columns()
        .into_iter()
        .map(|c| Arc::new(Float64Array::from_iter_values(c.iter().copied())) as ArrayRef)
        .collect();
    columns.push(Arc::new(UInt32Array::from(components)));
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_seeds_are_distinct_and_block_zero_keeps_the_seed() {
        assert_eq!(block_seed(42, 0), 42);
        let seeds: std::collections::HashSet<u64> = (0..1000).map(|b| block_seed(7, b)).collect();
        assert_eq!(seeds.len(), 1000);
        assert_ne!(block_seed(1, 1), block_seed(2, 1));
    }
}
