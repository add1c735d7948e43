//! CSV files compressed with gzip or zstd (`.csv.gz`, `.tsv.zst`):
//! decompressed as they are read, with errors that name the codec, and
//! their rows estimated from a decompressed sample.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use crate::error::IoError;

/// How a CSV file is compressed, by its last extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// The compression a last extension (lower-case) names, if any.
    pub(crate) fn of_extension(ext: &str) -> Option<Self> {
        match ext {
            "gz" | "gzip" => Some(Compression::Gzip),
            "zst" | "zstd" => Some(Compression::Zstd),
            _ => None,
        }
    }

    pub(crate) fn of_path(path: &Path) -> Self {
        Self::of_extension(&super::lower_extension(path)).unwrap_or(Compression::None)
    }

    fn name(self) -> &'static str {
        match self {
            Compression::None => "plain",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

/// The delimiter of a CSV file when none is given: tab for `.tsv` (also
/// compressed, `.tsv.gz`), comma otherwise.
pub(crate) fn default_delimiter(path: &Path) -> u8 {
    let path = match Compression::of_path(path) {
        Compression::None => path,
        _ => Path::new(path.file_stem().unwrap_or_default()),
    };
    if super::lower_extension(path) == "tsv" {
        b'\t'
    } else {
        b','
    }
}

/// How a [`Decompressing`] error begins, found again in Arrow's wrapping.
const DECOMPRESS_ERROR: &str = "cannot decompress the file as ";

/// A decompressing reader whose errors say that the compressed data is
/// damaged (the decoders' own messages name neither the file's format nor
/// what to do).
struct Decompressing<R> {
    inner: R,
    compression: Compression,
}

impl<R: Read> Read for Decompressing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "{DECOMPRESS_ERROR}{} ({e}); it is damaged, truncated or not {}-compressed",
                    self.compression.name(),
                    self.compression.name()
                ),
            )
        })
    }
}

/// The file at `path`, decompressed by its extension.
pub(crate) fn decompressed(path: &Path) -> std::io::Result<Box<dyn Read + Send>> {
    let file = File::open(path)?;
    let compression = Compression::of_path(path);
    Ok(match compression {
        Compression::None => Box::new(file),
        // Multi-member: pigz, bgzip and `cat a.gz b.gz` write several.
        Compression::Gzip => Box::new(Decompressing {
            inner: flate2::read::MultiGzDecoder::new(BufReader::new(file)),
            compression,
        }),
        Compression::Zstd => Box::new(Decompressing {
            inner: zstd::stream::read::Decoder::new(file)?,
            compression,
        }),
    })
}

/// A [`Decompressing`] error inside Arrow's message, told on its own.
pub(crate) fn decompress_error(path: &Path, msg: &str) -> Option<IoError> {
    let at = msg.find(DECOMPRESS_ERROR)?;
    Some(IoError::read(path, &msg[at..]))
}

/// The data rows of a compressed CSV file, estimated from the text of its
/// first 4 MiB and the compressed bytes they took (exact when that is the
/// whole file); `None` for a plain file.
pub(crate) fn estimate_compressed_rows(path: &Path) -> Option<usize> {
    /// A reader that counts the bytes read through it.
    struct Counted<R> {
        inner: R,
        read: std::rc::Rc<std::cell::Cell<u64>>,
    }
    impl<R: Read> Read for Counted<R> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.read.set(self.read.get() + n as u64);
            Ok(n)
        }
    }
    let compression = Compression::of_path(path);
    let size = std::fs::metadata(path).ok()?.len();
    let read = std::rc::Rc::new(std::cell::Cell::new(0));
    let file = Counted {
        inner: File::open(path).ok()?,
        read: read.clone(),
    };
    let mut text: Box<dyn Read> = match compression {
        Compression::None => return None,
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(BufReader::with_capacity(
            1 << 12,
            file,
        ))),
        // A small input buffer, so that the bytes counted are close to the
        // bytes the text took.
        Compression::Zstd => Box::new(
            zstd::stream::read::Decoder::with_buffer(BufReader::with_capacity(1 << 12, file))
                .ok()?,
        ),
    };
    let mut buf = vec![0u8; 4 << 20];
    let mut filled = 0;
    while filled < buf.len() {
        let n = text.read(&mut buf[filled..]).ok()?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    let done = filled < buf.len();
    let lines = buf[..filled].iter().filter(|&&b| b == b'\n').count();
    // Lines less the header, plus a last line without a newline.
    let rows =
        (lines + usize::from(buf[..filled].last().is_some_and(|&b| b != b'\n'))).saturating_sub(1);
    if done {
        return Some(rows);
    }
    Some((rows as f64 * size as f64 / read.get().max(1) as f64).ceil() as usize)
}
