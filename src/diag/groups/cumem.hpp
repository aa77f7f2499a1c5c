#pragma once
/// @file
/// Check group `cumem`: the cuMem capabilities of each rank's GPU (VMM, POSIX-fd and fabric
/// handle attributes). Run: groups/cumem_run.cpp.

#include <string>
#include <string_view>
#include <vector>

#include "core/diag_result.hpp"
#include "diag/group_info.hpp"
#include "diag/rank_facts.hpp"

namespace dcp::diag {

inline constexpr CheckGroupInfo kCumemGroup{
    "cumem", "cuMem capabilities: VMM, POSIX-fd and fabric handle attributes", true};

/// cuMem device attributes of one rank's GPU.
struct CumemFacts {
  bool vmm = false;
  bool posix_fd = false;
  bool fabric = false;
  std::string error;

  friend bool operator==(const CumemFacts&, const CumemFacts&) = default;
};

std::string encode(const CumemFacts& f);
void decode(std::string_view text, CumemFacts& out);

/// One "cumem_caps" row per rank (FAIL without VMM, WARN without POSIX-fd handles).
std::vector<DiagCheck> cumem_checks(const std::vector<RankFacts>& ranks,
                                    const std::vector<CumemFacts>& facts);

}  // namespace dcp::diag
