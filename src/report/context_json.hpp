#pragma once
/// @file
/// The run context (tool, argv, time, hosts, every rank's GPU and library versions) as JSON: one
/// definition shared by the run report, the diag report and the gather of rank descriptions
/// across ranks, so the three cannot drift apart. Field names and order: docs/report-schema.md.

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "core/result.hpp"

namespace dcp::report {

nlohmann::ordered_json rank_info_to_json(const RankInfo& r);
nlohmann::ordered_json context_to_json(const RunContext& c);

/// Strict readers: a missing or wrong-typed field is a ReportError (exit code 2) saying
/// "<what> '<origin>': field '<path>.<field>': <problem>".
RankInfo rank_info_from_json(const nlohmann::json& j, std::string_view what,
                             std::string_view origin, const std::string& path);
RunContext context_from_json(const nlohmann::json& j, std::string_view what,
                             std::string_view origin, const std::string& path);

}  // namespace dcp::report
