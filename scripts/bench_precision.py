#!/usr/bin/env python3
"""gmm with rows held as f64 and as f32 (`--precision f32`), side by side.

    python3 scripts/bench_precision.py                     # the issue's grid, 1 and 2 threads
    python3 scripts/bench_precision.py --out docs/bench/precision.md

The data sets and the start are scripts/bench_vs_sklearn.py's (cached under
target/bench-data/; the same initial parameters for both runs). Two parts:

Accuracy: both precisions fitted to convergence (tol 1e-6, at most
  --max-iter iterations, 2 threads) from the same start. Reported: the mean
  log-likelihoods and their relative difference, the largest change of a
  weight, of a mean (relative to the largest |mean|) and of a covariance
  entry (relative to the largest |entry|), and the iterations each took.

Speed and memory: --iterations EM iterations at tol 0 from the same start,
  each run in its own process, f64 and f32 alternating, --repeat times.
  Reported: the median seconds per iteration (run.json's per_iteration), the
  load time, and the peak resident memory of the process.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_vs_sklearn as base  # noqa: E402
from bench_vs_onedal import GRIDS  # noqa: E402  (the speed issue's shapes)


def run_gmm(binary: str, data: dict, cov: str, init: dict, precision: str, threads: int,
            extra: list[str], workdir: str) -> dict:
    out = tempfile.mkdtemp(prefix=f"gmm-{precision}-", dir=workdir)
    cmd = [binary, "fit", "--input", data["parquet"],
           "--columns", ",".join(base.columns(data["d"])), "-k", str(data["k"]),
           "--covariance", cov, "--init-model", init["json"], "--n-init", "1",
           "--precision", precision, "--threads", str(threads), "--out", out,
           "--no-plots", "--quiet", "--max-memory", "unlimited", *extra]
    try:
        m = base.run_measured(cmd, base.thread_env(threads))
        with open(os.path.join(out, "run.json")) as fh:
            run = json.load(fh)
        with open(os.path.join(out, "model.json")) as fh:
            model = json.load(fh)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return {"run": run, "model": model, "peak_rss": m.peak_rss, "wall": m.wall}


def flat(v) -> list[float]:
    if isinstance(v, list):
        return [x for item in v for x in flat(item)]
    return [float(v)]


def largest_change(a, b, relative: bool) -> float:
    x, y = flat(a), flat(b)
    scale = max(abs(v) for v in x) if relative else 1.0
    return max(abs(p - q) for p, q in zip(x, y)) / scale


def accuracy(binary: str, shape, args, workdir: str) -> dict:
    rows, d, k, cov = shape
    data = base.dataset(rows, d, k, args.seed)
    init = base.initial_parameters(data, cov, args.seed, workdir)
    extra = ["--tol", "1e-6", "--max-iter", str(args.max_iter)]
    wide = run_gmm(binary, data, cov, init, "f64", 2, extra, workdir)
    narrow = run_gmm(binary, data, cov, init, "f32", 2, extra, workdir)
    la = wide["run"]["result"]["mean_log_likelihood"]
    lb = narrow["run"]["result"]["mean_log_likelihood"]
    ma, mb = wide["model"], narrow["model"]
    return {
        "shape": shape, "ll_f64": la, "ll_f32": lb, "ll_rel": abs(la - lb) / abs(la),
        "weights": largest_change(ma["weights"], mb["weights"], False),
        "means": largest_change(ma["means"], mb["means"], True),
        "covariances": largest_change(ma["covariances"], mb["covariances"], True),
        "iter_f64": wide["run"]["result"]["n_iter"], "iter_f32": narrow["run"]["result"]["n_iter"],
        "converged": [wide["run"]["result"]["converged"], narrow["run"]["result"]["converged"]],
    }


def speed(binary: str, shape, threads: int, args, workdir: str) -> dict:
    rows, d, k, cov = shape
    data = base.dataset(rows, d, k, args.seed)
    init = base.initial_parameters(data, cov, args.seed, workdir)
    extra = ["--tol", "0", "--max-iter", str(args.iterations)]
    runs = {"f64": [], "f32": []}
    for _ in range(args.repeat):
        for precision in ("f64", "f32"):
            runs[precision].append(run_gmm(binary, data, cov, init, precision, threads, extra,
                                           workdir))
    out = {"shape": shape, "threads": threads}
    for precision, rs in runs.items():
        out[precision] = {
            "per_iteration": base.median([r["run"]["timings_seconds"]["per_iteration"]
                                          for r in rs]),
            "load": base.median([r["run"]["timings_seconds"]["load"] for r in rs]),
            "peak_rss": base.median([r["peak_rss"] for r in rs]),
            "ll": rs[0]["run"]["result"]["mean_log_likelihood"],
        }
    return out


def name(shape) -> str:
    rows, d, k, cov = shape
    n = f"{rows // 1_000_000}M" if rows % 1_000_000 == 0 else f"{rows // 1000}k"
    return f"{n} x {d}, K={k}, {cov}"


def report(info: dict, acc: list[dict], spd: list[dict], args) -> str:
    lines = [
        "# Rows held as f64 and as f32",
        "",
        "Generated by `python3 scripts/bench_precision.py"
        + (f" {' '.join(args.argv)}" if args.argv else "") + "`.",
        "",
        base.machine_markdown(info),
        "",
        "## Accuracy: f32 against f64, fitted to convergence from the same start",
        "",
        f"tol 1e-6, at most {args.max_iter} iterations, 2 threads. Changes are the largest over "
        "the model's parameters: weights absolute, means relative to the largest |mean|, "
        "covariances relative to the largest |entry|.",
        "",
        "| shape | mean log-lik. f64 | f32 | relative diff. | weights | means | covariances "
        "| iterations f64 / f32 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for a in acc:
        conv = "" if all(a["converged"]) else " (not converged)"
        lines.append(
            f"| {name(a['shape'])} | {a['ll_f64']:.10f} | {a['ll_f32']:.10f} | {a['ll_rel']:.1e} "
            f"| {a['weights']:.1e} | {a['means']:.1e} | {a['covariances']:.1e} "
            f"| {a['iter_f64']} / {a['iter_f32']}{conv} |")
    lines += [
        "",
        "## Speed and memory",
        "",
        f"{args.iterations} iterations at tol 0 from the same start, medians of {args.repeat} "
        "runs, each in its own process (f64 and f32 alternating). Peak RSS is the whole "
        "process's (rows, working buffers, the Parquet reader).",
        "",
        "| shape | threads | s/iter f64 | s/iter f32 | f32 speed-up | load f64 / f32 (s) "
        "| peak RSS f64 | peak RSS f32 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in spd:
        a, b = s["f64"], s["f32"]
        lines.append(
            f"| {name(s['shape'])} | {s['threads']} | {a['per_iteration']:.4f} "
            f"| {b['per_iteration']:.4f} | {a['per_iteration'] / b['per_iteration']:.2f}x "
            f"| {a['load']:.2f} / {b['load']:.2f} | {base.mb(a['peak_rss'])} "
            f"| {base.mb(b['peak_rss'])} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--grid", choices=sorted(GRIDS), default="issue")
    p.add_argument("--threads", default="1,2", help="speed part: thread counts (default 1,2)")
    p.add_argument("--iterations", type=int, default=10)
    p.add_argument("--max-iter", type=int, default=100, help="accuracy part (default 100)")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--gmm", help="the gmm binary (default target/release/gmm, built if absent)")
    p.add_argument("--build", action="store_true", help="run cargo build --release first")
    p.add_argument("--out", metavar="FILE", help="also write the markdown report to FILE")
    args = p.parse_args(argv)
    args.argv = argv
    base.bootstrap(__file__, argv)
    binary = base.gmm_binary(args.gmm, args.build)
    info = base.machine_info(binary)
    shapes = GRIDS[args.grid]
    with tempfile.TemporaryDirectory(prefix="gmm-precision-") as workdir:
        acc = []
        for shape in shapes:
            print(f"accuracy {name(shape)} ...", file=sys.stderr)
            acc.append(accuracy(binary, shape, args, workdir))
        spd = []
        for threads in base.parse_threads(args.threads):
            for shape in shapes:
                print(f"speed {name(shape)}, {threads} threads ...", file=sys.stderr)
                spd.append(speed(binary, shape, threads, args, workdir))
    text = report(info, acc, spd, args)
    print(text)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
