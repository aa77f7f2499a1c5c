#pragma once
/// @file
/// NVML, loaded at run time: no nvml.h exists on our machines (shared/docs/environment.md), so
/// the few entry points used here are declared in nvml.cpp and resolved with dlopen/dlsym. A
/// machine without the library (CI, containers without the driver's user-space part) gets a
/// clean "unavailable" with the reason; an entry point an older NVML lacks is reported per call
/// (the caller turns both into a SKIP with the reason).
///
/// CUDA-free and MPI-free (library dcp_nvml, built in host-only builds too): tests point the
/// loader at a missing library, at a library that is not NVML, and at a fake NVML built by the
/// tests (tests/unit/fabric/fake_nvml.cpp) that answers from a scenario.
///
/// GPUs are named by UUID ("GPU-xxxxxxxx-...", as cudaDeviceProp::uuid formats it): NVML ignores
/// CUDA_VISIBLE_DEVICES, so a UUID is the one name both sides agree on.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dcp::fabric {

/// The library NVML ships as (the driver's user-space part).
inline constexpr std::string_view kNvmlLibrary = "libnvidia-ml.so.1";
/// Links probed per GPU (NVML_NVLINK_MAX_LINKS: 18 on Hopper).
inline constexpr int kNvmlMaxLinks = 18;

// ---- NVML values used in facts (NVML API reference, "Fabric definitions", nvmlReturn_t) ------

/// nvmlReturn_t values that the callers distinguish.
inline constexpr int kNvmlSuccess = 0;
inline constexpr int kNvmlErrorNotSupported = 3;
inline constexpr int kNvmlErrorFunctionNotFound = 13;

/// NVML_GPU_FABRIC_STATE_*: the GPU's registration with the fabric manager.
inline constexpr int kFabricStateNotSupported = 0;
inline constexpr int kFabricStateNotStarted = 1;
inline constexpr int kFabricStateInProgress = 2;
inline constexpr int kFabricStateCompleted = 3;

/// "NOT_SUPPORTED", "NOT_STARTED", "IN_PROGRESS", "COMPLETED", or "state N".
std::string fabric_state_name(int state);

/// One field of the fabric health mask (NVML_GPU_FABRIC_HEALTH_MASK_*): 2-bit fields at shifts
/// 0 (degraded bandwidth), 2 (route recovery), 4 (route unhealthy), 6 (access timeout recovery);
/// value 0 = not supported, 1 = true (the condition holds), 2 = false. Incorrect configuration:
/// a 4-bit field at shift 8 (0 not supported, 1 none, 2.. a named misconfiguration).
struct FabricHealth {
  bool degraded_bandwidth = false;       ///< DEGRADED_BW = TRUE
  bool route_recovery = false;           ///< ROUTE_RECOVERY = TRUE (in progress)
  bool route_unhealthy = false;          ///< ROUTE_UNHEALTHY = TRUE
  bool access_timeout_recovery = false;  ///< ACCESS_TIMEOUT_RECOVERY = TRUE (in progress)
  int incorrect_configuration = 0;       ///< 0 not supported, 1 none, else the reason code
  [[nodiscard]] bool healthy() const {
    return !degraded_bandwidth && !route_recovery && !route_unhealthy && !access_timeout_recovery &&
           incorrect_configuration <= 1;
  }
};

/// Decodes a health mask (pure).
FabricHealth decode_fabric_health(std::uint32_t mask);

/// "SysGUID", "chassis serial number", "no partition", "insufficient NVLinks", "incompatible GPU
/// firmware", or "reason N" for an incorrect-configuration code >= 2.
std::string incorrect_configuration_name(int code);

/// "0000abcd:bb:dd.f" in lower case with an 8-digit domain, from any of NVML's or CUDA's forms
/// ("0000:18:00.0", "00000000:18:00.0", upper or lower case). Empty for text that is not a PCI
/// bus id. Pure.
std::string canonical_bus_id(std::string_view bus_id);

// ---- what the queries return (plain data, never throws) ----------------------------------------

/// Where the remote end of an NVLink is (nvmlDeviceGetNvLinkRemoteDeviceType).
enum class NvlinkRemote { kUnknown, kGpu, kSwitch, kOther };
/// "gpu", "switch", "other", "unknown".
std::string_view to_string(NvlinkRemote r);

/// One NVLink of a GPU.
struct NvlinkState {
  int index = 0;
  bool active = false;
  std::string remote_bus_id;  ///< canonical_bus_id of the far end; empty when unknown
  NvlinkRemote remote = NvlinkRemote::kUnknown;
};

/// Every NVLink of one GPU.
struct NvlinkReport {
  bool ok = false;         ///< the GPU was found and every state query answered
  std::string error;       ///< why not (handle lookup or a failed call)
  bool supported = false;  ///< link 0 answered: the GPU has NVLink
  std::vector<NvlinkState> links;
};

/// The GPU's fabric registration (nvmlDeviceGetGpuFabricInfoV, else nvmlDeviceGetGpuFabricInfo).
struct GpuFabricInfo {
  bool queried = false;              ///< an entry point answered NVML_SUCCESS
  std::string unavailable;           ///< why not: both entry points missing, or the call's error
  bool entry_point_missing = false;  ///< this NVML has neither fabric-info entry point
  int call_result = 0;               ///< nvmlReturn_t of the call
  int state = kFabricStateNotSupported;
  int status = 0;           ///< nvmlReturn_t of the registration (valid when COMPLETED)
  std::string status_text;  ///< nvmlErrorString(status)
  std::uint32_t clique_id = 0;
  std::string cluster_uuid;   ///< "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"; empty when all zero
  bool health_known = false;  ///< the V (v2) entry point answered: health_mask is valid
  std::uint32_t health_mask = 0;
  std::string source;  ///< the entry point that answered
};

/// nvmlDeviceGetP2PStatus(a, b, NVML_P2P_CAPS_INDEX_NVLINK).
struct P2PNvlinkStatus {
  bool queried = false;
  std::string error;  ///< why not
  int status = -1;    ///< nvmlGpuP2PStatus_t: 0 = OK (NVLink P2P works)
  std::string text;   ///< "OK", "NOT_SUPPORTED", ...
};

/// A GPU as NVML enumerates it (index order of NVML, not of CUDA).
struct NvmlGpu {
  bool ok = false;
  std::string error;
  std::string uuid;
  std::string bus_id;  ///< canonical_bus_id
};

/// An initialised NVML (nvmlInit_v2 on construction, nvmlShutdown and dlclose on destruction).
class Nvml {
 public:
  /// dlopen(`library`), resolve the entry points, nvmlInit_v2. Never throws: on any failure
  /// available() is false and unavailable_reason() says which step failed and why.
  explicit Nvml(std::string_view library = kNvmlLibrary);
  ~Nvml();
  Nvml(const Nvml&) = delete;
  Nvml& operator=(const Nvml&) = delete;

  [[nodiscard]] bool available() const { return init_ok_; }
  /// "dlopen(libnvidia-ml.so.1) failed: libnvidia-ml.so.1: cannot open shared object file ...".
  [[nodiscard]] const std::string& unavailable_reason() const { return reason_; }

  /// NVLink state, remote PCI bus id and remote device type of links 0..kNvmlMaxLinks-1 of the
  /// GPU with this UUID.
  [[nodiscard]] NvlinkReport nvlinks(const std::string& uuid) const;
  /// Fabric state, status, clique, cluster UUID and health mask of the GPU.
  [[nodiscard]] GpuFabricInfo fabric_info(const std::string& uuid) const;
  /// NVLink P2P status between two GPUs of this host.
  [[nodiscard]] P2PNvlinkStatus p2p_nvlink(const std::string& uuid_a,
                                           const std::string& uuid_b) const;
  /// The GPU at NVML index `index` (used when CUDA itself cannot start, e.g. error 802).
  [[nodiscard]] NvmlGpu gpu_by_index(unsigned index) const;
  /// GPUs NVML sees on this host (0 when unavailable).
  [[nodiscard]] unsigned gpu_count() const;

 private:
  struct Api;
  void* lib_ = nullptr;
  std::unique_ptr<Api> api_;
  bool init_ok_ = false;
  std::string reason_;
};

}  // namespace dcp::fabric
