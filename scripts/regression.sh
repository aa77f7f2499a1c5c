#!/usr/bin/env bash
# Nightly regression check: run the regression sweep, compare it with a stored baseline report,
# write the markdown report, and exit with compare's code.
#
# Usage: scripts/regression.sh --baseline BASE.json [options] [-- extra `dcpbench run` flags]
#   --baseline FILE    stored baseline report (env DCP_BASELINE; required)
#   --bin PATH         the dcpbench binary (env DCPBENCH; default: build/bin/dcpbench if it
#                      exists, else dcpbench on PATH)
#   --launcher CMD     "sim": one process, the sweep simulates the cp ranks on one GPU; or a
#                      launcher prefix, e.g. "mpirun -np 2 --allow-run-as-root -x NCCL_NVLS_ENABLE=0"
#                      (env DCP_LAUNCHER; default: sim)
#   --config FILE      sweep config (env DCP_REGRESSION_CONFIG; default: configs/regression.json)
#   --thresholds FILE  thresholds (env DCP_THRESHOLDS; default: configs/thresholds.json)
#   --threshold PCT    override of the p50 latency threshold, in percent
#   --out DIR          output folder (env DCP_OUT_DIR; default: regression-<UTC time>)
#   --new FILE         do not run: compare this existing report instead
#
# Writes into DIR: new.json and new.csv (the run's reports), run.log, compare.txt (the table),
# compare.json, compare.csv and regression.md (the nightly report).
#
# Exit code: compare's (0 no regression, 1 a row SLOWER / MISSING / VERIFY_CHANGED, 2 unusable
# input). If the run wrote no report, the run's exit code (2 if it was 0). If compare found no
# regression but the run itself failed (1 verification, 3 runtime), the run's code: a failed run
# never passes.
set -u -o pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"

usage() {  # usage [exit code]: prints the header comment
  sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit "${1:-2}"
}
die() {
  echo "regression.sh: error: $*" >&2
  exit 2
}

baseline="${DCP_BASELINE:-}"
bin="${DCPBENCH:-}"
launcher="${DCP_LAUNCHER:-sim}"
config="${DCP_REGRESSION_CONFIG:-$root/configs/regression.json}"
thresholds="${DCP_THRESHOLDS:-$root/configs/thresholds.json}"
threshold=""
out="${DCP_OUT_DIR:-}"
new=""
extra=()

while [ $# -gt 0 ]; do
  case "$1" in
    --baseline) [ $# -ge 2 ] || usage; baseline="$2"; shift 2 ;;
    --bin) [ $# -ge 2 ] || usage; bin="$2"; shift 2 ;;
    --launcher) [ $# -ge 2 ] || usage; launcher="$2"; shift 2 ;;
    --config) [ $# -ge 2 ] || usage; config="$2"; shift 2 ;;
    --thresholds) [ $# -ge 2 ] || usage; thresholds="$2"; shift 2 ;;
    --threshold) [ $# -ge 2 ] || usage; threshold="$2"; shift 2 ;;
    --out) [ $# -ge 2 ] || usage; out="$2"; shift 2 ;;
    --new) [ $# -ge 2 ] || usage; new="$2"; shift 2 ;;
    -h|--help) usage 0 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "regression.sh: unknown option '$1'" >&2; usage ;;
  esac
done

[ -n "$baseline" ] || die "no baseline: give --baseline BASE.json (or set DCP_BASELINE)"
[ -r "$baseline" ] || die "baseline '$baseline' is not readable"
if [ -z "$bin" ]; then
  if [ -x "$root/build/bin/dcpbench" ]; then bin="$root/build/bin/dcpbench"; else bin="dcpbench"; fi
fi
command -v "$bin" >/dev/null 2>&1 || die "dcpbench binary '$bin' not found (give --bin PATH or set DCPBENCH)"
[ -z "$out" ] && out="regression-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out" || die "cannot create output folder '$out'"

run_rc=0
if [ -z "$new" ]; then
  [ -r "$config" ] || die "sweep config '$config' is not readable"
  new="$out/new.json"
  rm -f "$new"
  cmd=()
  if [ "$launcher" != "sim" ]; then
    read -r -a cmd <<<"$launcher"
  fi
  cmd+=("$bin" run --config "$config" --json "$new" --csv "$out/new.csv" --quiet)
  [ ${#extra[@]} -gt 0 ] && cmd+=("${extra[@]}")
  echo "regression.sh: ${cmd[*]}" >&2
  "${cmd[@]}" >"$out/run.log" 2>&1
  run_rc=$?
  if [ $run_rc -ne 0 ]; then
    echo "regression.sh: the run exited with $run_rc (log: $out/run.log)" >&2
    tail -n 5 "$out/run.log" >&2
  fi
  if [ ! -s "$new" ]; then
    echo "regression.sh: the run wrote no report ($new); nothing to compare" >&2
    [ $run_rc -ne 0 ] && exit $run_rc
    exit 2
  fi
fi

cmp=("$bin" compare "$baseline" "$new" --json "$out/compare.json" --csv "$out/compare.csv"
  --markdown "$out/regression.md")
[ -n "$thresholds" ] && cmp+=(--thresholds "$thresholds")
[ -n "$threshold" ] && cmp+=(--threshold "$threshold")
"${cmp[@]}" | tee "$out/compare.txt"
cmp_rc=${PIPESTATUS[0]}

echo "regression.sh: compare exited with $cmp_rc; report: $out/regression.md" >&2
if [ "$cmp_rc" -eq 0 ] && [ "$run_rc" -ne 0 ]; then
  exit "$run_rc"
fi
exit "$cmp_rc"
