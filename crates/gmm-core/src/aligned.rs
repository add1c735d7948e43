//! Buffers of `f64` that start on a 64-byte boundary: a cache line, and one
//! AVX-512 register. The kernels load and store whole registers (of 8
//! values on AVX-512, 4 on AVX2) at offsets that are multiples of the
//! register's width into the blocks' rows, responsibilities, accumulators
//! and scratch; in these buffers each such access stays within one cache
//! line.
//!
//! From an allocator that aligns to 16 bytes, every AVX-512 access would
//! straddle two lines, and one in 64 two pages. On an Intel Xeon (family 6,
//! model 207, 1 thread), aligning the scatter's scratch alone took an
//! iteration at 1M x 16, K = 8, full covariances from 0.241 to 0.164 s.

use std::ops::{Deref, DerefMut};

use aligned_vec::{AVec, ConstAlign};

/// The alignment, in bytes.
pub(crate) const ALIGN: usize = 64;

/// A growable buffer of `f64` aligned to [`ALIGN`] bytes; a slice otherwise.
#[derive(Debug, Clone)]
pub(crate) struct AlignedBuf(AVec<f64, ConstAlign<ALIGN>>);

impl Default for AlignedBuf {
    fn default() -> Self {
        AlignedBuf(AVec::new(ALIGN))
    }
}

impl AlignedBuf {
    /// `n` copies of `value`.
    pub fn filled(value: f64, n: usize) -> Self {
        let mut b = Self::default();
        b.resize(n, value);
        b
    }

    /// As [`Vec::resize`].
    pub fn resize(&mut self, n: usize, value: f64) {
        self.0.resize(n, value);
    }
}

impl Deref for AlignedBuf {
    type Target = [f64];
    fn deref(&self) -> &[f64] {
        &self.0
    }
}

impl DerefMut for AlignedBuf {
    fn deref_mut(&mut self) -> &mut [f64] {
        &mut self.0
    }
}

/// `N` values on the stack, aligned as [`AlignedBuf`] (`normalize` and the
/// score pass keep one block's worth, `AlignedArray<BLOCK>`; every
/// kernel's `aligned_frame` makes one so that its stack frame is aligned).
#[derive(Debug, Clone, Copy)]
#[repr(C, align(64))] // ALIGN
pub(crate) struct AlignedArray<const N: usize>(pub [f64; N]);

impl<const N: usize> Default for AlignedArray<N> {
    fn default() -> Self {
        AlignedArray([0.0; N])
    }
}

impl<const N: usize> Deref for AlignedArray<N> {
    type Target = [f64; N];
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<const N: usize> DerefMut for AlignedArray<N> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_start_on_a_line_and_behave_as_vectors() {
        let mut b = AlignedBuf::default();
        assert!(b.is_empty());
        for n in [1, 3, 64, 1000, 5] {
            b.resize(n, 2.0);
            assert_eq!(b.len(), n);
            assert_eq!(b.as_ptr().align_offset(ALIGN), 0);
        }
        b.resize(0, 0.0);
        b.resize(2, 3.0);
        b[0] = 1.0;
        b.resize(4, -1.0);
        assert_eq!(b[..], [1.0, 3.0, -1.0, -1.0]);
        assert_eq!(AlignedBuf::filled(0.5, 9)[..], [0.5; 9]);
        let on_stack = [AlignedArray::<3>::default(), AlignedArray::<3>::default()];
        for a in &on_stack {
            assert_eq!(a.as_ptr().align_offset(ALIGN), 0);
        }
    }
}
