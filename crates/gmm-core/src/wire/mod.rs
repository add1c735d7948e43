//! The one binary format of the engine and its binary: everything the
//! processes of a distributed fit send each other (partial sums, restarts,
//! fits, predictions) is written by a [`Writer`] and read back by a
//! [`Reader`].
//!
//! Integers are little-endian `u64`; every `f64` travels as its bits, so
//! what arrives is what was sent, NaN and infinities included (text formats
//! would round or refuse them); slices, byte strings and UTF-8 strings are
//! prefixed with their length, so any content (newlines, empty strings)
//! reads back as written. The reader never panics: bytes that are truncated
//! or were not written by this version return [`GmmError::Malformed`].
//!
//! ```
//! use gmm_core::wire::{Reader, Writer};
//!
//! let mut w = Writer::new();
//! w.u64(3);
//! w.f64(f64::NAN);
//! w.str("two\nlines");
//! let bytes = w.into_bytes();
//! let mut r = Reader::new(&bytes);
//! assert_eq!(r.u64()?, 3);
//! assert!(r.f64()?.is_nan());
//! assert_eq!(r.str()?, "two\nlines");
//! r.finish()?;
//! assert!(Reader::new(&bytes[..5]).u64().is_err());
//! # Ok::<(), gmm_core::GmmError>(())
//! ```

mod records;

use crate::error::{GmmError, Result};

/// Appends values to a byte buffer in the wire format.
#[derive(Debug, Clone, Default)]
pub struct Writer {
    bytes: Vec<u8>,
}

impl Writer {
    pub fn new() -> Self {
        Writer::default()
    }

    /// The bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// One byte.
    pub fn u8(&mut self, v: u8) {
        self.bytes.push(v);
    }

    pub fn u64(&mut self, v: u64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    /// A count or index, as a `u64`.
    pub fn usize(&mut self, v: usize) {
        self.u64(v as u64);
    }

    pub fn bool(&mut self, v: bool) {
        self.u64(u64::from(v));
    }

    /// The exact bits of `v`.
    pub fn f64(&mut self, v: f64) {
        self.u64(v.to_bits());
    }

    /// The length, then the exact bits of every value.
    pub fn f64s(&mut self, v: &[f64]) {
        self.usize(v.len());
        for &x in v {
            self.f64(x);
        }
    }

    /// The length, then the bytes.
    pub fn bytes(&mut self, v: &[u8]) {
        self.usize(v.len());
        self.bytes.extend_from_slice(v);
    }

    /// The length in bytes, then the UTF-8 bytes.
    pub fn str(&mut self, v: &str) {
        self.bytes(v.as_bytes());
    }

    pub(crate) fn i128s(&mut self, v: &[i128]) {
        self.usize(v.len());
        for x in v {
            self.bytes.extend_from_slice(&x.to_le_bytes());
        }
    }
}

/// Reads what a [`Writer`] wrote, in the same order. Every method fails
/// with [`GmmError::Malformed`] (and reads nothing more) on bytes that are
/// truncated or not of this format.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    /// Whether everything has been read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// Checks that everything has been read: trailing bytes mean the
    /// message was not what the caller expected.
    pub fn finish(&self) -> Result<()> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.malformed(format!("{} unexpected bytes at the end", self.remaining())))
        }
    }

    fn malformed(&self, reason: impl Into<String>) -> GmmError {
        GmmError::Malformed {
            offset: self.pos,
            reason: reason.into(),
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(self.malformed(format!(
                "{n} bytes expected, {} left (truncated?)",
                self.remaining()
            )));
        }
        let b = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(b)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        Ok(self.take(N)?.try_into().expect("N bytes taken"))
    }

    /// A length of items of `size` bytes each, checked against what is left
    /// before anything is allocated for them.
    fn len(&mut self, size: usize) -> Result<usize> {
        let at = self.pos;
        let n = self.u64()?;
        match usize::try_from(n) {
            Ok(n) if n.checked_mul(size).is_some_and(|b| b <= self.remaining()) => Ok(n),
            _ => Err(GmmError::Malformed {
                offset: at,
                reason: format!(
                    "a length of {n} items, more than the {} bytes left",
                    self.remaining()
                ),
            }),
        }
    }

    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    pub fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// A count or index written by [`Writer::usize`].
    pub fn usize(&mut self) -> Result<usize> {
        let at = self.pos;
        let v = self.u64()?;
        usize::try_from(v).map_err(|_| GmmError::Malformed {
            offset: at,
            reason: format!("{v} does not fit in a usize"),
        })
    }

    pub fn bool(&mut self) -> Result<bool> {
        match self.u64()? {
            0 => Ok(false),
            1 => Ok(true),
            v => {
                self.pos -= 8;
                Err(self.malformed(format!("{v} is not a boolean (0 or 1)")))
            }
        }
    }

    pub fn f64(&mut self) -> Result<f64> {
        Ok(f64::from_bits(self.u64()?))
    }

    pub fn f64s(&mut self) -> Result<Vec<f64>> {
        let n = self.len(8)?;
        (0..n).map(|_| self.f64()).collect()
    }

    /// A length-prefixed byte string.
    pub fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.len(1)?;
        self.take(n)
    }

    /// A length-prefixed UTF-8 string.
    pub fn str(&mut self) -> Result<&'a str> {
        let at = self.pos;
        let b = self.bytes()?;
        std::str::from_utf8(b).map_err(|e| GmmError::Malformed {
            offset: at,
            reason: format!("a string that is not UTF-8: {e}"),
        })
    }

    pub(crate) fn i128s(&mut self) -> Result<Vec<i128>> {
        let n = self.len(16)?;
        (0..n)
            .map(|_| Ok(i128::from_le_bytes(self.array()?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::covariance::Covariances;
    use crate::model::GaussianMixture;
    use crate::report::{Ending, Fit, FitReport, RestartReport};
    use crate::state::{FitState, RestartSnapshot};
    use ndarray::array;

    fn sample_fit() -> Fit {
        let model = GaussianMixture::new(
            array![0.25, 0.75],
            array![[0.0, 1.0], [2.0, -3.5]],
            Covariances::Diag(array![[1.0, 2.0], [0.5, 0.25]]),
        )
        .unwrap();
        let report = RestartReport {
            restart: 1,
            init: "kmeans\n(3 Lloyd iterations)".into(),
            trace: vec![-3.0, f64::NEG_INFINITY, f64::NAN],
            n_iter: 3,
            converged: false,
            lower_bound: f64::NAN,
            ending: Ending::Dropped,
            regularizations: 2,
            reseeded_components: 1,
            note: Some(String::new()),
        };
        Fit {
            model,
            report: FitReport {
                best_restart: 0,
                restarts: vec![
                    report.clone(),
                    RestartReport {
                        note: None,
                        ..report
                    },
                ],
                n_iter: 3,
                converged: true,
                lower_bound: -1.5,
                mean_log_likelihood: -1.25,
                n_rows: 6.0,
                n_parameters: 9,
                bic: 1e300,
                aic: -0.0,
                icl: f64::INFINITY,
                icl_mclust: -7.5,
            },
        }
    }

    /// Bit-for-bit equality, NaN included.
    fn same(a: &Fit, b: &Fit) -> bool {
        format!("{a:?}") == format!("{b:?}")
    }

    #[test]
    fn fits_and_states_read_back_bit_for_bit() {
        let fit = sample_fit();
        let back = Fit::from_bytes(&fit.to_bytes()).unwrap();
        assert!(same(&fit, &back));
        assert_eq!(back.report.aic.to_bits(), (-0.0f64).to_bits());
        let state = FitState {
            iteration: 7,
            restarts: vec![RestartSnapshot {
                model: fit.model.clone(),
                report: fit.report.restarts[0].clone(),
                done: true,
            }],
        };
        let mut w = Writer::new();
        w.fit_state(&state);
        let bytes = w.into_bytes();
        let mut r = Reader::new(&bytes);
        let got = r.fit_state().unwrap();
        r.finish().unwrap();
        assert_eq!(format!("{got:?}"), format!("{state:?}"));
    }

    #[test]
    fn strings_with_any_content_read_back() {
        let mut w = Writer::new();
        for s in ["", "a\nb", "\n", "é\u{0}z"] {
            w.str(s);
        }
        w.bytes(&[0, 255]);
        let bytes = w.into_bytes();
        let mut r = Reader::new(&bytes);
        for s in ["", "a\nb", "\n", "é\u{0}z"] {
            assert_eq!(r.str().unwrap(), s);
        }
        assert_eq!(r.bytes().unwrap(), &[0, 255]);
        assert!(r.is_empty());
    }

    #[test]
    fn truncated_or_malformed_bytes_are_errors_not_panics() {
        let bytes = sample_fit().to_bytes();
        for n in 0..bytes.len() {
            assert!(
                matches!(
                    Fit::from_bytes(&bytes[..n]),
                    Err(GmmError::Malformed { .. })
                ),
                "{n} bytes"
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Fit::from_bytes(&longer).is_err());
        // Every single-byte corruption either reads back or fails cleanly.
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0xff;
            let _ = Fit::from_bytes(&bad);
        }
        // A huge length is refused before allocating.
        let mut w = Writer::new();
        w.u64(u64::MAX);
        assert!(Reader::new(w.as_bytes()).f64s().is_err());
        let mut w = Writer::new();
        w.bytes(&[0xff, 0xfe]);
        assert!(Reader::new(w.as_bytes()).str().is_err());
    }
}
