#!/usr/bin/env bash
# Installs what the `mpi` feature of gmm-cli builds and runs with: Open MPI
# (headers, libraries, mpirun) and libclang (the mpi crate generates its
# bindings with bindgen). Debian/Ubuntu packages; run as root or with sudo.
# The default build needs none of this.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }

if have mpirun && [ -e /usr/include/x86_64-linux-gnu/openmpi/mpi.h -o -e /usr/lib/x86_64-linux-gnu/openmpi/include/mpi.h -o -n "$(ls /usr/lib/*/openmpi/include/mpi.h 2>/dev/null)" ] \
   && ls /usr/lib/llvm-*/lib/libclang*.so* >/dev/null 2>&1; then
  echo "Open MPI and libclang are already installed: $(mpirun --version 2>/dev/null | head -1)"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  have sudo || { echo "install_mpi.sh: run as root, or install sudo" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  libopenmpi-dev openmpi-bin libclang-dev pkg-config >/dev/null
echo "installed: $(mpirun --version 2>/dev/null | head -1)"
