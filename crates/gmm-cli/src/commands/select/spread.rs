//! A selection under mpirun: the grid's cells shared among the processes,
//! their fits gathered on rank 0.

use anyhow::Result;
use gmm_core::CovarianceType;

use super::CellRun;
use crate::distributed;

/// Which process fits each cell of the grid: the costliest cells first,
/// each to the process with the least work so far (work estimated from K
/// and the covariance type's cost per row), the same on every process.
pub(super) fn assign_cells(grid: &[(CovarianceType, usize)], d: usize, size: usize) -> Vec<usize> {
    let cost = |&(c, k): &(CovarianceType, usize)| {
        let per_component = match c.storage() {
            CovarianceType::Full | CovarianceType::Tied => d * d,
            _ => d,
        };
        (k * (per_component + d)) as u64
    };
    let mut order: Vec<usize> = (0..grid.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(cost(&grid[i])), i));
    let mut load = vec![0u64; size.max(1)];
    let mut owner = vec![0; grid.len()];
    for i in order {
        let r = (0..load.len())
            .min_by_key(|&r| (load[r], r))
            .expect("at least one process");
        owner[i] = r;
        load[r] += cost(&grid[i]);
    }
    owner
}

/// Gives rank 0 the cells the other processes fitted (exact to the bit).
pub(super) fn exchange_cells(
    c: &dyn distributed::Transport,
    done: &mut [Option<CellRun>],
) -> Result<()> {
    let mut mine = gmm_core::wire::Writer::new();
    for (i, run) in done.iter().enumerate() {
        let Some(run) = run else { continue };
        mine.usize(i);
        mine.f64(run.seconds);
        match &run.outcome {
            Ok(fit) => {
                mine.bool(true);
                mine.fit(fit);
            }
            Err(message) => {
                mine.bool(false);
                mine.str(message);
            }
        }
    }
    let all = c.all_gather_bytes(mine.as_bytes());
    if c.rank() != 0 {
        return Ok(());
    }
    for bytes in all.iter().skip(1) {
        let mut r = gmm_core::wire::Reader::new(bytes);
        while !r.is_empty() {
            let i = r.usize()?;
            let seconds = r.f64()?;
            let outcome = match r.bool()? {
                true => Ok(r.fit()?),
                false => Err(r.str()?.to_string()),
            };
            done[i] = Some(CellRun { outcome, seconds });
        }
    }
    Ok(())
}
