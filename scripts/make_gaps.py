"""Writes data/customers/with-gaps.csv: the unlabeled customers with about
one row in twenty missing a value (an empty field), for the README's
"Missing values" example. Deterministic; standard library only.

    python3 scripts/make_gaps.py
"""

import csv
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    rng = random.Random(20261205)
    src = ROOT / "data" / "customers" / "unlabeled.csv"
    dst = ROOT / "data" / "customers" / "with-gaps.csv"
    with src.open(newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    for row in body:
        if rng.random() < 0.05:
            row[rng.randrange(len(row))] = ""
    with dst.open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(body)


if __name__ == "__main__":
    main()
