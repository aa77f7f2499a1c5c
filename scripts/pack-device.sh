#!/usr/bin/env bash
# Copies what one GPU-machine call needs into device-bin/ (ignored by git; carried by the device
# tool, whose limit is 64 MiB while build/bin with every CPU test is ~90 MB): the dcpbench binary,
# the GPU test binaries, and, when build-speed/ exists, the native speed benches and test
# variants (docs/perf/native-speed.md). Builds nothing.
#   scripts/pack-device.sh [BUILD_DIR] [SPEED_BUILD_DIR]
set -euo pipefail
BUILD=${1:-build}
SPEED=${2:-build-speed}
# Staged uncompressed, carried as one xz tarball (device-bin/bin.tar.xz, ~5x smaller):
# device-check.sh unpacks it on the GPU machine.
OUTDIR=device-bin
DEST=$(mktemp -d)/bin
mkdir -p "$DEST/tests"
cp "$BUILD/bin/dcpbench" "$DEST/"
# Every test binary that needs a GPU: the *_gpu_test targets, the native exchange test, the MPI
# workspace test (two ranks on one GPU).
for t in "$BUILD"/bin/tests/*gpu_test "$BUILD"/bin/tests/native_exchange_test \
  "$BUILD"/bin/tests/mpi_fabric_workspace_test "$BUILD"/bin/tests/merge_kernel_test \
  "$BUILD"/bin/tests/native_reduce_test "$BUILD"/bin/tests/direct_test; do
  [ -x "$t" ] && cp "$t" "$DEST/tests/"
done
# Benchmark prints (they measure, they assert nothing): run by device-check's `benches` step.
mkdir -p "$DEST/bench"
for t in "$BUILD"/bin/tests/native_reduce_bench "$BUILD"/bin/tests/direct_sim_bench; do
  [ -x "$t" ] && cp "$t" "$DEST/bench/"
done
if [ -d "$SPEED/bin/tests" ]; then
  mkdir -p "$DEST/speed"
  for t in "$SPEED"/bin/tests/native_sim_bench* "$SPEED"/bin/tests/native_exchange_test_*; do
    [ -x "$t" ] && cp "$t" "$DEST/speed/"
  done
fi
strip --strip-debug "$DEST"/dcpbench "$DEST"/tests/* "$DEST"/bench/* "$DEST"/speed/* 2>/dev/null || true
ls "$DEST" "$DEST/tests" "$DEST/bench" "$DEST"/speed 2>/dev/null
rm -rf "$OUTDIR"
mkdir -p "$OUTDIR"
tar -C "$DEST" -cf - . | xz -T0 -6 > "$OUTDIR/bin.tar.xz"
rm -rf "$(dirname "$DEST")"
du -sh "$OUTDIR/bin.tar.xz"
