pub mod fit;
pub mod inspect;
pub mod predict;
pub mod sample;
pub mod score;
pub mod select;

use anyhow::Result;

/// The most worker threads a command starts.
pub const MAX_THREADS: usize = 4096;

/// Sets the worker thread count for the whole process (all cores by default).
pub fn init_threads(threads: Option<usize>) -> Result<usize> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(t) = threads {
        if t > MAX_THREADS {
            return Err(crate::error::UsageError(format!(
                "--threads / [fit] threads: {t} is more than the {MAX_THREADS} threads gmm starts; give at most the machine's cores ({})",
                std::thread::available_parallelism().map_or(1, |n| n.get())
            ))
            .into());
        }
        b = b.num_threads(t);
    }
    b.build_global()
        .map_err(|e| anyhow::anyhow!("cannot start the worker threads: {e}"))?;
    Ok(rayon::current_num_threads())
}
