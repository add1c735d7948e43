//! CSV: the schema inferred from the first rows, a reader that parses the
//! feature and weight columns as `f64`, and Arrow's CSV errors told as
//! which row and column are wrong (a value that is not a number, a row with
//! the wrong number of fields, text that is not UTF-8). Files compressed
//! with gzip or zstd (`.csv.gz`, `.csv.zst`) are decompressed as they are
//! read.

use std::fs::File;

use gmm_core::Precision;
use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::error::ArrowError;

use super::compressed::{Compression, decompress_error, decompressed};
use super::{RawBatches, SourceFile, guarded};
use crate::column_types::type_name;
use crate::decode::BatchConverter;
use crate::error::{IoError, Result};
use crate::projection::Projection;

/// Rows of CSV used to infer column types.
pub(crate) const CSV_INFER_ROWS: usize = 1000;

/// The longest physical line read (a header of many thousands of columns
/// fits): a file without line ends would otherwise be read into memory
/// whole.
pub(crate) const MAX_LINE_BYTES: usize = 64 << 20;

/// A reader that fails once a line runs past [`MAX_LINE_BYTES`].
struct LineGuard<R> {
    inner: R,
    /// Bytes since the last line end.
    run: usize,
}

impl<R: Read> Read for LineGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        match buf[..n].iter().rposition(|&b| b == b'\n') {
            Some(i) => self.run = n - i - 1,
            None => self.run += n,
        }
        if self.run > MAX_LINE_BYTES {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "a line runs past {} MiB without ending: not a CSV file, or a line with no end",
                    MAX_LINE_BYTES >> 20
                ),
            ));
        }
        Ok(n)
    }
}

/// A CSV file's text: decompressed, and bounded in line length.
type CsvBytes = LineGuard<Box<dyn Read + Send>>;

/// The CSV file `path`, decompressed by its extension, read through a
/// [`LineGuard`].
fn open_guarded(path: &Path) -> std::io::Result<CsvBytes> {
    Ok(LineGuard {
        inner: decompressed(path)?,
        run: 0,
    })
}

/// The schema of a CSV file: column types inferred from the first
/// [`CSV_INFER_ROWS`] data rows.
pub(crate) fn schema(file: &SourceFile, delimiter: u8) -> Result<SchemaRef> {
    let path = file.path.as_path();
    let f = open_guarded(file.local_path()).map_err(|e| IoError::read(path, e))?;
    let format = arrow::csv::reader::Format::default()
        .with_header(true)
        .with_delimiter(delimiter);
    let (schema, sampled_rows) = format
        .clone()
        .infer_schema(BufReader::new(f), Some(CSV_INFER_ROWS))
        .map_err(|e| infer_error(file, &format, e))?;
    // A header and no data rows: say so, rather than that no column is
    // numeric (every column of an empty CSV reads as text).
    if schema.fields().is_empty() || sampled_rows == 0 {
        return Err(IoError::EmptyTable {
            path: path.to_path_buf(),
        });
    }
    // A column empty in every sampled row would be read as all-null (the
    // Null type ignores what it holds), silently dropping later values:
    // read it as text instead.
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Null => f.as_ref().clone().with_data_type(DataType::Utf8),
            _ => f.as_ref().clone(),
        })
        .collect();
    let mut fields = fields;
    for i in mostly_numbers(file, &format, &schema_ref(fields.clone())) {
        fields[i] = fields[i].clone().with_data_type(DataType::Float64);
    }
    Ok(schema_ref(fields))
}

/// Columns that inference calls text although most of their sampled values
/// are numbers: one odd token (` 1.5 `, `NA`, `0x10`, `1_000`) in the
/// first rows makes a column text, and as text it would silently not be a
/// feature. They are read as numbers instead, so that an odd value is an
/// error naming its row and value, wherever it is.
fn mostly_numbers(
    file: &SourceFile,
    format: &arrow::csv::reader::Format,
    schema: &SchemaRef,
) -> Vec<usize> {
    use arrow::array::{Array, AsArray};
    let text: Vec<usize> = (0..schema.fields().len())
        .filter(|&i| schema.field(i).data_type() == &DataType::Utf8)
        .collect();
    if text.is_empty() {
        return Vec::new();
    }
    let Ok(file) = open_guarded(file.local_path()) else {
        return Vec::new();
    };
    let reader = arrow::csv::ReaderBuilder::new(schema.clone())
        .with_format(format.clone())
        .with_batch_size(CSV_INFER_ROWS)
        .with_projection(text.clone())
        .build(BufReader::new(file));
    // A file that cannot be read this way fails, with its row, when read.
    let Some(Ok(batch)) = reader.ok().and_then(|mut r| r.next()) else {
        return Vec::new();
    };
    let mut numeric = Vec::new();
    for (j, column) in batch.columns().iter().enumerate() {
        let Ok(numbers) = arrow::compute::cast(column, &DataType::Float64) else {
            continue;
        };
        let values = column.as_string::<i32>();
        let (mut given, mut parsed) = (0usize, 0usize);
        for r in 0..values.len() {
            if values.is_null(r) || values.value(r).trim().is_empty() {
                continue;
            }
            given += 1;
            parsed += usize::from(numbers.is_valid(r));
        }
        if parsed > 0 && 2 * parsed >= given {
            numeric.push(text[j]);
        }
    }
    numeric
}

/// The decoded batches of the projected columns of the CSV file `path`,
/// from its first row, as file 0 of its table.
pub(crate) fn raw_batches<'a>(
    file: &SourceFile,
    schema: SchemaRef,
    proj: &Projection,
    conv: &BatchConverter,
    delimiter: u8,
    batch_rows: usize,
) -> Result<RawBatches<'a>> {
    let path = file.path.as_path();
    let reader = open_reader(file, schema, proj, delimiter, batch_rows)?;
    let owned_path = path.to_path_buf();
    let conv = conv.clone();
    Ok(guarded(
        path.to_path_buf(),
        reader.map(move |b| {
            b.map(|b| (0, b))
                .map_err(|e| read_error(&owned_path, &conv, e))
        }),
    ))
}

/// The lines of the file, counted for reserving memory before reading
/// (not for a compressed file, which would be decompressed twice).
pub(crate) fn count_lines(path: &Path) -> Option<usize> {
    if Compression::of_path(path) != Compression::None {
        return None;
    }
    let mut f = File::open(path).ok()?;
    let mut buf = vec![0u8; 1 << 20];
    let mut lines = 0usize;
    loop {
        let n = f.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        lines += buf[..n].iter().filter(|&&b| b == b'\n').count();
    }
    Some(lines)
}

fn schema_ref(fields: Vec<Field>) -> SchemaRef {
    Arc::new(Schema::new(fields))
}

/// A CSV reader that parses feature and weight columns as `f64` directly.
fn open_reader(
    file: &SourceFile,
    schema: SchemaRef,
    proj: &Projection,
    delimiter: u8,
    batch_rows: usize,
) -> Result<arrow::csv::Reader<BufReader<CsvBytes>>> {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            if proj.features.contains(&i) || proj.weight == Some(i) {
                Field::new(f.name(), DataType::Float64, true)
            } else {
                f.as_ref().clone()
            }
        })
        .collect();
    let path = file.path.as_path();
    let f = open_guarded(file.local_path()).map_err(|e| IoError::read(path, e))?;
    arrow::csv::ReaderBuilder::new(schema_ref(fields))
        .with_header(true)
        .with_delimiter(delimiter)
        .with_batch_size(batch_rows)
        .with_projection(proj.all_columns())
        .build(BufReader::with_capacity(1 << 20, f))
        .map_err(|e| IoError::read(path, e))
}

/// The number that follows `marker` in `text`.
fn number_after(text: &str, marker: &str) -> Option<usize> {
    let rest = &text[text.find(marker)? + marker.len()..];
    let digits: &str = &rest[..rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len())];
    digits.parse().ok()
}

/// Errors of CSV schema inference (the first [`CSV_INFER_ROWS`] rows).
fn infer_error(file: &SourceFile, format: &arrow::csv::reader::Format, e: ArrowError) -> IoError {
    let path = file.path.as_path();
    let msg = e.to_string();
    if let Some(err) = decompress_error(path, &msg) {
        return err;
    }
    if msg.contains("unequal lengths") {
        // The inference counts physical lines (and miscounts some line
        // ends); find the row by reading the file as text instead.
        if let Some(err) = find_ragged_row(file, format) {
            return err;
        }
        if let (Some(expected), Some(found), Some(line)) = (
            number_after(&msg, "Expected "),
            number_after(&msg, "found "),
            number_after(&msg, " at line "),
        ) {
            return IoError::RaggedRow {
                path: path.to_path_buf(),
                row: line.saturating_sub(1),
                found: found.to_string(),
                expected,
            };
        }
    }
    IoError::read(path, format!("not a readable CSV file ({msg})"))
}

/// The first row whose field count differs from the header's, by reading
/// every column as text.
fn find_ragged_row(file: &SourceFile, format: &arrow::csv::reader::Format) -> Option<IoError> {
    let path = file.path.as_path();
    let (header, _) = format
        .infer_schema(
            BufReader::new(open_guarded(file.local_path()).ok()?),
            Some(0),
        )
        .ok()?;
    let fields: Vec<Field> = header
        .fields()
        .iter()
        .map(|f| f.as_ref().clone().with_data_type(DataType::Utf8))
        .collect();
    let schema = schema_ref(fields);
    let conv = BatchConverter {
        schema: schema.clone(),
        features: Vec::new(),
        label: None,
        weight: None,
        noise_init: None,
        passthrough: Vec::new(),
        precision: Precision::F64,
        missing: crate::Missing::Error,
        partitions: None,
        filter: None,
    };
    let reader = arrow::csv::ReaderBuilder::new(schema)
        .with_format(format.clone())
        .build(BufReader::new(open_guarded(file.local_path()).ok()?))
        .ok()?;
    for b in reader {
        if let Err(e) = b {
            let err = read_error(path, &conv, e);
            return matches!(err, IoError::RaggedRow { .. }).then_some(err);
        }
    }
    None
}

/// A field's text short enough to quote in a message (a field opened by a
/// stray quote can hold the rest of the file).
fn excerpt(value: &str) -> String {
    const MAX_CHARS: usize = 60;
    match value.char_indices().nth(MAX_CHARS) {
        Some((end, _)) => format!("{}...", &value[..end]),
        None => value.to_string(),
    }
}

/// Turns Arrow's CSV reading errors into messages naming the column and row.
fn read_error(path: &Path, conv: &BatchConverter, e: ArrowError) -> IoError {
    let msg = e.to_string();
    if let Some(err) = decompress_error(path, &msg) {
        return err;
    }
    // "Error while parsing value '{v}' as type '{t}' for column {i} at line {l}. Row data: ..."
    // where `l` is the 1-based data row (the header is not counted).
    let parse_error = || -> Option<IoError> {
        let start = msg.find("parsing value '")? + "parsing value '".len();
        let type_at = start + msg[start..].find("' as type '")?;
        let value = excerpt(&msg[start..type_at]);
        let after = &msg[type_at..];
        let col = number_after(after, "' for column ")?;
        let row = number_after(after, " at line ")?;
        let field = conv.schema.fields().get(col)?;
        let column = field.name().clone();
        if conv.features.contains(&column) || conv.weight.as_ref() == Some(&column) {
            Some(IoError::NonNumericValue {
                path: path.to_path_buf(),
                column,
                row,
                value,
            })
        } else {
            Some(IoError::CsvTypeChange {
                path: path.to_path_buf(),
                column,
                row,
                value,
                inferred: type_name(field.data_type()),
                sampled: CSV_INFER_ROWS,
            })
        }
    };
    // "incorrect number of fields for line {l}, expected {e} got [more than] {g}"
    // where `l` counts records from 1, the header included.
    let ragged = || -> Option<IoError> {
        let line = number_after(&msg, "fields for line ")?;
        let expected = number_after(&msg, "expected ")?;
        let found = match number_after(&msg, "got more than ") {
            Some(g) => format!("more than {g}"),
            None => number_after(&msg, " got ")?.to_string(),
        };
        Some(IoError::RaggedRow {
            path: path.to_path_buf(),
            row: line.saturating_sub(1),
            found,
            expected,
        })
    };
    // "Encountered invalid UTF-8 data for line {l} and field {f}", `l` as above.
    let utf8 = || -> Option<IoError> {
        let line = number_after(&msg, "UTF-8 data for line ")?;
        Some(IoError::read(
            path,
            format!(
                "data row {} is not valid UTF-8 text; save the file as UTF-8",
                line.saturating_sub(1)
            ),
        ))
    };
    parse_error()
        .or_else(ragged)
        .or_else(utf8)
        .unwrap_or_else(|| IoError::read(path, format!("malformed CSV: {msg}")))
}
