#!/usr/bin/env bash
# The object-storage part of the test suite (the README's test command runs
# it last): installs moto's S3 server into the virtual environment .venv-s3
# (scripts/requirements-s3.txt), starts it on 127.0.0.1 with an IAM user and
# a bucket and authentication enforced (scripts/s3_server.py), and runs the
# end-to-end tests of tests/e2e/s3/ against it with the user's keys in
# the AWS_* environment variables, then the Python package's
# (crates/gmm-py/tests/test_object_storage.py) when scripts/test_python.sh
# has built it. The server stops when the script ends.
# PYTHON picks the interpreter (default python3); GMM_SKIP_S3=1 skips this
# part.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [ "${GMM_SKIP_S3:-0}" = "1" ]; then
    echo "GMM_SKIP_S3=1: object storage tests skipped"
    exit 0
fi
python="${PYTHON:-python3}"
venv="$root/.venv-s3"
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r scripts/requirements-s3.txt

state="$(mktemp -d)"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$state"
}
trap cleanup EXIT
"$venv/bin/python" scripts/s3_server.py --env-file "$state/env" --bucket gmm-test \
    > "$state/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
    [ -f "$state/env" ] && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
        cat "$state/server.log" >&2
        echo "error: the S3 server did not start" >&2
        exit 1
    fi
    sleep 0.2
done
if [ ! -f "$state/env" ]; then
    cat "$state/server.log" >&2
    echo "error: the S3 server did not start within 20 s" >&2
    exit 1
fi
# shellcheck disable=SC1091
source "$state/env"
# Nothing of the machine's own AWS set-up may reach the tests.
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_REGION
# Every test of tests/e2e/s3/ must run: a renamed module would otherwise
# pass with none.
expected=$(grep -h -c '#\[ignore = "needs the S3 server' tests/e2e/s3/*.rs | awk '{s += $1} END {print s}')
cargo test --release --locked --workspace --test e2e s3:: -- --ignored "$@" 2>&1 | tee "$state/tests.log"
passed=$(sed -n 's/^test result: ok\. \([0-9]*\) passed.*/\1/p' "$state/tests.log" | tail -1)
if [ $# -eq 0 ] && [ "${passed:-0}" != "$expected" ]; then
    echo "error: ${passed:-0} object storage tests passed, expected $expected" >&2
    exit 1
fi
# The Python package's fit_parquet on the same server, once
# scripts/test_python.sh (run before this in the README's command) has
# built it into .venv-py.
if [ $# -eq 0 ]; then
    if [ -x .venv-py/bin/python ] && .venv-py/bin/python -c "import gmm_engine" 2>/dev/null; then
        .venv-py/bin/python -m pytest -q crates/gmm-py/tests/test_object_storage.py
    else
        echo "note: the Python package's object storage tests need it built: run bash scripts/test_python.sh first" >&2
    fi
fi
