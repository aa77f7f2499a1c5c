#pragma once
/// @file
/// Check group `paths`: what joins every pair of ranks' GPUs (fabric/peer_path.hpp: same GPU,
/// NVLink, multi-node NVLink, PCIe, network, unknown) and whether the native exchange's LL128
/// wire format may use it: PASS on the validated kinds, FAIL elsewhere, with the remedy the
/// native exchange's own refusal names. Facts: the table every rank holds after
/// fabric::gather_peer_paths. Runs without a working CUDA device. Run: groups/paths_run.cpp.

#include <vector>

#include "core/diag_result.hpp"
#include "diag/group_info.hpp"
#include "diag/rank_facts.hpp"
#include "fabric/peer_path.hpp"

namespace dcp::diag {

inline constexpr CheckGroupInfo kPathsGroup{
    "paths",
    "path class of every rank pair (same GPU, NVLink, PCIe, network; NVML): LL128 only over "
    "NVLink",
    false};

/// What every FAIL row of this group tells the operator to do.
inline constexpr std::string_view kPathsRemedy =
    "LL128 needs NVLink; use --impl nccl-* or --allow-unvalidated-path at your own risk";

/// One "ll128_path" row per pair a < b (the worse of the two directions); one SKIP row on a
/// single rank.
std::vector<DiagCheck> paths_checks(const std::vector<RankFacts>& ranks,
                                    const fabric::PeerPathTable& table);

}  // namespace dcp::diag
