#pragma once
/// @file
/// The CUDA driver API, reached at run time instead of by linking libcuda.
///
/// dcpbench must start on machines without a GPU driver (CI, the compare command), so nothing
/// links libcuda. The few driver entry points the workspaces and the diagnostics need are
/// resolved once per process through the runtime's cudaGetDriverEntryPointByVersion, at the ABI
/// of CUDA kDriverAbiVersion, into one table. `cuda.h` is included for its types only.
///
/// Use:
///   const DriverApi& cu = driver_api();            // throws EnvironmentError without a driver
///   DCP_CU_CHECK(cu.cuMemCreate(&h, bytes, &prop, 0));  // throws DriverError on failure

#include <cuda.h>
#include <cudaTypedefs.h>

#include <string>
#include <utility>

#include "core/error.hpp"

namespace dcp::fabric {

/// ABI version the entry points are requested at (CUDA 12.0: every call below has had its
/// current signature since then; newer drivers keep serving it).
inline constexpr unsigned int kDriverAbiVersion = 12000;

/// Driver entry points, named as in cuda.h. All non-null once driver_api() returned.
struct DriverApi {
  PFN_cuGetErrorName_v6000 cuGetErrorName = nullptr;
  PFN_cuGetErrorString_v6000 cuGetErrorString = nullptr;
  PFN_cuDeviceGet_v2000 cuDeviceGet = nullptr;
  PFN_cuDeviceGetAttribute_v2000 cuDeviceGetAttribute = nullptr;
  PFN_cuMemGetAllocationGranularity_v10020 cuMemGetAllocationGranularity = nullptr;
  PFN_cuMemCreate_v10020 cuMemCreate = nullptr;
  PFN_cuMemRelease_v10020 cuMemRelease = nullptr;
  PFN_cuMemExportToShareableHandle_v10020 cuMemExportToShareableHandle = nullptr;
  PFN_cuMemImportFromShareableHandle_v10020 cuMemImportFromShareableHandle = nullptr;
  PFN_cuMemAddressReserve_v10020 cuMemAddressReserve = nullptr;
  PFN_cuMemAddressFree_v10020 cuMemAddressFree = nullptr;
  PFN_cuMemMap_v10020 cuMemMap = nullptr;
  PFN_cuMemUnmap_v10020 cuMemUnmap = nullptr;
  PFN_cuMemSetAccess_v10020 cuMemSetAccess = nullptr;
};

/// The process-wide table, resolved on first use (thread-safe). Also makes sure the runtime has
/// initialised the current device's primary context, which the cuMem calls need.
/// Throws EnvironmentError when there is no driver or no device (the runtime says
/// cudaErrorInsufficientDriver / cudaErrorNoDevice), CudaError when an entry point is missing
/// (driver older than kDriverAbiVersion).
const DriverApi& driver_api();

/// A failed driver call: the call text and CUDA's result code, kept for callers that explain
/// particular codes (CUDA_ERROR_NOT_PERMITTED for fabric handles, for example).
class DriverError : public CudaError {
 public:
  DriverError(CUresult result, std::string call, const std::string& message)
      : CudaError(message), result_(result), call_(std::move(call)) {}
  [[nodiscard]] CUresult result() const noexcept { return result_; }
  /// The failing call as written, e.g. "cu.cuMemCreate(&handle, bytes, &prop, 0)".
  [[nodiscard]] const std::string& call() const noexcept { return call_; }

 private:
  CUresult result_;
  std::string call_;
};

/// "CUDA_ERROR_NOT_PERMITTED"; "CUresult 999" when the driver does not know the code or is
/// not loaded. Never throws.
std::string cu_error_name(CUresult result) noexcept;
/// "operation not permitted"; empty when unknown. Never throws.
std::string cu_error_string(CUresult result) noexcept;

/// Throws DriverError: "CUDA driver error CUDA_ERROR_X (text) in <call> at <file>:<line>".
[[noreturn]] void throw_driver_error(CUresult result, const char* call, const char* file, int line);
/// For destructors: prints the same text to stderr and returns.
void report_driver_error_noexcept(CUresult result, const char* call, const char* file,
                                  int line) noexcept;

/// The CUdevice of the runtime's current device (cudaGetDevice).
CUdevice current_cu_device();

/// What the current driver and a device offer for sharing memory between processes. Every
/// field comes from a device attribute; `true` does not prove the feature works (fabric
/// handles are advertised on machines without an IMEX channel), only that it is worth trying.
struct DeviceSharingCaps {
  int device = 0;          ///< runtime ordinal
  bool vmm = false;        ///< CU_DEVICE_ATTRIBUTE_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED
  bool posix_fd = false;   ///< CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR_SUPPORTED
  bool fabric = false;     ///< CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_FABRIC_SUPPORTED
  int driver_version = 0;  ///< cudaDriverGetVersion, e.g. 13000
};

/// Reads the attributes above for runtime device `device`. Throws like driver_api().
DeviceSharingCaps query_sharing_caps(int device);

}  // namespace dcp::fabric

/// Checks a CUresult: throws dcp::fabric::DriverError naming the call and CUDA's error name.
#define DCP_CU_CHECK(expr)                                                      \
  do {                                                                          \
    const CUresult dcp_cu_rc_ = (expr);                                         \
    if (dcp_cu_rc_ != CUDA_SUCCESS) {                                           \
      ::dcp::fabric::throw_driver_error(dcp_cu_rc_, #expr, __FILE__, __LINE__); \
    }                                                                           \
  } while (0)

/// For destructors: reports a failed CUresult on stderr and carries on.
#define DCP_CU_CHECK_NOEXCEPT(expr)                                                       \
  do {                                                                                    \
    const CUresult dcp_cu_rc_ = (expr);                                                   \
    if (dcp_cu_rc_ != CUDA_SUCCESS) {                                                     \
      ::dcp::fabric::report_driver_error_noexcept(dcp_cu_rc_, #expr, __FILE__, __LINE__); \
    }                                                                                     \
  } while (0)
