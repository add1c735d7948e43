//! Arrow IPC (Feather v2) files and streams: the schema, a reader, and a
//! check of the sizes a file declares before the Arrow reader trusts them.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use arrow::ipc::reader::{FileReader as IpcFileReader, StreamReader as IpcStreamReader};

use super::{RawBatches, SourceFile, guarded, no_panic};
use crate::error::{IoError, Result};
use crate::projection::Projection;

/// The schema of an Arrow IPC file, or of an IPC stream (`true`).
pub(crate) fn schema(file: &SourceFile) -> Result<(SchemaRef, bool)> {
    let path = file.path.as_path();
    // Opening reads the dictionaries: their sizes are checked first.
    check_sizes(file)?;
    let open = || File::open(file.local_path()).map_err(|e| IoError::read(path, e));
    match IpcFileReader::try_new(BufReader::new(open()?), None) {
        Ok(r) => Ok((r.schema(), false)),
        Err(file_err) => match IpcStreamReader::try_new(BufReader::new(open()?), None) {
            Ok(r) => Ok((r.schema(), true)),
            Err(_) => Err(IoError::read(
                path,
                format!(
                    "not a readable Arrow IPC (Feather v2) file or stream ({file_err}); check that it was written completely"
                ),
            )),
        },
    }
}

type IpcBatches = Box<dyn Iterator<Item = std::result::Result<RecordBatch, ArrowError>> + Send>;

/// A reader of the IPC file or stream (`stream`) at `path`.
fn open_reader(file: &SourceFile, projection: Option<Vec<usize>>) -> Result<IpcBatches> {
    let (path, stream) = (file.path.as_path(), file.ipc_stream);
    check_sizes(file)?;
    let f = File::open(file.local_path()).map_err(|e| IoError::read(path, e))?;
    let reader: IpcBatches = if stream {
        Box::new(
            IpcStreamReader::try_new(BufReader::new(f), projection)
                .map_err(|e| decode_error(path, e))?,
        )
    } else {
        Box::new(
            IpcFileReader::try_new(BufReader::new(f), projection)
                .map_err(|e| decode_error(path, e))?,
        )
    };
    Ok(reader)
}

/// The decoded batches of the projected columns of an IPC file, from its
/// first row, as file 0 of its table; large record batches are sliced to
/// at most `batch_rows` rows (slices share memory).
pub(crate) fn raw_batches<'a>(
    file: &SourceFile,
    proj: &Projection,
    batch_rows: usize,
) -> Result<RawBatches<'a>> {
    let path = file.path.clone();
    let reader = no_panic(&path, || open_reader(file, Some(proj.all_columns())))?;
    let owned_path = path.clone();
    Ok(guarded(
        path,
        reader.flat_map(move |b| {
            let out: Vec<Result<(usize, RecordBatch)>> = match b {
                Err(e) => vec![Err(decode_error(&owned_path, e))],
                Ok(b) => (0..b.num_rows())
                    .step_by(batch_rows)
                    .map(|off| Ok((0, b.slice(off, batch_rows.min(b.num_rows() - off)))))
                    .collect(),
            };
            out
        }),
    ))
}

/// Checks the sizes an Arrow IPC file or stream declares before the Arrow
/// reader allocates them: every record batch and dictionary batch must lie
/// inside the file, and every compressed buffer's decompressed length must
/// be plausible. A damaged file could otherwise ask for an allocation of
/// exabytes, which aborts the process instead of returning an error.
fn check_sizes(file: &SourceFile) -> Result<()> {
    let path = file.path.as_path();
    let corrupt = |what: String| {
        IoError::read(
            path,
            format!("not a readable Arrow IPC file ({what}); check that it was written completely"),
        )
    };
    let file = File::open(file.local_path()).map_err(|e| IoError::read(path, e))?;
    // SAFETY: a read-only mapping, read once here; only the sizes it
    // declares are looked at, so a file changed meanwhile gives wrong
    // numbers at worst, which the Arrow reader then meets as corruption.
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| IoError::read(path, e))?;
    let bytes: &[u8] = &map;
    let len = bytes.len();
    // Whichever reader ends up reading it: a file whose footer does not
    // parse is read again as a stream, so the stream's messages are
    // checked as well (from the start, and after a file's magic).
    if len >= 10 && &bytes[len - 6..] == b"ARROW1" {
        check_file_blocks(bytes).map_err(corrupt)?;
    }
    check_stream_messages(bytes).map_err(corrupt)?;
    if len >= 8 && &bytes[..6] == b"ARROW1" {
        check_stream_messages(&bytes[8..]).map_err(corrupt)?;
    }
    Ok(())
}

/// The file format: the record batches and dictionaries its footer lists.
fn check_file_blocks(bytes: &[u8]) -> std::result::Result<(), String> {
    let len = bytes.len();
    let footer_len = i32::from_le_bytes(bytes[len - 10..len - 6].try_into().expect("4 bytes"));
    let footer_len = usize::try_from(footer_len).map_err(|_| "bad footer".to_string())?;
    if footer_len > len - 10 {
        return Err("footer longer than the file".into());
    }
    let Ok(footer) = arrow::ipc::root_as_footer(&bytes[len - 10 - footer_len..len - 10]) else {
        return Ok(());
    };
    let blocks = footer
        .recordBatches()
        .into_iter()
        .flatten()
        .chain(footer.dictionaries().into_iter().flatten());
    for block in blocks {
        let (Ok(offset), Ok(meta_len), Ok(body_len)) = (
            usize::try_from(block.offset()),
            usize::try_from(block.metaDataLength()),
            usize::try_from(block.bodyLength()),
        ) else {
            return Err("negative record batch offset or length".into());
        };
        let body_start = offset.saturating_add(meta_len);
        if body_start.saturating_add(body_len) > len {
            return Err("a record batch extends past the end of the file".into());
        }
        // The message as the Arrow reader reads it: an optional 0xFFFFFFFF
        // continuation marker and the length word, skipped; the flatbuffer
        // is verified over the rest of the block, metadata and body (as
        // arrow's `parse_message` does), whatever the length word says;
        // the body where the block says.
        let word = |at: usize| {
            bytes
                .get(at..at + 4)
                .map(|w| i32::from_le_bytes(w.try_into().expect("4 bytes")))
        };
        let fb_start = match word(offset) {
            Some(-1) => offset + 8,
            Some(_) => offset + 4,
            None => continue,
        };
        let Some(fb) = bytes.get(fb_start..body_start + body_len) else {
            continue;
        };
        if let Ok(message) = arrow::ipc::root_as_message(fb) {
            check_message(&message, &bytes[body_start..body_start + body_len])?;
        }
    }
    Ok(())
}

/// The stream format: messages one after another, each with its body.
fn check_stream_messages(bytes: &[u8]) -> std::result::Result<(), String> {
    let mut at = 0usize;
    while at + 4 <= bytes.len() {
        let mut word = i32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
        at += 4;
        if word == -1 {
            if at + 4 > bytes.len() {
                return Ok(());
            }
            word = i32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
            at += 4;
        }
        // 0: the end-of-stream marker; anything negative: not a stream.
        let Ok(meta_len) = usize::try_from(word) else {
            return Ok(());
        };
        if meta_len == 0 || at + meta_len > bytes.len() {
            return Ok(());
        }
        let Ok(message) = arrow::ipc::root_as_message(&bytes[at..at + meta_len]) else {
            return Ok(());
        };
        at += meta_len;
        let Ok(body_len) = usize::try_from(message.bodyLength()) else {
            return Err("a negative message body length".into());
        };
        if at.saturating_add(body_len) > bytes.len() {
            return Err(
                "corrupt or truncated: a message body extends past the end of the stream".into(),
            );
        }
        check_message(&message, &bytes[at..at + body_len])?;
        at += body_len;
    }
    Ok(())
}

/// The compressed buffers of a record batch or dictionary batch message,
/// against its body.
fn check_message(
    message: &arrow::ipc::Message<'_>,
    body: &[u8],
) -> std::result::Result<(), String> {
    let batch = match message.header_as_record_batch() {
        Some(b) => b,
        None => match message.header_as_dictionary_batch().and_then(|d| d.data()) {
            Some(b) => b,
            None => return Ok(()),
        },
    };
    if batch.compression().is_none() {
        return Ok(());
    }
    for buf in batch.buffers().into_iter().flatten() {
        let (Ok(at), Ok(n)) = (usize::try_from(buf.offset()), usize::try_from(buf.length())) else {
            return Err("negative buffer offset or length".into());
        };
        if at.saturating_add(n) > body.len() {
            return Err("a buffer extends past its record batch".into());
        }
        if n < 8 {
            continue;
        }
        let declared = i64::from_le_bytes(body[at..at + 8].try_into().expect("8 bytes"));
        // -1: stored uncompressed. Otherwise at most 1 GiB, or 4096 times
        // the compressed size (zeros compress about that well).
        let limit = (n as i64).saturating_mul(4096).max(1 << 30);
        if declared < -1 || declared > limit {
            return Err(format!(
                "a compressed buffer of {n} bytes claims to hold {declared} bytes"
            ));
        }
    }
    Ok(())
}

fn decode_error(path: &Path, e: ArrowError) -> IoError {
    IoError::read(
        path,
        format!("cannot decode the Arrow IPC data ({e}); the file may be corrupt or truncated"),
    )
}
