#pragma once
/// @file
/// Check group `ipc`: the ipc workspace (cuMem POSIX-fd handles passed between the ranks of one
/// host and mapped into one VA range). The workspace it builds is kept for the probes that run
/// through the mapping (store_load, visibility, latency, ll128_order). Run: groups/ipc_run.cpp.

#include <string>
#include <string_view>
#include <vector>

#include "core/diag_result.hpp"
#include "diag/group_info.hpp"
#include "diag/rank_facts.hpp"

namespace dcp::diag {

inline constexpr CheckGroupInfo kIpcGroup{
    "ipc",
    "the ipc workspace: cuMem POSIX-fd handles passed between ranks and mapped into one unified "
    "VA range",
    true};

/// The ipc workspace as seen by one rank.
struct IpcFacts {
  bool attempted = false;
  bool ok = false;
  std::string describe;  ///< Workspace::describe() on success
  std::string error;     ///< the failure message

  friend bool operator==(const IpcFacts&, const IpcFacts&) = default;
};

std::string encode(const IpcFacts& f);
void decode(std::string_view text, IpcFacts& out);

/// One job "ipc_workspace" row (PASS when every rank mapped it; FAIL naming the failed ranks;
/// SKIP when the ranks span hosts).
DiagCheck ipc_check(const std::vector<RankFacts>& ranks, const std::vector<IpcFacts>& facts);

}  // namespace dcp::diag
