//! Parallel iteration over a table in fixed chunks of rows. Chunks are fixed
//! by `chunk_rows` and the row index, never by the thread count; sums that
//! cross chunks are taken in chunk order ([`OrderedSums`]) or exactly
//! ([`crate::stats::ExactStats`]), so every result is bit for bit the same
//! for any number of threads.

use std::sync::{Mutex, PoisonError};

use rayon::prelude::*;

use crate::collective::{self, Collective};
use crate::error::Result;
use crate::wire::{Reader, Writer};

/// Rows per chunk when nothing else is said: large enough that per-chunk
/// bookkeeping is negligible, small enough that a chunk and its
/// responsibilities stay in the L2 cache.
pub const DEFAULT_CHUNK_ROWS: usize = 1024;

/// Pieces of work a pass is cut into per thread (see [`chunked`]).
const PIECES_PER_THREAD: usize = 16;

/// Chunk-indexed partial sums, added up in chunk order at the end.
#[derive(Debug, Default)]
pub(crate) struct OrderedSums {
    width: usize,
    ids: Vec<usize>,
    values: Vec<f64>,
}

impl OrderedSums {
    pub fn new(width: usize) -> Self {
        OrderedSums {
            width,
            ids: Vec::new(),
            values: Vec::new(),
        }
    }

    pub fn push(&mut self, chunk: usize, values: &[f64]) {
        debug_assert_eq!(values.len(), self.width);
        self.ids.push(chunk);
        self.values.extend_from_slice(values);
    }

    pub fn merge(mut self, other: OrderedSums) -> Self {
        self.ids.extend(other.ids);
        self.values.extend(other.values);
        self
    }

    fn encode(&self, w: &mut Writer) {
        w.usize(self.ids.len());
        for &id in &self.ids {
            w.usize(id);
        }
        w.f64s(&self.values);
    }

    fn decode(width: usize, r: &mut Reader<'_>) -> Result<Self> {
        let n = r.usize()?;
        let ids = (0..n).map(|_| r.usize()).collect::<Result<_>>()?;
        Ok(OrderedSums {
            width,
            ids,
            values: r.f64s()?,
        })
    }

    /// Every rank's sums (their chunk ids are global), on every rank.
    pub fn gathered(self, comm: &dyn Collective) -> Self {
        let width = self.width;
        collective::gather(comm, &self, Self::encode, |r| Self::decode(width, r))
            .into_iter()
            .fold(OrderedSums::new(width), OrderedSums::merge)
    }

    /// Column sums, adding the chunks in increasing chunk order.
    pub fn finish(self) -> Vec<f64> {
        let mut order: Vec<usize> = (0..self.ids.len()).collect();
        order.sort_unstable_by_key(|&i| self.ids[i]);
        let mut out = vec![0.0; self.width];
        for i in order {
            for (o, v) in out
                .iter_mut()
                .zip(&self.values[i * self.width..(i + 1) * self.width])
            {
                *o += v;
            }
        }
        out
    }
}

/// Runs `body(acc, chunk, start, end)` over all chunks in parallel and merges
/// the accumulators. The merge must not depend on the grouping of chunks.
///
/// The chunks are dealt out in pieces of a few chunks, about
/// [`PIECES_PER_THREAD`] per thread, so that a thread that falls behind
/// holds up the end of the pass by one small piece. Accumulators are not tied
/// to pieces: a piece borrows one from a pool and returns it, so a pass makes
/// about one per thread, however many pieces it has (at d = 64, K = 16 one is
/// megabytes, which would otherwise be allocated, faulted in and zeroed once
/// per piece).
pub(crate) fn chunked<A, I, B, M>(
    n_rows: usize,
    chunk_rows: usize,
    identity: I,
    body: B,
    merge: M,
) -> A
where
    A: Send,
    I: Fn() -> A + Sync + Send,
    B: Fn(&mut A, usize, usize, usize) + Sync + Send,
    M: Fn(A, A) -> A + Sync + Send,
{
    let n_chunks = n_rows.div_ceil(chunk_rows);
    let pieces = (PIECES_PER_THREAD * rayon::current_num_threads()).clamp(1, n_chunks.max(1));
    let per_piece = n_chunks.div_ceil(pieces).max(1);
    let pool = Mutex::new(Vec::new());
    (0..n_chunks.div_ceil(per_piece))
        .into_par_iter()
        .for_each(|p| {
            let taken = pool.lock().unwrap_or_else(PoisonError::into_inner).pop();
            let mut acc = taken.unwrap_or_else(&identity);
            for c in p * per_piece..((p + 1) * per_piece).min(n_chunks) {
                let start = c * chunk_rows;
                let end = (start + chunk_rows).min(n_rows);
                body(&mut acc, c, start, end);
            }
            pool.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(acc);
        });
    // The lock is held only to pop or push, never while a body runs, so a
    // panicking body cannot poison it; a poisoned pool is still whole.
    pool.into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        .into_par_iter()
        .reduce_with(merge)
        .unwrap_or_else(identity)
}
