#pragma once
/// @file
/// What one rank runs on, gathered once at the start of `dcpbench diag` and shared by every
/// check group (pure, no CUDA). Several groups' rules read only these facts (devices, mapping,
/// driver, nccl).

#include <string>
#include <string_view>
#include <vector>

namespace dcp::diag {

/// CUDA error 802 (cudaErrorSystemNotReady, "system not yet initialized"): on NVSwitch systems
/// the Fabric Manager has not brought the GPUs up.
inline constexpr int kCudaErrorSystemNotReady = 802;

struct RankFacts {
  int rank = 0;
  int local_rank = 0;
  int local_size = 1;
  std::string host;
  /// CUDA started on this rank (device selected, context created). When false the GPU fields
  /// below come from NVML (uuid, pci_bus_id) or stay empty.
  bool cuda_ready = true;
  int cuda_error = 0;                      ///< cudaError_t of the failed start, 0 when ready
  std::string cuda_error_name;             ///< "cudaErrorSystemNotReady"
  std::string cuda_error_text;             ///< "system not yet initialized"
  int device = -1;                         ///< CUDA ordinal in this process
  int visible_devices = 0;                 ///< cudaGetDeviceCount in this process
  bool cvd_set = false;                    ///< CUDA_VISIBLE_DEVICES is set
  std::string cvd;                         ///< its value
  std::vector<std::string> visible_uuids;  ///< UUID of every device visible here, by ordinal
  std::string gpu_name;
  std::string gpu_uuid;
  std::string pci_bus_id;
  int sm_count = 0;
  int cc_major = 0;
  int cc_minor = 0;
  std::string driver_version;   ///< "13.0"
  std::string runtime_version;  ///< "13.0"
  std::string nccl_loaded;      ///< "2.28.9"; empty when unknown
  std::string nccl_compiled;    ///< "2.28.9"
  std::string nccl_warning;     ///< non-empty when loaded and compiled NCCL differ

  friend bool operator==(const RankFacts&, const RankFacts&) = default;
};

/// Wire format for the cross-rank gather (JSON text); decode throws dcp::Error on bad text.
std::string encode(const RankFacts& f);
void decode(std::string_view text, RankFacts& out);

}  // namespace dcp::diag
