#pragma once
/// @file
/// Check group `shm`: the size of /dev/shm against what NCCL needs on a host. NCCL keeps its
/// intra-node SHM transport buffers and proxy state in /dev/shm segments; in a container the
/// default /dev/shm is Docker's 64 MiB, and NCCL then fails at communicator init
/// ("posix_fallocate failed: No space left on device", "Error while creating shared memory
/// segment", or a bus error).
///
/// Sources (read through the project's search tool; cited, not copied):
///  - NVIDIA/nccl#342 and #290: NCCL 2.7 segments of 9,637,888 bytes each ("nccl-shm-recv-...")
///    exhaust Docker's 64 MiB /dev/shm; the fix is a larger --shm-size (or NCCL_SHM_DISABLE=1).
///  - moby/moby#16168: Docker's /dev/shm is 64 MiB unless --shm-size is given.
///  - NCCL user guide, Troubleshooting, "Shared memory" (docs.nvidia.com/deeplearning/nccl/
///    user-guide/docs/troubleshooting.html#shared-memory, as cited in ggml-org/llama.cpp#23523):
///    give the container 1 GB (docker run --shm-size=1g).
///  - Issue 17 of this project says NCCL >= 2.31 needs more than 64 MiB; no public source for
///    the 2.31 change was found in the corpora searched, so the rule below does not depend on
///    the NCCL version (it only names it in the hint).
///
/// Rule, per host (ranks grouped by host and /dev/shm size):
///  - FAIL: /dev/shm missing or unreadable; or at most 64 MiB in all (Docker's default) with
///    two or more ranks on the host; or less than kShmPerLocalRankBytes x ranks of the host
///    available (an estimate from the segment sizes above: a proxy segment and SHM transport
///    buffers per rank).
///  - WARN: less than kShmRecommendedBytes (1 GiB, NCCL's advice) available.
///  - PASS: otherwise.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/diag_result.hpp"
#include "diag/group_info.hpp"
#include "diag/rank_facts.hpp"

namespace dcp::diag {

inline constexpr CheckGroupInfo kShmGroup{
    "shm", "/dev/shm size against NCCL's need (containers default to 64 MiB)", false};

inline constexpr std::string_view kShmPath = "/dev/shm";
/// Docker's default /dev/shm.
inline constexpr std::uint64_t kShmDockerDefaultBytes = 64ULL << 20;
/// NCCL's troubleshooting guide asks for 1 GB in containers.
inline constexpr std::uint64_t kShmRecommendedBytes = 1ULL << 30;
/// Estimated need per rank on a host (see the file comment).
inline constexpr std::uint64_t kShmPerLocalRankBytes = 32ULL << 20;

/// statvfs of /dev/shm on one rank.
struct ShmFacts {
  std::string path;
  bool ok = false;    ///< statvfs succeeded
  std::string error;  ///< why not
  std::uint64_t total_bytes = 0;
  std::uint64_t avail_bytes = 0;  ///< available to an unprivileged process

  friend bool operator==(const ShmFacts&, const ShmFacts&) = default;
};

std::string encode(const ShmFacts& f);
void decode(std::string_view text, ShmFacts& out);

/// statvfs(`path`) (CUDA-free; tests pass another path).
ShmFacts probe_shm(std::string_view path = kShmPath);

/// One "shm_size" job row per host (per distinct /dev/shm size of a host), listing its ranks.
/// `facts[i]` belongs to `ranks[i]`.
std::vector<DiagCheck> shm_checks(const std::vector<RankFacts>& ranks,
                                  const std::vector<ShmFacts>& facts);

}  // namespace dcp::diag
