#pragma once
/// @file
/// RankInfo: the one description of what a rank of the job runs on (host, GPU, library
/// versions), used by the run report's context, the diag report's context and diag's rank facts
/// (diag::RankFacts extends it with what only diag checks).

#include <string>

namespace dcp {

/// What one rank of the job runs on.
struct RankInfo {
  int rank = 0;
  int local_rank = 0;
  std::string host;
  int device = -1;         ///< CUDA ordinal inside this process (after CUDA_VISIBLE_DEVICES)
  std::string gpu_name;    ///< e.g. "NVIDIA H200"
  std::string gpu_uuid;    ///< "GPU-..."
  std::string pci_bus_id;  ///< e.g. "0000:19:00.0"
  int sm_count = 0;
  int cc_major = 0, cc_minor = 0;
  std::string driver_version;   ///< CUDA driver API version, e.g. "13.0"
  std::string runtime_version;  ///< CUDA runtime version, e.g. "13.0"
  std::string nccl_version;     ///< loaded NCCL library, e.g. "2.28.9"; empty if not loaded

  friend bool operator==(const RankInfo&, const RankInfo&) = default;
};

}  // namespace dcp
