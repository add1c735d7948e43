//! The exchange between ranks that share a fit's restarts: after each rank
//! starts or steps its own restarts, every rank receives the others' new
//! states (or the error that ends the fit), so that all go on in lockstep
//! with the same states.

use crate::collective::Collective;
use crate::error::{GmmError, Result};
use crate::state::RestartSnapshot;
use crate::wire::{Reader, Writer};

/// What became of one restart on one rank: its new state, or the error that
/// ends the fit.
type Outcome<'a> = (
    usize,
    std::result::Result<&'a RestartSnapshot, &'a GmmError>,
);

/// Sends this rank's outcomes to every other rank: the others' outcomes, in
/// rank order.
fn exchange_outcomes(
    comm: &dyn Collective,
    mine: &[Outcome<'_>],
) -> Vec<(usize, Result<RestartSnapshot>)> {
    let mut w = Writer::new();
    w.usize(mine.len());
    for (restart, outcome) in mine {
        w.usize(*restart);
        match outcome {
            Ok(s) => {
                w.bool(true);
                w.restart_snapshot(s);
            }
            Err(e) => {
                w.bool(false);
                w.error(e);
            }
        }
    }
    let mut theirs = Vec::new();
    for (rank, b) in comm.all_gather_bytes(w.as_bytes()).iter().enumerate() {
        if rank == comm.rank() {
            continue;
        }
        let decoded = decode_outcomes(b, rank)
            .unwrap_or_else(|e| panic!("the outcomes of rank {rank} do not decode: {e}"));
        theirs.extend(decoded);
    }
    theirs
}

/// What [`exchange_outcomes`] sent from `rank`.
fn decode_outcomes(bytes: &[u8], rank: usize) -> Result<Vec<(usize, Result<RestartSnapshot>)>> {
    let r = &mut Reader::new(bytes);
    let n = r.usize()?;
    let mut out = Vec::with_capacity(n.min(r.remaining()));
    for _ in 0..n {
        let restart = r.usize()?;
        let outcome = match r.bool()? {
            true => Ok(r.restart_snapshot()?),
            false => Err(r.error(rank)?),
        };
        out.push((restart, outcome));
    }
    r.finish()?;
    Ok(out)
}

/// Gives every rank the starts the others computed (`None` where this
/// rank computed nothing): after it, `starts` holds every restart's start
/// up to the first failure in restart order.
pub(super) fn exchange_starts(
    comm: &dyn Collective,
    starts: &mut [Option<Result<RestartSnapshot>>],
) {
    let mine: Vec<Outcome<'_>> = starts
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.as_ref().map(|s| (i, s.as_ref())))
        .collect();
    for (i, outcome) in exchange_outcomes(comm, &mine) {
        starts[i] = Some(outcome);
    }
}

/// After an iteration split among ranks: every rank gets the new states of
/// the restarts the others stepped (`mine` here), and the failure, if any,
/// of the lowest-numbered restart.
pub(super) fn exchange_states(
    comm: &dyn Collective,
    states: &mut [RestartSnapshot],
    mine: &[usize],
    failed: Option<(usize, GmmError)>,
) -> Option<(usize, GmmError)> {
    let stepped = mine
        .iter()
        .take_while(|&&i| failed.as_ref().is_none_or(|(f, _)| i < *f))
        .map(|&i| (i, Ok(&states[i])));
    let outcomes: Vec<Outcome<'_>> = stepped
        .chain(failed.as_ref().map(|(f, e)| (*f, Err(e))))
        .collect();
    let theirs = exchange_outcomes(comm, &outcomes);
    let mut first = failed;
    for (i, outcome) in theirs {
        match outcome {
            Ok(state) => states[i] = state,
            Err(e) if first.as_ref().is_none_or(|(f, _)| i < *f) => first = Some((i, e)),
            Err(_) => {}
        }
    }
    first
}
