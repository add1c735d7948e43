#!/usr/bin/env python3
"""What `--missing marginalize` costs against `--missing drop`, and how much
closer its parameters are to the truth.

    .venv/bin/python scripts/bench_missing.py                 # the default grid
    .venv/bin/python scripts/bench_missing.py --out docs/bench/missing.md

Needs numpy and pyarrow (`bash scripts/setup_python.sh` makes `.venv`) and a
release build (`cargo build --release`).

Data: for each shape (rows x columns, K), rows drawn from a known mixture
(`numpy.random.default_rng(seed)`: means 4 apart on random directions,
covariances `A A^T / d + 0.3 I` with `A` standard normal, weights
`linspace(1, 2, K)` normalized), then every value removed with
probability `rate` (MCAR), written as Parquet with nulls.

Each rate is fitted twice by the release `gmm`, each run in its own process,
from the same start (the true parameters moved by a fixed perturbation, so
that neither run depends on its own initialization), with tol 1e-6:
`--missing drop` and `--missing marginalize`; the table before any value
is removed is fitted once as the baseline (0 %, `--missing error`).
Reported per run: rows used,
iterations, seconds per EM iteration (run.json's `per_iteration`) and the
whole fit, and the errors against the truth after matching components
(the permutation with the smallest mean distance): the largest distance
of a mean (in units of the data's per-column spread), the largest weight
error, and the largest relative Frobenius error of a covariance.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GRID = [(200_000, 8, 4), (100_000, 16, 4)]
RATES = [0.05, 0.1, 0.2, 0.4]


def truth(d: int, k: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    dirs = rng.normal(size=(k, d))
    means = 4.0 * dirs / np.linalg.norm(dirs, axis=1, keepdims=True) * np.sqrt(d) / 2
    covs = []
    for _ in range(k):
        a = rng.normal(size=(d, d))
        covs.append(a @ a.T / d + 0.3 * np.eye(d))
    w = np.linspace(1, 2, k)
    return {"weights": w / w.sum(), "means": means, "covariances": np.array(covs)}


def sample(t: dict, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed + 1)
    k, d = t["means"].shape
    comp = rng.choice(k, size=n, p=t["weights"])
    z = rng.normal(size=(n, d))
    x = np.empty((n, d))
    for c in range(k):
        rows = comp == c
        x[rows] = t["means"][c] + z[rows] @ np.linalg.cholesky(t["covariances"][c]).T
    return x


def start_model(t: dict, path: str) -> None:
    """The truth moved a little, as a model file `--init-model` reads."""
    k, d = t["means"].shape
    shift = np.tile([0.3, -0.3], (k * d + 1) // 2)[: k * d].reshape(k, d)
    means = t["means"] + shift
    covs = t["covariances"] * 1.5
    w = np.full(k, 1.0 / k)
    # scikit-learn's precision factors: inv(cholesky(cov))^T, upper triangular.
    prec_chol = [np.linalg.inv(np.linalg.cholesky(c)).T for c in covs]
    # The model file's fields; the fit summary's are placeholders (a start
    # reads only the parameters).
    model = {
        "format": "gmm-model", "version": 1, "covariance_type": "full",
        "columns": [f"x{j}" for j in range(d)], "weights": w.tolist(),
        "means": means.tolist(), "covariances": covs.tolist(),
        "precisions_cholesky": [p.tolist() for p in prec_chol],
        "mean_log_likelihood": 0.0, "n_iter": 0, "converged": False, "bic": 0.0, "aic": 0.0,
        "n_rows": 0, "n_parameters": 0, "reg_covar": 1e-6,
    }
    with open(path, "w") as f:
        json.dump(model, f)


def errors(t: dict, model: dict, spread: np.ndarray) -> tuple[float, float, float]:
    means = np.array(model["means"])
    covs = np.array(model["covariances"])
    w = np.array(model["weights"])
    k = len(w)
    best = min(itertools.permutations(range(k)),
               key=lambda p: sum(np.linalg.norm(means[p[c]] - t["means"][c]) for c in range(k)))
    mean_err = max(np.max(np.abs(means[best[c]] - t["means"][c]) / spread) for c in range(k))
    w_err = max(abs(w[best[c]] - t["weights"][c]) for c in range(k))
    cov_err = max(np.linalg.norm(covs[best[c]] - t["covariances"][c]) / np.linalg.norm(t["covariances"][c])
                  for c in range(k))
    return mean_err, w_err, cov_err


def fit(binary: str, data: str, d: int, k: int, start: str, missing: str, threads: int, work: str) -> dict:
    out = tempfile.mkdtemp(prefix=f"gmm-{missing}-", dir=work)
    cmd = [binary, "fit", "--input", data, "--columns", ",".join(f"x{j}" for j in range(d)),
           "-k", str(k), "--init-model", start, "--tol", "1e-6", "--max-iter", "300",
           "--missing", missing, "--threads", str(threads), "--no-plots",
           "--out", out, "--quiet"]
    subprocess.run(cmd, check=True, capture_output=True)
    with open(os.path.join(out, "run.json")) as f:
        run = json.load(f)
    with open(os.path.join(out, "model.json")) as f:
        model = json.load(f)
    return {"run": run, "model": model}


def rows_of(lines: list, a, t: dict, path: str, n: int, d: int, k: int, start: str,
            spread: np.ndarray, work: str, rate: str, policies: list[str]) -> None:
    for missing in policies:
        r = fit(a.binary, path, d, k, start, missing, a.threads, work)
        run, model = r["run"], r["model"]
        me, we, ce = errors(t, model, spread)
        ts = run["timings_seconds"]
        lines.append(
            f"| {n} x {d}, K={k} | {rate} | {missing} | {model['n_rows']} "
            f"| {run['result']['n_iter']} | {ts['per_iteration']:.4f} | {ts['fit']:.2f} "
            f"| {me:.4f} | {we:.4f} | {ce:.4f} |"
        )
        print(lines[-1], flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "gmm"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", help="also write the table (Markdown) here")
    ap.add_argument("--quick", action="store_true", help="a small grid, for a smoke test")
    a = ap.parse_args()
    grid = [(20_000, 4, 3)] if a.quick else GRID
    rates = [0.2] if a.quick else RATES
    version = subprocess.run([a.binary, "--version"], capture_output=True, text=True).stdout.strip()
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    lines = [
        "# Missing values: dropped against integrated out",
        "",
        "Generated by `.venv/bin/python scripts/bench_missing.py --out docs/bench/missing.md`.",
        "",
        f"- Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; "
        f"Linux {platform.release()}; load average at start "
        + ", ".join(f"{v:.2f}" for v in os.getloadavg()),
        f"- gmm: {version} (git {commit})",
        f"- Python {platform.python_version()}: NumPy {np.__version__}, pyarrow {pa.__version__}",
        f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        "",
        "Rows drawn from a known mixture, each value then removed with the given probability",
        "(MCAR); both policies start from the same parameters (the truth moved) and run to tol",
        "1e-6. Errors are against the true parameters after matching components: the largest",
        "mean error in units of the column's spread, the largest weight error, and the largest",
        "relative Frobenius error of a covariance. The 0 % row is the complete table, fitted",
        "with the default policy.",
        "",
        f"`--missing drop` against `--missing marginalize` ({a.threads} threads; "
        "errors against the true mixture)",
        "",
        "| shape | missing | policy | rows used | iterations | s / iteration | fit s "
        "| mean error | weight error | covariance error |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory(prefix="bench-missing-") as work:
        for n, d, k in grid:
            t = truth(d, k, seed=d * 100 + k)
            x = sample(t, n, seed=d * 100 + k)
            spread = x.std(axis=0)
            start = os.path.join(work, f"start-{d}.json")
            start_model(t, start)
            # The baseline: the table before any value is removed.
            path = os.path.join(work, f"x-{n}-{d}-complete.parquet")
            pq.write_table(pa.table([pa.array(x[:, j]) for j in range(d)],
                                    names=[f"x{j}" for j in range(d)]), path)
            rows_of(lines, a, t, path, n, d, k, start, spread, work, "0%", ["error"])
            for rate in rates:
                rng = np.random.default_rng(int(rate * 1000) + d)
                holes = rng.random(x.shape) < rate
                cols = [pa.array(x[:, j], mask=holes[:, j]) for j in range(d)]
                path = os.path.join(work, f"x-{n}-{d}-{rate}.parquet")
                pq.write_table(pa.table(cols, names=[f"x{j}" for j in range(d)]), path)
                rows_of(lines, a, t, path, n, d, k, start, spread, work, f"{rate:.0%}",
                        ["drop", "marginalize"])
    text = "\n".join(lines) + "\n"
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    else:
        sys.stdout.write("\n" + text)


if __name__ == "__main__":
    main()
