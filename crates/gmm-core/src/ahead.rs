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
//! [`crate::kernel::accumulate`] (all of them in `log_prob` for a pass with
//! no `accumulate`, [`Ahead::alone`]; [`Ahead::rest`] asks for what the
//! kernels of a pass did not), the lines come in behind the arithmetic:
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
    /// Whether `log_prob` is the only kernel to ask (no `accumulate`
    /// follows), so takes every line rather than half.
    alone: bool,
}

/// Bytes in a cache line.
const LINE: usize = 64;

impl Ahead {
    /// The lines that hold `x` (none for no rows), none asked for yet.
    pub fn new(x: Values<'_>) -> Ahead {
        let start = match x {
            Values::F64(v) => v.as_ptr().addr(),
            Values::F32(v) => v.as_ptr().addr(),
        };
        let bytes = x.len() * x.precision().bytes();
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
            alone: false,
        }
    }

    /// Has `log_prob` ask for every line, a share per component: for a
    /// pass that runs no `accumulate` on the block.
    pub fn alone(&mut self) {
        self.alone = true;
    }

    /// Lines for each of `parts` steps of a kernel: half the lines over the
    /// steps, since two kernels share them (all of them when alone).
    #[inline(always)]
    pub fn share(&self, parts: usize) -> usize {
        let kernels = if self.alone { 1 } else { 2 };
        self.lines.div_ceil(kernels * parts.max(1))
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

#[cfg(test)]
thread_local! {
    /// The addresses this thread's tests prefetched, in order.
    static ASKED: std::cell::RefCell<Vec<usize>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The addresses prefetched on this thread since the last call.
#[cfg(test)]
pub(crate) fn take_asked() -> Vec<usize> {
    ASKED.with(|a| std::mem::take(&mut *a.borrow_mut()))
}

/// Asks the processor to bring the line at `addr` into its caches (a hint;
/// on processors without one, nothing).
#[inline(always)]
fn prefetch(addr: usize) {
    #[cfg(test)]
    ASKED.with(|a| a.borrow_mut().push(addr));
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: a prefetch reads nothing and cannot fault, whatever the
        // address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(std::ptr::without_provenance::<i8>(addr)) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = addr;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines of `bytes` bytes from `start`, each once.
    fn spanned(start: usize, bytes: usize) -> Vec<usize> {
        (start / LINE * LINE..start + bytes).step_by(LINE).collect()
    }

    #[test]
    fn lines_cover_the_rows_wherever_they_start() {
        let v = vec![0.0f64; 64];
        let w = vec![0.0f32; 64];
        take_asked();
        // Every start within a line, lengths up to three lines: the lines
        // asked for are exactly those the values touch, each once.
        for from in 0..16 {
            for len in 0..40 {
                let x = &v[from..from + len];
                let a = Ahead::new(Values::F64(x));
                assert_eq!(a.first % LINE, 0);
                a.rest();
                let want = if len == 0 {
                    vec![]
                } else {
                    spanned(x.as_ptr().addr(), 8 * len)
                };
                assert_eq!(take_asked(), want, "f64 from {from}, {len} values");
                let x = &w[from..from + len];
                Ahead::new(Values::F32(x)).rest();
                let want = if len == 0 {
                    vec![]
                } else {
                    spanned(x.as_ptr().addr(), 4 * len)
                };
                assert_eq!(take_asked(), want, "f32 from {from}, {len} values");
            }
        }
    }

    #[test]
    fn shares_ask_for_every_line_once_in_order() {
        let v = vec![0.0f64; 1024 + 8];
        // From one value past a line boundary.
        let s = (8 - v.as_ptr().addr() % LINE / 8) % 8 + 1;
        let x = &v[s..s + 1024];
        let want = spanned(x.as_ptr().addr(), 8 * 1024);
        let lines = want.len();
        assert_eq!(lines, 129, "an unaligned 8 KiB spans 129 lines");
        take_asked();
        // Two kernels of 3 steps: 22 lines a step, the last step short.
        let a = Ahead::new(Values::F64(x));
        for _ in 0..6 {
            a.next(a.share(3));
        }
        assert_eq!(a.left(), 0);
        a.next(a.share(3));
        a.rest();
        assert_eq!(take_asked(), want);
        // Half after one kernel of 3 steps; alone, all of them.
        let mut b = Ahead::new(Values::F64(x));
        for _ in 0..3 {
            b.next(b.share(3));
        }
        assert_eq!(b.left(), lines - 66);
        b.rest();
        b.alone();
        assert_eq!(b.share(3), 43);
        assert_eq!(take_asked(), want);
        Ahead::default().rest();
        assert_eq!(Ahead::default().share(8), 0);
        assert!(take_asked().is_empty());
    }
}
