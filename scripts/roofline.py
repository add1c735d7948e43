#!/usr/bin/env python3
"""How close one EM iteration of gmm comes to this machine's limits, on 1 thread.

    python3 scripts/roofline.py                        # measure, run gmm, draw docs/roofline.svg
    python3 scripts/roofline.py --from-json iteration.json --out docs/bench/roofline.md

Like scripts/bench_vs_sklearn.py it installs what it needs (.venv from
scripts/requirements-bench.txt, which pins matplotlib) and builds
target/release/gmm when absent.

The machine's limits, on one thread:
- f64 matrix-multiply peak: NumPy's C = A @ B for 2048 x 2048 matrices
  with OpenBLAS held to 1 thread (threadpoolctl), 2 n^3 flops, best of
  --repeat; and faer's (the library gmm uses), from
  `cargo run --release -p gmm-core --example peak` (1024^3, Par::Seq),
  unless --no-faer. The larger of the two is "the peak".
- memory bandwidth: STREAM-like NumPy kernels on arrays of 2^25 float64
  (256 MiB each, 8x this machine's L3), best of --repeat: copy
  (np.copyto, counted as STREAM does, 16 bytes per element), triad (a = b +
  s c in two NumPy passes, counted as STREAM's 24 bytes per element, so a
  lower bound) and read (a.sum(), 8 bytes per element). The largest is "the
  bandwidth".

gmm's seconds per EM iteration on 1 thread come from `gmm fit --init-model
--tol 0 --max-iter N --threads 1` (run.json's per_iteration, the mean of
iterations 2..N, median of --repeat runs), or from a JSON file written by
`bench_vs_sklearn.py --json` (its 1-thread rows; then scikit-learn's
points are drawn too; --sklearn-json adds them to measured shapes).

Work per iteration (flops: a multiply-add counts 2), for n rows, d columns,
K components:

  scikit-learn-equivalent work: the matrix products of scikit-learn's E and
  M steps, highest-order terms only (the 8.2 GFLOP of the issue's shape):
    full       4 n K d^2   (E: (X - mu_k) P_k for each k; M: (r_k (X - mu_k))^T (X - mu_k))
    tied       2 n K d^2 + 2 n d^2   (E: X P for each k; M: X^T X once)
    diag       8 n K d     (E: X (mu P)^T and X^2 P^T; M: r^T X and r^T X^2)
    spherical  6 n K d     (E: X mu^T; M: r^T X and r^T X^2)
  gmm's work: what its kernels compute, highest-order terms only:
    full, tied 2 n K d (d + 1)   (E: (x - mu_k) P_k with P_k upper triangular,
                                  n K d (d + 1); M: lower triangle of the
                                  rank-n scatter update, n K d (d + 1))
    diag       9 n K d     (E: subtract, scale, square-add: 4; M: subtract,
                            weight, add, multiply-add: 5)
    spherical  8 n K d     (E: subtract, square-add: 3; M: as diag: 5)
  The K exponentials and one logarithm per row are not counted.

  Bytes read per iteration: n d 8 (the data, once; the pass is fused).

Reported per shape: GFLOP/s of both counts, their fraction of the peak (the
goal: >= 60 % for d >= 16, raised from 50 %), the data read rate and its fraction of
the bandwidth (goal: >= 50 % for d = 2), and the arithmetic intensity.
The figure (docs/roofline.svg, or --svg) draws min(peak, bandwidth x
intensity) and each shape at gmm's intensity. Written for CPython 3.11,
NumPy 2.4.6 with its OpenBLAS, matplotlib 3.11.2.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_vs_sklearn as bench  # noqa: E402  (stdlib only at import time)

ROOT = bench.ROOT
MODULES = bench.MODULES + ("matplotlib",)

# (rows, d, K, covariance), 1 thread.
SHAPES = [
    (1_000_000, 2, 8, "full"),
    (1_000_000, 8, 8, "full"),
    (1_000_000, 16, 8, "full"),
    (100_000, 64, 8, "full"),
    (1_000_000, 16, 32, "full"),
    (1_000_000, 16, 8, "tied"),
    (1_000_000, 16, 8, "diag"),
    (1_000_000, 16, 8, "spherical"),
    (1_000_000, 2, 8, "diag"),
]


def sklearn_flops(n: int, d: int, k: int, cov: str) -> float:
    return {"full": 4 * n * k * d * d, "tied": 2 * n * k * d * d + 2 * n * d * d,
            "diag": 8 * n * k * d, "spherical": 6 * n * k * d}[cov]


def gmm_flops(n: int, d: int, k: int, cov: str) -> float:
    return {"full": 2 * n * k * d * (d + 1), "tied": 2 * n * k * d * (d + 1),
            "diag": 9 * n * k * d, "spherical": 8 * n * k * d}[cov]


def numpy_peak(repeat: int, n: int = 2048) -> float:
    """GFLOP/s of a 1-thread OpenBLAS dgemm through NumPy, best of `repeat`."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    c = np.empty((n, n))
    best = float("inf")
    with threadpool_limits(limits=1):
        np.matmul(a, b, out=c)
        for _ in range(repeat):
            t = time.perf_counter()
            np.matmul(a, b, out=c)
            best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best / 1e9


def faer_peak(repeat: int, example: str | None) -> float | None:
    """GFLOP/s printed by crates/gmm-core/examples/peak.rs, best of `repeat`."""
    cmd = [example] if example else ["cargo", "run", "--release", "--quiet", "-p", "gmm-core",
                                     "--example", "peak"]
    best = None
    for _ in range(repeat):
        try:
            out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True,
                                 env=bench.thread_env(1)).stdout
        except (OSError, subprocess.CalledProcessError) as e:
            print(f"faer peak not measured: {e}", file=sys.stderr)
            return None
        m = re.search(r"([0-9.]+) GFLOP/s", out)
        if m:
            best = max(best or 0.0, float(m.group(1)))
    return best


def bandwidth(repeat: int, log2_elements: int = 25) -> dict:
    """GB/s (1e9 bytes) of STREAM-like kernels on one thread, best of `repeat`."""
    import numpy as np

    n = 2**log2_elements
    a = np.ones(n)
    b = np.full(n, 2.0)
    c = np.full(n, 0.5)
    kernels = {
        "copy": (16, lambda: np.copyto(a, b)),
        "triad": (24, lambda: (np.multiply(c, 3.0, out=a), np.add(a, b, out=a))),
        "read": (8, lambda: b.sum()),
    }
    out = {}
    for name, (bytes_per, f) in kernels.items():
        f()
        best = float("inf")
        for _ in range(repeat):
            t = time.perf_counter()
            f()
            best = min(best, time.perf_counter() - t)
        out[name] = bytes_per * n / best / 1e9
    return out


def gmm_times(args, binary: str) -> list[dict]:
    """Seconds per iteration of gmm on 1 thread for each shape."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="roofline-", dir=bench.DATA_DIR) as work:
        for n, d, k, cov in SHAPES:
            data = bench.dataset(n, d, k, args.seed)
            init = bench.initial_parameters(data, cov, args.seed, work)
            runs = [bench.gmm_iteration(binary, data, cov, init, 1, args.iterations, work)
                    for _ in range(args.repeat)]
            t = statistics.median(r["per_iteration"] for r in runs)
            print(f"{n} x {d}, K={k}, {cov}: {t:.4f} s/iter", file=sys.stderr)
            rows.append({"rows": n, "d": d, "k": k, "covariance": cov, "gmm": t,
                         "sklearn": None, "runs": [r["per_iteration"] for r in runs]})
    return rows


def times_from_json(path: str) -> list[dict]:
    with open(path) as fh:
        raw = json.load(fh)
    return [{"rows": r["rows"], "d": r["d"], "k": r["k"], "covariance": r["covariance"],
             "gmm": r["gmm_per_iteration"], "sklearn": r["sklearn_per_iteration"]}
            for r in raw["results"] if r["threads"] == 1]


def analyse(rows: list[dict], peak: float, bw: float) -> None:
    for r in rows:
        n, d, k, cov = r["rows"], r["d"], r["k"], r["covariance"]
        r["sk_gflop"] = sklearn_flops(n, d, k, cov) / 1e9
        r["gmm_gflop"] = gmm_flops(n, d, k, cov) / 1e9
        r["bytes"] = n * d * 8
        r["intensity"] = gmm_flops(n, d, k, cov) / r["bytes"]
        r["gmm_rate"] = r["gmm_gflop"] / r["gmm"]
        r["sk_equiv_rate"] = r["sk_gflop"] / r["gmm"]
        r["gbps"] = r["bytes"] / r["gmm"] / 1e9
        r["peak_fraction"] = r["gmm_rate"] / peak
        r["sk_equiv_fraction"] = r["sk_equiv_rate"] / peak
        r["bw_fraction"] = r["gbps"] / bw
        if r.get("sklearn"):
            r["sklearn_rate"] = r["sk_gflop"] / r["sklearn"]


def markdown(rows, info, peaks, bws, peak, bw, args) -> str:
    faer = f"{peaks['faer']:.1f} GFLOP/s" if peaks["faer"] else "not measured"
    lines = [
        "# Roofline: gmm's EM iteration against this machine's limits (1 thread)", "",
        f"`{shlex.join(['scripts/roofline.py', *sys.argv[1:]])}`", "",
        bench.machine_markdown(info),
        f"- f64 matrix-multiply peak, 1 thread: NumPy/OpenBLAS 2048^3 "
        f"**{peaks['numpy']:.1f} GFLOP/s**, faer 1024^3 {faer}; peak used: "
        f"**{peak:.1f} GFLOP/s**",
        f"- memory bandwidth, 1 thread, 256 MiB arrays: copy {bws['copy']:.1f} GB/s, "
        f"triad {bws['triad']:.1f} GB/s, read {bws['read']:.1f} GB/s; bandwidth used: "
        f"**{bw:.1f} GB/s** (ridge point {peak / bw:.1f} flop/byte)", "",
        "Work per iteration: scikit-learn-equivalent (its matrix products; full: 4nKd^2) and "
        "gmm's own (full/tied: 2nKd(d+1), diag: 9nKd, spherical: 8nKd); bytes: 8nd. "
        "See the script's docstring for the counts. gmm seconds per iteration: median of "
        f"{args.repeat} runs of {args.iterations} iterations, 1 thread.", "",
        "| rows | d | K | covariance | gmm s/iter | sklearn-equiv. GFLOP | gmm GFLOP "
        "| gmm GFLOP/s | % of peak | sklearn-equiv. GFLOP/s | % of peak | data GB/s "
        "| % of bandwidth | flop/byte |",
        "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        goal_c = "**" if r["d"] >= 16 else ""
        goal_m = "**" if r["d"] <= 2 else ""
        lines.append(
            f"| {r['rows']:,} | {r['d']} | {r['k']} | {r['covariance']} | {r['gmm']:.4f} "
            f"| {r['sk_gflop']:.2f} | {r['gmm_gflop']:.2f} | {r['gmm_rate']:.2f} "
            f"| {goal_c}{100 * r['peak_fraction']:.0f} %{goal_c} | {r['sk_equiv_rate']:.2f} "
            f"| {100 * r['sk_equiv_fraction']:.0f} % | {r['gbps']:.2f} "
            f"| {goal_m}{100 * r['bw_fraction']:.0f} %{goal_m} | {r['intensity']:.1f} |")
    lines += ["", "Bold: the fraction the issues set a goal for (>= 60 % of the matrix-multiply "
              "peak for d >= 16, >= 50 % of the bandwidth for d = 2)."]
    if any(r.get("sklearn") for r in rows):
        lines += ["", "| rows | d | K | covariance | scikit-learn s/iter | scikit-learn GFLOP/s "
                  "| % of peak |", "|---:|---:|---:|---|---:|---:|---:|"]
        for r in rows:
            if r.get("sklearn"):
                lines.append(f"| {r['rows']:,} | {r['d']} | {r['k']} | {r['covariance']} "
                             f"| {r['sklearn']:.4f} | {r['sklearn_rate']:.2f} "
                             f"| {100 * r['sklearn_rate'] / peak:.0f} % |")
    return "\n".join(lines) + "\n"


def figure(rows, peaks, peak, bw, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    plt.rcParams.update({"svg.hashsalt": "gmm-roofline", "svg.fonttype": "none",
                         "font.size": 9})
    fig, ax = plt.subplots(figsize=(7.5, 5.0))
    lo = min([0.1] + [r["intensity"] / 2 for r in rows])
    hi = max([100.0] + [r["intensity"] * 2 for r in rows])
    x = np.logspace(np.log10(lo), np.log10(hi), 200)
    ax.plot(x, np.minimum(peak, bw * x), color="black", lw=2,
            label=f"roof: {peak:.1f} GFLOP/s, {bw:.1f} GB/s")
    if peaks["numpy"] != peak:
        ax.axhline(peaks["numpy"], color="grey", ls=":", lw=1,
                   label=f"NumPy/OpenBLAS dgemm {peaks['numpy']:.1f} GFLOP/s")
    if peaks["faer"] and peaks["faer"] != peak:
        ax.axhline(peaks["faer"], color="grey", ls="--", lw=1,
                   label=f"faer dgemm {peaks['faer']:.1f} GFLOP/s")
    colors = {"full": "tab:blue", "tied": "tab:purple", "diag": "tab:green",
              "spherical": "tab:orange"}
    offsets = {"full": (6, -3, "left"), "tied": (6, 5, "left"), "diag": (6, -11, "left"),
               "spherical": (-6, 4, "right")}
    seen = set()
    for r in rows:
        c = colors[r["covariance"]]
        label = None if r["covariance"] in seen else f"gmm, {r['covariance']}"
        seen.add(r["covariance"])
        ax.scatter(r["intensity"], r["gmm_rate"], color=c, s=36, zorder=3, label=label)
        # Offsets by type, so that shapes at the same point stay readable.
        dx, dy, ha = offsets[r["covariance"]]
        ax.annotate(f"d={r['d']} K={r['k']}", (r["intensity"], r["gmm_rate"]),
                    textcoords="offset points", xytext=(dx, dy), ha=ha, fontsize=7, color=c)
        if r.get("sklearn"):
            ax.scatter(r["intensity"], r["sklearn_rate"] * r["gmm_gflop"] / r["sk_gflop"],
                       marker="x", color=c, s=30, zorder=3,
                       label="scikit-learn (gmm's work / its time)" if "sk" not in seen else None)
            seen.add("sk")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity of gmm's work (flop per byte of data read)")
    ax.set_ylabel("GFLOP/s (gmm's work / seconds per iteration)")
    ax.set_title("One EM iteration on 1 thread against this machine's roofline")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right", fontsize=7)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    # No date in the file, and fixed ids: the same figures give the same SVG.
    fig.savefig(path, metadata={"Date": None})


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--from-json", metavar="FILE",
                   help="take seconds per iteration from bench_vs_sklearn.py --json output")
    p.add_argument("--sklearn-json", metavar="FILE",
                   help="add scikit-learn's 1-thread times of the same shapes from a "
                        "bench_vs_sklearn.py --json file")
    p.add_argument("--iterations", type=int, default=10)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--gmm", help="the gmm binary (default target/release/gmm)")
    p.add_argument("--build", action="store_true", help="run cargo build --release first")
    p.add_argument("--gmm-source", metavar="TEXT",
                   help="where the gmm binary was built from, for the report (default: this "
                        "checkout's commit, and whether it has uncommitted changes)")
    p.add_argument("--no-faer", action="store_true", help="skip faer's GEMM peak")
    p.add_argument("--faer-example", metavar="PATH",
                   help="a built peak example (default: cargo run --release --example peak)")
    p.add_argument("--svg", default=os.path.join(ROOT, "docs", "roofline.svg"))
    p.add_argument("--out", metavar="FILE", help="also write the markdown report to FILE")
    p.add_argument("--json", metavar="FILE", help="write the figures as JSON to FILE")
    args = p.parse_args(argv)

    binary = None if args.from_json else bench.gmm_binary(args.gmm, args.build)
    info = bench.machine_info(binary)
    if args.from_json:  # gmm as it was when those times were taken
        with open(args.from_json) as fh:
            measured = json.load(fh)["machine"]
        info.update(gmm=measured["gmm"], commit=measured["commit"])
    if args.gmm_source:
        info["commit"] = args.gmm_source
    os.makedirs(bench.DATA_DIR, exist_ok=True)
    peaks = {"numpy": numpy_peak(max(3, args.repeat)),
             "faer": None if args.no_faer else faer_peak(max(3, args.repeat), args.faer_example)}
    peak = max(v for v in peaks.values() if v)
    bws = bandwidth(max(5, args.repeat))
    bw = max(bws.values())
    print(f"peak {peak:.1f} GFLOP/s ({peaks}), bandwidth {bw:.1f} GB/s ({bws})", file=sys.stderr)
    rows = times_from_json(args.from_json) if args.from_json else gmm_times(args, binary)
    if args.sklearn_json:  # scikit-learn's 1-thread times of the same shapes, for the figure
        theirs = {(r["rows"], r["d"], r["k"], r["covariance"]): r["sklearn"]
                  for r in times_from_json(args.sklearn_json)}
        for r in rows:
            r["sklearn"] = theirs.get((r["rows"], r["d"], r["k"], r["covariance"]))
    analyse(rows, peak, bw)
    report = markdown(rows, info, peaks, bws, peak, bw, args)
    figure(rows, peaks, peak, bw, args.svg)
    report += f"\nFigure: `{os.path.relpath(args.svg, ROOT)}`.\n"
    print(report)
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as fh:
            fh.write(report)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"machine": info, "peaks": peaks, "peak": peak, "bandwidths": bws,
                       "bandwidth": bw, "shapes": rows}, fh, indent=1)
    return 0


if __name__ == "__main__":
    bench.bootstrap(__file__, sys.argv[1:], MODULES)
    sys.exit(main())
