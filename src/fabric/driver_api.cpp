#include "fabric/driver_api.hpp"

#include <cuda_runtime_api.h>

#include <atomic>
#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "core/cuda_check.hpp"
#include "core/error.hpp"

namespace dcp::fabric {

namespace {

/// Set once the table is complete, so that error-name lookups never touch a half-built table.
std::atomic<const DriverApi*> g_loaded{nullptr};

template <typename Fn>
void resolve(Fn& slot, const char* symbol) {
  void* fn = nullptr;
  cudaDriverEntryPointQueryResult status = cudaDriverEntryPointSymbolNotFound;
  const cudaError_t err =
      cudaGetDriverEntryPointByVersion(symbol, &fn, kDriverAbiVersion, cudaEnableDefault, &status);
  if (is_no_device_error(err)) {
    (void)cudaGetLastError();
    throw EnvironmentError(fmt::format(
        "CUDA driver API unavailable: {} ({}) while resolving {}; the workspaces need an NVIDIA "
        "GPU and its driver",
        cudaGetErrorName(err), cudaGetErrorString(err), symbol));
  }
  if (err != cudaSuccess) {
    (void)cudaGetLastError();
    throw CudaError(fmt::format("cudaGetDriverEntryPointByVersion(\"{}\", {}) failed: {} ({})",
                                symbol, kDriverAbiVersion, cudaGetErrorName(err),
                                cudaGetErrorString(err)));
  }
  if (status != cudaDriverEntryPointSuccess || fn == nullptr) {
    throw CudaError(
        fmt::format("the CUDA driver has no entry point {} at ABI {} ({}): the driver is too old",
                    symbol, kDriverAbiVersion,
                    status == cudaDriverEntryPointVersionNotSufficent ? "version not sufficient"
                                                                      : "symbol not found"));
  }
  slot = reinterpret_cast<Fn>(fn);
}

DriverApi load() {
  // The runtime creates the current device's primary context on its first real call; the cuMem
  // calls below need a current context.
  const cudaError_t init = cudaFree(nullptr);
  if (is_no_device_error(init)) {
    (void)cudaGetLastError();
    throw EnvironmentError(fmt::format(
        "no CUDA device: {} ({}); the cuMem workspaces need an NVIDIA GPU and its driver",
        cudaGetErrorName(init), cudaGetErrorString(init)));
  }
  DCP_CUDA_CHECK(init);
  DriverApi api;
  resolve(api.cuGetErrorName, "cuGetErrorName");
  resolve(api.cuGetErrorString, "cuGetErrorString");
  resolve(api.cuDeviceGet, "cuDeviceGet");
  resolve(api.cuDeviceGetAttribute, "cuDeviceGetAttribute");
  resolve(api.cuMemGetAllocationGranularity, "cuMemGetAllocationGranularity");
  resolve(api.cuMemCreate, "cuMemCreate");
  resolve(api.cuMemRelease, "cuMemRelease");
  resolve(api.cuMemExportToShareableHandle, "cuMemExportToShareableHandle");
  resolve(api.cuMemImportFromShareableHandle, "cuMemImportFromShareableHandle");
  resolve(api.cuMemAddressReserve, "cuMemAddressReserve");
  resolve(api.cuMemAddressFree, "cuMemAddressFree");
  resolve(api.cuMemMap, "cuMemMap");
  resolve(api.cuMemUnmap, "cuMemUnmap");
  resolve(api.cuMemSetAccess, "cuMemSetAccess");
  return api;
}

}  // namespace

const DriverApi& driver_api() {
  // A failed load throws out of the initialiser, so the next call tries again.
  static const DriverApi api = load();
  g_loaded.store(&api);
  return api;
}

std::string cu_error_name(CUresult result) noexcept {
  try {
    const char* name = nullptr;
    const DriverApi* api = g_loaded.load();
    if (api != nullptr && api->cuGetErrorName(result, &name) == CUDA_SUCCESS && name != nullptr) {
      return name;
    }
    return "CUresult " + std::to_string(static_cast<int>(result));
  } catch (...) {
    return {};
  }
}

std::string cu_error_string(CUresult result) noexcept {
  try {
    const char* text = nullptr;
    const DriverApi* api = g_loaded.load();
    if (api != nullptr && api->cuGetErrorString(result, &text) == CUDA_SUCCESS && text != nullptr) {
      return text;
    }
    return {};
  } catch (...) {
    return {};
  }
}

namespace {

std::string describe_failure(CUresult result, const char* call, const char* file, int line) {
  const std::string text = cu_error_string(result);
  return fmt::format("CUDA driver error {}{} in {} at {}:{}", cu_error_name(result),
                     text.empty() ? std::string() : " (" + text + ")", call, file, line);
}

}  // namespace

[[noreturn]] void throw_driver_error(CUresult result, const char* call, const char* file,
                                     int line) {
  throw DriverError(result, call, describe_failure(result, call, file, line));
}

void report_driver_error_noexcept(CUresult result, const char* call, const char* file,
                                  int line) noexcept {
  try {
    std::fprintf(stderr, "dcpbench: %s during cleanup\n",
                 describe_failure(result, call, file, line).c_str());
  } catch (...) {
    std::fprintf(stderr, "dcpbench: CUDA driver error %d during cleanup\n",
                 static_cast<int>(result));
  }
}

CUdevice current_cu_device() {
  const DriverApi& cu = driver_api();
  int ordinal = 0;
  DCP_CUDA_CHECK(cudaGetDevice(&ordinal));
  DCP_CUDA_CHECK(cudaFree(nullptr));  // the current device's primary context, made current
  CUdevice dev = 0;
  DCP_CU_CHECK(cu.cuDeviceGet(&dev, ordinal));
  return dev;
}

DeviceSharingCaps query_sharing_caps(int device) {
  const DriverApi& cu = driver_api();
  CUdevice dev = 0;
  DCP_CU_CHECK(cu.cuDeviceGet(&dev, device));
  const auto attr = [&](CUdevice_attribute a) {
    int v = 0;
    DCP_CU_CHECK(cu.cuDeviceGetAttribute(&v, a, dev));
    return v != 0;
  };
  DeviceSharingCaps caps;
  caps.device = device;
  caps.vmm = attr(CU_DEVICE_ATTRIBUTE_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED);
  caps.posix_fd = attr(CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR_SUPPORTED);
  caps.fabric = attr(CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_FABRIC_SUPPORTED);
  DCP_CUDA_CHECK(cudaDriverGetVersion(&caps.driver_version));
  return caps;
}

}  // namespace dcp::fabric
