#pragma once
/// @file
/// Printers and the reader of `dcpbench diag` reports (core/diag_result.hpp): a human table and
/// JSON in the `dcpbench-diag` schema (docs/diag-schema.md). No CUDA, no MPI: links only core.
///
/// Values are stored in SI units; only the table scales them (latency in us, bandwidth in GB/s).
/// Printers never compute verdicts or counts: the summary comes filled in (diag::summarize).

#include <iosfwd>
#include <string>
#include <string_view>

#include "core/diag_result.hpp"

namespace dcp::report {

/// Name and version of the diag JSON schema (1.1 added `checks[].remedy`).
inline constexpr std::string_view kDiagSchemaName = "dcpbench-diag";
inline constexpr std::string_view kDiagSchemaVersion = "1.1";

/// The human report: header, ranks, checks (with a hint line under every row that is not PASS),
/// matrices as tables, summary line.
void write_diag_table(const DiagReport& report, std::ostream& os);

/// The JSON report (docs/diag-schema.md), pretty-printed with a trailing newline.
void write_diag_json(const DiagReport& report, std::ostream& os);

/// Reads a JSON report written by write_diag_json. Throws ConfigError naming `source` and the
/// field for malformed input, a wrong schema name or another major version.
DiagReport read_diag_json(std::istream& is, std::string_view source);

/// A number given in SI units, as shown to humans: the one place diag's numbers are scaled. Seconds
/// become microseconds (2 decimals), bytes/s become GB/s (1 decimal); any other unit is kept (4
/// significant digits). The diag rules use it for the text and number of their rows, the table
/// for matrix cells.
struct DisplayValue {
  double number = 0;   ///< the value in `unit`
  std::string unit;    ///< "us", "GB/s", or the SI unit given
  std::string digits;  ///< "0.70", "392.1"
  std::string text;    ///< "0.70 us", "392.1 GB/s"
};
DisplayValue display_value(double value, std::string_view unit);

/// For each FAIL and WARN row (in report order), what to do about it: the row, its hint and its
/// remedy (`dcpbench diag --explain`); "no remedy recorded" where a rule gave none. Prints
/// "Nothing to explain: ..." when every row passed or was skipped.
void write_diag_explain(const DiagReport& report, std::ostream& os);

/// A matrix cell scaled for humans: seconds -> "0.71" (us), bytes/s -> "392.1" (GB/s); "-" for
/// a cell that was not measured.
std::string format_matrix_cell(const DiagMatrix& m, int from, int to);
/// The unit format_matrix_cell prints in: "us", "GB/s", or the matrix's own unit.
std::string display_unit(const DiagMatrix& m);

}  // namespace dcp::report
