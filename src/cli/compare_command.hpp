#pragma once
/// @file
/// `dcpbench compare BASE.json NEW.json`: reads two run reports, compares them
/// (report::compare), prints the comparison table on stdout and writes the requested files
/// (JSON, CSV, markdown) atomically. Touches neither CUDA nor MPI: it runs as a plain process.
///
/// Exit codes: 0 no regression; 1 a row is SLOWER, MISSING or VERIFY_CHANGED; 2 unusable input
/// (unreadable, truncated or invalid report, another schema major version, reports with nothing
/// in common, bad thresholds), thrown as report::ReportError / ConfigError.

#include <iosfwd>
#include <optional>
#include <string>

namespace CLI {
class App;
}

namespace dcp::cli {

/// The options of `compare`, as given.
struct CompareArgs {
  std::string base;                      ///< BASE.json: the reference run report
  std::string cand;                      ///< NEW.json: the run report under test
  std::string thresholds_file;           ///< --thresholds FILE; empty = built-in defaults
                                         ///< (identical to configs/thresholds.json)
  std::string json_out;                  ///< --json FILE: the comparison as JSON
  std::string csv_out;                   ///< --csv FILE: one row per compared (case, impl)
  std::string markdown_out;              ///< --markdown FILE: the nightly report
  std::optional<double> threshold_pct;   ///< --threshold PCT: replaces the p50 latency threshold
  std::optional<double> max_ulp_growth;  ///< --max-ulp-growth ULPS: replaces the file's
};

/// Registers the `compare` subcommand and its options on `app`; returns it.
CLI::App* add_compare_subcommand(CLI::App& app, CompareArgs& args);

/// Runs the comparison, printing the table to stdout; returns the exit code (0 or 1). Throws
/// dcp::Error subclasses (exit code 2) for unusable input.
int run_compare(const CompareArgs& args);

/// As run_compare(args), printing the table to `out`.
int run_compare(const CompareArgs& args, std::ostream& out);

}  // namespace dcp::cli
