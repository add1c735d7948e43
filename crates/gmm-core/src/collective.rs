//! Fits over data split among several processes (MPI ranks).
//!
//! Every rank holds a contiguous share of the rows that starts on a chunk
//! boundary, so chunk `c` of the whole table is the same rows whatever the
//! number of ranks. After each pass, the ranks exchange their partial
//! results through a [`Collective`] and combine them exactly as one process
//! combines its chunks: integer fixed-point sums (order-independent) and
//! per-chunk `f64` sums added in chunk order. One rank, three ranks and any
//! number of threads therefore give the same model, bit for bit.
//!
//! The engine only needs one operation, an all-gather of bytes; the `gmm`
//! binary implements it over MPI, and [`LocalGroup`] implements it with
//! threads for tests.

use std::sync::{Arc, Barrier, Mutex};

use crate::error::{GmmError, Result};
use crate::wire::{Reader, Writer};

/// The communication the engine needs between the processes of one fit.
pub trait Collective: Send + Sync + std::fmt::Debug {
    /// This process's index, `0..size()`.
    fn rank(&self) -> usize;

    /// Number of processes.
    fn size(&self) -> usize;

    /// Every rank's `local` bytes, in rank order, on every rank. All ranks
    /// must call it the same number of times, in the same order.
    fn all_gather_bytes(&self, local: &[u8]) -> Vec<Vec<u8>>;
}

/// Where a rank's rows sit in the whole table.
#[derive(Debug, Clone, Copy)]
pub struct Partition<'a> {
    pub comm: &'a dyn Collective,
    /// Index of this rank's first row in the whole table; a multiple of the
    /// fit's `chunk_rows`.
    pub row_offset: usize,
    /// Rows of the whole table.
    pub global_rows: usize,
}

/// The rows `0..n_rows` of a table split among `size` ranks in whole chunks
/// of `chunk_rows`: rank `r`'s half-open row range. Earlier ranks take the
/// extra chunks, so rank 0 always holds row 0.
pub fn share(n_rows: usize, chunk_rows: usize, rank: usize, size: usize) -> (usize, usize) {
    let chunk_rows = chunk_rows.max(1);
    let n_chunks = n_rows.div_ceil(chunk_rows);
    let (base, extra) = (n_chunks / size, n_chunks % size);
    let first = rank * base + rank.min(extra);
    let count = base + usize::from(rank < extra);
    let start = (first * chunk_rows).min(n_rows);
    let end = ((first + count) * chunk_rows).min(n_rows);
    (start, end)
}

/// Gathers one value per rank (encoded by `enc`, decoded by `dec`). The
/// ranks run the same engine, so a message that does not decode is a bug,
/// not bad input: it panics.
pub(crate) fn gather<T>(
    comm: &dyn Collective,
    local: &T,
    enc: impl Fn(&T, &mut Writer),
    dec: impl Fn(&mut Reader<'_>) -> Result<T>,
) -> Vec<T> {
    let mut w = Writer::new();
    enc(local, &mut w);
    comm.all_gather_bytes(w.as_bytes())
        .iter()
        .enumerate()
        .map(|(rank, b)| {
            let mut r = Reader::new(b);
            dec(&mut r)
                .and_then(|v| r.finish().map(|()| v))
                .unwrap_or_else(|e| panic!("the message of rank {rank} does not decode: {e}"))
        })
        .collect()
}

/// Agrees on the outcome of a step that may fail on some ranks only: every
/// rank gets the error of the lowest failing rank, or `Ok` if none failed.
pub fn agree<T>(comm: &dyn Collective, local: Result<T>) -> Result<T> {
    let message = match &local {
        Ok(_) => String::new(),
        Err(e) => e.to_string(),
    };
    let all = comm.all_gather_bytes(message.as_bytes());
    match all.iter().position(|m| !m.is_empty()) {
        None => local,
        Some(r) if r == comm.rank() => local,
        Some(r) => match local {
            // Interruptions stay interruptions wherever they came from.
            Err(GmmError::Interrupted) => Err(GmmError::Interrupted),
            _ if all[r] == GmmError::Interrupted.to_string().as_bytes() => {
                Err(GmmError::Interrupted)
            }
            _ => Err(GmmError::OnRank {
                rank: r,
                message: String::from_utf8_lossy(&all[r]).into_owned(),
            }),
        },
    }
}

/// Whether any rank says yes.
pub(crate) fn any(comm: &dyn Collective, local: bool) -> bool {
    comm.all_gather_bytes(&[u8::from(local)])
        .iter()
        .any(|b| b.first() == Some(&1))
}

/// `size` ranks that are threads of one process: for testing distributed
/// fits without MPI. Make the group with [`LocalGroup::ranks`], then run one
/// thread per member.
#[derive(Debug)]
pub struct LocalGroup {
    size: usize,
    slots: Mutex<Vec<Vec<u8>>>,
    barrier: Barrier,
}

/// One rank of a [`LocalGroup`].
#[derive(Debug, Clone)]
pub struct LocalRank {
    rank: usize,
    group: Arc<LocalGroup>,
}

impl LocalGroup {
    /// The members of a group of `size` ranks, in rank order.
    pub fn ranks(size: usize) -> Vec<LocalRank> {
        let group = Arc::new(LocalGroup {
            size,
            slots: Mutex::new(vec![Vec::new(); size]),
            barrier: Barrier::new(size),
        });
        (0..size)
            .map(|rank| LocalRank {
                rank,
                group: group.clone(),
            })
            .collect()
    }
}

impl Collective for LocalRank {
    fn rank(&self) -> usize {
        self.rank
    }

    fn size(&self) -> usize {
        self.group.size
    }

    fn all_gather_bytes(&self, local: &[u8]) -> Vec<Vec<u8>> {
        let g = &self.group;
        g.slots.lock().expect("no panics while held")[self.rank] = local.to_vec();
        g.barrier.wait();
        let all = g.slots.lock().expect("no panics while held").clone();
        // Nobody writes the next round before everyone has read this one.
        g.barrier.wait();
        all
    }
}

/// A single process: the trivial collective.
#[derive(Debug, Clone, Copy, Default)]
pub struct SingleProcess;

impl Collective for SingleProcess {
    fn rank(&self) -> usize {
        0
    }

    fn size(&self) -> usize {
        1
    }

    fn all_gather_bytes(&self, local: &[u8]) -> Vec<Vec<u8>> {
        vec![local.to_vec()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_cover_the_rows_in_whole_chunks() {
        for n in [0, 1, 5, 100, 1001] {
            for size in 1..5 {
                let mut next = 0;
                for r in 0..size {
                    let (a, b) = share(n, 10, r, size);
                    assert_eq!(a, next);
                    assert!(a % 10 == 0 || a == n);
                    next = b;
                }
                assert_eq!(next, n);
                if n > 0 {
                    assert!(share(n, 10, 0, size).1 > 0, "rank 0 holds row 0");
                }
            }
        }
    }

    #[test]
    fn local_group_gathers_in_rank_order_and_agrees_on_errors() {
        let ranks = LocalGroup::ranks(3);
        let out: Vec<_> = std::thread::scope(|s| {
            let hs: Vec<_> = ranks
                .iter()
                .map(|r| {
                    s.spawn(move || {
                        let g = r.all_gather_bytes(&[r.rank() as u8; 2]);
                        let local = if r.rank() == 1 {
                            Err(GmmError::EmptyData)
                        } else {
                            Ok(())
                        };
                        (g, agree(r, local))
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (g, a) in out {
            assert_eq!(g, vec![vec![0, 0], vec![1, 1], vec![2, 2]]);
            assert!(matches!(
                a,
                Err(GmmError::OnRank { rank: 1, .. }) | Err(GmmError::EmptyData)
            ));
        }
    }
}
