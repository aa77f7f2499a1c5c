#pragma once
/// @file
/// Check group `nccl`: the NCCL library each rank loaded against the headers the binary was
/// built with, and the loaded versions across ranks (moved out of `devices` and extended).
/// Facts: RankFacts (nccl_version, nccl_compiled). Run: groups/nccl_run.cpp.
///
/// Rules (documented in docs/diag-schema.md):
///  - nccl_version (job): every rank's loaded == compiled: PASS. Loaded OLDER than compiled:
///    FAIL (the headers describe device-API structures the library does not have; a binary
///    built for 2.28.9 crashed on 2.28.3 on our machines, shared/docs/environment.md). Loaded
///    newer, or unknown: WARN (host API compatible, device-API layouts changed at 2.29 and 2.30:
///    untested).
///  - nccl_agreement (job): every rank loaded the same version: PASS; else FAIL, because NCCL
///    refuses such a communicator at init ("Mismatched NCCL version detected", ncclInvalidUsage,
///    NCCL src/init.cc).

#include <array>
#include <optional>
#include <string_view>
#include <vector>

#include "core/diag_result.hpp"
#include "diag/group_info.hpp"
#include "diag/rank_facts.hpp"

namespace dcp::diag {

inline constexpr CheckGroupInfo kNcclGroup{
    "nccl", "NCCL: loaded library = compiled headers on every rank; one version across ranks",
    false};

/// "2.28.9" -> {2, 28, 9}; nullopt for anything else. Pure.
std::optional<std::array<int, 3>> parse_nccl_version(std::string_view text);

/// The nccl_version and nccl_agreement rows.
std::vector<DiagCheck> nccl_checks(const std::vector<RankFacts>& ranks);

}  // namespace dcp::diag
