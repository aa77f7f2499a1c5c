#!/bin/bash
# One GPU call of the native exchange speed work (docs/perf/native-speed.md): tests, SASS facts,
# before/after timing of every built native_sim_bench variant, stress. Run from the repository
# root on the GPU machine with build-speed/bin carried; logs go to $OUT (tarred).
#   tests/gpu/native_speed_run.sh PHASE...   PHASE in: test vtest sass anchors variants floors
#                                            sweep extra stress vstress trace
# Environment: BIN (binaries), SAMPLES / VSAMPLES (graph replays per repetition), NOBASE=1 (skip
# the baseline binary in `anchors`).
set -u
B=${BIN:-build-speed/bin/tests}
O=${OUT:-/tmp/out}
L=$O/logs
mkdir -p "$L"
export NCCL_NVLS_ENABLE=0
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,temperature.gpu,power.draw \
  --format=csv > "$L/gpu.txt" 2>&1
SAMPLES=${SAMPLES:-2000}
VSAMPLES=${VSAMPLES:-1000}
run() {  # name timeout cmd...
  local name=$1 t=$2
  shift 2
  echo "== $name: $*" | tee -a "$L/summary.txt"
  local s=$(date +%s)
  timeout "$t" "$@" > "$L/$name.log" 2>&1
  local rc=$?
  echo "   rc=$rc $(( $(date +%s) - s )) s" | tee -a "$L/summary.txt"
  grep -E "^(ROW|STRESS)|FAILED|PASSED|WRONG|mismatch|error" "$L/$name.log" | head -60 >> "$L/summary.txt"
}
for phase in "$@"; do
  case $phase in
    test) run gtest 400 $B/native_exchange_test ;;
    vtest)
      for v in $B/native_exchange_test_*; do
        run "gtest-${v##*native_exchange_test_}" 300 "$v"
      done ;;
    sass)
      for b in native_sim_bench native_sim_bench_base; do
        [ -x $B/$b ] || continue
        cuobjdump --dump-sass $B/$b > "$L/$b.sass" 2>&1
        awk '/Function :/ {f=$3} f ~ /fused_alltoall_kernel/ {
               if ($0 ~ /LDG\.E\.128/) l128[f]++; if ($0 ~ /STG\.E\.128/) s128[f]++;
               if ($0 ~ /LDG\.E\.64/) l64[f]++; if ($0 ~ /STG\.E\.64/) s64[f]++;
               if ($0 ~ /LDL|STL/) loc[f]++; if ($0 ~ /\/\*[0-9a-f]+\*\//) n[f]++ }
             END { for (k in n) printf "%s %s: instr %d LDG128 %d STG128 %d LDG64 %d STG64 %d local %d\n",
                   "'$b'", k, n[k], l128[k], s128[k], l64[k], s64[k], loc[k] }' "$L/$b.sass" \
          | sort >> "$L/sass-summary.txt"
        gzip -f "$L/$b.sass"
      done
      cat "$L/sass-summary.txt" >> "$L/summary.txt" ;;
    anchors)
      [ -x $B/native_sim_bench_base ] && [ -z "${NOBASE:-}" ] && run base-anchors 300 $B/native_sim_bench_base --anchors --label base --samples $SAMPLES
      run new-anchors 300 $B/native_sim_bench --anchors --label new --samples $SAMPLES ;;
    variants)
      for v in $B/native_sim_bench_*; do
        n=${v##*native_sim_bench_}
        case $n in base|trace*) continue ;; esac
        run "$n-anchors" 300 "$v" --anchors --label "$n" --samples $VSAMPLES
      done ;;
    floors) run floors 300 $B/native_sim_bench --floors --label floor --samples $VSAMPLES ;;
    sweep) run sweep 300 $B/native_sim_bench --sweep --label sweep --samples $VSAMPLES ;;
    extra)
      [ -x $B/native_sim_bench_base ] && run base-extra 300 $B/native_sim_bench_base --extra --label base --samples 300
      run new-extra 300 $B/native_sim_bench --extra --label new --samples 300 ;;
    stress) run stress 500 $B/native_sim_bench --stress --label new ;;
    vstress)
      for v in $B/native_sim_bench_*; do
        n=${v##*native_sim_bench_}
        case $n in base|trace*) continue ;; esac
        run "stress-$n" 300 "$v" --stress --label "$n"
      done ;;
    trace)
      for v in $B/native_sim_bench_trace*; do
        n=${v##*native_sim_bench_}
        run "$n" 300 "$v" --trace --label "$n"
      done ;;
  esac
done
echo "== table" | tee -a "$L/summary.txt"
grep -h "^ROW" "$L"/*.log | sed -e 's/^ROW //' -e 's/ \(exact\|WRONG\|-\|TIMEOUT\)  .*/ \1/' \
  | tee -a "$L/summary.txt"
grep -h "^STRESS" "$L"/*.log | awk '{print $2, $3, $4, $5, $9, $10, $11, $12, $13}' | tee -a "$L/summary.txt"
grep -h "^TRACE" "$L"/*.log | tee -a "$L/summary.txt"
tar czf "$O/logs.tgz" -C "$O" logs
cp "$L/summary.txt" "$O/summary.txt"
