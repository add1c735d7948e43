//! A Parquet file as the parquet crate reads it, bounded by the file's
//! length. The crate's own reader for `File` believes the lengths a file
//! declares: a damaged column chunk that claims 800 MB made it allocate
//! 800 MB for a 2.5 KB file, and a damaged page header that makes its
//! decoder read past the end asked the OS for one byte at a time, millions
//! of times (12 s for a 6 KB file). Here a range past the end is an error
//! before any allocation, and a read at the end returns without a system
//! call.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};

use ::parquet::errors::{ParquetError, Result};
use ::parquet::file::reader::{ChunkReader, Length};
use bytes::Bytes;

/// Bytes of buffer behind each reader the decoder asks for (one per page
/// header: the parquet crate's own reader uses 8 KiB as well).
const BUFFER: usize = 8 << 10;

/// An open Parquet file and its length when opened.
pub(crate) struct ParquetFile {
    file: File,
    len: u64,
}

impl ParquetFile {
    pub fn new(file: File) -> std::io::Result<Self> {
        let len = file.metadata()?.len();
        Ok(ParquetFile { file, len })
    }

    fn past_end(&self, start: u64, length: u64) -> Option<ParquetError> {
        let end = start.checked_add(length);
        end.is_none_or(|end| end > self.len).then(|| {
            ParquetError::EOF(format!(
                "the file declares {length} bytes at offset {start}, but it has {} bytes",
                self.len
            ))
        })
    }

    fn at(&self, start: u64) -> Result<File> {
        let mut f = self.file.try_clone()?;
        f.seek(SeekFrom::Start(start))?;
        Ok(f)
    }
}

impl Length for ParquetFile {
    fn len(&self) -> u64 {
        self.len
    }
}

impl ChunkReader for ParquetFile {
    type T = Bounded;

    fn get_read(&self, start: u64) -> Result<Bounded> {
        if let Some(e) = self.past_end(start, 0) {
            return Err(e);
        }
        Ok(Bounded {
            inner: BufReader::with_capacity(BUFFER, self.at(start)?),
            left: self.len - start,
        })
    }

    fn get_bytes(&self, start: u64, length: usize) -> Result<Bytes> {
        if let Some(e) = self.past_end(start, length as u64) {
            return Err(e);
        }
        let mut buffer = vec![0; length];
        self.at(start)?.read_exact(&mut buffer)?;
        Ok(buffer.into())
    }
}

/// A buffered reader that stops at the file's length without asking the OS.
pub(crate) struct Bounded {
    inner: BufReader<File>,
    left: u64,
}

impl Read for Bounded {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        if want == 0 {
            if buf.is_empty() {
                return Ok(0);
            }
            // Nothing in a Parquet file is read past its end: a decoder that
            // asks is following a damaged length. The parquet crate skips
            // unknown fields with `io::copy`, which takes an end as success,
            // so a damaged list of 2^31 fields to skip ran for a minute; an
            // error ends it at once.
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "a read past the end of the file (a damaged length)",
            ));
        }
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn ranges_past_the_end_are_errors_and_reads_stop_at_it() {
        let mut tmp = tempfile::NamedTempFile::new().unwrap();
        tmp.write_all(b"0123456789").unwrap();
        let f = ParquetFile::new(File::open(tmp.path()).unwrap()).unwrap();
        assert_eq!(f.len(), 10);
        assert_eq!(&f.get_bytes(2, 3).unwrap()[..], b"234");
        assert_eq!(f.get_bytes(8, 2).unwrap().len(), 2);
        // A declared length far past the end: refused, nothing allocated.
        let e = f.get_bytes(2, 800 << 20).unwrap_err().to_string();
        assert!(e.contains("declares 838860800 bytes at offset 2"), "{e}");
        assert!(f.get_bytes(u64::MAX, 1).is_err());
        assert!(f.get_read(11).is_err());
        let mut r = f.get_read(7).unwrap();
        let mut all = Vec::new();
        // Past the end is an error, not an end: see `Bounded::read`.
        assert!(r.read_to_end(&mut all).is_err());
        assert_eq!(all, b"789");
        assert!(r.read(&mut [0; 4]).is_err());
        assert_eq!(r.read(&mut []).unwrap(), 0);
    }
}
