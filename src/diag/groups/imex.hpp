#pragma once
/// @file
/// Check group `imex`: what fabric (multi-node NVLink) workspaces need beyond the handles: an
/// IMEX channel this process can open (/dev/nvidia-caps-imex-channels/channel0) on every rank,
/// and every rank's GPU in one NVLink partition (NVML fabric info: the same cluster UUID and
/// clique id), since GPUs of different cliques cannot map each other's memory. Runs without a
/// working CUDA device. Run: groups/imex_run.cpp.
///
/// Rules: a job whose ranks span hosts needs a fabric workspace.
///  - imex_channel (rank): PASS when channel0 is there and accessible; otherwise FAIL when the
///    job needs a fabric workspace, SKIP (not needed on one host, where ipc works) when not.
///  - imex_domain (job): SKIP on one host; SKIP when NVML cannot tell on some rank; FAIL naming
///    the ranks whose GPU is not registered with a fabric (state not COMPLETED, or an error), or
///    naming each (cluster, clique) and its ranks when they differ; PASS when all agree.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/diag_result.hpp"
#include "diag/group_info.hpp"
#include "diag/rank_facts.hpp"

namespace dcp::diag {

inline constexpr CheckGroupInfo kImexGroup{
    "imex",
    "IMEX channel present on every rank, and all ranks' GPUs in one NVLink cluster and clique "
    "(needed when the ranks span hosts)",
    false};

/// One rank's IMEX channel and fabric registration.
struct ImexFacts {
  std::string channel_dir;  ///< the directory checked
  bool channel0_exists = false;
  bool channel0_accessible = false;
  std::string summary;  ///< fabric::ImexStatus::summary()
  bool nvml_available = false;
  std::string nvml_reason;
  bool fabric_queried = false;  ///< NVML answered the fabric-info call
  int fabric_state = 0;         ///< NVML_GPU_FABRIC_STATE_*
  int fabric_status = 0;        ///< nvmlReturn_t of the registration
  std::string cluster_uuid;
  std::uint32_t clique_id = 0;

  friend bool operator==(const ImexFacts&, const ImexFacts&) = default;
};

std::string encode(const ImexFacts& f);
void decode(std::string_view text, ImexFacts& out);

/// One "imex_channel" row per rank and the job "imex_domain" row.
std::vector<DiagCheck> imex_checks(const std::vector<RankFacts>& ranks,
                                   const std::vector<ImexFacts>& facts);

}  // namespace dcp::diag
