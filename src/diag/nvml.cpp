#include "diag/nvml.hpp"

#include <dlfcn.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

namespace dcp::diag {

namespace {

// The subset of nvml.h used here, declared by hand (the header is not installed). Types and
// values as documented in NVML's API reference.
using nvmlReturn_t = int;
struct nvmlDevice_st;
using nvmlDevice_t = nvmlDevice_st*;
using nvmlEnableState_t = int;  // NVML_FEATURE_DISABLED = 0, NVML_FEATURE_ENABLED = 1

constexpr nvmlReturn_t kNvmlSuccess = 0;
constexpr nvmlReturn_t kNvmlErrorInvalidArgument = 2;
constexpr nvmlReturn_t kNvmlErrorNotSupported = 3;
constexpr nvmlEnableState_t kNvmlFeatureEnabled = 1;

/// nvmlPciInfo_t (NVML_DEVICE_PCI_BUS_ID_BUFFER_V2_SIZE = 16, NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE
/// = 32).
struct NvmlPciInfo {
  char bus_id_legacy[16];
  unsigned int domain;
  unsigned int bus;
  unsigned int device;
  unsigned int pci_device_id;
  unsigned int pci_sub_system_id;
  char bus_id[32];
};

using InitFn = nvmlReturn_t (*)();
using ShutdownFn = nvmlReturn_t (*)();
using ErrorStringFn = const char* (*)(nvmlReturn_t);
using HandleByUuidFn = nvmlReturn_t (*)(const char*, nvmlDevice_t*);
using NvLinkStateFn = nvmlReturn_t (*)(nvmlDevice_t, unsigned int, nvmlEnableState_t*);
using NvLinkRemotePciFn = nvmlReturn_t (*)(nvmlDevice_t, unsigned int, NvmlPciInfo*);

}  // namespace

struct Nvml::Api {
  InitFn init = nullptr;
  ShutdownFn shutdown = nullptr;
  ErrorStringFn error_string = nullptr;
  HandleByUuidFn handle_by_uuid = nullptr;
  NvLinkStateFn nvlink_state = nullptr;
  NvLinkRemotePciFn nvlink_remote_pci = nullptr;  ///< optional

  [[nodiscard]] std::string text(nvmlReturn_t r) const {
    const char* s = error_string ? error_string(r) : nullptr;
    return s ? fmt::format("{} (NVML error {})", s, r) : fmt::format("NVML error {}", r);
  }
};

namespace {

template <typename Fn>
Fn symbol(void* lib, const char* name) {
  return reinterpret_cast<Fn>(dlsym(lib, name));
}

}  // namespace

Nvml::Nvml(std::string_view library) {
  const std::string path(library);
  dlerror();
  lib_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib_ == nullptr) {
    const char* e = dlerror();
    reason_ = fmt::format("dlopen({}) failed: {}", path, e ? e : "unknown error");
    return;
  }
  api_ = std::make_unique<Api>();
  api_->init = symbol<InitFn>(lib_, "nvmlInit_v2");
  api_->shutdown = symbol<ShutdownFn>(lib_, "nvmlShutdown");
  api_->error_string = symbol<ErrorStringFn>(lib_, "nvmlErrorString");
  api_->handle_by_uuid = symbol<HandleByUuidFn>(lib_, "nvmlDeviceGetHandleByUUID");
  api_->nvlink_state = symbol<NvLinkStateFn>(lib_, "nvmlDeviceGetNvLinkState");
  api_->nvlink_remote_pci = symbol<NvLinkRemotePciFn>(lib_, "nvmlDeviceGetNvLinkRemotePciInfo_v2");
  std::vector<std::string> missing;
  if (!api_->init) missing.emplace_back("nvmlInit_v2");
  if (!api_->shutdown) missing.emplace_back("nvmlShutdown");
  if (!api_->handle_by_uuid) missing.emplace_back("nvmlDeviceGetHandleByUUID");
  if (!api_->nvlink_state) missing.emplace_back("nvmlDeviceGetNvLinkState");
  if (!missing.empty()) {
    reason_ = fmt::format("{} lacks {} (not NVML, or too old)", path, fmt::join(missing, ", "));
    return;
  }
  const nvmlReturn_t r = api_->init();
  if (r != kNvmlSuccess) {
    reason_ = fmt::format("nvmlInit_v2 failed: {} (is the NVIDIA driver loaded?)", api_->text(r));
    return;
  }
  init_ok_ = true;
}

Nvml::~Nvml() {
  if (init_ok_ && api_ && api_->shutdown) api_->shutdown();
  api_.reset();
  if (lib_ != nullptr) dlclose(lib_);
}

NvlinkFacts Nvml::nvlink(const std::string& uuid) const {
  NvlinkFacts f;
  f.nvml_available = init_ok_;
  if (!init_ok_) {
    f.unavailable_reason = reason_;
    return f;
  }
  nvmlDevice_t dev = nullptr;
  if (const nvmlReturn_t r = api_->handle_by_uuid(uuid.c_str(), &dev); r != kNvmlSuccess) {
    f.error = fmt::format("nvmlDeviceGetHandleByUUID({}) failed: {}", uuid, api_->text(r));
    return f;
  }
  for (unsigned int link = 0; link < static_cast<unsigned int>(kNvmlMaxLinks); ++link) {
    nvmlEnableState_t active = 0;
    const nvmlReturn_t r = api_->nvlink_state(dev, link, &active);
    if (r == kNvmlErrorNotSupported || r == kNvmlErrorInvalidArgument) {
      // Past the GPU's last link (or no NVLink at all when link 0 already answers this).
      break;
    }
    if (r != kNvmlSuccess) {
      f.error = fmt::format("nvmlDeviceGetNvLinkState(link {}) failed: {}", link, api_->text(r));
      return f;
    }
    f.supported = true;
    ++f.links_checked;
    if (active != kNvmlFeatureEnabled) continue;
    ++f.links_active;
    if (api_->nvlink_remote_pci == nullptr) continue;
    // Slack after the struct: a newer NVML writing a longer record cannot overrun the stack.
    struct {
      NvmlPciInfo info;
      char slack[128];
    } pci{};
    if (api_->nvlink_remote_pci(dev, link, &pci.info) == kNvmlSuccess) {
      std::string id(pci.info.bus_id, strnlen(pci.info.bus_id, sizeof(pci.info.bus_id)));
      if (!id.empty() && std::find(f.remote_bus_ids.begin(), f.remote_bus_ids.end(), id) ==
                             f.remote_bus_ids.end()) {
        f.remote_bus_ids.push_back(std::move(id));
      }
    }
  }
  std::sort(f.remote_bus_ids.begin(), f.remote_bus_ids.end());
  return f;
}

}  // namespace dcp::diag
