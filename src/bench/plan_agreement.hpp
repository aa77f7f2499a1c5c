#pragma once
/// @file
/// Every rank must run the same sweep: the exchange's sequence counters advance identically on
/// all ranks only if every rank makes the same calls with the same shapes (spec §8.7). Ranks
/// launched with different flags or configs are caught here, before any exchange, with a message
/// naming the ranks and the first differing run, instead of ending in timeouts or garbage.

#include <vector>

#include "core/sweep.hpp"
#include "core/world.hpp"

namespace dcp::bench {

/// Collective. Throws ConfigError (identically on every rank) when any rank's plan differs from
/// rank 0's.
void require_same_plan(const std::vector<PlannedRun>& plan, const World& world);

}  // namespace dcp::bench
