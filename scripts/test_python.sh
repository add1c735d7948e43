#!/usr/bin/env bash
# The Python part of the test suite (the README's test command runs it after
# the Rust tests): builds the package gmm-engine (crates/gmm-py, PyO3 +
# maturin) into the virtual environment .venv-py with the pinned test
# dependencies of crates/gmm-py/requirements-test.txt (NumPy, scikit-learn,
# pandas, polars, pyarrow, pytest), then runs its pytest suite.
# The package is a Cargo workspace of its own (crates/gmm-py/target): its
# first build compiles the engine's dependencies once more (about 6 minutes
# on 2 cores); the tests compare with the `gmm` binary that `cargo test
# --release --workspace` built (target/release/gmm).
# PYTHON picks the interpreter (default python3, CPython >= 3.9);
# GMM_SKIP_PYTHON=1 skips this part.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [ "${GMM_SKIP_PYTHON:-0}" = "1" ]; then
    echo "GMM_SKIP_PYTHON=1: Python tests skipped"
    exit 0
fi
python="${PYTHON:-python3}"
venv="$root/.venv-py"
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r crates/gmm-py/requirements-test.txt
# The pinned maturin builds the wheel (no isolated build environment), so
# it must be on PATH; --locked: the versions of crates/gmm-py/Cargo.lock.
PATH="$venv/bin:$PATH" MATURIN_PEP517_ARGS="--locked" "$venv/bin/python" -m pip install --quiet \
    --disable-pip-version-check --no-build-isolation --force-reinstall --no-deps \
    ./crates/gmm-py
if [ ! -x target/release/gmm ]; then
    cargo build --release --locked
fi
"$venv/bin/python" -m pytest -q crates/gmm-py/tests "$@"
