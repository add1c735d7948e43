#!/usr/bin/env bash
# Creates .venv in the repository root with the pinned packages of
# scripts/requirements.txt, for scripts/make_fixtures.py:
#
#   bash scripts/setup_python.sh
#   .venv/bin/python scripts/make_fixtures.py
#
# With --bench it also installs scripts/requirements-bench.txt (pyarrow,
# pandas, matplotlib, and oneDAL's daal4py on x86-64), for
# scripts/make_synthetic.py, scripts/bench_load.py, scripts/bench_vs_sklearn.py,
# scripts/bench_vs_onedal.py and scripts/roofline.py:
#
#   bash scripts/setup_python.sh --bench
#   .venv/bin/python scripts/bench_load.py
#
# PYTHON picks the interpreter (default python3; the fixtures were made with
# CPython 3.11).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-python3}"
requirements="$root/scripts/requirements.txt"
for arg in "$@"; do
    case "$arg" in
        --bench) requirements="$root/scripts/requirements-bench.txt" ;;
        -h|--help) sed -n '2,17p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "setup_python.sh: unknown option $arg (use --bench or nothing)" >&2; exit 2 ;;
    esac
done
if [ ! -x "$root/.venv/bin/python" ]; then
    "$python" -m venv "$root/.venv"
fi
"$root/.venv/bin/python" -m pip install --quiet -r "$requirements"
"$root/.venv/bin/python" -c 'import sklearn, numpy, scipy; print("sklearn", sklearn.__version__, "numpy", numpy.__version__, "scipy", scipy.__version__)'
if [ "$requirements" = "$root/scripts/requirements-bench.txt" ]; then
    "$root/.venv/bin/python" -c 'import pyarrow, pandas, matplotlib; print("pyarrow", pyarrow.__version__, "pandas", pandas.__version__, "matplotlib", matplotlib.__version__)'
fi
