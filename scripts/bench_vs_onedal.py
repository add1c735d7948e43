#!/usr/bin/env python3
"""gmm, scikit-learn and Intel's oneDAL side by side on the same data and cores.

    python3 scripts/bench_vs_onedal.py                              # 1M x 16, K=8, full, 1 thread
    python3 scripts/bench_vs_onedal.py --grid issue --threads 1,2 --out docs/bench/vs-onedal.md
    python3 scripts/bench_vs_onedal.py end-to-end --threads 2 --out docs/bench/vs-onedal-end-to-end.md

A sibling of scripts/bench_vs_sklearn.py: the same data (cached under
target/bench-data/), the same start, the same measuring of each run in its own
process; this adds oneDAL, the C++ EM of `daal4py.em_gmm` shipped in the
`scikit-learn-intelex` package (pinned in scripts/requirements-bench.txt; x86-64
only). It sets up .venv as its sibling does.

Mode `iteration` (default): seconds per EM iteration from the same initial
  parameters (K random rows as means, the data's covariance for every
  component, equal weights), 10 iterations with tol = 0. oneDAL has full and
  diagonal covariances only (other shapes show n/a for it). oneDAL adds no
  reg_covar to the diagonal (it regularizes only a covariance that is
  ill-conditioned), so all three tools run with reg_covar = 0 here: then they
  compute the same iterates, and their log-likelihoods agree to ~1e-12.
  - gmm: `gmm fit --init-model ... --tol 0 --max-iter N`; run.json's
    timings_seconds.per_iteration (mean of iterations 2..N);
  - scikit-learn: GaussianMixture(..., tol=0), (t_N - t_1) / (N - 1) after a
    warm-up fit;
  - oneDAL: `em_gmm(nComponents=K, maxIterations=N, accuracyThreshold=0,
    covarianceStorage="full"|"diagonal")` after `daalinit(T)`, timed as
    scikit-learn is. Its log-likelihood is scikit-learn's score() of the
    parameters it returns (its goalFunction is a sum, of another pass).
  Reported: the medians over --repeat runs, gmm's speed-up over each, and the
  three mean log-likelihoods with their largest relative difference
  (must be <= 1e-6).

Mode `end-to-end`: a realistic job, each tool with its own default start.
  Parquet in, K components, 10 restarts, up to 100 iterations at tol = 1e-3,
  posterior probabilities out as Parquet. gmm: `gmm fit CONFIG` (k-means
  starts); scikit-learn: GaussianMixture(n_init=10, init_params="kmeans");
  oneDAL: pandas in, `em_gmm_init(nTrials=10)` (its own start: short EM runs
  from random rows, the best kept), `em_gmm(maxIterations=100,
  accuracyThreshold=tol x rows)` (its threshold is on the summed
  log-likelihood), posteriors from scikit-learn's predict_proba on oneDAL's
  parameters, pyarrow out. Reported: wall time per process and per phase
  (initialization separately where the tool reports it), peak RSS and the
  final mean log-likelihood of each.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_vs_sklearn as base  # noqa: E402

MODULES = base.MODULES + ("daal4py",)
STORAGE = {"full": "full", "diag": "diagonal"}
GRIDS = {
    "quick": [(100_000, 2, 2, "full"), (100_000, 16, 8, "full"), (100_000, 16, 8, "diag")],
    # The shapes of the speed issue: small d, diagonal, and full at d = 16 and 64.
    "issue": [
        (1_000_000, 2, 2, "full"),
        (1_000_000, 2, 8, "full"),
        (1_000_000, 16, 8, "full"),
        (1_000_000, 16, 8, "diag"),
        (200_000, 64, 16, "full"),
    ],
}


# --------------------------------------------------------------------------
# oneDAL, in its own process.


def onedal_iteration(data: dict, cov: str, init: dict, threads: int, iterations: int,
                     workdir: str) -> dict:
    spec = {"kind": "iteration", "npy": data["npy"], "init": init["npz"], "k": data["k"],
            "covariance": cov, "threads": threads, "iterations": iterations}
    m = run_worker(spec, threads, workdir)
    return dict(m.json(), wall=m.wall, peak_rss=m.peak_rss)


def run_worker(spec: dict, threads: int, workdir: str) -> base.Measured:
    path = os.path.join(workdir, "onedal-worker.json")
    with open(path, "w") as fh:
        json.dump(spec, fh)
    return base.run_measured([sys.executable, os.path.abspath(__file__), "--worker", path],
                             base.thread_env(threads))


def sklearn_model(k: int, cov: str, weights, means, covariances):
    """A fitted GaussianMixture holding oneDAL's parameters, to score them."""
    import numpy as np
    from sklearn.mixture import GaussianMixture
    from sklearn.mixture._gaussian_mixture import _compute_precision_cholesky

    d = means.shape[1]
    gm = GaussianMixture(k, covariance_type=cov)
    gm.weights_ = np.asarray(weights).ravel()
    gm.means_ = np.asarray(means)
    shape = (k, d, d) if cov == "full" else (k, d)
    gm.covariances_ = np.array([np.asarray(c) for c in covariances]).reshape(shape)
    gm.precisions_cholesky_ = _compute_precision_cholesky(gm.covariances_, cov)
    return gm


def worker(path: str) -> None:
    """Runs in the oneDAL child process (thread variables already set)."""
    with open(path) as fh:
        spec = json.load(fh)
    started = time.perf_counter()
    import daal4py
    import numpy as np

    imported = time.perf_counter() - started
    daal4py.daalinit(spec["threads"])
    k, cov = spec["k"], spec["covariance"]
    if spec["kind"] == "iteration":
        x = np.ascontiguousarray(np.load(spec["npy"]))
        init = np.load(spec["init"])
        d = x.shape[1]
        weights = init["weights"].reshape(1, k)
        means = np.ascontiguousarray(init["means"])
        covs = [np.ascontiguousarray(c if cov == "full" else c.reshape(1, d))
                for c in init["covariances"]]

        def fit(max_iter):
            algo = daal4py.em_gmm(nComponents=k, maxIterations=max_iter, accuracyThreshold=0.0,
                                  covarianceStorage=STORAGE[cov])
            t = time.perf_counter()
            result = algo.compute(x, weights, means, covs)
            return time.perf_counter() - t, result

        n = spec["iterations"]
        fit(1)  # warm-up: first-touch allocations, thread start-up
        t1, _ = fit(1)
        tn, result = fit(n)
        gm = sklearn_model(k, cov, result.weights, result.means, result.covariances)
        print(json.dumps({"per_iteration": (tn - t1) / (n - 1), "t1": t1, "tn": tn,
                          "mean_log_likelihood": float(gm.score(x)),
                          "n_iter": int(np.asarray(result.nIterations).ravel()[0]),
                          "imports": imported}))
        return
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    phases = {"imports": imported}
    t = time.perf_counter()
    cols = base.columns(spec["d"])
    df = pd.read_parquet(spec["parquet"], columns=cols + ["id"])
    x = np.ascontiguousarray(df[cols].to_numpy(dtype=np.float64))
    ids = df["id"].to_numpy()
    del df
    phases["load"] = time.perf_counter() - t
    t = time.perf_counter()
    init = daal4py.em_gmm_init(nComponents=k, nTrials=spec["n_init"],
                               covarianceStorage=STORAGE[cov],
                               engine=daal4py.engines_mt19937(seed=spec["seed"])).compute(x)
    phases["initialization"] = time.perf_counter() - t
    t = time.perf_counter()
    result = daal4py.em_gmm(
        nComponents=k, maxIterations=spec["max_iter"],
        accuracyThreshold=spec["tol"] * x.shape[0], covarianceStorage=STORAGE[cov],
    ).compute(x, init.weights, init.means, init.covariances)
    phases["em"] = time.perf_counter() - t
    phases["fit"] = phases["initialization"] + phases["em"]
    gm = sklearn_model(k, cov, result.weights, result.means, result.covariances)
    t = time.perf_counter()
    proba = gm.predict_proba(x)
    phases["predict"] = time.perf_counter() - t
    t = time.perf_counter()
    out = {"id": ids, "component": proba.argmax(axis=1).astype(np.uint32),
           "probability": proba.max(axis=1)}
    out.update({f"proba_{j}": proba[:, j] for j in range(k)})
    pq.write_table(pa.table(out), spec["out"])
    phases["write"] = time.perf_counter() - t
    n_iter = int(np.asarray(result.nIterations).ravel()[0])
    print(json.dumps({"phases": phases, "mean_log_likelihood": float(gm.score(x)),
                      "n_iter": n_iter, "converged": n_iter < spec["max_iter"]}))


# --------------------------------------------------------------------------
# The modes.


def versions(info: dict) -> str:
    import daal4py

    version = getattr(daal4py, "__version__", None)
    if not version:
        from importlib.metadata import version as dist_version
        version = dist_version("scikit-learn-intelex")
    return base.machine_markdown(info) + f"- oneDAL: daal4py {version} (scikit-learn-intelex)\n"


def iteration_mode(args, binary: str, info: dict, workdir: str) -> tuple[str, dict]:
    shapes = GRIDS[args.grid] if args.grid else [(args.rows, args.d, args.k, args.covariance)]
    results = []
    for rows, d, k, cov in shapes:
        data = base.dataset(rows, d, k, args.seed)
        init = base.initial_parameters(data, cov, args.seed, workdir)
        for t in base.parse_threads(args.threads):
            runs = []
            for r in range(args.repeat):
                run = {"gmm": base.gmm_iteration(binary, data, cov, init, t, args.iterations,
                                                 workdir, reg_covar=0.0),
                       "sklearn": base.sklearn_iteration(data, cov, init, t, args.iterations,
                                                         workdir, reg_covar=0.0)}
                if cov in STORAGE:
                    run["onedal"] = onedal_iteration(data, cov, init, t, args.iterations,
                                                     workdir)
                runs.append(run)
                print(f"{rows} x {d}, K={k}, {cov}, {t} thread(s), run {r + 1}/{args.repeat}: "
                      + ", ".join(f"{tool} {x['per_iteration']:.4f}" for tool, x in run.items())
                      + " s/iter", file=sys.stderr)
            entry = {"rows": rows, "d": d, "k": k, "covariance": cov, "threads": t,
                     "runs": runs}
            lls = {}
            for tool in runs[0]:
                entry[f"{tool}_per_iteration"] = base.median(x[tool]["per_iteration"]
                                                             for x in runs)
                entry[f"{tool}_peak_rss"] = base.median(x[tool]["peak_rss"] for x in runs)
                lls[tool] = runs[-1][tool]["mean_log_likelihood"]
                entry[f"{tool}_mean_log_likelihood"] = lls[tool]
            ref = lls["sklearn"]
            entry["log_likelihood_rel_diff"] = max(abs(v - ref) / max(1.0, abs(ref))
                                                   for v in lls.values())
            results.append(entry)
    raw = {"mode": "iteration", "machine": info, "versions": versions(info),
           "argv": sys.argv[1:], "iterations": args.iterations, "repeat": args.repeat, "results": results}
    return iteration_report(raw), raw


def iteration_report(raw: dict) -> str:
    n, repeat = raw["iterations"], raw["repeat"]
    lines = ["# gmm vs oneDAL vs scikit-learn: seconds per EM iteration", "",
             f"`{shlex.join(['scripts/bench_vs_onedal.py', *raw['argv']])}`", "",
             raw["versions"],
             f"Each tool starts from the same parameters and runs {n} iterations with tol = 0 "
             "and reg_covar = 0 (oneDAL adds none); seconds per iteration are the mean of "
             f"iterations 2..{n} (oneDAL and scikit-learn: (t_{n} - t_1) / {n - 1}), the "
             f"median of {repeat} runs per tool, alternating, each run in its own process. "
             "Speed-up = the other tool's time / gmm's. Log-likelihoods are the returned "
             "models' mean log-likelihood per row (oneDAL's scored by scikit-learn); rel. diff "
             "is the largest relative difference of gmm's and oneDAL's from scikit-learn's, "
             "and must be <= 1e-6. "
             "oneDAL has no spherical or tied covariances.", "",
             "| rows | d | K | covariance | threads | gmm s/iter | oneDAL s/iter "
             "| scikit-learn s/iter | vs oneDAL | vs scikit-learn | gmm peak RSS "
             "| oneDAL peak RSS | gmm log-lik | oneDAL log-lik | scikit-learn log-lik "
             "| rel. diff |",
             "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in raw["results"]:
        g, o = r["gmm_per_iteration"], r.get("onedal_per_iteration")
        dal = {"time": "n/a", "speedup": "n/a", "rss": "n/a", "ll": "n/a"}
        if o is not None:
            dal = {"time": base.seconds(o), "speedup": f"**{o / g:.2f}x**",
                   "rss": base.mb(r["onedal_peak_rss"]),
                   "ll": f"{r['onedal_mean_log_likelihood']:.10g}"}
        diff = r["log_likelihood_rel_diff"]
        lines.append(
            f"| {r['rows']:,} | {r['d']} | {r['k']} | {r['covariance']} | {r['threads']} "
            f"| {base.seconds(g)} | {dal['time']} | {base.seconds(r['sklearn_per_iteration'])} "
            f"| {dal['speedup']} | {r['sklearn_per_iteration'] / g:.1f}x "
            f"| {base.mb(r['gmm_peak_rss'])} | {dal['rss']} "
            f"| {r['gmm_mean_log_likelihood']:.10g} | {dal['ll']} "
            f"| {r['sklearn_mean_log_likelihood']:.10g} | {diff:.1e}"
            f"{'' if diff <= 1e-6 else ' (DISAGREE)'} |")
    lines += ["", "## Every run (seconds per iteration)", "",
              "| rows | d | K | covariance | threads | run | gmm | oneDAL | oneDAL t_1 "
              "| oneDAL t_N | scikit-learn |",
              "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in raw["results"]:
        for i, run in enumerate(r["runs"]):
            o = run.get("onedal")
            dal = (f"{base.seconds(o['per_iteration'])} | {base.seconds(o['t1'])} "
                   f"| {base.seconds(o['tn'])}") if o else "n/a | | "
            lines.append(
                f"| {r['rows']:,} | {r['d']} | {r['k']} | {r['covariance']} | {r['threads']} "
                f"| {i + 1} | {base.seconds(run['gmm']['per_iteration'])} | {dal} "
                f"| {base.seconds(run['sklearn']['per_iteration'])} |")
    return "\n".join(lines) + "\n"


def end_to_end_mode(args, binary: str, info: dict, workdir: str) -> tuple[str, dict]:
    data = base.dataset(args.rows, args.d, args.k, args.seed)
    results = []
    for t in base.parse_threads(args.threads):
        runs = []
        for r in range(args.repeat):
            tag = f"{t}-{r}"
            run = {"gmm": base.gmm_end_to_end(binary, data, args, t, tag, workdir),
                   "sklearn": base.sklearn_end_to_end(data, args, t, tag, workdir)}
            if args.covariance in STORAGE:
                run["onedal"] = base.sklearn_end_to_end(data, args, t, tag, workdir,
                                                        runner=run_worker, prefix="onedal")
            runs.append(run)
            print(f"end-to-end, {t} thread(s), run {r + 1}/{args.repeat}: "
                  + ", ".join(f"{tool} {x['wall']:.1f} s" for tool, x in run.items()),
                  file=sys.stderr)
        results.append({"threads": t, "runs": runs})
    names = {"gmm": "gmm", "onedal": "oneDAL", "sklearn": "scikit-learn"}
    lines = ["# gmm vs oneDAL vs scikit-learn: a whole job, end to end", "",
             f"`{shlex.join(['scripts/bench_vs_onedal.py', *sys.argv[1:]])}`", "",
             versions(info),
             f"The job: {args.rows:,} rows x {args.d} float64 columns in Parquet "
             f"({base.mb(data['data_bytes'])} of data), K = {args.k}, {args.covariance} "
             f"covariances, {args.n_init} restarts (oneDAL: trials) from each tool's own "
             f"default start, up to {args.max_iter} iterations at tol = {args.tol:g}, "
             "posterior probabilities written as Parquet. gmm: k-means starts, "
             "`gmm fit CONFIG`; scikit-learn: `GaussianMixture(init_params='kmeans')`; "
             "oneDAL: `em_gmm_init` (short EM runs from random rows) then `em_gmm`, posteriors "
             "by scikit-learn's predict_proba on its parameters. Wall time is the whole "
             f"process, the median of {args.repeat} run(s); phases from the last run "
             "(scikit-learn's fit includes its k-means). Log-likelihood: the best restart's "
             "final mean log-likelihood per row; the starts differ, so these agree only "
             "roughly.", "",
             "| threads | tool | wall s | vs gmm | load | initialization | fit (with "
             "initialization) | predict | write | peak RSS | mean log-lik | iterations |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        walls = {tool: base.median(x[tool]["wall"] for x in r["runs"]) for tool in r["runs"][0]}
        for tool, wall in walls.items():
            x = r["runs"][-1][tool]
            p = x["phases"]
            init = x.get("initialization", p.get("initialization"))
            lines.append(
                f"| {r['threads']} | {names[tool]} | {wall:.1f} | {wall / walls['gmm']:.1f}x "
                f"| {p['load']:.2f} | {f'{init:.2f}' if init is not None else 'in fit'} "
                f"| {p['fit']:.2f} | {p['predict']:.2f} | {p['write']:.2f} "
                f"| {base.mb(base.median(y[tool]['peak_rss'] for y in r['runs']))} "
                f"| {x['mean_log_likelihood']:.8g} | {x['n_iter']} |")
    return "\n".join(lines) + "\n", {"mode": "end-to-end", "machine": info,
                                     "results": results}


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 2 and argv[0] == "--worker":
        worker(argv[1])
        return 0
    p = base.parser(__doc__, GRIDS)
    args = p.parse_args(argv)
    if args.render:
        with open(args.render) as fh:
            raw = json.load(fh)
        if raw.get("mode") != "iteration":
            p.error("--render takes the --json file of an iteration-mode run")
        report = iteration_report(raw)
    else:
        if args.iterations < 2:
            p.error("--iterations must be at least 2")
        if args.repeat < 1:
            p.error("--repeat must be at least 1")
        binary = base.gmm_binary(args.gmm, args.build)
        info = base.machine_info(binary)
        if args.gmm_source:
            info["commit"] = args.gmm_source
        os.makedirs(base.DATA_DIR, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="work-", dir=base.DATA_DIR) as workdir:
            if args.mode == "iteration":
                report, raw = iteration_mode(args, binary, info, workdir)
            else:
                report, raw = end_to_end_mode(args, binary, info, workdir)
        if args.json:
            with open(args.json, "w") as fh:
                json.dump(raw, fh, indent=1)
    print(report)
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as fh:
            fh.write(report)
    return 0


if __name__ == "__main__":
    if not (len(sys.argv) == 3 and sys.argv[1] == "--worker"):
        base.bootstrap(__file__, sys.argv[1:], modules=MODULES)
    sys.exit(main())
