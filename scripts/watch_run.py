#!/usr/bin/env python3
"""Runs a command and samples what it uses, for the out-of-core benchmark.

    python3 scripts/watch_run.py --out watch.csv -- target/release/gmm fit ...

Every --interval seconds it reads /proc for the command's process tree:
resident memory (RSS, and the anonymous part of it, which is what a
memory-mapped cache does not count against), CPU time (user + system) and
bytes read from storage. At the end it prints peak RSS and peak anonymous
memory, and, when the command wrote a gmm run directory (--run-dir), the
time per EM iteration and, over the iterations' window, the CPU
utilization and the storage read rate. The share of an iteration spent
waiting for reads is what the CPUs were not busy:
1 - cpu_seconds / (threads x wall_seconds).

Linux only; standard library only.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time

CLK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def children(pid: int) -> list[int]:
    out = [pid]
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            for c in fh.read().split():
                out.extend(children(int(c)))
    except OSError:
        pass
    return out


def sample(pid: int) -> tuple[float, int, int, int]:
    """CPU seconds, RSS bytes, anonymous RSS bytes, storage bytes read."""
    cpu, rss, anon, read = 0.0, 0, 0, 0
    for p in children(pid):
        try:
            with open(f"/proc/{p}/stat") as fh:
                f = fh.read().rsplit(")", 1)[1].split()
            cpu += (int(f[11]) + int(f[12])) / CLK
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        rss += int(line.split()[1]) * 1024
                    elif line.startswith("RssAnon:"):
                        anon += int(line.split()[1]) * 1024
            with open(f"/proc/{p}/io") as fh:
                for line in fh:
                    if line.startswith("read_bytes:"):
                        read += int(line.split()[1])
        except OSError:
            pass
    return cpu, rss, anon, read


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="CSV of the samples")
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--run-dir", help="the gmm run directory, for per-iteration figures")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("command", nargs=argparse.REMAINDER)
    args = ap.parse_args(argv)
    cmd = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not cmd:
        ap.error("no command")

    started = time.monotonic()
    proc = subprocess.Popen(cmd)
    rows = []
    while proc.poll() is None:
        cpu, rss, anon, read = sample(proc.pid)
        rows.append((time.monotonic() - started, cpu, rss, anon, read))
        time.sleep(args.interval)
    wall = time.monotonic() - started
    with open(args.out, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["seconds", "cpu_seconds", "rss_bytes", "anon_bytes", "read_bytes"])
        w.writerows(rows)

    gib = 1024**3
    print(f"exit status {proc.returncode}, wall {wall:.1f} s", file=sys.stderr)
    if rows:
        print(f"peak RSS {max(r[2] for r in rows) / gib:.2f} GiB, "
              f"peak anonymous {max(r[3] for r in rows) / gib:.2f} GiB", file=sys.stderr)
    if args.run_dir and rows:
        with open(os.path.join(args.run_dir, "run.json")) as fh:
            run = json.load(fh)
        t = run["timings_seconds"]
        iters = t.get("iterations") or []
        print(f"load (cache build or reuse) {t['load']:.1f} s, fit {t['fit']:.1f} s", file=sys.stderr)
        if iters:
            # The iterations after the first end when the fit does; the fit
            # starts when the load ends (the process's start-up is ignored).
            end = t["load"] + t["fit"]
            begin = end - sum(iters)
            window = [r for r in rows if begin <= r[0] <= end]
            if len(window) >= 2:
                a, b = window[0], window[-1]
                span = b[0] - a[0]
                cpu = (b[1] - a[1]) / (args.threads * span)
                rate = (b[4] - a[4]) / span
                print(f"per iteration: {', '.join(f'{x:.1f}' for x in iters)} s "
                      f"(mean {sum(iters) / len(iters):.1f} s)", file=sys.stderr)
                print(f"over those iterations: CPU busy {100 * cpu:.0f}% of {args.threads} threads, "
                      f"so about {100 * (1 - cpu):.0f}% of the time waiting (mostly for reads); "
                      f"read from storage {rate / 1e6:.0f} MB/s "
                      f"({(b[4] - a[4]) / len(iters) / gib:.1f} GiB per iteration)", file=sys.stderr)
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
