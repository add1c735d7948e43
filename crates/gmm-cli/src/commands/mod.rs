pub mod fit;
pub mod inspect;
pub mod predict;
pub mod sample;
pub mod score;
pub mod select;

use anyhow::Result;

/// Sets the worker thread count for the whole process (all cores by default).
pub fn init_threads(threads: Option<usize>) -> Result<usize> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(t) = threads {
        b = b.num_threads(t);
    }
    // A second call (in tests) keeps the first pool.
    let _ = b.build_global();
    Ok(rayon::current_num_threads())
}
