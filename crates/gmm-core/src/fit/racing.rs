//! Racing: successive halving of the restarts, so that restarts clearly
//! behind the leader stop early.

use crate::observer::FitObserver;
use crate::params::Racing;
use crate::report::Ending;
use crate::state::RestartSnapshot;

/// Successive halving at iterations `first_round * 2^j`: of the restarts
/// still running, all but the best `keep` fraction stop, unless within
/// `margin` of the leader (the best objective of any restart not dropped).
pub(super) fn race(
    states: &mut [RestartSnapshot],
    iteration: usize,
    racing: &Racing,
    observer: &mut dyn FitObserver,
) {
    let round = iteration / racing.first_round;
    if !iteration.is_multiple_of(racing.first_round) || !round.is_power_of_two() {
        return;
    }
    let mut running: Vec<usize> = (0..states.len()).filter(|&i| !states[i].done).collect();
    if running.len() < 2 {
        return;
    }
    let leader = states
        .iter()
        .filter(|s| s.report.ending != Ending::Dropped)
        .map(|s| s.report.lower_bound)
        .fold(f64::NEG_INFINITY, f64::max);
    running.sort_by(|&a, &b| {
        states[b]
            .report
            .lower_bound
            .total_cmp(&states[a].report.lower_bound)
            .then(a.cmp(&b))
    });
    let keep = ((running.len() as f64 * racing.keep).ceil() as usize).max(1);
    for &i in &running[keep..] {
        let s = &mut states[i];
        if s.report.lower_bound < leader - racing.margin {
            s.done = true;
            s.report.ending = Ending::Raced;
            observer.restart_finished(&s.report);
        }
    }
}
