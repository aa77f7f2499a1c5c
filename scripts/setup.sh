#!/usr/bin/env bash
# One command on a fresh Debian/Ubuntu machine: install the dependencies, build dcpbench, then run
# the main job on its built-in default config (configs/default.json). Extra arguments are passed
# to dcpbench (e.g. `scripts/setup.sh --batch 1,16`). On a machine without a GPU the build
# succeeds and dcpbench stops with "no CUDA device" and exit code 3.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
command -v nvcc >/dev/null || export PATH=/usr/local/cuda/bin:$PATH
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build
export NCCL_NVLS_ENABLE=${NCCL_NVLS_ENABLE:-0}
exec build/bin/dcpbench "$@"
