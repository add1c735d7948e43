//! What every initialization reads, and the random streams they draw from.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::data::DataView;
use crate::estep::RowPolicy;
use crate::hash::splitmix64;
use crate::params::FitParams;
use crate::summary::DataSummary;

/// What every initialization reads.
pub(crate) struct InitContext<'a> {
    pub data: DataView<'a>,
    pub policy: RowPolicy,
    pub summary: &'a DataSummary,
    pub params: &'a FitParams,
    /// Raised on Ctrl-C: iterative initializations stop early (the fit
    /// then ends as interrupted). `None` when the rows are split among
    /// processes, whose passes must stay in step.
    pub interrupt: Option<&'a AtomicBool>,
    /// When `max_seconds` runs out: iterative initializations stop there
    /// with what they have (EM then stops after its first iteration).
    /// `None` when the rows are split among processes, as `interrupt`.
    pub deadline: Option<Instant>,
    /// Where iterative initializations count their iterations, for the
    /// front end's progress display.
    pub progress: Option<&'a crate::observer::InitProgress>,
}

impl InitContext<'_> {
    /// Whether the fit is being interrupted, or its time is up.
    pub fn interrupted(&self) -> bool {
        self.interrupt.is_some_and(|f| f.load(Ordering::Relaxed))
            || self.deadline.is_some_and(|d| Instant::now() >= d)
    }
}

/// A random stream for one purpose of one restart.
pub(crate) fn rng_for(seed: u64, parts: &[u64]) -> Xoshiro256PlusPlus {
    let mut h = splitmix64(seed ^ 0x005e_ed0f_6a75_5353);
    for &p in parts {
        h = splitmix64(h ^ splitmix64(p.wrapping_add(0x9e37_79b9_7f4a_7c15)));
    }
    Xoshiro256PlusPlus::seed_from_u64(h)
}

// Purposes of the random streams.
pub(super) const STREAM_SAMPLE: u64 = 1;
pub(super) const STREAM_SEEDING: u64 = 2;
pub(super) const STREAM_RESP: u64 = 3;
pub(super) const STREAM_PARAMS: u64 = 4;
pub(super) const STREAM_ROWS: u64 = 5;
pub(super) const STREAM_HC: u64 = 6;

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn streams_differ_by_restart_and_repeat_by_seed() {
        let a: u64 = rng_for(7, &[0, 1]).random();
        let b: u64 = rng_for(7, &[1, 1]).random();
        let c: u64 = rng_for(7, &[0, 1]).random();
        assert_ne!(a, b);
        assert_eq!(a, c);
    }
}
