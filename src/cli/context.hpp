#pragma once
/// @file
/// Collects the run context (tool, argv, time, every rank's GPU and library versions).

#include <string>
#include <vector>

#include "core/result.hpp"
#include "core/world.hpp"

namespace dcp::cli {

/// Current UTC time as ISO 8601 ("2026-11-24T23:19:47Z").
std::string utc_now_iso8601();

/// Gathers every rank's `mine` (collective) and fills the rest of the context.
RunContext collect_context(const World& world, const RankInfo& mine,
                           const std::vector<std::string>& argv, const std::string& nccl_compiled,
                           const std::vector<std::string>& notes);

}  // namespace dcp::cli
