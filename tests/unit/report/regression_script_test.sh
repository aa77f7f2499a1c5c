#!/bin/sh
# ctest driver for scripts/regression.sh, with a stand-in dcpbench: its `run` copies the report
# named by $FAKE_REPORT to the --json path and exits $FAKE_RUN_RC; its `compare` is the real
# compare subcommand (dcp_compare_tool).
# Usage: regression_script_test.sh SOURCE_DIR COMPARE_TOOL WORK_DIR
set -u
src="$1"
tool="$2"
work="$3"
golden="$src/tests/golden"
script="$src/scripts/regression.sh"

fail() { echo "FAIL: $*"; exit 1; }
rm -rf "$work" && mkdir -p "$work" || fail "cannot create $work"

fake="$work/fake-dcpbench"
cat >"$fake" <<FAKE
#!/bin/sh
if [ "\$1" = compare ]; then shift; exec "$tool" compare "\$@"; fi
[ "\$1" = run ] || exit 2
json=""
while [ \$# -gt 0 ]; do
  if [ "\$1" = --json ]; then json="\$2"; fi
  shift
done
echo "launched=\${FAKE_LAUNCHED:-no}" >"$work/launch.txt"
[ -r "\$FAKE_REPORT" ] && cp "\$FAKE_REPORT" "\$json"
exit \${FAKE_RUN_RC:-0}
FAKE
chmod +x "$fake"

# run_case NAME EXPECTED_RC REPORT [RUN_RC] [extra regression.sh args...]
run_case() {
  name="$1"; want="$2"; report="$3"; run_rc="$4"; shift 4
  FAKE_REPORT="$report" FAKE_RUN_RC="$run_rc" bash "$script" --bin "$fake" \
    --baseline "$golden/compare_base.json" --out "$work/$name" "$@" >"$work/$name.log" 2>&1
  rc=$?
  [ $rc -eq "$want" ] || { cat "$work/$name.log"; fail "$name: exit $rc, expected $want"; }
}

run_case same 0 "$golden/compare_base.json" 0
grep -q "^# dcpbench regression report: OK" "$work/same/regression.md" || fail "same: markdown"
[ -s "$work/same/compare.json" ] && [ -s "$work/same/compare.csv" ] && [ -s "$work/same/compare.txt" ] ||
  fail "same: compare outputs missing"
grep -q "launched=no" "$work/launch.txt" || fail "sim should run the binary directly"

run_case slower 1 "$golden/compare_slower_new.json" 0
grep -q "^# dcpbench regression report: REGRESSION" "$work/slower/regression.md" ||
  fail "slower: markdown"
grep -q "| SLOWER |" "$work/slower/regression.md" || fail "slower: no SLOWER row"

run_case truncated 2 "$golden/compare_truncated.json" 0
run_case noreport 3 "/nonexistent.json" 3
run_case verifyrun 1 "$golden/compare_base.json" 1  # compare OK, the run failed: run's code
printf '{"p50_latency_pct": 30, "p95_latency_pct": 30, "bus_bw_pct": 30}' >"$work/loose.json"
run_case loose 0 "$golden/compare_slower_new.json" 0 --thresholds "$work/loose.json"
run_case launcher 0 "$golden/compare_base.json" 0 --launcher "env FAKE_LAUNCHED=yes"
grep -q "launched=yes" "$work/launch.txt" || fail "the launcher prefix was not used"
run_case newfile 1 "/nonexistent.json" 0 --new "$golden/compare_slower_new.json"

# Usage errors are exit 2.
bash "$script" --bin "$fake" >/dev/null 2>&1
[ $? -eq 2 ] || fail "no baseline should be exit 2"
bash "$script" --bin "$fake" --baseline "$golden/compare_base.json" --bogus >/dev/null 2>&1
[ $? -eq 2 ] || fail "an unknown option should be exit 2"
echo "PASS"
