#!/usr/bin/env python3
"""mclust's fourteen covariance families in gmm: the cost of each family's
EM iteration, and `gmm select --families all` against mclust's `Mclust()`.

    python3 scripts/bench_families.py                       # 1M x 8, K = 9
    python3 scripts/bench_families.py --rows 1000000 --out docs/bench/families.md

Needs numpy and pyarrow in the interpreter that runs it (the test
environment has them: `.venv-py/bin/python scripts/bench_families.py`,
after `bash scripts/test_python.sh`), target/release/gmm (built when
absent) and, for the mclust column, Rscript with mclust (Debian:
`apt-get install r-base-core r-cran-mclust`; --skip-mclust leaves it out).

Data: --rows x --columns rows of a mixture of --true-k Gaussians with
random full covariances (scripts/make_synthetic.py, cached under
target/bench-data/families/), and a random subsample of --subsample rows
as CSV for mclust.

1. Iteration cost: for each family, `gmm fit -k K --n-init 1 --max-iter
   --iterations --tol 0` from the same k-means start; run.json's
   `timings_seconds.per_iteration`, the least of --repeats runs, the
   families interleaved in each round. The table gives it beside the
   unconstrained family held the same way (VVV for those held as full
   matrices, VVI for the diagonal ones, VII for EII; EEE is its own):
   their difference is
   what the family's M-step adds to an iteration, whose E-step is the
   same pass.
2. Selection: `gmm select --families all --components 1..9 --n-init N`
   on all rows (wall time of the child, the winner and its BIC in mclust's
   sign), and `Mclust(X, G = 1:9)` (all fourteen families, its default
   hierarchical start, which past 2000 rows agglomerates a random subset
   of 2000, `set.seed(0)`) on the subsample, which an R session holds
   comfortably; its EM in R on all rows, 14 x 9 models, is the part that
   does not scale. Both report the model they pick.

Each run is its own child process, one after the other; the machine,
thread count and versions go in the report. Timings are of this machine
and noisy: compare ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FAMILIES = ["EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE", "VEE", "EVE", "VVE", "EEV", "VEV",
            "EVV", "VVV"]
HOLDER = {"EII": "VII", "EEI": "VVI", "VEI": "VVI", "EVI": "VVI", "VII": "VII", "VVI": "VVI",
          "EEE": "EEE"}


def run(cmd: list[str], **kw) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, **kw)
    seconds = time.perf_counter() - start
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{out.stderr}")
    return seconds, out


def data(args) -> tuple[Path, Path]:
    base = ROOT / "target/bench-data/families"
    table = base / f"rows{args.rows}_d{args.columns}_k{args.true_k}"
    if not (table / "_mixture.json").exists():
        run([sys.executable, str(ROOT / "scripts/make_synthetic.py"), "--rows", str(args.rows),
             "--columns", str(args.columns), "--components", str(args.true_k), "--seed", "7",
             "--features-only", "--quiet", "--out", str(table)])
    sample = base / f"rows{args.rows}_d{args.columns}_k{args.true_k}_sample{args.subsample}.csv"
    if not sample.exists():
        import numpy as np
        import pyarrow.dataset as ds

        x = ds.dataset(str(table), format="parquet").to_table().to_pandas().to_numpy()
        rows = np.random.default_rng(7).choice(len(x), size=args.subsample, replace=False)
        header = ",".join(f"x{j}" for j in range(x.shape[1]))
        np.savetxt(sample, x[np.sort(rows)], delimiter=",", header=header, comments="",
                   fmt="%.17g")
    return table, sample


def iteration_costs(args, table: Path, tmp: Path) -> dict[str, float]:
    """The least of --repeats runs of each family, the families interleaved
    in every round (a busy moment of the machine then costs every family
    alike, and the least run is the one it spared)."""
    costs: dict[str, float] = {}
    for round_ in range(args.repeats):
        for family in FAMILIES:
            out = tmp / f"fit_{family}"
            run([args.gmm, "fit", "--input", str(table), "-k", str(args.k), "--covariance",
                 family, "--n-init", "1", "--max-iter", str(args.iterations), "--tol", "0",
                 "--seed", "0", "--threads", str(args.threads), "--no-plots", "-q",
                 "--out", str(out)])
            timings = json.loads((out / "run.json").read_text())["timings_seconds"]
            costs[family] = min(costs.get(family, float("inf")), timings["per_iteration"])
        print(f"round {round_ + 1}: " + ", ".join(f"{f} {costs[f]:.4f}" for f in FAMILIES),
              flush=True)
    return costs


def gmm_select(args, table: Path, tmp: Path) -> dict:
    out = tmp / "select"
    seconds, done = run([args.gmm, "select", "--input", str(table), "--families", "all",
                         "--components", "1..9", "--n-init", str(args.n_init), "--seed", "0",
                         "--threads", str(args.threads), "--no-plots", "--json", "-q",
                         "--out", str(out)])
    v = json.loads(done.stdout)
    w = v["winner"]
    cell = next(c for c in v["cells"] if c["n_components"] == w["n_components"]
                and c["covariance_type"] == w["covariance_type"])
    failed = sum(1 for c in v["cells"] if c.get("error"))
    print(f"gmm select: {seconds:.1f} s, {cell['mclust_model']} K = {w['n_components']}",
          flush=True)
    return {"seconds": seconds, "model": cell["mclust_model"], "k": w["n_components"],
            "bic_mclust": cell["bic_mclust"], "cells": len(v["cells"]), "failed": failed}


def mclust_select(sample: Path) -> dict:
    script = f"""
suppressPackageStartupMessages(library(mclust))
X <- as.matrix(read.csv("{sample}"))
set.seed(0)  # Mclust() agglomerates a random subset of 2000 rows past 2000
t <- system.time(m <- Mclust(X, G = 1:9, verbose = FALSE))[["elapsed"]]
cat(sprintf('{{"seconds": %.3f, "model": "%s", "k": %d, "bic": %.17g, "version": "%s"}}\\n',
            t, m$modelName, m$G, m$bic, as.character(packageVersion("mclust"))))
"""
    _, done = run(["Rscript", "-e", script])
    r = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"Mclust(): {r['seconds']:.1f} s, {r['model']} K = {r['k']}", flush=True)
    return r


def report(args, costs, select, mclust) -> str:
    lines = [
        "# mclust's fourteen families: iteration cost and selection",
        "",
        f"`scripts/bench_families.py`, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, {args.threads} thread(s); {time.strftime('%Y-%m-%d')}.",
        "",
        f"## Seconds per EM iteration, {args.rows:,} x {args.columns}, K = {args.k}",
        "",
        "From one k-means start, "
        f"{args.iterations} iterations (`--tol 0`); `per_iteration` of run.json, the least of "
        f"{args.repeats} runs (families interleaved). "
        "The unconstrained family held the same way runs the same E-step pass, so "
        "the difference is the family's M-step.",
        "",
        "| family | s / iteration | held as | its s / iteration | ratio |",
        "|---|---:|---|---:|---:|",
    ]
    for f in FAMILIES:
        holder = HOLDER.get(f, "VVV")
        lines.append(f"| {f} | {costs[f]:.4f} | {holder} | {costs[holder]:.4f} | "
                     f"{costs[f] / costs[holder]:.2f} |")
    lines += [
        "",
        "## Model selection over all fourteen families, K = 1..9",
        "",
        "| tool | rows | restarts per cell | seconds | pick | BIC (mclust's sign) |",
        "|---|---:|---:|---:|---|---:|",
        f"| gmm select --families all | {args.rows:,} | {args.n_init} | "
        f"{select['seconds']:.1f} | {select['model']}, K = {select['k']} | "
        f"{select['bic_mclust']:.1f} |",
    ]
    if mclust:
        lines.append(
            f"| Mclust() (mclust {mclust['version']}) | {args.subsample:,} | 1 (hc on 2,000 of them) | "
            f"{mclust['seconds']:.1f} | {mclust['model']}, K = {mclust['k']} | "
            f"{mclust['bic']:.1f} |")
    lines += ["", f"gmm: {select['cells']} cells, {select['failed']} without a fit. "
              "BICs of different row counts do not compare; the picks do."]
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--columns", type=int, default=8)
    p.add_argument("--true-k", type=int, default=5)
    p.add_argument("--k", type=int, default=9, help="K of the iteration-cost fits")
    p.add_argument("--iterations", type=int, default=10)
    p.add_argument("--repeats", type=int, default=3, help="runs of each family; the least")
    p.add_argument("--n-init", type=int, default=3)
    p.add_argument("--subsample", type=int, default=10_000)
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--gmm", default=str(ROOT / "target/release/gmm"))
    p.add_argument("--skip-mclust", action="store_true")
    p.add_argument("--skip-select", action="store_true")
    p.add_argument("--out", help="markdown report")
    args = p.parse_args()
    if not Path(args.gmm).exists():
        run(["cargo", "build", "--release", "--locked"], cwd=ROOT)
    table, sample = data(args)
    tmp = ROOT / "target/bench-data/families/runs"
    tmp.mkdir(parents=True, exist_ok=True)
    costs = iteration_costs(args, table, tmp)
    select = {"seconds": float("nan"), "model": "-", "k": 0, "bic_mclust": float("nan"),
              "cells": 0, "failed": 0}
    if not args.skip_select:
        select = gmm_select(args, table, tmp)
    mclust = None if args.skip_mclust else mclust_select(sample)
    text = report(args, costs, select, mclust)
    if args.out:
        Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
