#pragma once
/// @file
/// Why a fabric (MNNVL) workspace cannot be built, in words a user can act on: the IMEX channel
/// check and the composition of the error messages. Pure apart from probe_imex(), which only
/// looks at the file system, so every message is unit-tested without a GPU.

#include <string>
#include <string_view>
#include <vector>

namespace dcp::fabric {

/// Where the driver exposes IMEX channels (cuMemCreate's documentation).
inline constexpr std::string_view kImexChannelDir = "/dev/nvidia-caps-imex-channels";
/// The channel a default IMEX set-up creates.
inline constexpr std::string_view kImexChannel0 = "channel0";

/// What this host offers for fabric handles, as seen from the file system.
struct ImexStatus {
  std::string dir;  ///< the directory checked
  bool dir_exists = false;
  bool channel0_exists = false;
  bool channel0_accessible = false;   ///< this process can open it read-write
  std::vector<std::string> channels;  ///< channel* entries found in `dir`, sorted
  /// Major number of the "nvidia-caps-imex-channels" character device in /proc/devices, or -1
  /// when the driver did not register it.
  int device_major = -1;
  /// One or two clauses: "/dev/nvidia-caps-imex-channels does not exist (so no channel0), though
  /// the driver registered the nvidia-caps-imex-channels device (major 242 in /proc/devices)",
  /// or "/dev/nvidia-caps-imex-channels/channel0 exists and is accessible".
  [[nodiscard]] std::string summary() const;
};

/// Where the kernel lists character devices and their major numbers.
inline constexpr std::string_view kProcDevices = "/proc/devices";

/// Looks at `dir` and `proc_devices` (the defaults unless a test passes others).
[[nodiscard]] ImexStatus probe_imex(std::string_view dir = kImexChannelDir,
                                    std::string_view proc_devices = kProcDevices);

/// The major number of `name` in /proc/devices-formatted `text` ("242 nvidia-caps-imex-channels"
/// lines), or -1. Pure.
[[nodiscard]] int device_major_in(std::string_view text, std::string_view name);

/// The step of a fabric workspace that failed.
enum class FabricStep {
  kAttribute,    ///< CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_FABRIC_SUPPORTED is 0
  kGranularity,  ///< cuMemGetAllocationGranularity for a fabric-exportable allocation
  kCreate,       ///< cuMemCreate with CU_MEM_HANDLE_TYPE_FABRIC
  kExport,       ///< cuMemExportToShareableHandle(FABRIC)
  kImport,       ///< cuMemImportFromShareableHandle(FABRIC) of a peer's handle
  kMap,          ///< reserving, mapping or enabling access
};

[[nodiscard]] std::string_view to_string(FabricStep s);

/// Everything a fabric failure message is built from.
struct FabricFailure {
  FabricStep step = FabricStep::kCreate;
  std::string failed_ranks;  ///< "0, 1" or "all 2 ranks"
  int cu_result = 0;         ///< CUresult when every failed rank got the same one, else 0
  std::string cu_name;       ///< "CUDA_ERROR_NOT_PERMITTED"
  std::string cu_text;       ///< "operation not permitted"
  std::string local_error;   ///< this rank's own exception text, when it failed
  ImexStatus imex;           ///< this rank's host
  bool single_host = false;  ///< all ranks on one host (so ipc is possible)
  std::string host;          ///< this rank's host name
  int world_size = 1;
};

/// "workspace fabric: cuMemCreate with CU_MEM_HANDLE_TYPE_FABRIC failed on all 2 ranks:
/// CUDA_ERROR_NOT_PERMITTED (operation not permitted). Fabric handles need an IMEX channel ...;
/// checked /dev/nvidia-caps-imex-channels: it does not exist (so no channel0) ... All ranks run
/// on host h: use --workspace ipc (or auto)." The cause is explained per step and error code;
/// CUDA_ERROR_NOT_PERMITTED is explained as a missing IMEX channel, naming the path checked.
[[nodiscard]] std::string explain_fabric_failure(const FabricFailure& f);

/// The message when `auto` finds neither kind usable: the fabric reason, and why ipc is out
/// (the ranks' hosts).
[[nodiscard]] std::string explain_auto_failure(std::string_view fabric_reason,
                                               const std::vector<std::string>& hosts);

/// The message when `ipc` is asked for but the ranks span several hosts.
[[nodiscard]] std::string explain_ipc_multi_host(const std::vector<std::string>& hosts);

}  // namespace dcp::fabric
