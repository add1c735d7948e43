pub mod fit;
pub mod inspect;
pub mod predict;
pub mod sample;
pub mod score;

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

/// A flag raised by Ctrl-C or SIGTERM; the fit checks it and stops cleanly,
/// leaving no partial output.
pub fn interrupt_flag() -> std::sync::Arc<std::sync::atomic::AtomicBool> {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, OnceLock};
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let f = flag.clone();
        let _ = ctrlc::set_handler(move || f.store(true, Ordering::SeqCst));
        flag
    })
    .clone()
}
