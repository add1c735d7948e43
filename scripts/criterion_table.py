#!/usr/bin/env python3
"""The results of the criterion benches (benches/em_iteration.rs) as one markdown table.

    cargo bench -p gmm-core --bench em_iteration
    python3 scripts/criterion_table.py > docs/bench/criterion-quick.md
    python3 scripts/criterion_table.py --criterion-dir /other/target/criterion

Reads what criterion saved of its latest run (target/criterion/<group>/<id>/
new/estimates.json and benchmark.json) and prints, per benchmark, the median
time of one EM iteration (with criterion's 95 % confidence interval of the
median), the throughput in rows per second (for restarts: model-rows per
second) and in GB/s of data read, and the speed-up of more threads or of
more models per pass against the 1-thread or 1-model row of the same shape.
Standard library only (any Python 3.9+).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load(directory: str) -> list[dict]:
    rows = []
    for dirpath, _, files in os.walk(directory):
        if os.path.basename(dirpath) != "new" or "benchmark.json" not in files:
            continue
        with open(os.path.join(dirpath, "benchmark.json")) as fh:
            bench = json.load(fh)
        with open(os.path.join(dirpath, "estimates.json")) as fh:
            est = json.load(fh)
        median = est["median"]
        rows.append({
            "group": bench["group_id"], "id": bench.get("function_id") or bench.get("value_str"),
            "seconds": median["point_estimate"] / 1e9,
            "low": median["confidence_interval"]["lower_bound"] / 1e9,
            "high": median["confidence_interval"]["upper_bound"] / 1e9,
            "throughput": bench.get("throughput") or {},
        })
    return rows


def key(row: dict):
    m = re.search(r"n(\d+)_d(\d+)_k(\d+)", row["group"])
    shape = tuple(int(x) for x in m.groups()) if m else (0, 0, 0)
    params = dict(re.findall(r"(\w+)=(\d+)", row["id"] or ""))
    return (row["group"].startswith("restarts/"), shape, row["group"],
            int(params.get("models", 1)), int(params.get("threads", 1)))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--criterion-dir", default=os.path.join(ROOT, "target", "criterion"))
    args = p.parse_args(argv)
    rows = sorted(load(args.criterion_dir), key=key)
    if not rows:
        print(f"no criterion results under {args.criterion_dir}", file=sys.stderr)
        return 1
    print("| benchmark | median s/iteration | 95 % CI | rows/s | GB/s read | speed-up |")
    print("|---|---:|---:|---:|---:|---:|")
    base = {}
    for r in rows:
        t = r["seconds"]
        tp = r["throughput"]
        elements = tp.get("ElementsAndBytes", {}).get("elements") or tp.get("Elements")
        nbytes = tp.get("ElementsAndBytes", {}).get("bytes") or tp.get("Bytes")
        params = dict(re.findall(r"(\w+)=(\d+)", r["id"] or ""))
        # Against the first row of the group (1 thread; for restarts 1 model at
        # the same thread count), in elements per second.
        ref_key = (r["group"], params.get("threads")) if "models" in params else r["group"]
        rate = (elements or 1) / t
        base.setdefault(ref_key, rate)
        print(f"| {r['group']}/{r['id']} | {t:.4g} | {r['low']:.4g} - {r['high']:.4g} "
              f"| {rate:,.0f} | {(nbytes or 0) / t / 1e9:.2f} | {rate / base[ref_key]:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
