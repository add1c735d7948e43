#!/usr/bin/env bash
# The whole test suite, as the README and CI run it:
#   1. every test of the default build (no system packages needed);
#   2. the MPI tests: Open MPI and libclang are installed if missing
#      (scripts/install_mpi.sh), gmm is built with the `mpi` feature, and
#      `mpirun -np 1/2/3 gmm fit` must write the single process's model.json.
#      Skip this part with GMM_SKIP_MPI=1.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo test --workspace --locked

if [ "${GMM_SKIP_MPI:-0}" = "1" ]; then
  echo "GMM_SKIP_MPI=1: MPI tests skipped"
  exit 0
fi
bash scripts/install_mpi.sh
cargo test --locked -p gmm-cli --features mpi --test e2e mpi
