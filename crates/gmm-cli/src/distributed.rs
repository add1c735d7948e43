//! `gmm fit` split among processes started by `mpirun` (the `mpi` feature).
//!
//! Each process (rank) reads its share of the rows, whole chunks of
//! `chunk_rows` in table order, and the engine combines the ranks' passes
//! exactly (see `gmm_core::Collective`), so the model is the one a single
//! process fits, bit for bit. Rank 0 writes every output; the other ranks
//! send it their predictions. A failure on any rank ends every rank with
//! that rank's message and exit status, and nothing is written.
//!
//! Without the feature, or when not started by a launcher, there is one
//! process and none of this runs. The transport [`start`] returns is passed
//! explicitly to the commands that share their work; nothing reads it from
//! a global.

use anyhow::Result;
use gmm_core::Collective;

use crate::error::{RankFailed, exit_code};

/// What a fit across processes needs beyond the engine's collective:
/// messages from one rank to another (predictions sent to rank 0), and
/// ending every process at once.
pub trait Transport: Collective {
    fn send_bytes(&self, to: usize, bytes: &[u8]);
    fn recv_bytes(&self, from: usize) -> Vec<u8>;
    /// Ends every process of the job (used on a crash, when the others may
    /// be waiting for this one).
    fn abort(&self, code: i32) -> !;
}

/// The rank that prints and writes: rank 0, or the only process.
pub fn is_root(comm: Option<&dyn Transport>) -> bool {
    comm.is_none_or(|c| c.rank() == 0)
}

/// Whether a launcher (mpirun, srun) started this process as one of a job.
#[cfg(feature = "mpi")]
fn launched_by_mpi() -> bool {
    [
        "OMPI_COMM_WORLD_SIZE",
        "PMI_SIZE",
        "PMIX_RANK",
        "MPI_LOCALNRANKS",
    ]
    .iter()
    .any(|v| std::env::var_os(v).is_some())
}

/// The number of processes a launcher started as one job, when the
/// environment says (Open MPI, MPICH's Hydra and other PMI launchers, and
/// a Slurm job step); `None` outside a launcher.
#[cfg_attr(feature = "mpi", allow(dead_code))]
fn launched_processes() -> Option<(&'static str, usize)> {
    ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_STEP_NUM_TASKS"]
        .into_iter()
        .find_map(|v| Some((v, std::env::var(v).ok()?.trim().parse().ok()?)))
}

/// Joins the MPI job if there is one, and returns its processes; it lives
/// until the process exits. Call first thing in `main`, and [`finish`]
/// before exiting. A build without the `mpi` feature started as several
/// processes of a job says so and exits with status 2, instead of running
/// the same work once per process.
pub fn start() -> Option<&'static dyn Transport> {
    #[cfg(feature = "mpi")]
    if launched_by_mpi() {
        return mpi_transport::start();
    }
    #[cfg(not(feature = "mpi"))]
    if let Some((var, n)) = launched_processes().filter(|&(_, n)| n > 1) {
        eprintln!(
            "error: this gmm was built without MPI (the `mpi` feature), but a launcher started {n} copies of it ({var}={n}); build it with `cargo build --release --features gmm-cli/mpi`, or run it as one process"
        );
        std::process::exit(2);
    }
    None
}

/// Why this process is not one of several sharing the work (for messages
/// about flags that need them).
pub fn why_single() -> &'static str {
    if cfg!(feature = "mpi") {
        "it was not started by mpirun"
    } else {
        "this gmm was built without MPI (the `mpi` feature)"
    }
}

/// Leaves the MPI job (MPI_Finalize), if one was joined.
pub fn finish() {
    #[cfg(feature = "mpi")]
    mpi_transport::finish();
}

/// Agrees on the outcome of a step that may fail on some ranks only: every
/// rank gets `Ok` only if all succeeded, else the error of the lowest
/// failing rank (that rank keeps its own error; the others get a
/// [`RankFailed`] with its message and exit status).
pub fn agree<T>(comm: Option<&dyn Transport>, local: Result<T>) -> Result<T> {
    let Some(c) = comm else {
        return local;
    };
    let mine = match &local {
        Ok(_) => Vec::new(),
        Err(e) => {
            let chain: Vec<String> = e.chain().map(|x| x.to_string()).collect();
            format!("{}\n{}", exit_code(e), chain.join(": ")).into_bytes()
        }
    };
    let all = c.all_gather_bytes(&mine);
    match all.iter().position(|m| !m.is_empty()) {
        None => local,
        Some(r) if r == c.rank() => local,
        Some(r) => {
            let text = String::from_utf8_lossy(&all[r]);
            let (code, message) = text.split_once('\n').unwrap_or(("1", &text));
            Err(RankFailed {
                rank: r,
                code: code.parse().unwrap_or(1),
                message: message.to_string(),
            }
            .into())
        }
    }
}

#[cfg(feature = "mpi")]
mod mpi_transport {
    use std::cell::RefCell;

    use mpi::Threading;
    use mpi::datatype::PartitionMut;
    use mpi::environment::Universe;
    use mpi::topology::SimpleCommunicator;
    use mpi::traits::*;

    use super::Transport;

    thread_local! {
        /// Dropping the universe finalizes MPI; it lives on the main thread.
        static UNIVERSE: RefCell<Option<Universe>> = const { RefCell::new(None) };
    }

    /// MPI_COMM_WORLD. Only the main thread calls MPI (the rayon workers
    /// never do), as `Threading::Funneled` promises.
    struct World(SimpleCommunicator);

    impl std::fmt::Debug for World {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "MPI rank {} of {}", self.0.rank(), self.0.size())
        }
    }

    // SAFETY: the communicator is a handle that MPI lets any thread use
    // under Funneled threading as long as one thread at a time does; gmm
    // calls it from the main thread only.
    unsafe impl Send for World {}
    unsafe impl Sync for World {}

    pub fn start() -> Option<&'static dyn Transport> {
        let (universe, _) = mpi::initialize_with_threading(Threading::Funneled)?;
        let world = universe.world();
        UNIVERSE.with(|u| *u.borrow_mut() = Some(universe));
        // The job's processes, for as long as this process runs.
        Some(Box::leak(Box::new(World(world))))
    }

    pub fn finish() {
        UNIVERSE.with(|u| drop(u.borrow_mut().take()));
    }

    impl gmm_core::Collective for World {
        fn rank(&self) -> usize {
            self.0.rank() as usize
        }

        fn size(&self) -> usize {
            self.0.size() as usize
        }

        fn all_gather_bytes(&self, local: &[u8]) -> Vec<Vec<u8>> {
            let n = self.size();
            let mut lens = vec![0u64; n];
            self.0.all_gather_into(&(local.len() as u64), &mut lens[..]);
            let counts: Vec<i32> = lens
                .iter()
                .map(|&l| i32::try_from(l).expect("a message under 2 GiB"))
                .collect();
            let displs: Vec<i32> = counts
                .iter()
                .scan(0i32, |acc, &c| {
                    let d = *acc;
                    *acc += c;
                    Some(d)
                })
                .collect();
            let total: usize = lens.iter().map(|&l| l as usize).sum();
            if total == 0 {
                return vec![Vec::new(); n];
            }
            let mut buf = vec![0u8; total];
            {
                let mut part = PartitionMut::new(&mut buf[..], &counts[..], &displs[..]);
                self.0.all_gather_varcount_into(local, &mut part);
            }
            let mut out = Vec::with_capacity(n);
            let mut at = 0;
            for &l in &lens {
                out.push(buf[at..at + l as usize].to_vec());
                at += l as usize;
            }
            out
        }
    }

    impl Transport for World {
        fn send_bytes(&self, to: usize, bytes: &[u8]) {
            self.0.process_at_rank(to as i32).send(bytes);
        }

        fn recv_bytes(&self, from: usize) -> Vec<u8> {
            self.0.process_at_rank(from as i32).receive_vec::<u8>().0
        }

        fn abort(&self, code: i32) -> ! {
            self.0.abort(code)
        }
    }
}
