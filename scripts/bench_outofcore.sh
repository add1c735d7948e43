#!/usr/bin/env bash
# The out-of-core and ranks-versus-threads measurement (docs/bench/outofcore.md):
# one table, fitted through the memory-mapped cache by one process with 1 and
# 2 threads and by mpirun -np 1/2/3, each run watched by scripts/watch_run.py
# (peak RSS, CPU busy share, storage reads per iteration).
#
#   .venv/bin/python scripts/make_synthetic.py --rows 200000000 --columns 16 \
#       --components 5 --seed 7 --dtype float32 --features-only \
#       --rows-per-file 10000000 --out /big/data
#   cargo build --release -p gmm-cli --features mpi
#   bash scripts/bench_outofcore.sh /big/data /big/bench
#
# The first run builds the cache (in OUT/.gmm-cache); the others reuse it.
# Predictions are deleted after each run (9 GB at 200M rows x K = 5).
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:?usage: bench_outofcore.sh DATA_DIR OUT_DIR}
out=${2:?usage: bench_outofcore.sh DATA_DIR OUT_DIR}
gmm=${GMM:-target/release/gmm}
iters=${ITERS:-4}
mkdir -p "$out"
export OMPI_MCA_btl=self,vader OMPI_MCA_btl_vader_single_copy_mechanism=none

run() {
  local name=$1 threads=$2
  shift 2
  echo "== $name" >&2
  rm -rf "$out/$name"
  python3 scripts/watch_run.py --out "$out/$name.watch.csv" --run-dir "$out/$name" \
    --threads "$threads" -- "$@" fit --input "$data" -k 5 --covariance full --n-init 1 \
    --max-iter "$iters" --tol 0 --seed 1 --threads "$threads" --no-plots -q \
    --cache-dir "$out/.gmm-cache" --out "$out/$name" 2>&1 | grep -v '^$' >&2
  rm -f "$out/$name"/predictions.*
}

run threads1 1 "$gmm"
run threads2 2 "$gmm"
run np1x2 2 mpirun --allow-run-as-root -np 1 "$gmm"
run np2x1 2 mpirun --allow-run-as-root -np 2 "$gmm"
run np3x1 3 mpirun --allow-run-as-root --oversubscribe -np 3 "$gmm"

for name in threads1 threads2 np1x2 np2x1 np3x1; do
  echo "$name: $(md5sum < "$out/$name/model.json" | cut -c1-12)" \
    "$(python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["timings_seconds"]; print("per iteration", [round(x,1) for x in t["iterations"]])' "$out/$name/run.json")"
done
