#!/usr/bin/env bash
# Installs dcpbench's build dependencies from Debian/Ubuntu packages. The CUDA Toolkit (nvcc,
# cudart) and NCCL (>= 2.28) are not Debian packages: they must already be installed (NCCL is
# looked for next to CUDA, e.g. /usr/local/cuda/{include,lib}, or under $NCCL_ROOT).
set -euo pipefail
packages=(cmake ninja-build g++ libopenmpi-dev openmpi-bin libcli11-dev libfmt-dev
          nlohmann-json3-dev libgtest-dev python3-matplotlib clang libclang-rt-14-dev)
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
command -v nvcc >/dev/null || export PATH=/usr/local/cuda/bin:$PATH
command -v nvcc >/dev/null || { echo "install-deps: nvcc not found (install the CUDA Toolkit, 12.8+; 13.0 tested)" >&2; exit 1; }
