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
pub(crate) fn schema(path: &Path) -> Result<(SchemaRef, bool)> {
    let open = || File::open(path).map_err(|e| IoError::read(path, e));
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
fn open_reader(path: &Path, stream: bool, projection: Option<Vec<usize>>) -> Result<IpcBatches> {
    if !stream {
        check_sizes(path)?;
    }
    let f = File::open(path).map_err(|e| IoError::read(path, e))?;
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
    let reader = no_panic(&path, || {
        open_reader(&path, file.ipc_stream, Some(proj.all_columns()))
    })?;
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

/// Checks the sizes an Arrow IPC file declares before the Arrow reader
/// allocates them: every record batch must lie inside the file, and every
/// compressed buffer's decompressed length must be plausible. A damaged
/// file could otherwise ask for an allocation of exabytes, which aborts the
/// process instead of returning an error.
fn check_sizes(path: &Path) -> Result<()> {
    let corrupt = |what: String| {
        IoError::read(
            path,
            format!("not a readable Arrow IPC file ({what}); check that it was written completely"),
        )
    };
    let file = File::open(path).map_err(|e| IoError::read(path, e))?;
    // SAFETY: a read-only mapping, read once here; only the sizes it
    // declares are looked at, so a file changed meanwhile gives wrong
    // numbers at worst, which the Arrow reader then meets as corruption.
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| IoError::read(path, e))?;
    let bytes: &[u8] = &map;
    let len = bytes.len();
    if len < 10 || &bytes[len - 6..] != b"ARROW1" {
        // Not the file format's trailer: the Arrow reader says what is wrong.
        return Ok(());
    }
    let footer_len = i32::from_le_bytes(bytes[len - 10..len - 6].try_into().expect("4 bytes"));
    let footer_len = usize::try_from(footer_len).map_err(|_| corrupt("bad footer".into()))?;
    if footer_len > len - 10 {
        return Err(corrupt("footer longer than the file".into()));
    }
    let Ok(footer) = arrow::ipc::root_as_footer(&bytes[len - 10 - footer_len..len - 10]) else {
        return Ok(());
    };
    for block in footer.recordBatches().into_iter().flatten() {
        let (offset, meta_len, body_len) =
            (block.offset(), block.metaDataLength(), block.bodyLength());
        let (Ok(offset), Ok(meta_len), Ok(body_len)) = (
            usize::try_from(offset),
            usize::try_from(meta_len),
            usize::try_from(body_len),
        ) else {
            return Err(corrupt("negative record batch offset or length".into()));
        };
        let body_start = offset.saturating_add(meta_len);
        if body_start.saturating_add(body_len) > len {
            return Err(corrupt(
                "a record batch extends past the end of the file".into(),
            ));
        }
        // The message: a 0xFFFFFFFF continuation marker, its length, the flatbuffer.
        let meta = &bytes[offset..body_start];
        let fb = if meta.len() >= 8 && meta[..4] == [0xff; 4] {
            &meta[8..]
        } else if meta.len() >= 4 {
            &meta[4..]
        } else {
            continue;
        };
        let Ok(message) = arrow::ipc::root_as_message(fb) else {
            continue;
        };
        let Some(batch) = message.header_as_record_batch() else {
            continue;
        };
        if batch.compression().is_none() {
            continue;
        }
        for buf in batch.buffers().into_iter().flatten() {
            let (Ok(at), Ok(n)) = (usize::try_from(buf.offset()), usize::try_from(buf.length()))
            else {
                return Err(corrupt("negative buffer offset or length".into()));
            };
            if at.saturating_add(n) > body_len {
                return Err(corrupt("a buffer extends past its record batch".into()));
            }
            if n < 8 {
                continue;
            }
            let start = body_start + at;
            let declared = i64::from_le_bytes(bytes[start..start + 8].try_into().expect("8 bytes"));
            // -1: stored uncompressed. Otherwise at most 1 GiB, or 4096 times
            // the compressed size (zeros compress about that well).
            let limit = (n as i64).saturating_mul(4096).max(1 << 30);
            if declared < -1 || declared > limit {
                return Err(corrupt(format!(
                    "a compressed buffer of {n} bytes claims to hold {declared} bytes"
                )));
            }
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
