//! Errors of the binary: usage and config errors exit with 2, everything
//! else (data, numerics, I/O) with 1.

use std::fmt;

/// A mistake in the command line or config file (exit status 2).
#[derive(Debug, Clone, PartialEq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// A run stopped by Ctrl-C or SIGTERM (exit status 130), said with what
/// to do next.
#[derive(Debug, Clone, PartialEq)]
pub struct Interrupted(pub String);

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Interrupted {}

/// The exit status for an error.
pub fn exit_code(err: &anyhow::Error) -> i32 {
    if let Some(r) = err.downcast_ref::<RankFailed>() {
        return r.code;
    }
    if err
        .chain()
        .any(|e| e.downcast_ref::<UsageError>().is_some())
    {
        return 2;
    }
    if err
        .chain()
        .any(|e| e.downcast_ref::<Interrupted>().is_some())
    {
        return 130;
    }
    if err.chain().any(|e| {
        e.downcast_ref::<gmm_io::IoError>()
            .is_some_and(|io| io.class() == gmm_io::ErrorClass::Interrupted)
    }) {
        return 130;
    }
    match err.downcast_ref::<gmm_core::GmmError>() {
        Some(gmm_core::GmmError::InvalidParam { .. }) => 2,
        // As shells report a process ended by Ctrl-C.
        Some(gmm_core::GmmError::Interrupted) => 130,
        _ => 1,
    }
}

/// Whether the error is a bare Ctrl-C or SIGTERM (from the engine, or from
/// a reader between batches), with nothing more to say than which command
/// stopped.
pub fn is_plain_interruption(err: &anyhow::Error) -> bool {
    err.chain()
        .all(|e| e.downcast_ref::<Interrupted>().is_none())
        && err.chain().any(|e| {
            matches!(
                e.downcast_ref::<gmm_core::GmmError>(),
                Some(gmm_core::GmmError::Interrupted)
            ) || e
                .downcast_ref::<gmm_io::IoError>()
                .is_some_and(|io| io.class() == gmm_io::ErrorClass::Interrupted)
        })
}

/// Whether the error is standard output closed by its reader (`| head`).
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Another process of a fit split among processes (`mpirun`) failed: its
/// message and exit status, which every process then ends with.
#[derive(Debug)]
pub struct RankFailed {
    pub rank: usize,
    pub code: i32,
    pub message: String,
}

impl std::fmt::Display for RankFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "rank {}: {}", self.rank, self.message)
    }
}

impl std::error::Error for RankFailed {}
