#!/usr/bin/env bash
# Read throughput from object storage next to local disk. A Parquet dataset
# (scripts/make_synthetic.py: ROWS rows of 16 float64 features plus id and
# component, files of 1M rows in row groups of 128k) is loaded by gmm-io's
# loader (crates/gmm-io/examples/load_bench.rs, as `gmm fit` loads) from
# disk and from the S3 server of the tests (scripts/s3_server.py: moto, on
# 127.0.0.1), REPEAT times each, alternating, with every column and with 2
# of the 16; prints the median MB/s of f64 rows of each, and the server's
# own ceiling (boto3 reading the objects in parallel 8 MiB ranges). The S3 server is a
# Python program on the same cores, so the remote figures are a floor of
# what the reader does against a real store.
#
#   bash scripts/bench_storage.sh            # ROWS=4000000 REPEAT=3
# Needs the bench environment (bash scripts/setup_python.sh --bench) and
# the S3 server's (created as scripts/test_s3.sh does).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
rows="${ROWS:-4000000}"
repeat="${REPEAT:-3}"
venv="$root/.venv-s3"
if [ ! -x "$venv/bin/python" ]; then
    "${PYTHON:-python3}" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r scripts/requirements-s3.txt
cargo build --release --locked -p gmm-io --features cloud --example load_bench
bench="$root/target/release/examples/load_bench"

work="$(mktemp -d)"
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
.venv/bin/python scripts/make_synthetic.py --rows "$rows" --columns 16 --components 4 \
    --seed 1 --rows-per-file 1000000 --row-group-rows 131072 --out "$work/data" > /dev/null
"$venv/bin/python" scripts/s3_server.py --env-file "$work/env" --bucket bench > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do [ -f "$work/env" ] && break; sleep 0.2; done
# shellcheck disable=SC1091
source "$work/env"
"$venv/bin/python" - "$work/data" <<'PY'
import os, sys, boto3
root = sys.argv[1]
s3 = boto3.client("s3")
for name in sorted(os.listdir(root)):
    if name.endswith(".parquet"):
        s3.upload_file(os.path.join(root, name), "bench", f"data/{name}")
PY
du -sh "$work/data" | awk '{print "dataset on disk: " $1}'
# The server's own ceiling: its objects read whole by 8 threads of boto3 in
# 8 MiB ranges, as gmm-io's reader fetches them.
"$venv/bin/python" - <<'PY'
import boto3, concurrent.futures as cf, time
s3 = boto3.client("s3")
objs = s3.list_objects_v2(Bucket="bench", Prefix="data/")["Contents"]
piece = 8 << 20
jobs = [(o["Key"], s, min(s + piece, o["Size"]) - 1) for o in objs for s in range(0, o["Size"], piece)]
def get(job):
    key, s, e = job
    return len(s3.get_object(Bucket="bench", Key=key, Range=f"bytes={s}-{e}")["Body"].read())
t = time.time()
with cf.ThreadPoolExecutor(8) as ex:
    n = sum(ex.map(get, jobs))
print(f"S3 server ceiling (boto3, 8 threads of 8 MiB ranged GETs): {n / (time.time() - t) / 1e6:.0f} MB/s of file bytes")
PY
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for cols in 'x*' 'x0,x1'; do
    : > "$work/local" ; : > "$work/remote"
    for _ in $(seq 1 "$repeat"); do
        "$bench" "$work/data" --columns "$cols" | "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["mb_per_s"])' >> "$work/local"
        "$bench" "s3://bench/data/" --columns "$cols" | "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["mb_per_s"])' >> "$work/remote"
    done
    l=$(median < "$work/local"); r=$(median < "$work/remote")
    echo "columns $cols: disk $l MB/s, S3 server $r MB/s (ratio $(awk -v a="$r" -v b="$l" 'BEGIN {printf "%.2f", a / b}'))"
done
