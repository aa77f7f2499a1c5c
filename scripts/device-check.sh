#!/usr/bin/env bash
# The whole check-and-measure set for ONE call on a lent GPU machine (run from the repo root,
# with the build's bin/ folder carried). Builds nothing: binaries come from the development
# machine. Writes logs and JSON reports under $OUT (or ./device-out), packs them into
# $OUT/results.tar.gz, and prints a short table last.
#
#   scripts/device-check.sh [--bin DIR] [--tag NAME] STEP...
# Steps (run in the order given):
#   tests     every GPU test binary under BIN/tests (scripts/pack-device.sh puts them there), and
#             the MPI tests that need a GPU (2 ranks on one GPU)
#   default   plain dcpbench (the built-in default sweep; one GPU: simulated cp=2,4)
#   matrix    the native exchange over the full shape set in sim mode (cp 1..16, B 0..4096,
#             D 128/512, S 2/4/6, bf16/fp16, eager/graph, PDL on/off), every case verified
#   stress    --stress with fresh inputs every call: >= 20 M checked rows for cp 2 and 4
#   inject    --inject skip-launch, corrupt-line, skip-init, row-order, kill (sim): expected exit
#             codes and messages
#   sanitize  compute-sanitizer memcheck, racecheck, synccheck over the native exchange (sim)
#   diag      dcpbench diag (full) on every visible GPU, then again with --explain
#   reduce    --op reduce: every strategy at the model presets' shapes (sim), every byte checked
#   benches   the benchmark prints of the reduce strategies (native_reduce_bench: exchange-only vs
#             native reduce vs native-fused; direct_sim_bench: direct vs staged vs a D2D copy)
#   speed     the native exchange's before/after timing (docs/perf/native-speed.md): parent
#             kernel vs new vs build options, SASS facts, floors (needs BIN/speed)
#   anchors   graph/eager timing of the reference's anchor shapes, 3 repetitions (sim)
#   mpi2      everything that needs 2 GPUs: mpirun -np 2 sweeps, stress, inject (skipped with
#             fewer than 2 GPUs)
set -uo pipefail
BIN=build/bin
if [ -f device-bin/bin.tar.xz ]; then  # scripts/pack-device.sh's carried tarball
  BIN=/tmp/dcpbench-bin
  rm -rf "$BIN" && mkdir -p "$BIN" && xz -dc device-bin/bin.tar.xz | tar -C "$BIN" -xf -
fi
TAG=$(hostname)
steps=()
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) BIN=$2; shift 2 ;;
    --tag) TAG=$2; shift 2 ;;
    *) steps+=("$1"); shift ;;
  esac
done
[ ${#steps[@]} -gt 0 ] || steps=(tests default reduce benches matrix stress inject anchors diag sanitize speed mpi2)
OUT=${OUT:-$PWD/device-out}
# Logs and reports are gathered outside $OUT and come back as one tarball (the device tool
# returns at most 8 files).
R=$(mktemp -d)/results
mkdir -p "$R"
DCP=$BIN/dcpbench
NCCL_LIB=/opt/torch/.venv/lib/python3.12/site-packages/nvidia/nccl/lib
[ -d "$NCCL_LIB" ] && export LD_LIBRARY_PATH=$NCCL_LIB:${LD_LIBRARY_PATH:-}
export NCCL_NVLS_ENABLE=0
MPIRUN=(mpirun --allow-run-as-root --bind-to none -x NCCL_NVLS_ENABLE -x LD_LIBRARY_PATH)
NGPU=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU')
summary=()

note() { summary+=("$(printf '%-34s %-6s %s' "$1" "$2" "$3")"); }
# run_step NAME EXPECTED_CODE CMD...: runs, logs to $R/NAME.log, records PASS/FAIL and seconds.
run_step() {
  local name=$1 want=$2; shift 2
  local t0=$(date +%s%N)
  "$@" > "$R/$name.log" 2>&1
  local rc=$?
  local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  local dt="$((ms / 1000)).$(( (ms % 1000) / 100 ))"
  if [ "$rc" = "$want" ]; then note "$name" PASS "rc=$rc ${dt}s"; else note "$name" FAIL "rc=$rc (want $want) ${dt}s"; fi
  return 0
}

{
  echo "== $(date -u +%FT%TZ) on $(hostname), $NGPU GPU(s), tag $TAG"
  nvidia-smi --query-gpu=index,name,uuid,driver_version,pci.bus_id --format=csv
  nvidia-smi topo -m 2>/dev/null || true
  "$DCP" --version
} > "$R/environment.log" 2>&1

for step in "${steps[@]}"; do
  case "$step" in
  tests)
    for t in "$BIN"/tests/*; do
      n=$(basename "$t")
      case "$n" in mpi_*) continue ;; esac
      [ -x "$t" ] && run_step "test-$n" 0 timeout 400 "$t"
    done
    [ -x "$BIN/tests/mpi_fabric_workspace_test" ] && run_step test-fabric-ipc-same-gpu-np2 0 \
      "${MPIRUN[@]}" -np 2 "$BIN/tests/mpi_fabric_workspace_test" --same-gpu
    ;;
  default)
    run_step default 0 "$DCP" -q --json "$R/default-$TAG.json" --csv "$R/default-$TAG.csv"
    ;;
  matrix)
    run_step matrix 0 "$DCP" -q --workspace sim --cp-size 1,2,3,4,8,16 \
      --batch 0,1,2,7,16,64,128,1000,4096 --head-dim 128,512 --stats-dim 2,4,6 --dtype bf16,fp16 \
      --launch eager,graph --pdl on,off --impl native -w 2 -n 10 --graph-calls 5 \
      --json "$R/matrix-$TAG.json" --csv "$R/matrix-$TAG.csv"
    ;;
  stress)
    for launch in eager graph; do
      run_step "stress-$launch" 0 "$DCP" -q --workspace sim --cp-size 2,4 --batch 64,1024,8192 \
        --head-dim 128,512 --stats-dim 2,4 --impl native --launch "$launch" --stress 160 \
        --json "$R/stress-$launch-$TAG.json" --csv /dev/null
    done
    ;;
  inject)
    run_step inject-skip-launch 3 timeout 30 "$DCP" -q --workspace sim --cp-size 2 --batch 16 \
      --impl native --launch eager -n 5 -w 1 --timeout 2 --inject skip-launch:1 --no-files
    grep -q "peer 1" "$R/inject-skip-launch.log" && note inject-skip-launch-names-peer PASS "" \
      || note inject-skip-launch-names-peer FAIL "no 'peer 1' in message"
    run_step inject-corrupt-line 1 timeout 60 "$DCP" -q --workspace sim --cp-size 2 --batch 16 \
      --impl native --launch eager -n 5 -w 1 --inject corrupt-line:0 \
      --json "$R/inject-corrupt-line-$TAG.json" --csv /dev/null
    run_step inject-skip-init 3 timeout 30 "$DCP" -q --workspace sim --cp-size 4 --batch 16 \
      --impl native --launch eager -n 5 -w 1 --timeout 2 --inject skip-init:1 --no-files
    run_step inject-row-order 3 timeout 30 "$DCP" -q --workspace sim --cp-size 4 --batch 16 \
      --impl native --launch eager -n 5 -w 1 --timeout 2 --inject row-order:2 --no-files
    # A hang writes the partial report with the case's hang record (rc 3).
    run_step inject-skip-launch-report 3 timeout 60 "$DCP" -q --workspace sim --cp-size 2 \
      --batch 1,16 --impl native --launch eager -n 5 -w 1 --timeout 2 --inject skip-launch:1 \
      --json "$R/inject-skip-launch-report-$TAG.json" --csv /dev/null
    grep -q '"hang"' "$R/inject-skip-launch-report-$TAG.json" 2>/dev/null \
      && note inject-report-has-hang-record PASS "" \
      || note inject-report-has-hang-record FAIL "no hang record in the partial report"
    run_step inject-kill 137 timeout 30 "$DCP" -q --workspace sim --cp-size 2 --batch 1,16 \
      --impl native --launch eager -n 5 -w 1 --timeout 2 --inject kill --no-files
    ;;
  sanitize)
    for tool in memcheck racecheck synccheck; do
      for cp in 1 2; do
        run_step "sanitize-$tool-cp$cp" 0 timeout 300 compute-sanitizer --tool "$tool" \
          --error-exitcode 99 "$DCP" -q --workspace sim --cp-size "$cp" --batch 1,16 \
          --head-dim 128 --stats-dim 2,6 --impl native --launch eager,graph --graph-calls 2 \
          -n 2 -w 1 --timeout 30 --no-files
      done
    done
    for t in native_reduce_test direct_test; do
      [ -x "$BIN/tests/$t" ] && run_step "sanitize-memcheck-$t" 0 timeout 400 compute-sanitizer \
        --tool memcheck --error-exitcode 99 "$BIN/tests/$t"
    done
    [ -x "$BIN/tests/merge_kernel_test" ] && run_step sanitize-memcheck-merge 0 timeout 400 \
      compute-sanitizer --tool memcheck --error-exitcode 99 "$BIN/tests/merge_kernel_test"
    ;;
  diag)
    run_step diag 0 "$DCP" diag --json "$R/diag-$TAG.json"
    run_step diag-explain 0 "$DCP" diag --explain --json "$R/diag-explain-$TAG.json"
    ;;
  reduce)
    # Every strategy of --op reduce at the model presets (sim: the NCCL rows report why they
    # skip), every byte checked, then fresh-input stress; the exchange-capable direct rows too.
    RIMPL=native,native-fused,native-direct,direct-staged,native-auto,nccl-2x,nccl-packed,nccl-ag-rs
    run_step reduce-presets 0 timeout 400 "$DCP" -q --workspace sim --op reduce --impl "$RIMPL" \
      --model deepseek-v3,kimi-k2,llama-3-70b --tokens 1,8,16,64,256 --cp-size 2,4,8 \
      --launch graph -w 20 -n 200 --json "$R/reduce-$TAG.json" --csv "$R/reduce-$TAG.csv"
    run_step reduce-eager 0 timeout 300 "$DCP" -q --workspace sim --op reduce --impl "$RIMPL" \
      --model deepseek-v3 --tokens 1,64 --cp-size 2,4 --launch eager -w 20 -n 200 \
      --json "$R/reduce-eager-$TAG.json" --csv /dev/null
    run_step reduce-stress 0 timeout 300 "$DCP" -q --workspace sim --op reduce --impl "$RIMPL" \
      --model deepseek-v3 --tokens 1,64,256 --cp-size 2,4 --launch eager,graph --stress 40 \
      --json "$R/reduce-stress-$TAG.json" --csv /dev/null
    # The NCCL strategies run for real with one rank (cp = 1): bit-identical where meant to be.
    run_step reduce-nccl-cp1 0 timeout 200 "$DCP" -q --op reduce --cp-size 1 \
      --impl nccl-2x,nccl-packed,nccl-ag-rs,native,native-fused,native-direct \
      --model deepseek-v3,llama-3-70b --tokens 1,64,256 --launch eager,graph -w 20 -n 200 \
      --json "$R/reduce-nccl-cp1-$TAG.json" --csv /dev/null
    run_step exchange-direct 0 timeout 300 "$DCP" -q --workspace sim --op exchange \
      --impl native,native-direct,direct-staged --cp-size 2,4,8 --batch 1,16,128,1024 \
      --head-dim 128,512 --launch graph,eager -w 20 -n 200 \
      --json "$R/exchange-direct-$TAG.json" --csv /dev/null
    ;;
  benches)
    [ -x "$BIN/bench/native_reduce_bench" ] && run_step bench-native-reduce 0 timeout 300 \
      "$BIN/bench/native_reduce_bench" --replays 200
    [ -x "$BIN/bench/direct_sim_bench" ] && run_step bench-direct 0 timeout 300 \
      "$BIN/bench/direct_sim_bench" 200
    ;;
  speed)
    if [ -d "$BIN/speed" ]; then
      run_step speed 0 env BIN="$BIN/speed" OUT="$R/speed" SAMPLES=1000 VSAMPLES=1000 \
        timeout 420 tests/gpu/native_speed_run.sh vtest sass anchors variants floors
      grep -h "^ROW" "$R"/speed/logs/*anchors.log "$R"/speed/logs/floors.log > "$R/speed-rows.txt" 2>/dev/null
    else
      note speed SKIP "no $BIN/speed (scripts/pack-device.sh with build-speed/)"
    fi
    ;;
  anchors)
    for rep in 1 2 3; do
      run_step "anchors-cp2-r$rep" 0 "$DCP" -q --workspace sim --cp-size 2 --batch 1,16,64,128 \
        --head-dim 128,512 --impl native --launch graph,eager --pdl on,off -n 1000 -w 100 \
        --graph-calls 100 \
        --json "$R/anchors-cp2-r$rep-$TAG.json" --csv /dev/null
      run_step "anchors-cp4-r$rep" 0 "$DCP" -q --workspace sim --cp-size 4 --batch 1,128 \
        --head-dim 128,512 --impl native --launch graph,eager --pdl on,off -n 1000 -w 100 \
        --graph-calls 100 \
        --json "$R/anchors-cp4-r$rep-$TAG.json" --csv /dev/null
    done
    ;;
  mpi2)
    if [ "$NGPU" -lt 2 ]; then note mpi2 SKIP "needs 2 GPUs, have $NGPU"; continue; fi
    run_step mpi2-default 0 "${MPIRUN[@]}" -np 2 "$DCP" -q --batch 1,16,64,128 \
      --json "$R/mpi2-default-$TAG.json" --csv "$R/mpi2-default-$TAG.csv"
    run_step mpi2-nccl1x 0 "${MPIRUN[@]}" -np 2 "$DCP" -q --impl nccl-1x,native --batch 1 \
      --head-dim 128,1024,8192 --launch eager,graph --json "$R/mpi2-nccl1x-$TAG.json" --csv /dev/null
    run_step mpi2-stress 0 "${MPIRUN[@]}" -np 2 "$DCP" -q --impl native --workspace ipc \
      --batch 64,1024,8192 --head-dim 128,512 --stats-dim 2,4 --launch eager,graph --stress 320 \
      --json "$R/mpi2-stress-$TAG.json" --csv /dev/null
    run_step mpi2-skip-launch 3 timeout 30 "${MPIRUN[@]}" -np 2 "$DCP" -q --impl native \
      --batch 16 --launch eager -n 5 --timeout 2 --inject skip-launch:1 --no-files
    run_step mpi2-ll128-order 0 "${MPIRUN[@]}" -np 2 "$DCP" diag --checks ll128_order \
      --ll128-lines 100000000 --json "$R/mpi2-ll128-order-$TAG.json"
    run_step mpi2-fabric 3 "${MPIRUN[@]}" -np 2 "$DCP" -q --impl native --workspace fabric \
      --batch 1 -n 5 --no-files
    ;;
  *) note "$step" FAIL "unknown step" ;;
  esac
done

(cd "$R" && tar czf "$OUT/results.tar.gz" .)
printf '%s\n' "${summary[@]}" > "$OUT/summary.txt"
echo
echo "== dcpbench device check ($TAG, $NGPU GPU(s))"
printf '%s\n' "${summary[@]}"
