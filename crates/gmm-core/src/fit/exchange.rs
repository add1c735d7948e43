//! The exchange between ranks that share a fit's restarts: after each rank
//! starts or steps its own restarts, every rank receives the others' new
//! states (or the error that ends the fit), so that all go on in lockstep
//! with the same states.

use crate::collective::{self, Collective};
use crate::error::{GmmError, Result};
use crate::exchange;
use crate::state::RestartSnapshot;

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
    let mut bytes = Vec::new();
    for (restart, outcome) in mine {
        collective::put_u64(&mut bytes, *restart as u64);
        match outcome {
            Ok(s) => {
                collective::put_u64(&mut bytes, 0);
                exchange::put_snapshot(&mut bytes, s);
            }
            Err(e) => {
                collective::put_u64(&mut bytes, 1);
                exchange::put_error(&mut bytes, e);
            }
        }
    }
    collective::put_u64(&mut bytes, u64::MAX);
    let mut theirs = Vec::new();
    for (rank, b) in comm.all_gather_bytes(&bytes).iter().enumerate() {
        if rank == comm.rank() {
            continue;
        }
        let r = &mut collective::Reader::new(b);
        loop {
            let restart = r.u64();
            if restart == u64::MAX {
                break;
            }
            let outcome = match r.u64() {
                0 => Ok(exchange::get_snapshot(r)),
                _ => Err(exchange::get_error(r, rank)),
            };
            theirs.push((restart as usize, outcome));
        }
    }
    theirs
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
