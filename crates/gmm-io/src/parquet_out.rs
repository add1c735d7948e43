//! Parquet written with the columns of each row group encoded in parallel.
//!
//! [`ArrowWriter`] encodes a row group's columns one after another on the
//! calling thread: for a predictions file of a million rows and `K = 8`
//! that is a dozen Float64 columns, a fifth of a second, while every other
//! core waits. Here the batches of a row group are held until it is full,
//! then each leaf column is encoded by its own task with the column writers
//! `ArrowWriter` itself uses, and the finished chunks are appended in
//! column order: the same file as `ArrowWriter` writes with the same
//! properties, written in less time. The price is memory: a row group's
//! rows are held as they came (about 11 MB for 131,072 rows at K = 8)
//! where `ArrowWriter` holds them encoded.

use std::io::Write;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::{
    ArrowColumnChunk, ArrowColumnWriter, ArrowLeafColumn, ArrowRowGroupWriterFactory,
    compute_leaves,
};
use parquet::errors::{ParquetError, Result};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use rayon::prelude::*;

/// A Parquet file written row group by row group, each row group's columns
/// encoded in parallel.
pub(crate) struct ParallelParquetWriter<W: Write + Send> {
    file: SerializedFileWriter<W>,
    factory: ArrowRowGroupWriterFactory,
    schema: SchemaRef,
    /// Rows per row group (the last one may have fewer).
    row_group_rows: usize,
    /// The rows of the row group being filled.
    held: Vec<RecordBatch>,
    held_rows: usize,
    row_groups: usize,
}

impl<W: Write + Send> ParallelParquetWriter<W> {
    /// A writer of `schema`, its row groups of `props`'s maximum row count.
    /// Row groups bounded in bytes and content-defined chunking, which
    /// `ArrowWriter` decides as it encodes, are refused.
    pub fn try_new(out: W, schema: SchemaRef, props: WriterProperties) -> Result<Self> {
        if props.max_row_group_bytes().is_some() || props.content_defined_chunking().is_some() {
            return Err(ParquetError::General(
                "row groups bounded in bytes and content-defined chunking are not supported by the parallel writer".into(),
            ));
        }
        let row_group_rows = props.max_row_group_row_count().unwrap_or(usize::MAX);
        // `ArrowWriter` builds the Parquet schema and stores the Arrow one
        // in the file's metadata; its lower half then takes over.
        let (file, factory) = ArrowWriter::try_new(out, Arc::clone(&schema), Some(props))?
            .into_serialized_writer()?;
        Ok(ParallelParquetWriter {
            file,
            factory,
            schema,
            row_group_rows,
            held: Vec::new(),
            held_rows: 0,
            row_groups: 0,
        })
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        if batch.schema().fields() != self.schema.fields() {
            return Err(ParquetError::General(format!(
                "a batch of columns {:?} does not match the file's {:?}",
                batch.schema().fields(),
                self.schema.fields()
            )));
        }
        let mut offset = 0;
        while offset < batch.num_rows() {
            let take = (self.row_group_rows - self.held_rows).min(batch.num_rows() - offset);
            self.held.push(batch.slice(offset, take));
            self.held_rows += take;
            offset += take;
            if self.held_rows == self.row_group_rows {
                self.flush_row_group()?;
            }
        }
        Ok(())
    }

    /// Encodes the held rows as one row group and appends it to the file.
    fn flush_row_group(&mut self) -> Result<()> {
        if self.held_rows == 0 {
            return Ok(());
        }
        // Each batch's leaf columns, in the order of the column writers.
        let mut leaves: Vec<Vec<ArrowLeafColumn>> = Vec::with_capacity(self.held.len());
        for batch in &self.held {
            let mut of_batch = Vec::new();
            for (field, column) in self.schema.fields().iter().zip(batch.columns()) {
                of_batch.extend(compute_leaves(field, column)?);
            }
            leaves.push(of_batch);
        }
        let writers = self.factory.create_column_writers(self.row_groups)?;
        let chunks: Vec<ArrowColumnChunk> = writers
            .into_par_iter()
            .enumerate()
            .map(|(leaf, mut w): (usize, ArrowColumnWriter)| {
                for of_batch in &leaves {
                    w.write(&of_batch[leaf])?;
                }
                w.close()
            })
            .collect::<Result<_>>()?;
        let mut row_group = self.file.next_row_group()?;
        for chunk in chunks {
            chunk.append_to_row_group(&mut row_group)?;
        }
        row_group.close()?;
        self.held.clear();
        self.held_rows = 0;
        self.row_groups += 1;
        Ok(())
    }

    /// Writes the last row group and the footer; returns the output.
    pub fn into_inner(mut self) -> Result<W> {
        self.flush_row_group()?;
        self.file.into_inner()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray, StructArray, UInt32Array};
    use arrow::datatypes::{DataType, Field, Fields, Schema};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use parquet::basic::Compression;
    use parquet::schema::types::ColumnPath;

    fn schema() -> SchemaRef {
        let inner = Fields::from(vec![
            Field::new("a", DataType::Int64, true),
            Field::new("b", DataType::Utf8, true),
        ]);
        Arc::new(Schema::new(vec![
            Field::new("id", DataType::Utf8, false),
            Field::new("nested", DataType::Struct(inner), true),
            Field::new("component", DataType::UInt32, true),
            Field::new("p", DataType::Float64, true),
        ]))
    }

    /// Rows `start..start + n`: strings, a struct with nulls, integers and
    /// floats with nulls, so that every kind of leaf and level is written.
    fn batch(start: usize, n: usize) -> RecordBatch {
        let ids: Vec<String> = (start..start + n).map(|i| format!("row-{i}")).collect();
        let a: Int64Array = (start..start + n)
            .map(|i| (i % 7 != 0).then_some(i as i64 * 3))
            .collect();
        let b: StringArray = (start..start + n)
            .map(|i| (i % 5 != 0).then(|| format!("b{}", i % 11)))
            .collect();
        let s = StructArray::try_new(
            match schema().field(1).data_type() {
                DataType::Struct(f) => f.clone(),
                _ => unreachable!(),
            },
            vec![Arc::new(a) as ArrayRef, Arc::new(b)],
            Some((start..start + n).map(|i| i % 13 != 0).collect()),
        )
        .unwrap();
        let c: UInt32Array = (start..start + n).map(|i| Some((i % 4) as u32)).collect();
        let p: Float64Array = (start..start + n)
            .map(|i| (i % 9 != 0).then_some((i as f64).sin()))
            .collect();
        RecordBatch::try_new(
            schema(),
            vec![
                Arc::new(StringArray::from(ids)),
                Arc::new(s),
                Arc::new(c),
                Arc::new(p),
            ],
        )
        .unwrap()
    }

    /// As the predictions' (snappy, no dictionary for floats), with small
    /// pages so that each column chunk has several.
    fn props() -> WriterProperties {
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(1000))
            .set_column_dictionary_enabled(ColumnPath::from("p"), false)
            .set_data_page_row_count_limit(128)
            .set_write_batch_size(64)
            .build()
    }

    #[test]
    fn writes_the_same_bytes_as_arrow_writer() {
        // Batches that cross row-group boundaries, and a short last group.
        let sizes = [300, 1200, 1, 999, 650];
        let mut serial = ArrowWriter::try_new(Vec::new(), schema(), Some(props())).unwrap();
        let mut parallel = ParallelParquetWriter::try_new(Vec::new(), schema(), props()).unwrap();
        let mut start = 0;
        for n in sizes {
            let b = batch(start, n);
            serial.write(&b).unwrap();
            parallel.write(&b).unwrap();
            start += n;
        }
        let serial = serial.into_inner().unwrap();
        let parallel = parallel.into_inner().unwrap();
        assert_eq!(serial, parallel);

        // And it reads back as written, in row groups of 1,000 rows.
        let reader =
            ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(parallel)).unwrap();
        let groups: Vec<i64> = reader
            .metadata()
            .row_groups()
            .iter()
            .map(|g| g.num_rows())
            .collect();
        assert_eq!(groups, [1000, 1000, 1000, 150]);
        let read: Vec<RecordBatch> = reader.build().unwrap().collect::<Result<_, _>>().unwrap();
        let read = arrow::compute::concat_batches(&schema(), &read).unwrap();
        assert_eq!(read, batch(0, start));
    }

    #[test]
    fn a_batch_of_other_columns_and_unsupported_properties_are_refused() {
        let mut w = ParallelParquetWriter::try_new(Vec::new(), schema(), props()).unwrap();
        let other = batch(0, 10).project(&[0, 2, 3]).unwrap();
        assert!(
            w.write(&other)
                .unwrap_err()
                .to_string()
                .contains("does not match")
        );
        let bytes = WriterProperties::builder()
            .set_max_row_group_bytes(Some(1 << 20))
            .build();
        assert!(ParallelParquetWriter::try_new(Vec::new(), schema(), bytes).is_err());
    }

    #[test]
    fn an_empty_file_has_no_row_groups() {
        let w = ParallelParquetWriter::try_new(Vec::new(), schema(), props()).unwrap();
        let bytes = w.into_inner().unwrap();
        let serial = ArrowWriter::try_new(Vec::new(), schema(), Some(props()))
            .unwrap()
            .into_inner()
            .unwrap();
        assert_eq!(bytes, serial);
    }
}
