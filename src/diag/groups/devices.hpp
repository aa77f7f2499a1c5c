#pragma once
/// @file
/// Check group `devices`: each rank's GPU (compute capability >= 9.0) and the GPU models across
/// ranks. Facts: RankFacts only (gathered at the start). Rule pure; run: groups/devices_run.cpp.

#include <vector>

#include "core/diag_result.hpp"
#include "diag/group_info.hpp"
#include "diag/rank_facts.hpp"

namespace dcp::diag {

inline constexpr CheckGroupInfo kDevicesGroup{
    "devices",
    "per rank: host, GPU model and UUID, compute capability (>= 9.0), SMs; one GPU model", true};

/// The native exchange needs Hopper (sm_90) or newer.
inline constexpr int kMinCcMajor = 9;
inline constexpr int kMinCcMinor = 0;

/// One "gpu" row per rank (FAIL below compute capability 9.0) and one job "gpu_model" row (WARN
/// naming the ranks when the GPU models differ).
std::vector<DiagCheck> device_checks(const std::vector<RankFacts>& ranks);

}  // namespace dcp::diag
