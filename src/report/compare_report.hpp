#pragma once
/// @file
/// Printers of a Comparison: the human table (stdout of `dcpbench compare`), JSON (schema
/// "dcpbench-compare"), CSV and the nightly markdown report. Each writes to an injected stream.

#include <nlohmann/json.hpp>

#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "report/compare.hpp"

namespace dcp::report {

/// Schema of the comparison JSON; same versioning rules as the run report.
inline constexpr std::string_view kCompareSchemaName = "dcpbench-compare";
inline constexpr int kCompareSchemaMajor = 1;
inline constexpr int kCompareSchemaMinor = 0;

/// Human table: header (both reports, thresholds), the ENV_CHANGED warning, rows grouped by
/// exchange with their verdicts, and a summary line with the exit code.
void write_comparison_table(const Comparison& cmp, std::ostream& out);

/// {"schema", "base", "new", "thresholds", "exit_code", "summary", "env_changes", "rows"}.
nlohmann::ordered_json comparison_to_json(const Comparison& cmp);
void write_comparison_json(const Comparison& cmp, std::ostream& out);

/// Column names of the comparison CSV, in order.
const std::vector<std::string>& comparison_csv_columns();
/// One row per compared (case, impl); RFC 4180 quoting; SI units.
void write_comparison_csv(const Comparison& cmp, std::ostream& out);

/// The nightly report (GitHub-flavoured markdown): outcome, summary counts, regressions first,
/// environment changes, then the other verdicts (unchanged rows folded in a <details> block).
void write_comparison_markdown(const Comparison& cmp, std::ostream& out);

}  // namespace dcp::report
