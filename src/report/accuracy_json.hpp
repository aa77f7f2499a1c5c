#pragma once
/// @file
/// The reduction's records of a result row <-> JSON (report schema 1.2): the accuracy block
/// (core/accuracy.hpp) and the hang report (core/hang_report.hpp). Written by json_report.cpp
/// into each result; read back strictly, field by field (docs/report-schema.md).

#include <nlohmann/json.hpp>

#include <string>

#include "core/accuracy.hpp"
#include "core/hang_report.hpp"
#include "report/json_read.hpp"

namespace dcp::report::detail {

/// {"identical", "rows_checked", "rows_identical", "elements_checked", "values_differing",
///  "ulp_max", "ulp_mean", "ulp_sum", "lse_ulp_max", "lse_ulp_mean", "lse_ulp_sum",
///  "first_difference": null | {...}}. Errors are in units in the last place (ulp, see
/// core/accuracy.hpp); an infinite error (a NaN output, or an infinity where the exact value is
/// finite) is written as null.
nlohmann::ordered_json accuracy_to_json(const Accuracy& a);
/// Reads accuracy_to_json's output (null errors read as +inf); ReportError on a bad field.
Accuracy read_accuracy(const JsonReader& rd, const nlohmann::json& j, const std::string& path);

/// {"text", "ranks", "peers", "channels_per_pair", "idle_channels", "errors": [...],
///  "channels": [{"rank", "peer", "channel", "head", "credit", "tail", "consumed", "arrived",
///  "consumed_known"}]}; "text" is to_text(h), for people (not read back).
nlohmann::ordered_json hang_to_json(const HangReport& h);
HangReport read_hang(const JsonReader& rd, const nlohmann::json& j, const std::string& path);

}  // namespace dcp::report::detail
