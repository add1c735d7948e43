#!/usr/bin/env bash
# The MPI part of the test suite (the README's test command runs it after
# `cargo test --release --workspace --locked`): Open MPI and libclang are installed if
# missing (scripts/install_mpi.sh), gmm is built with the `mpi` feature, and
# `mpirun -np 1/2/3 gmm fit` must write the single process's model.json.
# GMM_SKIP_MPI=1 skips it.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${GMM_SKIP_MPI:-0}" = "1" ]; then
  echo "GMM_SKIP_MPI=1: MPI tests skipped"
  exit 0
fi
bash scripts/install_mpi.sh
# The same profile and workspace-wide feature set as the first part, so that
# only the crates the `mpi` feature changes (gmm-cli, mpi, mpi-sys) compile
# again; every other dependency is reused from target/release.
cargo test --release --locked --workspace --features gmm-cli/mpi --test e2e mpi
