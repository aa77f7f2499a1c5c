#pragma once
/// @file
/// Check group `peer`: cudaDeviceCanAccessPeer and the P2P attributes of every same-host ordered
/// rank pair, read in the `from` rank's process. Run: groups/peer_run.cpp.

#include <string>
#include <string_view>
#include <vector>

#include "core/diag_result.hpp"
#include "diag/group_info.hpp"
#include "diag/rank_facts.hpp"

namespace dcp::diag {

inline constexpr CheckGroupInfo kPeerGroup{
    "peer",
    "cudaDeviceCanAccessPeer and P2P attributes (performance rank, native atomics, access "
    "supported) for every same-host rank pair",
    true};

/// P2P facts of the ordered pair from -> to, read in `from`'s process.
struct PeerFacts {
  int from = 0;
  int to = 0;
  bool peer_visible = false;  ///< `to`'s GPU is visible in `from`'s process
  int peer_device = -1;       ///< its ordinal there
  int can_access = 0;         ///< cudaDeviceCanAccessPeer
  int perf_rank = 0;          ///< cudaDevP2PAttrPerformanceRank (lower is better)
  int native_atomics = 0;     ///< cudaDevP2PAttrNativeAtomicSupported
  int access_supported = 0;   ///< cudaDevP2PAttrAccessSupported
  std::string error;          ///< a CUDA call failed

  friend bool operator==(const PeerFacts&, const PeerFacts&) = default;
};

std::string encode(const std::vector<PeerFacts>& f);
void decode(std::string_view text, std::vector<PeerFacts>& out);

/// One "peer_access" row per ordered pair (FAIL when cudaDeviceCanAccessPeer or the
/// access-supported attribute is 0; SKIP across hosts, on a shared GPU, or when the peer GPU is
/// not visible in-process); a single SKIP on one rank.
std::vector<DiagCheck> peer_checks(const std::vector<RankFacts>& ranks,
                                   const std::vector<PeerFacts>& pairs);

}  // namespace dcp::diag
