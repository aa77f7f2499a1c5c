#pragma once
/// @file
/// What one rank runs on, gathered once at the start of `dcpbench diag` and shared by every
/// check group (pure, no CUDA). Several groups' rules read only these facts (devices, mapping,
/// driver, nccl).

#include <string>
#include <string_view>
#include <vector>

#include "core/rank_info.hpp"

namespace dcp::diag {

/// CUDA error 802 (cudaErrorSystemNotReady, "system not yet initialized"): on NVSwitch systems
/// the Fabric Manager has not brought the GPUs up.
inline constexpr int kCudaErrorSystemNotReady = 802;

/// A rank's RankInfo (core/rank_info.hpp: host, GPU, versions; `nccl_version` is the loaded
/// NCCL library) plus what only diag checks.
struct RankFacts : RankInfo {
  int local_size = 1;
  /// CUDA started on this rank (device selected, context created). When false the GPU fields
  /// come from NVML (uuid, pci_bus_id) or stay empty.
  bool cuda_ready = true;
  int cuda_error = 0;                      ///< cudaError_t of the failed start, 0 when ready
  std::string cuda_error_name;             ///< "cudaErrorSystemNotReady"
  std::string cuda_error_text;             ///< "system not yet initialized"
  int visible_devices = 0;                 ///< cudaGetDeviceCount in this process
  bool cvd_set = false;                    ///< CUDA_VISIBLE_DEVICES is set
  std::string cvd;                         ///< its value
  std::vector<std::string> visible_uuids;  ///< UUID of every device visible here, by ordinal
  std::string nccl_compiled;               ///< "2.28.9"
  std::string nccl_warning;                ///< non-empty when loaded and compiled NCCL differ

  friend bool operator==(const RankFacts&, const RankFacts&) = default;
};

/// Wire format for the cross-rank gather (JSON text); decode throws dcp::Error on bad text.
std::string encode(const RankFacts& f);
void decode(std::string_view text, RankFacts& out);

}  // namespace dcp::diag
