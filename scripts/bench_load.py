#!/usr/bin/env python3
"""Load throughput: gmm-io against pyarrow, side by side, on one Parquet file.

    bash scripts/setup_python.sh --bench
    .venv/bin/python scripts/bench_load.py                  # 10M rows x 16 columns
    .venv/bin/python scripts/bench_load.py --rows 2000000   # smaller

Generates (if absent) one Parquet file of --rows rows and --columns float64
columns x0.. in row groups of 128Ki rows (scripts/make_synthetic.py), builds
the `load_bench` example of gmm-io in release mode, then runs, alternately
and each in its own process, --repeat times:

- gmm-io: open the file, select x*, decode it into one row-major (n, d)
  float64 buffer (crates/gmm-io/examples/load_bench.rs);
- pyarrow: read the same columns into a NumPy (n, d) float64 array, by each
  of the methods below; the fastest C-contiguous (row-major, like gmm's)
  method is the one compared.

Reports MB/s of float64 data produced (n * d * 8 bytes, 10^6 bytes per MB)
at the best of the repeats, the gmm/pyarrow ratio, and each tool's peak
resident memory (VmHWM / ru_maxrss) as a ratio to the data size. The file
is read from the page cache (it was just written or read) by both.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# pyarrow -> NumPy methods; "C" or "F" is the layout of the result.
METHODS = {
    "read_table+fill": "C",  # np.empty((n, d)); out[:, j] = column j, chunk by chunk
    "read_table+column_stack": "C",  # np.column_stack of the columns
    "read_table+to_pandas+to_numpy": "F",  # DataFrame, then its (n, d) view
    "read_table+to_pandas+ascontiguousarray": "C",  # the same, made row-major
}


def pyarrow_worker(path: str, method: str) -> None:
    """Runs in a child process: one read, then prints its figures as JSON."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.ParquetFile(path)  # import and open cost out of the timing
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    started = time.perf_counter()
    schema = pq.read_schema(path)
    cols = [n for n in schema.names if n.startswith("x")]
    table = pq.read_table(path, columns=cols, use_threads=True)
    n, d = table.num_rows, len(cols)
    if method == "read_table+fill":
        out = np.empty((n, d))
        for j, col in enumerate(table.columns):
            row = 0
            for chunk in col.chunks:
                k = len(chunk)
                out[row:row + k, j] = chunk.to_numpy(zero_copy_only=False)
                row += k
    elif method == "read_table+column_stack":
        out = np.column_stack([c.to_numpy() for c in table.columns])
    elif method == "read_table+to_pandas+to_numpy":
        out = table.to_pandas().to_numpy()
    elif method == "read_table+to_pandas+ascontiguousarray":
        out = np.ascontiguousarray(table.to_pandas().to_numpy())
    else:
        raise SystemExit(f"unknown method {method}")
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    assert out.shape == (n, d) and out.dtype == np.float64
    layout = "C" if out.flags.c_contiguous else ("F" if out.flags.f_contiguous else "strided")
    print(json.dumps({
        "tool": "pyarrow", "method": method, "layout": layout,
        "rows": n, "columns": d, "seconds": seconds,
        "mb_per_s": n * d * 8 / 1e6 / seconds, "data_bytes": n * d * 8,
        "peak_rss_bytes": peak, "rss_before_bytes": base,
        "peak_rss_ratio": peak / (n * d * 8),
        "pyarrow": pa.__version__, "threads": pa.cpu_count(),
        "checksum": float(out[::4099].sum()),
    }))


def run_json(cmd: list[str]) -> dict:
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=10_000_000)
    p.add_argument("--columns", type=int, default=16)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--data-dir", default=os.path.join(ROOT, "target", "bench-data"))
    p.add_argument("--no-build", action="store_true", help="use the built example as it is")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.add_argument("--worker", nargs=2, metavar=("PATH", "METHOD"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        pyarrow_worker(*args.worker)
        return 0

    try:
        import pyarrow  # noqa: F401
    except ImportError:
        print("bench_load.py needs pyarrow: bash scripts/setup_python.sh --bench", file=sys.stderr)
        return 2

    name = f"load-{args.rows}x{args.columns}"
    data_dir = os.path.join(args.data_dir, name)
    path = os.path.join(data_dir, "part-00000.parquet")
    if not os.path.exists(path):
        print(f"generating {path} ...", file=sys.stderr)
        subprocess.run([
            sys.executable, os.path.join(ROOT, "scripts", "make_synthetic.py"),
            "--rows", str(args.rows), "--columns", str(args.columns), "--components", "5",
            "--seed", "1", "--out", data_dir, "--rows-per-file", str(args.rows),
            "--row-group-rows", "131072", "--quiet",
        ], check=True)

    example = os.path.join(ROOT, "target", "release", "examples", "load_bench")
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "gmm-io",
                        "--example", "load_bench"], check=True, cwd=ROOT)

    size = os.path.getsize(path)
    print(f"file: {path} ({size / 1e6:.0f} MB on disk)", file=sys.stderr)
    results: dict[str, list[dict]] = {"gmm-io": []}
    for m in METHODS:
        results[m] = []
    # Warm the page cache, then alternate the tools.
    run_json([example, path])
    for r in range(args.repeat):
        results["gmm-io"].append(run_json([example, path]))
        for m in METHODS:
            results[m].append(run_json([sys.executable, os.path.abspath(__file__), "--worker", path, m]))
        print(f"repeat {r + 1}/{args.repeat}: gmm-io {results['gmm-io'][-1]['mb_per_s']:.0f} MB/s", file=sys.stderr)

    def best(runs):
        b = min(runs, key=lambda x: x["seconds"])
        return dict(b, peak_rss_bytes=max(x["peak_rss_bytes"] for x in runs),
                    peak_rss_ratio=max(x["peak_rss_ratio"] for x in runs))

    summary = {k: best(v) for k, v in results.items()}
    g = summary["gmm-io"]
    c_methods = [m for m, layout in METHODS.items() if summary[m]["layout"] == "C"]
    fastest_c = min(c_methods, key=lambda m: summary[m]["seconds"])
    fastest_any = min(METHODS, key=lambda m: summary[m]["seconds"])
    data_mb = g["data_bytes"] / 1e6
    print()
    print(f"{g['rows']} rows x {g['columns']} float64 columns = {data_mb:.0f} MB of data; "
          f"best of {args.repeat}; {os.cpu_count()} CPUs")
    print(f"{'reader':50} {'seconds':>8} {'MB/s':>8} {'peak RSS MB':>12} {'peak/data':>10}")
    for k, s in summary.items():
        label = k if k == "gmm-io" else f"pyarrow {k} ({s['layout']})"
        print(f"{label:50} {s['seconds']:8.3f} {s['mb_per_s']:8.0f} "
              f"{s['peak_rss_bytes'] / 1e6:12.0f} {s['peak_rss_ratio']:10.2f}")
    ratio = g["mb_per_s"] / summary[fastest_c]["mb_per_s"]
    print(f"gmm-io / pyarrow ({fastest_c}, row-major): {ratio:.2f}x throughput")
    if fastest_any != fastest_c:
        print(f"gmm-io / pyarrow ({fastest_any}, any layout): "
              f"{g['mb_per_s'] / summary[fastest_any]['mb_per_s']:.2f}x throughput")
    print(f"gmm-io peak RSS / data size: {g['peak_rss_ratio']:.3f} (goal < 1.3)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"summary": summary, "runs": results, "ratio": ratio,
                       "compared_method": fastest_c}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
