#!/usr/bin/env python3
"""gmm against scikit-learn's GaussianMixture on the same data and cores.

    python3 scripts/bench_vs_sklearn.py                        # 1M x 16, K=8, full, 1 thread
    python3 scripts/bench_vs_sklearn.py --threads 1,2 --grid issue --out docs/bench/iteration.md
    python3 scripts/bench_vs_sklearn.py end-to-end --rows 1000000 --threads 2

It installs what it needs: run with any python3 and, when .venv is missing or
incomplete, it runs `bash scripts/setup_python.sh --bench` (the pinned
packages of scripts/requirements-bench.txt) and re-executes itself with
.venv/bin/python. It builds target/release/gmm with `cargo build --release`
when that binary is absent (--build rebuilds it first).

Mode `iteration` (default): seconds per EM iteration.
  Data: a mixture of K Gaussians with random full covariances
  (scripts/make_synthetic.py, cached as Parquet under target/bench-data/),
  also saved as a .npy array for scikit-learn. Fixed initial parameters: K
  random rows as means, the data's covariance (in the shape of the
  covariance type) for every component, equal weights. Then, for each thread
  count T and each of --repeat runs, alternately and each in its own process:
  - gmm: `gmm fit --init-model init.json --tol 0 --max-iter N --n-init 1
    --threads T`; seconds per iteration is run.json's
    timings_seconds.per_iteration, the mean of iterations 2..N (the first
    follows the set-up);
  - scikit-learn: GaussianMixture(weights_init, means_init, precisions_init,
    tol=0, max_iter=N, reg_covar=1e-6) under threadpoolctl limits of T
    threads (and OMP/OPENBLAS/MKL_NUM_THREADS=T); seconds per iteration is
    (time of fit with max_iter=N - time of fit with max_iter=1) / (N - 1),
    the same definition, after one untimed warm-up fit.
  Reported: medians over the runs of seconds per iteration, their ratio
  (scikit-learn / gmm), each process's peak resident memory (ru_maxrss of
  the child from os.wait4), and both final mean log-likelihoods per row
  (they must agree to 1e-6 relative for the comparison to be fair: same
  start, same number of iterations, same bookkeeping).

Mode `end-to-end`: a realistic job, timed as whole processes. Parquet in
  (generated once), K components, 10 restarts with k-means starts, up to 100
  iterations at the default tol (1e-3), per-row posterior probabilities out
  as Parquet. gmm: `gmm fit CONFIG --threads T` with a generated TOML config
  (plots off). scikit-learn: pandas.read_parquet -> NumPy ->
  GaussianMixture(n_init=10, init_params="kmeans").fit -> predict_proba ->
  pyarrow.parquet.write_table. Reported: wall time of each process (Python's
  start and imports included), its phases, peak RSS, and the final mean
  log-likelihoods (the restarts differ, so these agree only roughly).

Every table starts with the machine (lscpu model, cores, memory, load) and
the versions (gmm and its git commit, rustc, Python, scikit-learn, NumPy and
its BLAS). --out FILE writes the markdown report there, --json FILE the raw
results (scripts/roofline.py reads them). Written for CPython 3.11,
scikit-learn 1.9.1, NumPy 2.4.6, pyarrow 26, pandas 3.1 (the pins of
scripts/requirements-bench.txt).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".venv")
VENV_PYTHON = os.path.join(VENV, "bin", "python")
DATA_DIR = os.path.join(ROOT, "target", "bench-data", "vs-sklearn")
GMM = os.path.join(ROOT, "target", "release", "gmm")
MODULES = ("numpy", "scipy", "sklearn", "threadpoolctl", "pyarrow", "pandas")
REG_COVAR = 1e-6

# Shapes (rows, d, K, covariance) of --grid.
GRIDS = {
    "quick": [
        (100_000, 2, 8, "full"),
        (100_000, 16, 8, "full"),
        (100_000, 16, 8, "diag"),
    ],
    "issue": [
        (1_000_000, 16, 8, "full"),
        (1_000_000, 16, 8, "diag"),
        (1_000_000, 16, 8, "spherical"),
        (1_000_000, 16, 8, "tied"),
        (1_000_000, 2, 8, "full"),
        (100_000, 64, 8, "full"),
    ],
}


# --------------------------------------------------------------------------
# Environment: the pinned packages in .venv, the gmm binary.


def bootstrap(script: str, argv: list[str], modules=MODULES, setup_args=("--bench",)) -> None:
    """Re-executes `script` with .venv/bin/python, creating or completing
    .venv first, unless this already is that interpreter with `modules`."""
    import importlib.util

    in_venv = os.path.realpath(sys.prefix) == os.path.realpath(VENV)
    if in_venv and all(importlib.util.find_spec(m) is not None for m in modules):
        return
    check = "import " + ", ".join(modules)
    ready = os.path.exists(VENV_PYTHON) and subprocess.run(
        [VENV_PYTHON, "-c", check], capture_output=True).returncode == 0
    if not ready:
        if os.environ.get("GMM_BENCH_BOOTSTRAPPED"):
            raise SystemExit(f"{VENV} still lacks one of {', '.join(modules)} after setup")
        print(f"setting up {VENV} (scripts/setup_python.sh {' '.join(setup_args)}) ...",
              file=sys.stderr)
        subprocess.run(["bash", os.path.join(ROOT, "scripts", "setup_python.sh"), *setup_args],
                       check=True)
    env = dict(os.environ, GMM_BENCH_BOOTSTRAPPED="1")
    os.execve(VENV_PYTHON, [VENV_PYTHON, os.path.abspath(script), *argv], env)


def gmm_binary(path: str | None, build: bool) -> str:
    binary = path or GMM
    if build or (path is None and not os.path.exists(binary)):
        print("building gmm (cargo build --release -p gmm-cli) ...", file=sys.stderr)
        subprocess.run(["cargo", "build", "--release", "-p", "gmm-cli"], cwd=ROOT, check=True)
    if not os.path.exists(binary):
        raise SystemExit(f"no gmm binary at {binary}")
    return binary


def thread_env(threads: int) -> dict:
    """The environment of a child limited to `threads` threads."""
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS",
                "RAYON_NUM_THREADS"):
        env[var] = str(threads)
    return env


class Measured:
    """A finished child process: wall seconds, peak RSS, its output."""

    def __init__(self, wall: float, peak_rss: int, stdout: str, stderr: str):
        self.wall = wall
        self.peak_rss = peak_rss
        self.stdout = stdout
        self.stderr = stderr

    def json(self) -> dict:
        return json.loads(self.stdout.strip().splitlines()[-1])


# Starts the measured command from a fresh, small interpreter and reports its
# wall time and ru_maxrss. A child's ru_maxrss also counts the memory of the
# process it was spawned from (Linux carries the old address space's peak
# across exec), so spawning straight from this process, which holds NumPy,
# scikit-learn and the data, would add ~200 MB to every figure; from this
# launcher it adds nothing above the launcher's ~10 MB.
LAUNCHER = r"""
import json, os, sys, time
started = time.perf_counter()
pid = os.posix_spawnp(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as fh:
    json.dump({"wall": time.perf_counter() - started, "maxrss_kib": usage.ru_maxrss,
               "exit": os.waitstatus_to_exitcode(status)}, fh)
"""


def run_measured(cmd: list[str], env: dict | None = None) -> Measured:
    """Runs `cmd` to completion and returns its wall time, its peak resident
    memory (the child's ru_maxrss from os.wait4) and its output."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(suffix=".json") as result:
        subprocess.run([sys.executable, "-I", "-S", "-c", LAUNCHER, result.name, *cmd],
                       stdout=out, stderr=err, env=env, check=True)
        with open(result.name) as fh:
            r = json.load(fh)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    if r["exit"] != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} ... exited with {r['exit']}:\n"
                           f"{stderr[-3000:]}")
    return Measured(r["wall"], r["maxrss_kib"] * 1024, stdout, stderr)


# --------------------------------------------------------------------------
# Data and initial parameters.


def columns(d: int) -> list[str]:
    return [f"x{j}" for j in range(d)]


def dataset(rows: int, d: int, k: int, seed: int, data_dir: str = DATA_DIR) -> dict:
    """Parquet directory and .npy array of a K-component mixture, made once."""
    import numpy as np
    import pyarrow.dataset as pads

    base = os.path.join(data_dir, f"mixture-n{rows}-d{d}-k{k}-s{seed}")
    parquet = os.path.join(base, "parquet")
    npy = os.path.join(base, "x.npy")
    if not os.path.exists(os.path.join(parquet, "_mixture.json")):
        shutil.rmtree(parquet, ignore_errors=True)
        print(f"generating {parquet} ...", file=sys.stderr)
        maker = os.path.join(ROOT, "scripts", "make_synthetic.py")
        if os.path.exists(maker):
            subprocess.run([sys.executable, maker, "--rows", str(rows), "--columns", str(d),
                            "--components", str(k), "--seed", str(seed), "--out", parquet,
                            "--quiet"], check=True)
        else:
            write_mixture(parquet, rows, d, k, seed)
    if not os.path.exists(npy):
        table = pads.dataset(parquet, format="parquet").to_table(columns=columns(d))
        x = np.empty((table.num_rows, d))
        for j, col in enumerate(table.columns):
            x[:, j] = col.to_numpy()
        tmp = npy + ".tmp.npy"
        np.save(tmp, x)
        os.replace(tmp, npy)
    return {"parquet": parquet, "npy": npy, "rows": rows, "d": d, "k": k, "seed": seed,
            "data_bytes": rows * d * 8}


def write_mixture(out: str, rows: int, d: int, k: int, seed: int) -> None:
    """A stand-in for scripts/make_synthetic.py: the same layout (x0.., id,
    component; _mixture.json written last)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(seed)
    weights = rng.dirichlet(np.full(k, 4.0))
    means = rng.normal(0.0, 3.0, size=(k, d))
    chols = []
    for _ in range(k):
        a = rng.normal(size=(d, d)) / np.sqrt(d)
        chols.append(np.linalg.cholesky(a @ a.T + 0.1 * np.eye(d)))
    comp = rng.choice(k, size=rows, p=weights)
    x = rng.standard_normal((rows, d))
    for c in range(k):
        x[comp == c] = means[c] + x[comp == c] @ chols[c].T
    cols = {f"x{j}": x[:, j] for j in range(d)}
    cols["id"] = np.arange(rows, dtype=np.int64)
    cols["component"] = comp.astype(np.int32)
    pq.write_table(pa.table(cols), os.path.join(out, "part-00000.parquet"),
                   row_group_size=131_072)
    with open(os.path.join(out, "_mixture.json"), "w") as fh:
        json.dump({"rows": rows, "components": k, "seed": seed}, fh)


def n_parameters(cov: str, k: int, d: int) -> int:
    per = {"full": k * d * (d + 1) // 2, "diag": k * d, "spherical": k,
           "tied": d * (d + 1) // 2}[cov]
    return per + k * d + k - 1


def initial_parameters(data: dict, cov: str, seed: int, workdir: str) -> dict:
    """The same start for both tools: init.json (a gmm model file) and
    init.npz (scikit-learn's weights_init, means_init, precisions_init)."""
    import numpy as np
    from scipy.linalg import solve_triangular

    x = np.load(data["npy"], mmap_mode="r")
    n, d = x.shape
    k = data["k"]
    rng = np.random.default_rng([seed, 1])
    means = np.array(x[np.sort(rng.choice(n, size=k, replace=False))])
    sample = np.asarray(x[:: max(1, n // 200_000)])
    c = np.cov(sample, rowvar=False, bias=True).reshape(d, d)
    var = np.diag(c).copy()
    weights = np.full(k, 1.0 / k)

    def prec_chol(s):  # scikit-learn's _compute_precision_cholesky for one matrix
        return solve_triangular(np.linalg.cholesky(s), np.eye(d), lower=True).T

    if cov == "full":
        covariances = np.repeat(c[None], k, axis=0)
        precisions = np.repeat(np.linalg.inv(c)[None], k, axis=0)
        pchol = np.repeat(prec_chol(c)[None], k, axis=0)
    elif cov == "tied":
        covariances, precisions, pchol = c, np.linalg.inv(c), prec_chol(c)
    elif cov == "diag":
        covariances = np.tile(var, (k, 1))
        precisions, pchol = 1.0 / covariances, 1.0 / np.sqrt(covariances)
    elif cov == "spherical":
        covariances = np.full(k, var.mean())
        precisions, pchol = 1.0 / covariances, 1.0 / np.sqrt(covariances)
    else:
        raise SystemExit(f"unknown covariance type {cov}")
    model = {
        "format": "gmm-model", "version": 1, "covariance_type": cov,
        "columns": columns(d), "weights": weights.tolist(), "means": means.tolist(),
        "covariances": covariances.tolist(), "precisions_cholesky": pchol.tolist(),
        "mean_log_likelihood": 0.0, "n_iter": 0, "converged": False, "bic": 0.0,
        "aic": 0.0, "n_rows": n, "n_parameters": n_parameters(cov, k, d),
        "reg_covar": REG_COVAR,
    }
    init_json = os.path.join(workdir, f"init-{cov}.json")
    with open(init_json, "w") as fh:
        json.dump(model, fh)
    init_npz = os.path.join(workdir, f"init-{cov}.npz")
    np.savez(init_npz, weights=weights, means=means, precisions=precisions,
             covariances=covariances)
    return {"json": init_json, "npz": init_npz}


# --------------------------------------------------------------------------
# The two tools, each in its own process.


def gmm_iteration(binary: str, data: dict, cov: str, init: dict, threads: int,
                  iterations: int, workdir: str, reg_covar: float = REG_COVAR) -> dict:
    out = tempfile.mkdtemp(prefix="gmm-run-", dir=workdir)
    cmd = [binary, "fit", "--input", data["parquet"], "--columns", ",".join(columns(data["d"])),
           "-k", str(data["k"]), "--covariance", cov, "--reg-covar", repr(reg_covar),
           "--init-model", init["json"], "--tol", "0", "--max-iter", str(iterations),
           "--n-init", "1", "--threads", str(threads), "--out", out, "--no-plots", "--quiet"]
    try:
        m = run_measured(cmd, thread_env(threads))
        with open(os.path.join(out, "run.json")) as fh:
            run = json.load(fh)
        with open(os.path.join(out, "trace.csv")) as fh:
            last_pass = float(fh.read().strip().splitlines()[-1].split(",")[-1])
    finally:
        shutil.rmtree(out, ignore_errors=True)
    t = run["timings_seconds"]
    return {"per_iteration": t["per_iteration"], "iterations": t["iterations"],
            "load": t["load"], "fit": t["fit"],
            # Of the returned model, and of the parameters the last pass started from.
            "mean_log_likelihood": run["result"]["mean_log_likelihood"],
            "lower_bound": last_pass,
            "n_iter": run["result"]["n_iter"], "threads": run["threads"],
            "wall": m.wall, "peak_rss": m.peak_rss}


def sklearn_iteration(data: dict, cov: str, init: dict, threads: int, iterations: int,
                      workdir: str, reg_covar: float = REG_COVAR) -> dict:
    spec = {"kind": "iteration", "npy": data["npy"], "init": init["npz"], "k": data["k"],
            "covariance": cov, "threads": threads, "iterations": iterations,
            "reg_covar": reg_covar}
    m = run_worker(spec, threads, workdir)
    return dict(m.json(), wall=m.wall, peak_rss=m.peak_rss)


def run_worker(spec: dict, threads: int, workdir: str) -> Measured:
    path = os.path.join(workdir, "worker.json")
    with open(path, "w") as fh:
        json.dump(spec, fh)
    return run_measured([sys.executable, os.path.abspath(__file__), "--worker", path],
                        thread_env(threads))


def worker(path: str) -> None:
    """Runs in the scikit-learn child process (thread variables already set)."""
    with open(path) as fh:
        spec = json.load(fh)
    started = time.perf_counter()
    import warnings

    import numpy as np
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture
    from threadpoolctl import threadpool_limits

    warnings.simplefilter("ignore", ConvergenceWarning)
    imported = time.perf_counter() - started
    threads = spec["threads"]
    if spec["kind"] == "iteration":
        x = np.load(spec["npy"])
        init = np.load(spec["init"])

        def fit(max_iter):
            gm = GaussianMixture(
                n_components=spec["k"], covariance_type=spec["covariance"], tol=0.0,
                reg_covar=spec.get("reg_covar", REG_COVAR), max_iter=max_iter, n_init=1,
                weights_init=init["weights"], means_init=init["means"],
                precisions_init=init["precisions"], random_state=0)
            t = time.perf_counter()
            gm.fit(x)
            return time.perf_counter() - t, gm

        n = spec["iterations"]
        with threadpool_limits(limits=threads):
            fit(1)  # warm-up: first-touch allocations, BLAS start-up
            t1, _ = fit(1)
            tn, gm = fit(n)
            score = gm.score(x)  # untimed: the returned model's mean log-likelihood
        print(json.dumps({"per_iteration": (tn - t1) / (n - 1), "t1": t1, "tn": tn,
                          "mean_log_likelihood": float(score),
                          "lower_bound": float(gm.lower_bound_),
                          "n_iter": int(gm.n_iter_), "imports": imported}))
    else:
        import pandas as pd
        import pyarrow as pa
        import pyarrow.parquet as pq

        phases = {"imports": imported}
        with threadpool_limits(limits=threads):
            t = time.perf_counter()
            cols = columns(spec["d"])
            df = pd.read_parquet(spec["parquet"], columns=cols + ["id"])
            x = df[cols].to_numpy(dtype=np.float64)
            ids = df["id"].to_numpy()
            del df
            phases["load"] = time.perf_counter() - t
            t = time.perf_counter()
            gm = GaussianMixture(
                n_components=spec["k"], covariance_type=spec["covariance"],
                n_init=spec["n_init"], init_params="kmeans", max_iter=spec["max_iter"],
                tol=spec["tol"], reg_covar=REG_COVAR, random_state=spec["seed"]).fit(x)
            phases["fit"] = time.perf_counter() - t
            t = time.perf_counter()
            proba = gm.predict_proba(x)
            phases["predict"] = time.perf_counter() - t
            t = time.perf_counter()
            out = {"id": ids, "component": proba.argmax(axis=1).astype(np.uint32),
                   "probability": proba.max(axis=1)}
            out.update({f"proba_{j}": proba[:, j] for j in range(spec["k"])})
            pq.write_table(pa.table(out), spec["out"])
            phases["write"] = time.perf_counter() - t
        print(json.dumps({"phases": phases, "mean_log_likelihood": float(gm.lower_bound_),
                          "n_iter": int(gm.n_iter_), "converged": bool(gm.converged_)}))


# --------------------------------------------------------------------------
# Machine, versions, formatting.


def machine_info(binary: str | None) -> dict:
    import numpy
    import pyarrow
    import pandas
    import scipy
    import sklearn
    import threadpoolctl

    lscpu = {}
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            key, _, value = line.partition(":")
            lscpu[key.strip()] = value.strip()
    except OSError:
        pass
    mem = 0
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024
    cores = lscpu.get("Core(s) per socket", "?")
    if lscpu.get("Socket(s)", "1").isdigit() and cores.isdigit():
        cores = str(int(cores) * int(lscpu["Socket(s)"]))

    def out(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT).stdout.strip()
        except OSError:
            return ""

    commit = out(["git", "rev-parse", "--short", "HEAD"])
    if out(["git", "status", "--porcelain", "--untracked-files=no"]):
        commit += " + uncommitted changes"
    blas = [f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture', '?')})"
            for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]
    return {
        "cpu": lscpu.get("Model name", platform.processor()),
        "cores": cores, "cpus": os.cpu_count(),
        "threads_per_core": lscpu.get("Thread(s) per core", "?"),
        "l3": lscpu.get("L3 cache", "?"), "memory_gib": mem / 2**30,
        "kernel": f"{platform.system()} {platform.release()}",
        "load_average": os.getloadavg(),
        "gmm": out([binary, "--version"]) if binary else "", "commit": commit,
        "rustc": out(["rustc", "--version"]), "python": platform.python_version(),
        "sklearn": sklearn.__version__, "numpy": numpy.__version__, "scipy": scipy.__version__,
        "pyarrow": pyarrow.__version__, "pandas": pandas.__version__,
        "blas": ", ".join(sorted(set(blas))) or "?",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def machine_markdown(info: dict) -> str:
    la = ", ".join(f"{x:.2f}" for x in info["load_average"])
    return (
        f"- Machine: {info['cpu']}, {info['cores']} cores ({info['cpus']} CPUs, "
        f"{info['threads_per_core']} thread(s) per core), L3 {info['l3']}, "
        f"{info['memory_gib']:.0f} GiB; {info['kernel']}; load average at start {la}\n"
        f"- gmm: {info['gmm']} (git {info['commit']}), {info['rustc']}\n"
        f"- Python {info['python']}: scikit-learn {info['sklearn']}, NumPy {info['numpy']} "
        f"({info['blas']}), SciPy {info['scipy']}, pyarrow {info['pyarrow']}, "
        f"pandas {info['pandas']}\n"
        f"- Date: {info['date']}\n")


def mb(nbytes: float) -> str:
    return f"{nbytes / 1e6:,.0f} MB"


def seconds(s: float) -> str:
    return f"{s:.4f}" if s < 1 else f"{s:.3f}" if s < 100 else f"{s:.1f}"


def median(values):
    return statistics.median(values)


def parse_threads(text: str) -> list[int]:
    out = []
    for part in text.split(","):
        part = part.strip()
        out.append(os.cpu_count() or 1 if part == "all" else int(part))
    return out


# --------------------------------------------------------------------------
# The modes.


def iteration_mode(args, binary: str, info: dict, workdir: str) -> tuple[str, dict]:
    shapes = GRIDS[args.grid] if args.grid else [(args.rows, args.d, args.k, args.covariance)]
    threads = parse_threads(args.threads)
    results = []
    for rows, d, k, cov in shapes:
        data = dataset(rows, d, k, args.seed)
        init = initial_parameters(data, cov, args.seed, workdir)
        for t in threads:
            runs = []
            for r in range(args.repeat):
                g = gmm_iteration(binary, data, cov, init, t, args.iterations, workdir)
                s = sklearn_iteration(data, cov, init, t, args.iterations, workdir)
                runs.append({"gmm": g, "sklearn": s})
                print(f"{rows} x {d}, K={k}, {cov}, {t} thread(s), run {r + 1}/{args.repeat}: "
                      f"gmm {g['per_iteration']:.4f} s/iter, sklearn {s['per_iteration']:.4f} "
                      f"s/iter ({s['per_iteration'] / g['per_iteration']:.1f}x)",
                      file=sys.stderr)
            g_it = median(r["gmm"]["per_iteration"] for r in runs)
            s_it = median(r["sklearn"]["per_iteration"] for r in runs)
            g, s = runs[-1]["gmm"], runs[-1]["sklearn"]
            g_ll, s_ll = g["mean_log_likelihood"], s["mean_log_likelihood"]
            # Both the returned models' and the last passes' log-likelihoods.
            rel = max(abs(g[key] - s[key]) / max(1.0, abs(s[key]))
                      for key in ("mean_log_likelihood", "lower_bound"))
            results.append({
                "rows": rows, "d": d, "k": k, "covariance": cov, "threads": t,
                "iterations": args.iterations, "data_bytes": data["data_bytes"],
                "gmm_per_iteration": g_it, "sklearn_per_iteration": s_it,
                "speedup": s_it / g_it,
                "gmm_peak_rss": median(r["gmm"]["peak_rss"] for r in runs),
                "sklearn_peak_rss": median(r["sklearn"]["peak_rss"] for r in runs),
                "gmm_mean_log_likelihood": g_ll, "sklearn_mean_log_likelihood": s_ll,
                "log_likelihood_rel_diff": rel, "agree": rel <= 1e-6,
                "runs": runs,
            })
    raw = {"mode": "iteration", "machine": info, "argv": sys.argv[1:],
           "iterations": args.iterations, "repeat": args.repeat, "results": results}
    return iteration_report(raw), raw


def iteration_report(raw: dict) -> str:
    """The markdown report of iteration mode's results."""
    results, n, repeat = raw["results"], raw["iterations"], raw["repeat"]
    # scikit-learn's best time for a shape at up to T threads: its BLAS threads
    # spin, and lose badly when the machine has no idle core for them.
    best = {}
    for r in results:
        shape = (r["rows"], r["d"], r["k"], r["covariance"])
        best[shape, r["threads"]] = min(
            [r["sklearn_per_iteration"]]
            + [v for (sh, t), v in best.items() if sh == shape and t < r["threads"]])
    several = len({r["threads"] for r in results}) > 1
    lines = ["# gmm vs scikit-learn: seconds per EM iteration", "",
             f"`{shlex.join(['scripts/bench_vs_sklearn.py', *raw['argv']])}`", "",
             machine_markdown(raw["machine"]),
             f"Each tool starts from the same parameters and runs {n} iterations "
             f"with tol = 0, reg_covar = 1e-6; seconds per iteration are the mean of "
             f"iterations 2..{n} (scikit-learn: (t_{n} - t_1) / "
             f"{n - 1}), the median of {repeat} runs per tool, alternating, "
             "each run in its own process. Speed-up = scikit-learn / gmm"
             + ("; against scikit-learn's best: its fastest median at this many threads or "
                "fewer" if several else "") + ". Peak RSS is the "
             "process's maximum resident memory (gmm reads the Parquet file, scikit-learn a "
             "NumPy .npy copy of it). Log-likelihoods are the returned models' mean "
             "log-likelihoods per row; rel. diff is the larger relative difference of those and "
             "of the last passes' (scikit-learn's lower_bound_), and must be <= 1e-6.", "",
             "| rows | d | K | covariance | threads | gmm s/iter | scikit-learn s/iter "
             "| speed-up |" + (" against scikit-learn's best |" if several else "")
             + " gmm peak RSS | scikit-learn peak RSS | data | gmm log-lik "
             "| scikit-learn log-lik | rel. diff |",
             "|---:|---:|---:|---|---:|---:|---:|---:|" + ("---:|" if several else "")
             + "---:|---:|---:|---:|---:|---:|"]
    for r in results:
        shape = (r["rows"], r["d"], r["k"], r["covariance"])
        against_best = (f" {best[shape, r['threads']] / r['gmm_per_iteration']:.1f}x |"
                        if several else "")
        lines.append(
            f"| {r['rows']:,} | {r['d']} | {r['k']} | {r['covariance']} | {r['threads']} "
            f"| {seconds(r['gmm_per_iteration'])} | {seconds(r['sklearn_per_iteration'])} "
            f"| **{r['speedup']:.1f}x** |{against_best} {mb(r['gmm_peak_rss'])} "
            f"| {mb(r['sklearn_peak_rss'])} "
            f"| {mb(r['data_bytes'])} | {r['gmm_mean_log_likelihood']:.10g} "
            f"| {r['sklearn_mean_log_likelihood']:.10g} | {r['log_likelihood_rel_diff']:.1e}"
            f"{'' if r['agree'] else ' (DISAGREE)'} |")
    lines += ["", "## Every run", "",
              "| rows | d | K | covariance | threads | run | gmm s/iter | gmm median iteration "
              "| gmm last iteration | scikit-learn s/iter | scikit-learn t_1 | scikit-learn t_N "
              "| gmm wall | gmm peak RSS | scikit-learn peak RSS |",
              "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        for i, run in enumerate(r["runs"]):
            g, s = run["gmm"], run["sklearn"]
            lines.append(
                f"| {r['rows']:,} | {r['d']} | {r['k']} | {r['covariance']} | {r['threads']} "
                f"| {i + 1} | {seconds(g['per_iteration'])} | {seconds(median(g['iterations']))} "
                f"| {seconds(g['iterations'][-1])} | {seconds(s['per_iteration'])} "
                f"| {seconds(s['t1'])} | {seconds(s['tn'])} | {seconds(g['wall'])} "
                f"| {mb(g['peak_rss'])} | {mb(s['peak_rss'])} |")
    return "\n".join(lines) + "\n"


def gmm_end_to_end(binary: str, data: dict, args, threads: int, tag: str,
                   workdir: str) -> dict:
    """One end-to-end gmm job from a generated config file, as a pipeline
    would run it; its wall time, peak RSS, phases and result."""
    out = os.path.join(workdir, f"gmm-e2e-{tag}")
    config = os.path.join(workdir, f"e2e-{tag}.toml")
    with open(config, "w") as fh:
        fh.write(
            f'[data]\ninput = "{data["parquet"]}"\ncolumns = ["x*"]\nid_column = "id"\n\n'
            f'[model]\ncomponents = {args.k}\ncovariance = "{args.covariance}"\n'
            f"reg_covar = {REG_COVAR}\n\n"
            f'[fit]\ninit = "kmeans"\nn_init = {args.n_init}\nmax_iter = {args.max_iter}\n'
            f"tol = {args.tol}\nseed = {args.seed}\nthreads = {threads}\n\n"
            f'[output]\ndir = "{out}"\npredictions_format = "parquet"\nplots = false\n')
    m = run_measured([binary, "fit", config, "--quiet"], thread_env(threads))
    with open(os.path.join(out, "run.json")) as fh:
        run = json.load(fh)
    shutil.rmtree(out, ignore_errors=True)
    ts = run["timings_seconds"]
    best = run["restarts"][run["best_restart"]]
    return {"wall": m.wall, "peak_rss": m.peak_rss,
            "phases": {"load": ts["load"], "fit": ts["fit"],
                       "predict": ts["predictions"], "write": ts["write"]},
            "initialization": ts.get("initialization"),
            # The last pass's, as scikit-learn's lower_bound_.
            "mean_log_likelihood": best["final_mean_log_likelihood"],
            "n_iter": best["n_iter"], "converged": best["converged"],
            "total_iterations": sum(x["n_iter"] for x in run["restarts"])}


def sklearn_end_to_end(data: dict, args, threads: int, tag: str, workdir: str,
                       runner=None, prefix: str = "sklearn") -> dict:
    """The same job in Python: pandas/pyarrow in, NumPy, GaussianMixture,
    pyarrow out (or another tool's job, run by another script's `runner`)."""
    pred = os.path.join(workdir, f"{prefix}-e2e-{tag}.parquet")
    spec = {"kind": "end-to-end", "parquet": data["parquet"], "d": args.d,
            "k": args.k, "covariance": args.covariance, "n_init": args.n_init,
            "max_iter": args.max_iter, "tol": args.tol, "seed": args.seed,
            "threads": threads, "out": pred}
    m = (runner or run_worker)(spec, threads, workdir)
    if os.path.exists(pred):
        os.remove(pred)
    return dict(m.json(), wall=m.wall, peak_rss=m.peak_rss)


def end_to_end_mode(args, binary: str, info: dict, workdir: str) -> tuple[str, dict]:
    data = dataset(args.rows, args.d, args.k, args.seed)
    threads = parse_threads(args.threads)
    results = []
    for t in threads:
        runs = []
        for r in range(args.repeat):
            g = gmm_end_to_end(binary, data, args, t, f"{t}-{r}", workdir)
            s = sklearn_end_to_end(data, args, t, f"{t}-{r}", workdir)
            runs.append({"gmm": g, "sklearn": s})
            print(f"end-to-end, {t} thread(s), run {r + 1}/{args.repeat}: gmm {g['wall']:.1f} s, "
                  f"sklearn {s['wall']:.1f} s ({s['wall'] / g['wall']:.1f}x)", file=sys.stderr)
        gw = median(x["gmm"]["wall"] for x in runs)
        sw = median(x["sklearn"]["wall"] for x in runs)
        results.append({"threads": t, "gmm_wall": gw, "sklearn_wall": sw, "speedup": sw / gw,
                        "runs": runs})

    lines = ["# gmm vs scikit-learn: a whole job, end to end", "",
             f"`{shlex.join(['scripts/bench_vs_sklearn.py', *sys.argv[1:]])}`", "",
             machine_markdown(info),
             f"The job: {args.rows:,} rows x {args.d} float64 columns in Parquet "
             f"({mb(data['data_bytes'])} of data), K = {args.k}, {args.covariance} covariances, "
             f"{args.n_init} restarts from k-means, up to {args.max_iter} iterations, "
             f"tol = {args.tol:g}, per-row posterior probabilities written as Parquet. Wall "
             "time is the whole process (scikit-learn's includes Python's start and imports), "
             f"the median of {args.repeat} run(s) per tool. gmm: `gmm fit CONFIG` (plots off); "
             "scikit-learn: `pandas.read_parquet` -> NumPy -> `GaussianMixture(n_init="
             f"{args.n_init}, init_params='kmeans').fit` -> `predict_proba` -> "
             "`pyarrow.parquet.write_table`. Other = wall - the four phases (process start, "
             "imports, model and run files). Final mean log-likelihood: the best restart's "
             "last pass (scikit-learn's lower_bound_); the restarts start differently, so they "
             "agree only roughly.", "",
             "| threads | gmm wall s | scikit-learn wall s | speed-up | gmm peak RSS "
             "| scikit-learn peak RSS |",
             "|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(
            f"| {r['threads']} | {r['gmm_wall']:.1f} | {r['sklearn_wall']:.1f} "
            f"| **{r['speedup']:.1f}x** | {mb(median(x['gmm']['peak_rss'] for x in r['runs']))} "
            f"| {mb(median(x['sklearn']['peak_rss'] for x in r['runs']))} |")
    lines += ["", "## Every run", "",
              "| threads | run | tool | wall s | load | fit | predict | write | other "
              "| peak RSS | final mean log-lik | iterations (best restart) | converged |",
              "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in results:
        for i, run in enumerate(r["runs"]):
            for tool in ("gmm", "sklearn"):
                x = run[tool]
                p = x["phases"]
                iters = str(x["n_iter"])
                if tool == "gmm":
                    iters += f" ({x['total_iterations']} over all restarts)"
                lines.append(
                    f"| {r['threads']} | {i + 1} | {'scikit-learn' if tool == 'sklearn' else tool} "
                    f"| {x['wall']:.1f} | {p['load']:.2f} | {p['fit']:.2f} | {p['predict']:.2f} "
                    f"| {p['write']:.2f} "
                    f"| {x['wall'] - sum(p[q] for q in ('load', 'fit', 'predict', 'write')):.2f} "
                    f"| {mb(x['peak_rss'])} | {x['mean_log_likelihood']:.8g} "
                    f"| {iters} | {x['converged']} |")
    return "\n".join(lines) + "\n", {"mode": "end-to-end", "machine": info,
                                     "rows": args.rows, "d": args.d, "k": args.k,
                                     "covariance": args.covariance, "results": results}


def parser(doc: str, grids: dict) -> argparse.ArgumentParser:
    """The command line of this script and of its siblings."""
    p = argparse.ArgumentParser(description=doc,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", nargs="?", default="iteration", choices=["iteration", "end-to-end"])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--d", "--columns", dest="d", type=int, default=16)
    p.add_argument("--k", "--components", dest="k", type=int, default=8)
    p.add_argument("--covariance", default="full",
                   choices=["full", "diag", "spherical", "tied"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--grid", choices=sorted(grids),
                   help="iteration mode: several shapes (instead of --rows/--d/--k/--covariance)")
    p.add_argument("--threads", default="1",
                   help="thread counts, comma-separated; 'all' = every CPU (default 1)")
    p.add_argument("--iterations", type=int, default=10,
                   help="iteration mode: EM iterations per fit (default 10, at least 2)")
    p.add_argument("--n-init", type=int, default=10, help="end-to-end: restarts (default 10)")
    p.add_argument("--max-iter", type=int, default=100, help="end-to-end (default 100)")
    p.add_argument("--tol", type=float, default=1e-3, help="end-to-end (default 1e-3)")
    p.add_argument("--repeat", type=int, default=3, help="runs per tool (median reported)")
    p.add_argument("--gmm", help="the gmm binary (default target/release/gmm, built if absent)")
    p.add_argument("--build", action="store_true", help="run cargo build --release first")
    p.add_argument("--gmm-source", metavar="TEXT",
                   help="where the gmm binary was built from, for the report (default: this "
                        "checkout's commit, and whether it has uncommitted changes)")
    p.add_argument("--out", metavar="FILE", help="also write the markdown report to FILE")
    p.add_argument("--json", metavar="FILE", help="write the raw results as JSON to FILE")
    p.add_argument("--render", metavar="FILE",
                   help="print (and --out) the report of an earlier iteration-mode --json "
                        "file, measuring nothing")
    return p


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 2 and argv[0] == "--worker":
        worker(argv[1])
        return 0
    p = parser(__doc__, GRIDS)
    args = p.parse_args(argv)
    if args.render:
        with open(args.render) as fh:
            report = iteration_report(json.load(fh))
        print(report)
        if args.out:
            with open(args.out, "w") as fh:
                fh.write(report)
        return 0
    if args.iterations < 2:
        p.error("--iterations must be at least 2")
    if args.repeat < 1:
        p.error("--repeat must be at least 1")

    binary = gmm_binary(args.gmm, args.build)
    info = machine_info(binary)
    if args.gmm_source:
        info["commit"] = args.gmm_source
    os.makedirs(DATA_DIR, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="work-", dir=DATA_DIR) as workdir:
        if args.mode == "iteration":
            report, raw = iteration_mode(args, binary, info, workdir)
        else:
            report, raw = end_to_end_mode(args, binary, info, workdir)
    print(report)
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as fh:
            fh.write(report)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(raw, fh, indent=1)
    return 0


if __name__ == "__main__":
    if not (len(sys.argv) == 3 and sys.argv[1] == "--worker"):
        bootstrap(__file__, sys.argv[1:])
    sys.exit(main())
