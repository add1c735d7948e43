#!/usr/bin/env bash
# The Python part of the test suite (the README's test command runs it after
# the Rust tests): builds the package gmm-engine (crates/gmm-py, PyO3 +
# maturin) into the virtual environment .venv-py with the pinned test
# dependencies of crates/gmm-py/requirements-test.txt (NumPy, scikit-learn,
# pandas, polars, pyarrow, pytest), then runs its pytest suite.
# The build shares target/ with cargo, so the engine's crates compiled by
# `cargo test --release --workspace` are reused.
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
# it must be on PATH.
PATH="$venv/bin:$PATH" "$venv/bin/python" -m pip install --quiet \
    --disable-pip-version-check --no-build-isolation --force-reinstall --no-deps \
    ./crates/gmm-py
# The tests compare with the `gmm` command built from the same sources.
cargo build --release --locked --bin gmm
"$venv/bin/python" -m pytest -q crates/gmm-py/tests "$@"
