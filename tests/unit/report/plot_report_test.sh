#!/bin/sh
# ctest driver for scripts/plot_report.py: plots the crafted reports and a comparison, checks
# the PNGs, robustness against reports without timed rows, and refusal of bad input.
# Usage: plot_report_test.sh SOURCE_DIR WORK_DIR. Exit 77 (skipped) without matplotlib.
set -u
src="$1"
work="$2"
golden="$src/tests/golden"
script="$src/scripts/plot_report.py"

python=""
for p in "${DCP_PYTHON:-}" /usr/bin/python3 python3; do
  [ -n "$p" ] || continue
  if "$p" -c "import matplotlib" >/dev/null 2>&1; then python="$p"; break; fi
done
if [ -z "$python" ]; then
  echo "SKIPPED: no python3 with matplotlib (Debian: python3-matplotlib)"
  exit 77
fi
export MPLBACKEND=Agg

fail() { echo "FAIL: $*"; exit 1; }
rm -rf "$work" && mkdir -p "$work" || fail "cannot create $work"

"$python" "$script" "$golden/compare_base.json" "$golden/compare_slower_new.json" \
  --compare "$golden/compare_slower.json" --out "$work/plots" >"$work/out.txt" 2>&1 ||
  { cat "$work/out.txt"; fail "plot_report.py failed"; }
for f in latency_cp2_d128_s2_bf16_graph.png speedup_cp2_d128_s2_bf16_graph.png \
         compare_compare_slower.png; do
  p="$work/plots/$f"
  [ -s "$p" ] || { cat "$work/out.txt"; fail "$f was not written"; }
  magic=$(od -An -c -N4 "$p" | tr -d ' ')
  [ "$magic" = "211PNG" ] || fail "$f is not a PNG ($magic)"
done

# A report whose rows are all skipped: nothing to plot, but no failure.
"$python" - "$golden/compare_base.json" "$work/skipped.json" <<'PY' || fail "cannot craft"
import json, sys
r = json.load(open(sys.argv[1]))
for row in r["results"]:
    row["status"] = "skipped"; row["skip_reason"] = "crafted"; row["timing"] = None
r["speedups"] = []
json.dump(r, open(sys.argv[2], "w"))
PY
"$python" "$script" "$work/skipped.json" --out "$work/none" >"$work/out2.txt" 2>&1 ||
  { cat "$work/out2.txt"; fail "a report without timed rows made it fail"; }
grep -q "nothing to plot" "$work/out2.txt" || fail "no 'nothing to plot' message"

# Bad input: exit 2 with the file named.
"$python" "$script" "$golden/compare_truncated.json" --out "$work/bad" >"$work/out3.txt" 2>&1
rc=$?
[ $rc -eq 2 ] || fail "truncated input gave exit $rc, expected 2"
grep -q "compare_truncated.json" "$work/out3.txt" || fail "the error does not name the file"
"$python" "$script" "$golden/compare_schema_v2.json" --out "$work/bad" >/dev/null 2>&1
[ $? -eq 2 ] || fail "schema 2.0 was accepted"
echo "PASS"
