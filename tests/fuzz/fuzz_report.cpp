/// @file
/// libFuzzer target: the strict run-report reader and what `dcpbench compare` does with a report.
///
/// Input: the bytes of a report file (schema "dcpbench-report", docs/report-schema.md), read by
/// report::parse_run_report exactly as `compare` reads BASE.json and NEW.json.
///
/// Expected on any input: a RunReport or a report::ReportError; anything else (another
/// exception type, a crash, a sanitizer report, a hang, unbounded memory) is a bug. Oracles on a
/// report that parses:
///   - round trip: write_json -> parse_run_report -> write_json gives the same text;
///   - compare(r, r) throws only when r has no rows or two rows with one (case key, impl); else
///     every row is SAME or SKIPPED, except rows that failed (verify_failed, error, or verify
///     counts not clean), which are VERIFY_CHANGED; and no environment change is reported;
///   - compare against tests/golden/compare_base.json, both ways and with default and hair-trigger
///     thresholds, gives a Comparison or a ReportError, and all four printers (table, JSON, CSV,
///     markdown) print it.
///
/// Seeds: tests/golden/*.json (copied into <build>/fuzz/seeds/report at configure time).
/// Dictionary: tests/fuzz/report.dict. Build and run: docs/RELIABILITY.md#fuzzing.

#include <cstddef>
#include <cstdint>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>

#include "core/error.hpp"
#include "fuzz_support.hpp"
#include "report/compare.hpp"
#include "report/compare_report.hpp"
#include "report/json_report.hpp"
#include "report/report_error.hpp"

namespace {

using dcp::report::Comparison;
using dcp::report::Thresholds;
using dcp::report::Verdict;

const dcp::RunReport& golden_base() {
  static const dcp::RunReport base =
      dcp::report::read_run_report(std::string(DCP_SOURCE_DIR) + "/tests/golden/compare_base.json");
  return base;
}

std::string to_text(const dcp::RunReport& r) {
  std::ostringstream out;
  dcp::report::write_json(r, out);
  return std::move(out).str();
}

void print_all(const Comparison& cmp) {
  std::ostringstream out;
  dcp::report::write_comparison_table(cmp, out);
  dcp::report::write_comparison_json(cmp, out);
  dcp::report::write_comparison_csv(cmp, out);
  dcp::report::write_comparison_markdown(cmp, out);
}

bool failed(const dcp::CaseResult& r) {
  return r.status == dcp::CaseStatus::kVerifyFailed || r.status == dcp::CaseStatus::kError ||
         !r.verify.ok();
}

void check_round_trip(const dcp::RunReport& r) {
  const std::string first = to_text(r);
  dcp::RunReport back;
  try {
    back = dcp::report::parse_run_report(first, "round trip");
  } catch (const std::exception& e) {
    dcp::fuzz::fail("write_json output does not read back", std::string(e.what()) + "\n" + first);
  }
  const std::string second = to_text(back);
  if (second != first) dcp::fuzz::fail("report round trip changed the text", first + "\n" + second);
}

void check_self_compare(const dcp::RunReport& r) {
  std::set<std::pair<std::string, std::string>> keys;
  bool duplicate = false;
  for (const auto& row : r.results)
    duplicate |= !keys.emplace(row.c.key(), row.impl).second;
  const bool must_throw = r.results.empty() || duplicate;
  Comparison cmp;
  try {
    cmp = dcp::report::compare(r, r, Thresholds{});
  } catch (const dcp::report::ReportError& e) {
    if (!must_throw) dcp::fuzz::fail("compare(r, r) refused a comparable report", e.what());
    return;
  }
  if (must_throw) dcp::fuzz::fail("compare(r, r) accepted a report without unique rows");
  if (cmp.rows.size() != r.results.size()) dcp::fuzz::fail("compare(r, r) lost or added rows");
  for (std::size_t i = 0; i < cmp.rows.size(); ++i) {
    const Verdict v = cmp.rows[i].verdict;
    const bool ok = failed(r.results[i]) ? v == Verdict::kVerifyChanged
                                         : (v == Verdict::kSame || v == Verdict::kSkipped);
    if (!ok) {
      dcp::fuzz::fail("compare(r, r) gave an unexpected verdict",
                      std::string(dcp::report::to_string(v)) + " for " + cmp.rows[i].key + " / " +
                          cmp.rows[i].impl + ": " + cmp.rows[i].note);
    }
  }
  if (!cmp.env_changes.empty()) dcp::fuzz::fail("compare(r, r) reported an environment change");
  print_all(cmp);
}

void check_against_golden(const dcp::RunReport& r) {
  Thresholds hair_trigger;
  hair_trigger.p50_rel = 1e-9;
  hair_trigger.p95_rel = 1e-9;
  hair_trigger.bus_bw_rel = 1e-9;
  hair_trigger.min_abs_delta_s = 0;
  for (const Thresholds& th : {Thresholds{}, hair_trigger}) {
    for (const bool base_first : {true, false}) {
      try {
        const Comparison cmp = base_first ? dcp::report::compare(golden_base(), r, th)
                                          : dcp::report::compare(r, golden_base(), th);
        print_all(cmp);
      } catch (const dcp::report::ReportError&) {
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)golden_base();  // loaded before the first input, so a broken seed file fails at once
  dcp::RunReport r;
  try {
    r = dcp::report::parse_run_report(std::string_view(reinterpret_cast<const char*>(data), size),
                                      "fuzz.json");
  } catch (const dcp::report::ReportError&) {
    return 0;
  }
  check_round_trip(r);
  check_self_compare(r);
  check_against_golden(r);
  return 0;
}
