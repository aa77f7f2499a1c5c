#pragma once
/// @file
/// NVML, loaded at run time: no nvml.h exists on our machines (shared/docs/environment.md), so
/// the few entry points diag uses are declared here and resolved with dlopen/dlsym. A machine
/// without the library (CI, containers without the driver's user-space part) gets a clean
/// "unavailable" with the reason, which the nvlink check reports as SKIP.
///
/// CUDA-free: unit tests point the loader at a missing library to test that path.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "diag/verdict.hpp"

namespace dcp::diag {

/// The library NVML ships as (the driver's user-space part).
inline constexpr std::string_view kNvmlLibrary = "libnvidia-ml.so.1";
/// Links probed per GPU (NVML_NVLINK_MAX_LINKS: 18 on Hopper).
inline constexpr int kNvmlMaxLinks = 18;

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

  /// NVLink state of the GPU with this UUID ("GPU-...", as cudaDeviceProp::uuid formats it):
  /// nvmlDeviceGetHandleByUUID, then nvmlDeviceGetNvLinkState (and the remote PCI bus id of
  /// each active link) for links 0..kNvmlMaxLinks-1. Never throws; errors go to the facts.
  [[nodiscard]] NvlinkFacts nvlink(const std::string& uuid) const;

 private:
  struct Api;
  void* lib_ = nullptr;
  std::unique_ptr<Api> api_;
  bool init_ok_ = false;
  std::string reason_;
};

}  // namespace dcp::diag
