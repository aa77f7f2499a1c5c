#pragma once
/// @file
/// Check group `fabric_manager`: did CUDA start on every rank (CUDA error 802 at init means the
/// Fabric Manager has not brought an NVSwitch system's GPUs up), and each GPU's registration
/// with the fabric (NVML nvmlDeviceGetGpuFabricInfoV, else nvmlDeviceGetGpuFabricInfo, resolved
/// at run time): state, status, clique id, cluster UUID and health mask. Runs without a working
/// CUDA device (NVML only). Run: groups/fabric_manager_run.cpp.
///
/// Rules:
///  - cuda_init (job): PASS when CUDA started on every rank; FAIL naming the ranks otherwise
///    (802: start the Fabric Manager).
///  - fabric_state (rank): SKIP without NVML or the entry points (reason given), or for a GPU
///    that is not on an NVLink fabric (state NOT_SUPPORTED); FAIL for NOT_STARTED, IN_PROGRESS,
///    a COMPLETED registration with an error status, an unhealthy route or an incorrect
///    configuration in the health mask; WARN for degraded bandwidth or a recovery in progress,
///    or an NVML call that failed; PASS otherwise.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/diag_result.hpp"
#include "diag/group_info.hpp"
#include "diag/rank_facts.hpp"

namespace dcp::fabric {
struct GpuFabricInfo;
}

namespace dcp::diag {

inline constexpr CheckGroupInfo kFabricManagerGroup{
    "fabric_manager",
    "CUDA starts on every rank (error 802 = Fabric Manager down); GPU fabric state, status, "
    "clique, cluster UUID and health per GPU (NVML)",
    false};

/// NVML's fabric info of one rank's GPU.
struct FabricManagerFacts {
  bool nvml_available = false;
  std::string nvml_reason;      ///< why NVML is unavailable
  std::string uuid;             ///< the GPU asked about
  bool queried = false;         ///< the fabric-info call answered
  std::string unavailable;      ///< why not (entry points missing, or the call's error)
  bool symbol_missing = false;  ///< neither entry point exists in this NVML
  int state = 0;                ///< NVML_GPU_FABRIC_STATE_*
  int status = 0;               ///< nvmlReturn_t of the registration
  std::string status_text;
  std::uint32_t clique_id = 0;
  std::string cluster_uuid;
  bool health_known = false;
  std::uint32_t health_mask = 0;
  std::string source;

  friend bool operator==(const FabricManagerFacts&, const FabricManagerFacts&) = default;
};

std::string encode(const FabricManagerFacts& f);
void decode(std::string_view text, FabricManagerFacts& out);

/// Facts from what the NVML loader returned (pure).
FabricManagerFacts fabric_manager_facts(bool nvml_available, const std::string& nvml_reason,
                                        const std::string& uuid, const fabric::GpuFabricInfo& info);

/// The cuda_init job row and one fabric_state row per rank (`facts[i]` belongs to `ranks[i]`).
std::vector<DiagCheck> fabric_manager_checks(const std::vector<RankFacts>& ranks,
                                             const std::vector<FabricManagerFacts>& facts);

}  // namespace dcp::diag
