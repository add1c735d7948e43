#!/usr/bin/env python3
"""Writes a large synthetic Gaussian mixture as a directory of Parquet files.

    .venv/bin/python scripts/make_synthetic.py --rows 10000000 --columns 16 \\
        --components 5 --seed 1 --out data/synthetic

The directory holds part-00000.parquet, part-00001.parquet, ... (row
groups of --row-group-rows rows, --rows-per-file rounded up to whole row
groups in each file) with columns
x0 .. x{d-1} (float64, or float32 with --dtype float32), id (int64, the
row's index), component (int32, the true component) and, with
--labeled-fraction F, label (int32: the component for a random fraction F
of the rows, null for the others); --features-only leaves out id and
component. `_mixture.json`
beside them holds the true weights, means and covariances (`_` so that
Parquet dataset readers, gmm included, skip it).

Rows are generated a row group at a time from a generator seeded by (seed,
row-group index), so 100 million rows never need more memory than one row
group, and the same arguments always give the same files. Files appear
under their final names only when complete.

Needs numpy and pyarrow: bash scripts/setup_python.sh --bench
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def mixture(d: int, k: int, seed: int, separation: float):
    """Weights, means and full covariances of a random mixture."""
    rng = np.random.default_rng([seed, 2**32 - 1])
    weights = rng.dirichlet(np.full(k, 4.0))
    means = rng.normal(0.0, separation, size=(k, d))
    covs = np.empty((k, d, d))
    for c in range(k):
        a = rng.normal(0.0, 1.0, size=(d, d)) / np.sqrt(d)
        scales = rng.uniform(0.5, 2.0, size=d)
        covs[c] = (a * scales) @ (a * scales).T + 0.1 * np.eye(d)
    return weights, means, covs


def schema(d: int, labeled: bool, dtype: str, features_only: bool) -> pa.Schema:
    float_type = pa.float32() if dtype == "float32" else pa.float64()
    fields = [pa.field(f"x{j}", float_type, nullable=False) for j in range(d)]
    if not features_only:
        fields.append(pa.field("id", pa.int64(), nullable=False))
        fields.append(pa.field("component", pa.int32(), nullable=False))
    if labeled:
        fields.append(pa.field("label", pa.int32(), nullable=True))
    return pa.schema(fields)


def row_group(first: int, n: int, group: int, args, weights, means, chols, sch) -> pa.Table:
    rng = np.random.default_rng([args.seed, group])
    d = means.shape[1]
    comp = rng.choice(len(weights), size=n, p=weights).astype(np.int32)
    z = rng.standard_normal(size=(n, d))
    x = np.empty((n, d))
    for c in range(len(weights)):
        rows = comp == c
        x[rows] = means[c] + z[rows] @ chols[c].T
    columns = [pa.array(x[:, j].astype(args.dtype)) for j in range(d)]
    if not args.features_only:
        columns.append(pa.array(np.arange(first, first + n, dtype=np.int64)))
        columns.append(pa.array(comp))
    if args.labeled_fraction is not None:
        labeled = rng.random(n) < args.labeled_fraction
        columns.append(pa.array(comp, mask=~labeled))
    return pa.Table.from_arrays(columns, schema=sch)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, required=True)
    p.add_argument("--columns", type=int, default=16)
    p.add_argument("--components", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="output directory (created)")
    p.add_argument("--rows-per-file", type=int, default=1_000_000)
    p.add_argument("--row-group-rows", type=int, default=131_072)
    p.add_argument("--labeled-fraction", type=float, default=None, metavar="F",
                   help="add a `label` column, non-null for a fraction F of the rows")
    p.add_argument("--separation", type=float, default=3.0,
                   help="standard deviation of the component means (default 3)")
    p.add_argument("--compression", default="snappy",
                   help="Parquet compression: snappy (default), zstd, lz4, gzip, none")
    p.add_argument("--dtype", choices=["float64", "float32"], default="float64",
                   help="type of the feature columns (default float64)")
    p.add_argument("--features-only", action="store_true",
                   help="write the feature columns (and label) only, without id and component")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    if args.rows < 1 or args.columns < 1 or args.components < 1:
        p.error("--rows, --columns and --components must be positive")
    if args.rows_per_file < 1 or args.row_group_rows < 1:
        p.error("--rows-per-file and --row-group-rows must be positive")
    if args.labeled_fraction is not None and not 0.0 <= args.labeled_fraction <= 1.0:
        p.error("--labeled-fraction must be between 0 and 1")

    os.makedirs(args.out, exist_ok=True)
    weights, means, covs = mixture(args.columns, args.components, args.seed, args.separation)
    chols = np.linalg.cholesky(covs)
    sch = schema(args.columns, args.labeled_fraction is not None, args.dtype, args.features_only)
    compression = None if args.compression == "none" else args.compression

    started = time.time()
    # Row groups never straddle files: each file holds whole row groups.
    groups_per_file = max(1, -(-args.rows_per_file // args.row_group_rows))
    rows_per_file = groups_per_file * args.row_group_rows
    n_files = -(-args.rows // rows_per_file)
    group = 0
    for f in range(n_files):
        first_row = f * rows_per_file
        rows = min(rows_per_file, args.rows - first_row)
        final = os.path.join(args.out, f"part-{f:05d}.parquet")
        tmp = os.path.join(args.out, f".part-{f:05d}.parquet.tmp")
        with pq.ParquetWriter(tmp, sch, compression=compression) as w:
            done = 0
            while done < rows:
                n = min(args.row_group_rows, rows - done)
                table = row_group(first_row + done, n, group, args, weights, means, chols, sch)
                w.write_table(table, row_group_size=n)
                done += n
                group += 1
        os.replace(tmp, final)
        if not args.quiet:
            print(f"{final}: {rows} rows ({time.time() - started:.1f} s)", file=sys.stderr)

    info = {
        "rows": args.rows,
        "columns": [f"x{j}" for j in range(args.columns)],
        "components": args.components,
        "seed": args.seed,
        "labeled_fraction": args.labeled_fraction,
        "weights": weights.tolist(),
        "means": means.tolist(),
        "covariances": covs.tolist(),
    }
    with open(os.path.join(args.out, "_mixture.json"), "w") as fh:
        json.dump(info, fh, indent=1)
    if not args.quiet:
        print(f"wrote {args.rows} rows in {n_files} file(s) to {args.out} "
              f"in {time.time() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
