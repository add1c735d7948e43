//! Rows that a pass reads next, brought into the caches while the kernels
//! work on the block before them.
//!
//! A block of 64 rows of 16 `f64` features is 128 cache lines. Asked for
//! all at once when a block is loaded, as the E-step did, the prefetches
//! wait for the core's few line-fill buffers (16 on recent Intel cores) and
//! stall it for about as long as the lines take to come in: on an Intel
//! Xeon with AVX-512, 12 % of a 1M x 16, K = 8, diag fit's samples sat on
//! them, as many as on `normalize`. Spread over the kernels instead, a
//! share per component in [`crate::kernel::log_prob`] and another in
//! [`crate::kernel::accumulate`], the lines come in behind the arithmetic:
//! on that Xeon, 1 thread, an iteration at 1M x 16, K = 8 took 17 % less
//! with diagonal covariances, 18 % less spherical and 6 % less full (1M x
//! 2 and 200k x 64 within 2 %, either way).

use std::cell::Cell;

use crate::values::Values;

/// Rows still to come, as cache lines, with how many of them have been
/// asked for. Only an address is kept: a prefetch reads nothing and cannot
/// fault, so the rows need not outlive it.
#[derive(Debug, Default, Clone)]
pub(crate) struct Ahead {
    /// Address of the first line (64-byte aligned).
    first: usize,
    /// Lines in all.
    lines: usize,
    /// Lines asked for so far.
    asked: Cell<usize>,
}

/// Bytes in a cache line.
const LINE: usize = 64;

impl Ahead {
    /// The lines that hold `x` (none for no rows), none asked for yet.
    pub fn new(x: Values<'_>) -> Ahead {
        let (start, bytes) = match x {
            Values::F64(v) => (v.as_ptr().expose_provenance(), size_of_val(v)),
            Values::F32(v) => (v.as_ptr().expose_provenance(), size_of_val(v)),
        };
        let first = start / LINE * LINE;
        let lines = if bytes == 0 {
            0
        } else {
            (start + bytes).div_ceil(LINE) - start / LINE
        };
        Ahead {
            first,
            lines,
            asked: Cell::new(0),
        }
    }

    /// Lines for each of `parts` steps of a kernel, when two kernels with
    /// `parts` steps each share the lines between them.
    #[inline(always)]
    pub fn share(&self, parts: usize) -> usize {
        self.lines.div_ceil(2 * parts.max(1))
    }

    /// Asks for the next `n` lines, or as many as are left.
    #[inline(always)]
    pub fn next(&self, n: usize) {
        let from = self.asked.get();
        let to = from + n.min(self.lines - from);
        for l in from..to {
            prefetch(self.first + l * LINE);
        }
        self.asked.set(to);
    }

    /// Asks for every line not asked for yet: for a pass whose kernels
    /// took less than their share.
    pub fn rest(&self) {
        self.next(self.lines);
    }

    /// Lines not asked for yet.
    #[cfg(test)]
    pub fn left(&self) -> usize {
        self.lines - self.asked.get()
    }
}

/// Asks the processor to bring the line at `addr` into its caches (a hint;
/// on processors without one, nothing).
#[inline(always)]
fn prefetch(addr: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: a prefetch reads nothing and cannot fault, whatever the
        // address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(std::ptr::with_exposed_provenance::<i8>(addr)) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = addr;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_cover_the_rows_wherever_they_start() {
        let v = vec![0.0f64; 64];
        // 64 values from a line boundary: 8 lines; from one value in: 9
        // (the first line shared with the value before).
        let at = v.as_ptr().addr() % LINE / 8;
        let aligned = (8 - at) % 8;
        assert_eq!(Ahead::new(Values::F64(&v[aligned..aligned + 16])).lines, 2);
        assert_eq!(
            Ahead::new(Values::F64(&v[aligned + 1..aligned + 17])).lines,
            3
        );
        assert_eq!(
            Ahead::new(Values::F64(&v[aligned + 1..aligned + 2])).lines,
            1
        );
        assert_eq!(Ahead::new(Values::F64(&v[..0])).lines, 0);
        let w = vec![0.0f32; 64];
        let at = w.as_ptr().addr() % LINE / 4;
        let aligned = (16 - at) % 16;
        assert_eq!(Ahead::new(Values::F32(&w[aligned..aligned + 32])).lines, 2);
        assert_eq!(
            Ahead::new(Values::F32(&w[aligned + 15..aligned + 17])).lines,
            2
        );
    }

    #[test]
    fn shares_ask_for_every_line_once() {
        let v = vec![0.0f64; 1024 + 8];
        let a = Ahead::new(Values::F64(&v[..1024]));
        let lines = a.lines;
        assert!((128..=129).contains(&lines));
        // Two kernels of 3 steps: 22 (or 21) lines a step, the last short.
        let share = a.share(3);
        assert_eq!(share, lines.div_ceil(6));
        for _ in 0..3 {
            a.next(share);
        }
        assert_eq!(a.left(), lines - 3 * share);
        for _ in 0..3 {
            a.next(share);
        }
        assert_eq!(a.left(), 0);
        a.next(share);
        a.rest();
        assert_eq!(a.left(), 0);
        let b = Ahead::new(Values::F64(&v[..1024]));
        b.next(1);
        b.rest();
        assert_eq!(b.left(), 0);
        assert_eq!(Ahead::default().share(8), 0);
        Ahead::default().rest();
    }
}
