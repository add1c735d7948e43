#!/usr/bin/env bash
# Creates .venv in the repository root with the pinned packages of
# scripts/requirements.txt, for scripts/make_fixtures.py:
#
#   bash scripts/setup_python.sh
#   .venv/bin/python scripts/make_fixtures.py
#
# PYTHON picks the interpreter (default python3; the fixtures were made with
# CPython 3.11).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-python3}"
if [ ! -x "$root/.venv/bin/python" ]; then
    "$python" -m venv "$root/.venv"
fi
"$root/.venv/bin/python" -m pip install --quiet -r "$root/scripts/requirements.txt"
"$root/.venv/bin/python" -c 'import sklearn, numpy, scipy; print("sklearn", sklearn.__version__, "numpy", numpy.__version__, "scipy", scipy.__version__)'
