//! Ctrl-C and SIGTERM: a flag that fits and writers check, so that an
//! interrupted command stops cleanly and publishes nothing.

use anyhow::Result;

/// Stops a command that writes a file, once Ctrl-C or SIGTERM has come:
/// its pending output is dropped (the temporary file removed) and gmm exits
/// with 130. Call it once before the work, to install the handler, and
/// between batches.
pub fn check_interrupted() -> Result<()> {
    if interrupt_flag().load(std::sync::atomic::Ordering::Relaxed) {
        return Err(gmm_core::GmmError::Interrupted.into());
    }
    Ok(())
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
