#pragma once
/// @file
/// Check group `mapping`: local rank -> GPU, no two ranks on one GPU (UUIDs compared per host),
/// CUDA_VISIBLE_DEVICES reported. Facts: RankFacts only. Run: groups/mapping_run.cpp.

#include <vector>

#include "core/diag_result.hpp"
#include "diag/group_info.hpp"
#include "diag/rank_facts.hpp"

namespace dcp::diag {

inline constexpr CheckGroupInfo kMappingGroup{
    "mapping",
    "local rank -> GPU: no two ranks on one GPU (UUIDs compared), CUDA_VISIBLE_DEVICES reported",
    true};

/// One "gpu_mapping" row per rank (FAIL "two ranks on one GPU" naming the ranks, host and UUID
/// when another rank of the host uses the same GPU).
std::vector<DiagCheck> mapping_checks(const std::vector<RankFacts>& ranks);

}  // namespace dcp::diag
