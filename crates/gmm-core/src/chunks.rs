//! Parallel iteration over a table in fixed chunks of rows. Chunks are fixed
//! by `chunk_rows` and the row index, never by the thread count; sums that
//! cross chunks are taken in chunk order ([`OrderedSums`]) or exactly
//! ([`crate::stats::ExactStats`]), so every result is bit for bit the same
//! for any number of threads.

use rayon::prelude::*;

use crate::collective::{self, Collective};
use crate::error::Result;
use crate::wire::{Reader, Writer};

/// Rows per chunk when nothing else is said: large enough that per-chunk
/// bookkeeping is negligible, small enough that a chunk and its
/// responsibilities stay in the L2 cache.
pub const DEFAULT_CHUNK_ROWS: usize = 1024;

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
    // A handful of splits per thread keeps the number of accumulators small.
    let min_len = (n_chunks / (4 * rayon::current_num_threads()).max(1)).max(1);
    (0..n_chunks)
        .into_par_iter()
        .with_min_len(min_len)
        .fold(&identity, |mut acc, c| {
            let start = c * chunk_rows;
            let end = (start + chunk_rows).min(n_rows);
            body(&mut acc, c, start, end);
            acc
        })
        .reduce(&identity, merge)
}
