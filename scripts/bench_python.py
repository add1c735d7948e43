"""The Python package against scikit-learn, in one process tree: a fit of a
NumPy array (default 1M x 16, K = 8, full covariances) per EM iteration and
in peak memory, at each thread count. Not a test: run it by hand on a quiet
machine and report ratios.

    bash scripts/test_python.sh          # builds the package into .venv-py
    .venv-py/bin/python scripts/bench_python.py --threads 1,2

Each (library, threads, iterations) run is a child process of its own, so
its peak resident memory is its own. Per-iteration time is the difference
of a fit of `--long` and of `--short` iterations (tol = 0, one restart,
the same cheap start; the fastest of `--repeat` runs of each), so
initialization cancels out. "extra peak" is the
child's peak resident memory minus its resident memory with the data
generated, before the fit: what the fit itself took (a copy of the input
would add 128 MB at the default shape).
"""

import argparse
import json
import os
import subprocess
import sys
import time

CHILD = r"""
import json, sys, time
import numpy as np
rows, cols, k, iters, lib = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
threads = int(sys.argv[6])
def rss(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) * 1024
x = np.random.default_rng(0).standard_normal((rows, cols))
x[: rows // 2] += 3.0
if lib == "gmm":
    import gmm_engine as gmm
    est = gmm.GaussianMixture(k, max_iter=iters, tol=0.0, init_params="random-from-data",
                              random_state=0, n_threads=threads)
else:
    from sklearn.mixture import GaussianMixture
    est = GaussianMixture(k, max_iter=iters, tol=0.0, init_params="random_from_data",
                          random_state=0)
before = rss("VmRSS")
start = time.perf_counter()
import warnings
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    est.fit(x)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "n_iter": int(est.n_iter_), "extra_peak": rss("VmHWM") - before}))
"""


def run(lib, threads, iters, a):
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(a.rows), str(a.columns), str(a.components), str(iters),
         lib, str(threads)], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--columns", type=int, default=16)
    p.add_argument("--components", type=int, default=8)
    p.add_argument("--threads", default="1,2")
    p.add_argument("--short", type=int, default=2)
    p.add_argument("--long", type=int, default=7)
    p.add_argument("--repeat", type=int, default=2, help="runs of each fit; the fastest counts")
    a = p.parse_args()
    print(f"{a.rows} x {a.columns}, K = {a.components}, full; {os.cpu_count()} cores")
    print(f"{'threads':>7} {'library':>12} {'s/iteration':>12} {'extra peak MB':>14}")
    for threads in [int(t) for t in a.threads.split(",")]:
        per = {}
        for lib in ("gmm", "scikit-learn"):
            shorts = [run(lib, threads, a.short, a) for _ in range(a.repeat)]
            longs = [run(lib, threads, a.long, a) for _ in range(a.repeat)]
            assert all(r["n_iter"] == a.short for r in shorts), shorts
            assert all(r["n_iter"] == a.long for r in longs), longs
            fastest = lambda runs: min(r["seconds"] for r in runs)  # noqa: E731
            per[lib] = (fastest(longs) - fastest(shorts)) / (a.long - a.short)
            peak = max(r["extra_peak"] for r in shorts + longs) / 2**20
            print(f"{threads:>7} {lib:>12} {per[lib]:>12.4f} {peak:>14.1f}")
        print(f"{threads:>7} {'ratio':>12} {per['scikit-learn'] / per['gmm']:>11.1f}x")


if __name__ == "__main__":
    main()
