#pragma once
/// @file
/// Check group `driver`: the CUDA driver and runtime versions agree across ranks (moved out of
/// `devices`). Facts: RankFacts only (cudaDriverGetVersion / cudaRuntimeGetVersion). Runs
/// without a working GPU: the versions come from the CUDA runtime even when the device cannot
/// start. Run: groups/driver_run.cpp.

#include <vector>

#include "core/diag_result.hpp"
#include "diag/group_info.hpp"
#include "diag/rank_facts.hpp"

namespace dcp::diag {

inline constexpr CheckGroupInfo kDriverGroup{
    "driver", "CUDA driver and runtime versions agree across ranks", false};

/// One job "driver_runtime" row: PASS when every rank reports the same driver and runtime
/// version; WARN naming the values and their ranks when one differs (a kernel built for one
/// runtime may be refused or behave differently elsewhere; the rule cannot know which side is
/// right, so it does not FAIL).
std::vector<DiagCheck> driver_checks(const std::vector<RankFacts>& ranks);

}  // namespace dcp::diag
