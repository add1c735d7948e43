//! Times loading a table into row-major `f64`, as `gmm fit` loads it, and
//! reports throughput and peak memory; `scripts/bench_load.py` runs it
//! beside pyarrow.
//!
//! ```text
//! cargo run --release -p gmm-io --example load_bench -- data.parquet [--columns 'x*'] [--threads N]
//! ```
//!
//! Prints one JSON object: rows, columns, seconds, MB/s of `f64` data
//! produced (10^6 bytes), the resident-set peak (VmHWM) and its ratio to the
//! size of the data.

use std::time::Instant;

use gmm_io::{ColumnSpec, TableSource};

// The allocator of the `gmm` binary, so that peak memory is what it sees.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A field of /proc/self/status in bytes (Linux; 0 elsewhere).
fn proc_status_bytes(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut path = None;
    let mut columns = vec!["x*".to_string()];
    let mut threads = 0;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--columns" => {
                columns = args
                    .next()
                    .ok_or("--columns needs a value")?
                    .split(',')
                    .map(str::to_string)
                    .collect()
            }
            "--threads" => threads = args.next().ok_or("--threads needs a value")?.parse()?,
            "-h" | "--help" => {
                println!("load_bench PATH [--columns 'x*'] [--threads N]");
                return Ok(());
            }
            _ if path.is_none() => path = Some(a),
            other => return Err(format!("unexpected argument `{other}`").into()),
        }
    }
    let path = path.ok_or("give the table's path")?;
    if threads > 0 {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()?;
    }
    let rss_before = proc_status_bytes("VmRSS:");
    let started = Instant::now();
    let source = TableSource::open(&path, None)?;
    let proj = source.project(&ColumnSpec {
        features: columns,
        ..Default::default()
    })?;
    let table = source.read_all(&proj)?;
    let seconds = started.elapsed().as_secs_f64();
    let peak = proc_status_bytes("VmHWM:");
    let bytes = (table.x.len() * std::mem::size_of::<f64>()) as f64;
    // Keep the table alive until the peak is read.
    let checksum: f64 = table.x.values().iter().step_by(4099).sum();
    println!(
        "{{\"tool\": \"gmm-io\", \"rows\": {}, \"columns\": {}, \"seconds\": {seconds:.6}, \"mb_per_s\": {:.1}, \"data_bytes\": {}, \"peak_rss_bytes\": {peak}, \"rss_before_bytes\": {rss_before}, \"peak_rss_ratio\": {:.4}, \"threads\": {}, \"checksum\": {checksum}}}",
        table.n_rows,
        table.columns.len(),
        bytes / 1e6 / seconds,
        bytes as u64,
        peak as f64 / bytes,
        rayon::current_num_threads(),
    );
    Ok(())
}
