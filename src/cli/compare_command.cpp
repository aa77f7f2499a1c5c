#include "cli/compare_command.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>

#include "core/error.hpp"
#include "report/atomic_file.hpp"
#include "report/compare.hpp"
#include "report/compare_report.hpp"
#include "report/json_report.hpp"
#include "report/report_error.hpp"

namespace dcp::cli {

namespace {

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  return std::filesystem::equivalent(a, b, ec) && !ec;
}

/// Refuses to overwrite an input with an output (a typo must not destroy the baseline).
void check_outputs(const CompareArgs& a) {
  for (const auto* out : {&a.json_out, &a.csv_out, &a.markdown_out}) {
    if (out->empty()) continue;
    for (const auto* in : {&a.base, &a.cand, &a.thresholds_file}) {
      if (!in->empty() && (*out == *in || same_file(*out, *in))) {
        throw ConfigError(fmt::format(
            "compare: output file '{}' is also an input; choose another output path", *out));
      }
    }
  }
}

}  // namespace

CLI::App* add_compare_subcommand(CLI::App& app, CompareArgs& args) {
  CLI::App* cmd = app.add_subcommand(
      "compare",
      "Compare two run reports (BASE.json NEW.json) row by row (case key, impl): SAME, FASTER, "
      "SLOWER, NOISY, MISSING, NEW, VERIFY_CHANGED, LESS_EXACT, SKIPPED, plus an ENV_CHANGED "
      "warning. Exit code 1 when a row is SLOWER, MISSING, VERIFY_CHANGED or LESS_EXACT; 2 for "
      "unusable input");
  cmd->add_option("base", args.base, "BASE.json: the reference report")->required();
  cmd->add_option("new", args.cand, "NEW.json: the report under test")->required();
  cmd->add_option("--thresholds", args.thresholds_file,
                  "Thresholds file (default: built-in, identical to configs/thresholds.json)");
  cmd->add_option("--threshold", args.threshold_pct,
                  "p50 latency threshold in percent, replacing the thresholds file's (e.g. 5)");
  cmd->add_option("--max-ulp-growth", args.max_ulp_growth,
                  "Growth of a reduce row's max error vs fp64, in output-type ulps, beyond which "
                  "it is LESS_EXACT; replaces the thresholds file's (default 1)");
  cmd->add_option("--json", args.json_out, "Write the comparison as JSON to FILE");
  cmd->add_option("--csv", args.csv_out, "Write the comparison as CSV to FILE");
  cmd->add_option("--markdown", args.markdown_out,
                  "Write the nightly markdown report (regressions first) to FILE");
  return cmd;
}

int run_compare(const CompareArgs& args) {
  return run_compare(args, std::cout);
}

int run_compare(const CompareArgs& args, std::ostream& out) {
  check_outputs(args);
  report::Thresholds thresholds;
  if (!args.thresholds_file.empty()) thresholds = report::read_thresholds(args.thresholds_file);
  if (args.threshold_pct) {
    thresholds.p50_rel = report::threshold_from_percent(*args.threshold_pct, "--threshold");
  }
  if (args.max_ulp_growth) {
    thresholds.max_ulp_growth =
        report::threshold_from_ulps(*args.max_ulp_growth, "--max-ulp-growth");
  }
  const RunReport base = report::read_run_report(args.base);
  const RunReport cand = report::read_run_report(args.cand);
  report::Comparison cmp;
  try {
    cmp = report::compare(base, cand, thresholds);
  } catch (const report::ReportError& e) {
    throw report::ReportError(
        fmt::format("compare '{}' (BASE) with '{}' (NEW): {}", args.base, args.cand, e.what()));
  }
  cmp.base.label = args.base;
  cmp.cand.label = args.cand;

  report::write_comparison_table(cmp, out);
  out.flush();
  if (!args.json_out.empty()) {
    report::write_file_atomically(
        args.json_out, [&](std::ostream& os) { report::write_comparison_json(cmp, os); });
  }
  if (!args.csv_out.empty()) {
    report::write_file_atomically(args.csv_out,
                                  [&](std::ostream& os) { report::write_comparison_csv(cmp, os); });
  }
  if (!args.markdown_out.empty()) {
    report::write_file_atomically(
        args.markdown_out, [&](std::ostream& os) { report::write_comparison_markdown(cmp, os); });
  }
  return static_cast<int>(cmp.exit_code());
}

}  // namespace dcp::cli
