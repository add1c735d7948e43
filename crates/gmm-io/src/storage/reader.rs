//! A Parquet object read in ranges: the parquet crate's reader asks for
//! byte ranges ([`ChunkReader`]); the ranges a row group needs (its
//! selected column chunks) are fetched together in parallel pieces before
//! it is decoded, and any other range (the footer, a range the plan did
//! not foresee) is fetched when asked for.

use std::ops::Range;
use std::sync::Arc;

use bytes::{Buf, Bytes};
use parquet::errors::{ParquetError, Result};
use parquet::file::reader::{ChunkReader, Length};

use super::RemoteObject;

/// Bytes fetched at once for a read whose end is not known (a page
/// header): more than any header, and the footer's usual size.
const READ_AHEAD: u64 = 64 << 10;

/// A remote Parquet object and the ranges fetched of it.
pub(crate) struct RemoteReader {
    object: Arc<RemoteObject>,
    /// Fetched ranges, sorted by start, not overlapping.
    fetched: Vec<(u64, Bytes)>,
}

impl RemoteReader {
    /// A reader of `object` holding `ranges` (merged where they touch).
    pub fn new(
        object: Arc<RemoteObject>,
        ranges: impl IntoIterator<Item = Range<u64>>,
    ) -> Result<Self> {
        let mut ranges: Vec<Range<u64>> = ranges.into_iter().collect();
        ranges.sort_by_key(|r| r.start);
        let mut merged: Vec<Range<u64>> = Vec::new();
        for r in ranges.into_iter().filter(|r| r.start < r.end) {
            match merged.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => merged.push(r),
            }
        }
        if let Some(r) = merged.iter().find(|r| r.end > object.size) {
            return Err(past_end(&object, r.start, r.end - r.start));
        }
        let bytes = object
            .fetch(&merged)
            .map_err(|e| ParquetError::External(Box::new(e)))?;
        let fetched = merged.iter().map(|r| r.start).zip(bytes).collect();
        Ok(RemoteReader { object, fetched })
    }

    /// The fetched bytes from `start` to the end of the range holding it.
    fn held(&self, start: u64) -> Option<Bytes> {
        let i = self.fetched.partition_point(|(s, _)| *s <= start);
        let (s, b) = self.fetched.get(i.checked_sub(1)?)?;
        let off = usize::try_from(start - s).ok()?;
        (off < b.len()).then(|| b.slice(off..))
    }

    fn fetch(&self, start: u64, length: u64) -> Result<Bytes> {
        self.object
            .fetch_one(start..start + length)
            .map_err(|e| ParquetError::External(Box::new(e)))
    }
}

fn past_end(object: &RemoteObject, start: u64, length: u64) -> ParquetError {
    ParquetError::EOF(format!(
        "the file declares {length} bytes at offset {start}, but it has {} bytes",
        object.size
    ))
}

impl Length for RemoteReader {
    fn len(&self) -> u64 {
        self.object.size
    }
}

impl ChunkReader for RemoteReader {
    type T = bytes::buf::Reader<Bytes>;

    fn get_read(&self, start: u64) -> Result<Self::T> {
        if start > self.object.size {
            return Err(past_end(&self.object, start, 0));
        }
        let bytes = match self.held(start) {
            Some(b) => b,
            None => self.fetch(start, READ_AHEAD.min(self.object.size - start))?,
        };
        Ok(bytes.reader())
    }

    fn get_bytes(&self, start: u64, length: usize) -> Result<Bytes> {
        let length64 = length as u64;
        if start
            .checked_add(length64)
            .is_none_or(|e| e > self.object.size)
        {
            return Err(past_end(&self.object, start, length64));
        }
        match self.held(start) {
            Some(b) if b.len() >= length => Ok(b.slice(..length)),
            _ => self.fetch(start, length64),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;
    use crate::storage::remote::tests::object;

    #[test]
    fn reads_come_from_the_fetched_ranges_or_are_fetched() {
        let (obj, bytes) = object(300_000);
        let obj = Arc::new(obj);
        let r = RemoteReader::new(obj.clone(), vec![100..200, 150..400, 1000..2000]).unwrap();
        // Touching ranges merged: two held.
        assert_eq!(r.fetched.len(), 2);
        assert_eq!(r.fetched[0].0, 100);
        assert_eq!(r.fetched[0].1.len(), 300);
        assert_eq!(&r.get_bytes(120, 50).unwrap()[..], &bytes[120..170]);
        // Past a held range's end, and outside every range: fetched.
        assert_eq!(&r.get_bytes(350, 100).unwrap()[..], &bytes[350..450]);
        assert_eq!(
            &r.get_bytes(250_000, 10).unwrap()[..],
            &bytes[250_000..250_010]
        );
        let mut head = Vec::new();
        r.get_read(1500).unwrap().read_to_end(&mut head).unwrap();
        assert_eq!(&head[..], &bytes[1500..2000]);
        let mut tail = Vec::new();
        r.get_read(299_990).unwrap().read_to_end(&mut tail).unwrap();
        assert_eq!(&tail[..], &bytes[299_990..]);
        // Lengths past the end are errors before any request.
        let e = r.get_bytes(299_000, 5_000).unwrap_err().to_string();
        assert!(e.contains("declares 5000 bytes at offset 299000"), "{e}");
        assert!(r.get_read(300_001).is_err());
        assert!(RemoteReader::new(obj, std::iter::once(0..300_001)).is_err());
    }
}
