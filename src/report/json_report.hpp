#pragma once
/// @file
/// The versioned JSON report of a `run` (schema "dcpbench-report"), its writer and its strict
/// reader. docs/report-schema.md documents every field; tests/golden/report_small.json is an
/// example.
///
/// Values are SI base units (seconds, bytes, bytes/s), as in core/result.hpp. The writer emits
/// keys in a fixed order; doubles are printed so that they read back bit-identical, and a
/// non-finite double (which measurement never produces) is written as null and read back as NaN.
/// to_json followed by run_report_from_json gives back the original RunReport. Reports are read
/// with the one JSON reader (report/json_read.hpp).

#include <nlohmann/json.hpp>

#include <iosfwd>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "report/json_read.hpp"

namespace dcp::report {

/// Schema name of a run report.
inline constexpr std::string_view kReportSchemaName = "dcpbench-report";
/// Schema version written. A reader accepts every minor version of its major version (minor
/// versions only add fields, which older readers ignore) and refuses any other major version.
inline constexpr int kReportSchemaMajor = 1;
inline constexpr int kReportSchemaMinor = 2;

/// The whole report as JSON: {"schema", "context", "config", "launch_floors", "results",
/// "speedups"}.
nlohmann::ordered_json to_json(const RunReport& report);

/// Writes to_json(report), indented by 2, with a final newline. Strings that are not valid
/// UTF-8 are written with U+FFFD in place of the bad bytes.
void write_json(const RunReport& report, std::ostream& out);

/// Reads a report from parsed JSON. Strict: another schema name or major version, a missing
/// field, a wrong type, an unknown enumeration value or a key that does not match its case
/// fields throws ReportError("report <origin>: <field path>: <problem>"). Unknown keys are
/// ignored (forward compatibility within a major version).
RunReport run_report_from_json(const nlohmann::json& j, std::string_view origin);

/// Parses JSON text and reads the report from it. Not JSON, truncated, nested deeper than
/// kMaxJsonDepth or invalid → ReportError naming `origin`. Never crashes or hangs on any input.
RunReport parse_run_report(std::string_view text, std::string_view origin);

/// Reads the report stored in the file `path` (ReportError if unreadable or invalid).
RunReport read_run_report(const std::string& path);

}  // namespace dcp::report
