#!/usr/bin/env python3
"""`gmm select` with and without racing, against scikit-learn over the same grid.

    python3 scripts/bench_select.py                                # 100k x 16, K 1..10, 4 types
    python3 scripts/bench_select.py --rows 1000000 --sklearn-components 1,4,7,10 \\
        --out docs/bench/selection.md --json target/bench-data/select/results.json

It installs what it needs, as scripts/bench_vs_sklearn.py does (whose
helpers it imports): with any python3, when .venv is missing or incomplete,
it runs `bash scripts/setup_python.sh --bench` and re-executes itself with
.venv/bin/python. It uses target/release/gmm (built when absent; --gmm PATH
for another binary).

Data: a mixture of --true-k Gaussians with random full covariances
(scripts/make_synthetic.py, cached as Parquet under target/bench-data/select/,
with a .npy copy for scikit-learn).

The grid: K in --components (a range `1..10` or a list) x every covariance
type, --n-init restarts per cell from k-means starts, up to --max-iter
iterations, --tol (default 1e-3), reg_covar 1e-6, seed 0; the lowest BIC wins.

Each run is its own child process of this script, one after the other:
  - gmm with racing (the default) and with --no-racing: `gmm select
    --input DIR --columns 'x*' --components ... --n-init N --threads T
    --json`, run under /usr/bin/time -v when it exists. Reported: wall time
    (os.wait4 of the child), user and system CPU seconds and peak RSS (from
    /usr/bin/time, or ru_maxrss), the per-cell seconds and restart
    iterations from the printed selection.json, and the winners.
  - scikit-learn: one process that loads the .npy array and, for each cell,
    times GaussianMixture(n_components=K, covariance_type=..., n_init=N,
    init_params="kmeans", max_iter, tol, reg_covar, random_state=seed).fit(X)
    and computes .bic(X) (untimed), under threadpoolctl limits of T threads
    (and OMP/OPENBLAS/MKL_NUM_THREADS=T). --sklearn-components K1,K2,...
    times only those K (for every covariance type); the other cells' seconds
    are then interpolated linearly in K between the measured ones (and held
    constant beyond them), and the report says which figures are measured and
    which are estimated. The scikit-learn winner is the lowest BIC among the
    measured cells only.

--out FILE writes the markdown report, --json FILE the raw results;
--from-json FILE writes the report of saved results again.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_vs_sklearn as bv  # noqa: E402

ROOT = bv.ROOT
DATA_DIR = os.path.join(ROOT, "target", "bench-data", "select")
COVARIANCES = ("full", "diag", "spherical", "tied")


def parse_ks(text: str) -> list[int]:
    if ".." in text:
        a, b = text.split("..", 1)
        return list(range(int(a), int(b) + 1))
    return sorted({int(x) for x in text.split(",") if x.strip()})


def time_v(stderr: str) -> dict:
    """Figures of /usr/bin/time -v's report."""
    out = {}
    for key, pattern in (("user", r"User time \(seconds\): ([\d.]+)"),
                         ("system", r"System time \(seconds\): ([\d.]+)"),
                         ("max_rss_kib", r"Maximum resident set size \(kbytes\): (\d+)"),
                         ("elapsed", r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)"),
                         ("cpu_percent", r"Percent of CPU this job got: (\d+)%")):
        m = re.search(pattern, stderr)
        if m:
            out[key] = m.group(1)
    if "elapsed" in out:
        secs = 0.0
        for part in out["elapsed"].split(":"):
            secs = secs * 60 + float(part)
        out["elapsed"] = secs
    for key in ("user", "system"):
        if key in out:
            out[key] = float(out[key])
    for key in ("max_rss_kib", "cpu_percent"):
        if key in out:
            out[key] = int(out[key])
    return out


def dataset(args) -> dict:
    """Parquet directory and .npy copy of the mixture, made once."""
    import numpy as np
    import pyarrow.dataset as pads

    base = os.path.join(DATA_DIR, f"n{args.rows}-d{args.columns}-k{args.true_k}"
                                  f"-sep{args.separation:g}-s{args.seed}")
    parquet = os.path.join(base, "parquet")
    npy = os.path.join(base, "x.npy")
    if not os.path.exists(os.path.join(parquet, "_mixture.json")):
        shutil.rmtree(parquet, ignore_errors=True)
        print(f"generating {parquet} ...", file=sys.stderr)
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "make_synthetic.py"),
                        "--rows", str(args.rows), "--columns", str(args.columns),
                        "--components", str(args.true_k), "--separation", str(args.separation),
                        "--seed", str(args.seed), "--out", parquet, "--quiet"], check=True)
    if not os.path.exists(npy):
        table = pads.dataset(parquet, format="parquet").to_table(
            columns=bv.columns(args.columns))
        x = np.empty((table.num_rows, args.columns))
        for j, col in enumerate(table.columns):
            x[:, j] = col.to_numpy()
        np.save(npy + ".tmp.npy", x)
        os.replace(npy + ".tmp.npy", npy)
    return {"parquet": parquet, "npy": npy}


def run_gmm(binary: str, data: dict, args, racing: bool, workdir: str) -> dict:
    out = os.path.join(workdir, "raced" if racing else "full")
    shutil.rmtree(out, ignore_errors=True)
    cmd = [binary, "select", "--input", data["parquet"], "--columns", "x*",
           "--components", args.components, "--covariance", ",".join(COVARIANCES),
           "--n-init", str(args.n_init), "--max-iter", str(args.max_iter), "--tol", str(args.tol),
           "--reg-covar", str(bv.REG_COVAR), "--seed", str(args.seed),
           "--threads", str(args.threads), "--out", out, "--json", "--quiet"]
    if not racing:
        cmd.append("--no-racing")
    timed = os.path.exists("/usr/bin/time")
    m = bv.run_measured((["/usr/bin/time", "-v"] if timed else []) + cmd,
                        bv.thread_env(args.threads))
    summary = json.loads(m.stdout)
    with open(os.path.join(out, "winner", "model.json")) as fh:
        model = json.load(fh)
    tv = time_v(m.stderr) if timed else {}
    return {
        "racing": racing, "command": shlex.join(cmd), "wall": m.wall,
        "peak_rss": tv.get("max_rss_kib", m.peak_rss // 1024) * 1024,
        "user": tv.get("user"), "system": tv.get("system"),
        "time_v_elapsed": tv.get("elapsed"), "cpu_percent": tv.get("cpu_percent"),
        "load": summary["seconds"]["load"], "total": summary["seconds"]["total"],
        "winner": summary["winner"], "cells": summary["cells"],
        "winner_model": {k: model[k] for k in ("weights", "means", "covariances",
                                                 "mean_log_likelihood", "n_iter", "bic")},
        "best_restart": model.get("provenance", {}).get("best_restart"),
    }


def run_sklearn(data: dict, args, ks: list[int], workdir: str) -> dict:
    spec = {"npy": data["npy"], "ks": ks, "covariances": list(COVARIANCES),
            "n_init": args.n_init, "max_iter": args.max_iter, "tol": args.tol,
            "reg_covar": bv.REG_COVAR, "seed": args.seed, "threads": args.threads}
    path = os.path.join(workdir, "select-worker.json")
    with open(path, "w") as fh:
        json.dump(spec, fh)
    m = bv.run_measured([sys.executable, os.path.abspath(__file__), "--worker", path],
                        bv.thread_env(args.threads))
    return dict(json.loads(m.stdout.strip().splitlines()[-1]), wall=m.wall,
                peak_rss=m.peak_rss)


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
    t = time.perf_counter()
    x = np.load(spec["npy"])
    load = time.perf_counter() - t
    cells = []
    with threadpool_limits(limits=spec["threads"]):
        for cov in spec["covariances"]:
            for k in spec["ks"]:
                gm = GaussianMixture(
                    n_components=k, covariance_type=cov, n_init=spec["n_init"],
                    init_params="kmeans", max_iter=spec["max_iter"], tol=spec["tol"],
                    reg_covar=spec["reg_covar"], random_state=spec["seed"])
                t = time.perf_counter()
                gm.fit(x)
                seconds = time.perf_counter() - t
                cells.append({"n_components": k, "covariance_type": cov, "seconds": seconds,
                              "bic": float(gm.bic(x)), "n_iter": int(gm.n_iter_),
                              "converged": bool(gm.converged_),
                              "lower_bound": float(gm.lower_bound_)})
                print(f"scikit-learn K={k} {cov}: {seconds:.1f} s", file=sys.stderr, flush=True)
    print(json.dumps({"imports": imported, "load": load, "cells": cells}))


def estimate(measured: dict[int, float], ks: list[int]) -> dict[int, tuple[float, bool]]:
    """Seconds per K: measured, or interpolated linearly between the nearest
    measured K (held constant outside them)."""
    known = sorted(measured)
    out = {}
    for k in ks:
        if k in measured:
            out[k] = (measured[k], True)
            continue
        lo = [m for m in known if m < k]
        hi = [m for m in known if m > k]
        if lo and hi:
            a, b = lo[-1], hi[0]
            out[k] = (measured[a] + (measured[b] - measured[a]) * (k - a) / (b - a), False)
        else:
            out[k] = (measured[(lo or hi)[-1 if lo else 0]], False)
    return out


def report(raw: dict) -> str:
    a = raw["args"]
    raced, full, sk = raw["gmm_racing"], raw["gmm_no_racing"], raw.get("sklearn")
    ks = parse_ks(a["components"])
    lines = ["# gmm select: racing, running every restart, and scikit-learn in a loop", "",
             f"`{shlex.join(['scripts/bench_select.py', *raw['argv']])}`", "",
             bv.machine_markdown(raw["machine"]),
             f"The data: {a['rows']:,} rows x {a['columns']} float64 columns in Parquet, drawn "
             f"from a mixture of {a['true_k']} Gaussians with random full covariances "
             f"(scripts/make_synthetic.py --separation {a['separation']:g}, seed {a['seed']}). The grid: K = {a['components']} x "
             f"{{{', '.join(COVARIANCES)}}} = {len(ks) * 4} cells, {a['n_init']} restarts per "
             f"cell from k-means starts, up to {a['max_iter']} iterations, tol = {a.get('tol', 1e-3):g}, "
             f"reg_covar = {bv.REG_COVAR:g}; lowest BIC wins. {a['threads']} threads for every "
             "tool (gmm --threads; scikit-learn's BLAS and OpenMP under threadpoolctl). Each "
             "run is one child process, one after the other. Wall is the whole process "
             "(loading the data included); CPU is user + system seconds.", "",
             "| run | wall s | CPU s | peak RSS | iterations, all restarts | restarts stopped "
             "early | winner | winner BIC |",
             "|---|---:|---:|---:|---:|---:|---|---:|"]

    def gmm_row(name, r):
        it = sum(c["restart_iterations"] for c in r["cells"])
        stopped = sum(c["restarts_raced"] for c in r["cells"])
        cpu = (r["user"] or 0) + (r["system"] or 0)
        w = r["winner"]
        return (f"| {name} | {r['wall']:.1f} | {cpu:.1f} | {bv.mb(r['peak_rss'])} | {it:,} "
                f"| {stopped} | K = {w['n_components']}, {w['covariance_type']} | {w['bic']:.6g} |")

    lines.append(gmm_row("gmm select (racing)", raced))
    lines.append(gmm_row("gmm select --no-racing", full))
    if sk:
        measured_ks = sk["ks"]
        est_total = sk["estimated_total_fit"]
        label = ("" if set(measured_ks) >= set(ks) else
                 f" (fits of K = {','.join(map(str, measured_ks))} measured, "
                 f"{est_total:.0f} s estimated for the whole grid)")
        best = min(sk["cells"], key=lambda c: c["bic"])
        lines.append(f"| scikit-learn{label} | {sk['wall']:.1f} | | {bv.mb(sk['peak_rss'])} "
                     f"| {sum(c['n_iter'] for c in sk['cells'])} (best restarts only) | "
                     f"| K = {best['n_components']}, {best['covariance_type']} | {best['bic']:.6g} |")
    saved = full["wall"] - raced["wall"]
    cpu = lambda r: (r["user"] or 0) + (r["system"] or 0)  # noqa: E731
    cpu_saved = cpu(full) - cpu(raced)
    it_full = sum(c["restart_iterations"] for c in full["cells"])
    it_raced = sum(c["restart_iterations"] for c in raced["cells"])
    same_cell = (raced["winner"]["n_components"], raced["winner"]["covariance_type"]) == \
        (full["winner"]["n_components"], full["winner"]["covariance_type"])
    same_model = raced["winner_model"] == full["winner_model"]
    full_bic = {(c["n_components"], c["covariance_type"]): c.get("bic") for c in full["cells"]}
    differ = sum(1 for c in raced["cells"] if c.get("bic") != full_bic.get((c["n_components"], c["covariance_type"])))
    lines += ["",
              f"Racing: wall {raced['wall']:.1f} s against {full['wall']:.1f} s without it "
              f"({saved:+.1f} s saved, {100 * saved / full['wall']:+.0f} %); CPU "
              f"{cpu(raced):.1f} s against {cpu(full):.1f} s ({cpu_saved:+.1f} s saved, "
              f"{100 * cpu_saved / max(cpu(full), 1e-9):+.0f} %); restart iterations "
              f"{it_raced:,} against {it_full:,} ({it_full - it_raced:,} fewer, "
              f"{100 * (it_full - it_raced) / max(it_full, 1):.0f} %). Same winning cell with "
              f"and without racing: **{'yes' if same_cell else 'NO'}**; same winning model "
              "(weights, means, covariances, log-likelihood, iterations, BIC, bit for bit): "
              f"**{'yes' if same_model else 'NO'}**"
              f" (best restart {raced['best_restart']} / {full['best_restart']}); cells whose "
              f"BIC differs with racing: {differ} of {len(full['cells'])}.", ""]
    if sk:
        g_fit = full["total"] - full["load"]
        r_fit = raced["total"] - raced["load"]
        whole = set(sk["ks"]) >= set(ks)
        took = (f"scikit-learn's fits took {sk['measured_fit']:.1f} s for the whole grid"
                if whole else
                f"scikit-learn's fits took {sk['measured_fit']:.1f} s for the measured cells "
                f"and would take about {sk['estimated_total_fit']:.1f} s for the whole grid "
                "(estimated)")
        lines += [f"{took}, against gmm's {g_fit:.1f} s without racing and {r_fit:.1f} s with "
                  "it (gmm's fits only, loading excluded): "
                  f"{sk['estimated_total_fit'] / g_fit:.1f}x and "
                  f"{sk['estimated_total_fit'] / r_fit:.1f}x.", ""]
    lines += ["## Per cell", "",
              "Seconds of each cell's fit (all its restarts); gmm's from selection.json, "
              "scikit-learn's measured (m) or interpolated in K (e). Iterations: of all "
              "restarts for gmm, of the best restart for scikit-learn (`n_iter_`).", "",
              "| covariance | K | gmm racing s | iterations | stopped early | gmm no-racing s "
              "| iterations | BIC (no racing) | scikit-learn s | scikit-learn n_iter "
              "| scikit-learn BIC |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    by = lambda r: {(c["n_components"], c["covariance_type"]): c for c in r["cells"]}  # noqa: E731
    rc, fc = by(raced), by(full)
    skc = {(c["n_components"], c["covariance_type"]): c for c in sk["cells"]} if sk else {}
    ske = sk["estimates"] if sk else {}
    for cov in COVARIANCES:
        for k in ks:
            r, f = rc[(k, cov)], fc[(k, cov)]
            s = skc.get((k, cov))
            est = ske.get(f"{cov}:{k}")
            sk_secs = (f"{est[0]:.1f} {'m' if est[1] else 'e'}" if est else "")
            bic = f"{f['bic']:.6g}" if f.get("bic") is not None else f.get("error", "")
            lines.append(
                f"| {cov} | {k} | {r['seconds']:.2f} | {r['restart_iterations']} "
                f"| {r['restarts_raced']} | {f['seconds']:.2f} | {f['restart_iterations']} "
                f"| {bic} | {sk_secs} | {s['n_iter'] if s else ''} "
                f"| {format(s['bic'], '.6g') if s else ''} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--columns", type=int, default=16)
    p.add_argument("--true-k", type=int, default=5, help="components of the generated mixture")
    p.add_argument("--separation", type=float, default=3.0,
                   help="make_synthetic.py --separation: spread of the true means (default 3)")
    p.add_argument("--components", default="1..10", help="the grid's K: 1..10 or 2,4,8")
    p.add_argument("--n-init", type=int, default=10)
    p.add_argument("--max-iter", type=int, default=100)
    p.add_argument("--tol", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--sklearn-components", default=None, metavar="K,K,...",
                   help="time scikit-learn only at these K (default: every K of the grid)")
    p.add_argument("--no-sklearn", action="store_true")
    p.add_argument("--gmm", default=None, help="the gmm binary (default target/release/gmm)")
    p.add_argument("--gmm-source", default=None, metavar="TEXT",
                   help="what the binary was built from, for the report (default: git HEAD)")
    p.add_argument("--out", default=None, help="write the markdown report here")
    p.add_argument("--json", default=None, help="write the raw results here")
    p.add_argument("--from-json", default=None, metavar="FILE",
                   help="only write the report of results saved by --json")
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        worker(args.worker)
        return 0
    if args.from_json:
        with open(args.from_json) as fh:
            text = report(json.load(fh))
        if args.out:
            with open(args.out, "w") as fh:
                fh.write(text)
        print(text)
        return 0
    bv.bootstrap(__file__, sys.argv[1:] if argv is None else argv)
    binary = bv.gmm_binary(args.gmm, False)
    ks = parse_ks(args.components)
    sk_ks = parse_ks(args.sklearn_components) if args.sklearn_components else ks
    info = bv.machine_info(binary)
    if args.gmm_source:
        info["commit"] = args.gmm_source
    data = dataset(args)
    raw = {"argv": sys.argv[1:] if argv is None else argv, "machine": info,
           "args": {"rows": args.rows, "columns": args.columns, "true_k": args.true_k,
                    "separation": args.separation,
                    "components": args.components, "n_init": args.n_init,
                    "max_iter": args.max_iter, "tol": args.tol, "seed": args.seed,
                    "threads": args.threads}}
    with tempfile.TemporaryDirectory(prefix="bench-select-") as workdir:
        for racing in (True, False):
            r = run_gmm(binary, data, args, racing, workdir)
            raw["gmm_racing" if racing else "gmm_no_racing"] = r
            print(f"gmm select {'racing' if racing else '--no-racing'}: {r['wall']:.1f} s, "
                  f"winner K = {r['winner']['n_components']}, {r['winner']['covariance_type']}",
                  file=sys.stderr)
        if not args.no_sklearn:
            sk = run_sklearn(data, args, sk_ks, workdir)
            estimates, total = {}, 0.0
            for cov in COVARIANCES:
                measured = {c["n_components"]: c["seconds"] for c in sk["cells"] if c["covariance_type"] == cov}
                for k, v in estimate(measured, ks).items():
                    estimates[f"{cov}:{k}"] = v
                    total += v[0]
            sk.update(ks=sk_ks, estimates=estimates, estimated_total_fit=total,
                      measured_fit=sum(c["seconds"] for c in sk["cells"]))
            raw["sklearn"] = sk
            print(f"scikit-learn: {sk['wall']:.1f} s measured, {total:.1f} s of fits for the "
                  "whole grid", file=sys.stderr)
    text = report(raw)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text)
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as fh:
            json.dump(raw, fh, indent=1)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
