// Why one file of ~630 lines: the run-time NVML loader (dlopen, one entry-point table) and one
// small wrapper per query that reads from that table; a split would expose the table.
#include "fabric/nvml.hpp"

#include <dlfcn.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>
#include <string>

namespace dcp::fabric {

namespace {

// The subset of nvml.h used here, declared by hand (the header is not installed). Types, values
// and layouts as documented in NVML's API reference (docs.nvidia.com/deploy/nvml-api: "Device
// Queries", "NvLink Methods", "Fabric definitions", nvmlGpuFabricInfo_t and
// nvmlGpuFabricInfo_v2_t); NCCL's own copy of these declarations (src/include/nvmlwrap.h) uses
// the same v2 struct for nvmlDeviceGetGpuFabricInfoV.
using nvmlReturn_t = int;
struct nvmlDevice_st;
using nvmlDevice_t = nvmlDevice_st*;
using nvmlEnableState_t = int;  // NVML_FEATURE_DISABLED = 0, NVML_FEATURE_ENABLED = 1

constexpr nvmlReturn_t kNvmlErrorInvalidArgument = 2;
constexpr nvmlEnableState_t kNvmlFeatureEnabled = 1;
constexpr int kNvlinkDeviceTypeGpu = 0;     // NVML_NVLINK_DEVICE_TYPE_GPU
constexpr int kNvlinkDeviceTypeSwitch = 2;  // NVML_NVLINK_DEVICE_TYPE_SWITCH
constexpr int kP2PCapsIndexNvlink = 2;      // NVML_P2P_CAPS_INDEX_NVLINK

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

/// nvmlGpuFabricInfo_t (v1, nvmlDeviceGetGpuFabricInfo).
struct NvmlFabricInfoV1 {
  unsigned char cluster_uuid[16];  // NVML_GPU_FABRIC_UUID_LEN
  nvmlReturn_t status;
  unsigned int clique_id;
  unsigned char state;  // nvmlGpuFabricState_t
};

/// nvmlGpuFabricInfo_v2_t (nvmlDeviceGetGpuFabricInfoV): v1 with a leading version and a
/// trailing health mask. Not layout-compatible with v1.
struct NvmlFabricInfoV2 {
  unsigned int version;
  unsigned char cluster_uuid[16];
  nvmlReturn_t status;
  unsigned int clique_id;
  unsigned char state;
  unsigned int health_mask;
};
static_assert(sizeof(NvmlFabricInfoV2) == 36, "nvmlGpuFabricInfo_v2_t layout");
/// nvmlGpuFabricInfo_v2 = NVML_STRUCT_VERSION(GpuFabricInfo, 2) = sizeof | (2 << 24).
constexpr unsigned int kFabricInfoV2Version =
    static_cast<unsigned int>(sizeof(NvmlFabricInfoV2)) | (2U << 24U);

using InitFn = nvmlReturn_t (*)();
using ShutdownFn = nvmlReturn_t (*)();
using ErrorStringFn = const char* (*)(nvmlReturn_t);
using HandleByUuidFn = nvmlReturn_t (*)(const char*, nvmlDevice_t*);
using HandleByIndexFn = nvmlReturn_t (*)(unsigned int, nvmlDevice_t*);
using CountFn = nvmlReturn_t (*)(unsigned int*);
using UuidFn = nvmlReturn_t (*)(nvmlDevice_t, char*, unsigned int);
using PciInfoFn = nvmlReturn_t (*)(nvmlDevice_t, NvmlPciInfo*);
using NvLinkStateFn = nvmlReturn_t (*)(nvmlDevice_t, unsigned int, nvmlEnableState_t*);
using NvLinkRemotePciFn = nvmlReturn_t (*)(nvmlDevice_t, unsigned int, NvmlPciInfo*);
using NvLinkRemoteTypeFn = nvmlReturn_t (*)(nvmlDevice_t, unsigned int, int*);
using FabricInfoV1Fn = nvmlReturn_t (*)(nvmlDevice_t, NvmlFabricInfoV1*);
using FabricInfoV2Fn = nvmlReturn_t (*)(nvmlDevice_t, NvmlFabricInfoV2*);
using P2PStatusFn = nvmlReturn_t (*)(nvmlDevice_t, nvmlDevice_t, int, int*);

template <typename Fn>
Fn symbol(void* lib, const char* name) {
  return reinterpret_cast<Fn>(dlsym(lib, name));
}

std::string hex_uuid(const unsigned char (&b)[16]) {
  if (std::all_of(std::begin(b), std::end(b), [](unsigned char c) { return c == 0; })) return {};
  std::string out;
  for (int i = 0; i < 16; ++i) {
    out += fmt::format("{:02x}", b[i]);
    if (i == 3 || i == 5 || i == 7 || i == 9) out += '-';
  }
  return out;
}

std::string p2p_status_name(int s) {
  switch (s) {
    case 0:
      return "OK";
    case 1:
      return "CHIPSET_NOT_SUPPORTED";
    case 2:
      return "GPU_NOT_SUPPORTED";
    case 3:
      return "IOH_TOPOLOGY_NOT_SUPPORTED";
    case 4:
      return "DISABLED_BY_REGKEY";
    case 5:
      return "NOT_SUPPORTED";
    default:
      return fmt::format("UNKNOWN ({})", s);
  }
}

}  // namespace

// ---- pure helpers -------------------------------------------------------------------------------

std::string fabric_state_name(int state) {
  switch (state) {
    case kFabricStateNotSupported:
      return "NOT_SUPPORTED";
    case kFabricStateNotStarted:
      return "NOT_STARTED";
    case kFabricStateInProgress:
      return "IN_PROGRESS";
    case kFabricStateCompleted:
      return "COMPLETED";
    default:
      return fmt::format("state {}", state);
  }
}

FabricHealth decode_fabric_health(std::uint32_t mask) {
  const auto field = [&](unsigned shift, std::uint32_t width) { return (mask >> shift) & width; };
  constexpr std::uint32_t kTrue = 1;
  FabricHealth h;
  h.degraded_bandwidth = field(0, 0x3) == kTrue;
  h.route_recovery = field(2, 0x3) == kTrue;
  h.route_unhealthy = field(4, 0x3) == kTrue;
  h.access_timeout_recovery = field(6, 0x3) == kTrue;
  h.incorrect_configuration = static_cast<int>(field(8, 0xF));
  return h;
}

std::string incorrect_configuration_name(int code) {
  switch (code) {
    case 2:
      return "incorrect SysGUID";
    case 3:
      return "incorrect chassis serial number";
    case 4:
      return "no partition";
    case 5:
      return "insufficient NVLinks";
    case 6:
      return "incompatible GPU firmware";
    default:
      return fmt::format("reason {}", code);
  }
}

std::string canonical_bus_id(std::string_view text) {
  // domain:bus:device.function, domain of 4 or 8 hex digits.
  const std::size_t c1 = text.find(':');
  if (c1 == std::string_view::npos) return {};
  const std::size_t c2 = text.find(':', c1 + 1);
  const std::size_t dot = text.find('.', c2 == std::string_view::npos ? c1 : c2);
  if (c2 == std::string_view::npos || dot == std::string_view::npos) return {};
  const auto hex = [](std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char ch) {
      return std::isxdigit(static_cast<unsigned char>(ch)) != 0;
    });
  };
  const std::string_view domain = text.substr(0, c1);
  const std::string_view bus = text.substr(c1 + 1, c2 - c1 - 1);
  const std::string_view dev = text.substr(c2 + 1, dot - c2 - 1);
  const std::string_view fn = text.substr(dot + 1);
  if (!hex(domain) || domain.size() > 8 || !hex(bus) || bus.size() > 2 || !hex(dev) ||
      dev.size() > 2 || !hex(fn) || fn.size() != 1) {
    return {};
  }
  std::string out = fmt::format("{:0>8}:{:0>2}:{:0>2}.{}", domain, bus, dev, fn);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char ch) { return static_cast<char>(std::tolower(ch)); });
  return out;
}

std::string_view to_string(NvlinkRemote r) {
  switch (r) {
    case NvlinkRemote::kGpu:
      return "gpu";
    case NvlinkRemote::kSwitch:
      return "switch";
    case NvlinkRemote::kOther:
      return "other";
    case NvlinkRemote::kUnknown:
      break;
  }
  return "unknown";
}

// ---- the loader ---------------------------------------------------------------------------------

struct Nvml::Api {
  InitFn init = nullptr;
  ShutdownFn shutdown = nullptr;
  ErrorStringFn error_string = nullptr;
  HandleByUuidFn handle_by_uuid = nullptr;
  NvLinkStateFn nvlink_state = nullptr;
  // Optional: an older NVML may lack them; each query says so.
  HandleByIndexFn handle_by_index = nullptr;
  CountFn count = nullptr;
  UuidFn device_uuid = nullptr;
  PciInfoFn pci_info = nullptr;
  NvLinkRemotePciFn nvlink_remote_pci = nullptr;
  NvLinkRemoteTypeFn nvlink_remote_type = nullptr;
  FabricInfoV1Fn fabric_v1 = nullptr;
  FabricInfoV2Fn fabric_v2 = nullptr;
  P2PStatusFn p2p_status = nullptr;

  [[nodiscard]] std::string text(nvmlReturn_t r) const {
    const char* s = error_string ? error_string(r) : nullptr;
    return s ? fmt::format("{} (NVML error {})", s, r) : fmt::format("NVML error {}", r);
  }
  /// The handle of `uuid`, or the error text.
  [[nodiscard]] nvmlDevice_t handle(const std::string& uuid, std::string& error) const {
    nvmlDevice_t dev = nullptr;
    if (const nvmlReturn_t r = handle_by_uuid(uuid.c_str(), &dev); r != kNvmlSuccess) {
      error = fmt::format("nvmlDeviceGetHandleByUUID({}) failed: {}", uuid, text(r));
      return nullptr;
    }
    return dev;
  }
};

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
  Api& a = *api_;
  a.init = symbol<InitFn>(lib_, "nvmlInit_v2");
  a.shutdown = symbol<ShutdownFn>(lib_, "nvmlShutdown");
  a.error_string = symbol<ErrorStringFn>(lib_, "nvmlErrorString");
  a.handle_by_uuid = symbol<HandleByUuidFn>(lib_, "nvmlDeviceGetHandleByUUID");
  a.nvlink_state = symbol<NvLinkStateFn>(lib_, "nvmlDeviceGetNvLinkState");
  a.handle_by_index = symbol<HandleByIndexFn>(lib_, "nvmlDeviceGetHandleByIndex_v2");
  a.count = symbol<CountFn>(lib_, "nvmlDeviceGetCount_v2");
  a.device_uuid = symbol<UuidFn>(lib_, "nvmlDeviceGetUUID");
  a.pci_info = symbol<PciInfoFn>(lib_, "nvmlDeviceGetPciInfo_v3");
  a.nvlink_remote_pci = symbol<NvLinkRemotePciFn>(lib_, "nvmlDeviceGetNvLinkRemotePciInfo_v2");
  a.nvlink_remote_type = symbol<NvLinkRemoteTypeFn>(lib_, "nvmlDeviceGetNvLinkRemoteDeviceType");
  a.fabric_v1 = symbol<FabricInfoV1Fn>(lib_, "nvmlDeviceGetGpuFabricInfo");
  a.fabric_v2 = symbol<FabricInfoV2Fn>(lib_, "nvmlDeviceGetGpuFabricInfoV");
  a.p2p_status = symbol<P2PStatusFn>(lib_, "nvmlDeviceGetP2PStatus");
  std::vector<std::string> missing;
  if (!a.init) missing.emplace_back("nvmlInit_v2");
  if (!a.shutdown) missing.emplace_back("nvmlShutdown");
  if (!a.handle_by_uuid) missing.emplace_back("nvmlDeviceGetHandleByUUID");
  if (!a.nvlink_state) missing.emplace_back("nvmlDeviceGetNvLinkState");
  if (!missing.empty()) {
    reason_ = fmt::format("{} lacks {} (not NVML, or too old)", path, fmt::join(missing, ", "));
    return;
  }
  const nvmlReturn_t r = a.init();
  if (r != kNvmlSuccess) {
    reason_ = fmt::format("nvmlInit_v2 failed: {} (is the NVIDIA driver loaded?)", a.text(r));
    return;
  }
  init_ok_ = true;
}

Nvml::~Nvml() {
  if (init_ok_ && api_ && api_->shutdown) api_->shutdown();
  api_.reset();
  if (lib_ != nullptr) dlclose(lib_);
}

NvlinkReport Nvml::nvlinks(const std::string& uuid) const {
  NvlinkReport f;
  if (!init_ok_) {
    f.error = reason_;
    return f;
  }
  nvmlDevice_t dev = api_->handle(uuid, f.error);
  if (dev == nullptr) return f;
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
    NvlinkState s;
    s.index = static_cast<int>(link);
    s.active = active == kNvmlFeatureEnabled;
    if (s.active && api_->nvlink_remote_pci != nullptr) {
      // Slack after the struct: a newer NVML writing a longer record cannot overrun the stack.
      struct {
        NvmlPciInfo info;
        char slack[128];
      } pci{};
      if (api_->nvlink_remote_pci(dev, link, &pci.info) == kNvmlSuccess) {
        s.remote_bus_id = canonical_bus_id(
            std::string_view(pci.info.bus_id, strnlen(pci.info.bus_id, sizeof(pci.info.bus_id))));
      }
    }
    if (s.active && api_->nvlink_remote_type != nullptr) {
      int type = -1;
      if (api_->nvlink_remote_type(dev, link, &type) == kNvmlSuccess) {
        s.remote = type == kNvlinkDeviceTypeGpu      ? NvlinkRemote::kGpu
                   : type == kNvlinkDeviceTypeSwitch ? NvlinkRemote::kSwitch
                                                     : NvlinkRemote::kOther;
      }
    }
    f.links.push_back(std::move(s));
  }
  f.ok = true;
  return f;
}

GpuFabricInfo Nvml::fabric_info(const std::string& uuid) const {
  GpuFabricInfo f;
  if (!init_ok_) {
    f.unavailable = reason_;
    return f;
  }
  if (api_->fabric_v2 == nullptr && api_->fabric_v1 == nullptr) {
    f.entry_point_missing = true;
    f.unavailable =
        "this NVML has neither nvmlDeviceGetGpuFabricInfoV nor nvmlDeviceGetGpuFabricInfo "
        "(driver older than R525?)";
    return f;
  }
  nvmlDevice_t dev = api_->handle(uuid, f.unavailable);
  if (dev == nullptr) return f;
  if (api_->fabric_v2 != nullptr) {
    struct {
      NvmlFabricInfoV2 info;
      char slack[64];
    } v{};
    v.info.version = kFabricInfoV2Version;
    f.call_result = api_->fabric_v2(dev, &v.info);
    f.source = "nvmlDeviceGetGpuFabricInfoV (v2)";
    if (f.call_result == kNvmlSuccess) {
      f.queried = true;
      f.state = v.info.state;
      f.status = v.info.status;
      f.clique_id = v.info.clique_id;
      f.cluster_uuid = hex_uuid(v.info.cluster_uuid);
      f.health_known = true;
      f.health_mask = v.info.health_mask;
    }
  }
  if (!f.queried && api_->fabric_v1 != nullptr &&
      (api_->fabric_v2 == nullptr || f.call_result != kNvmlErrorNotSupported)) {
    struct {
      NvmlFabricInfoV1 info;
      char slack[64];
    } v{};
    f.call_result = api_->fabric_v1(dev, &v.info);
    f.source = "nvmlDeviceGetGpuFabricInfo (v1)";
    if (f.call_result == kNvmlSuccess) {
      f.queried = true;
      f.state = v.info.state;
      f.status = v.info.status;
      f.clique_id = v.info.clique_id;
      f.cluster_uuid = hex_uuid(v.info.cluster_uuid);
    }
  }
  if (f.queried) {
    f.status_text = f.status == kNvmlSuccess ? "success" : api_->text(f.status);
  } else if (f.call_result == kNvmlErrorNotSupported) {
    // No NVLink fabric on this GPU: the same meaning as state NOT_SUPPORTED.
    f.queried = true;
    f.state = kFabricStateNotSupported;
  } else {
    f.unavailable = fmt::format("{} failed: {}", f.source, api_->text(f.call_result));
  }
  return f;
}

P2PNvlinkStatus Nvml::p2p_nvlink(const std::string& uuid_a, const std::string& uuid_b) const {
  P2PNvlinkStatus s;
  if (!init_ok_) {
    s.error = reason_;
    return s;
  }
  if (api_->p2p_status == nullptr) {
    s.error = "this NVML lacks nvmlDeviceGetP2PStatus";
    return s;
  }
  nvmlDevice_t a = api_->handle(uuid_a, s.error);
  if (a == nullptr) return s;
  nvmlDevice_t b = api_->handle(uuid_b, s.error);
  if (b == nullptr) return s;
  int status = -1;
  if (const nvmlReturn_t r = api_->p2p_status(a, b, kP2PCapsIndexNvlink, &status);
      r != kNvmlSuccess) {
    s.error = fmt::format("nvmlDeviceGetP2PStatus(NVLINK) failed: {}", api_->text(r));
    return s;
  }
  s.queried = true;
  s.status = status;
  s.text = p2p_status_name(status);
  return s;
}

unsigned Nvml::gpu_count() const {
  unsigned n = 0;
  if (!init_ok_ || api_->count == nullptr || api_->count(&n) != kNvmlSuccess) return 0;
  return n;
}

NvmlGpu Nvml::gpu_by_index(unsigned index) const {
  NvmlGpu g;
  if (!init_ok_) {
    g.error = reason_;
    return g;
  }
  if (api_->handle_by_index == nullptr || api_->device_uuid == nullptr ||
      api_->pci_info == nullptr) {
    g.error =
        "this NVML lacks nvmlDeviceGetHandleByIndex_v2, nvmlDeviceGetUUID or "
        "nvmlDeviceGetPciInfo_v3";
    return g;
  }
  nvmlDevice_t dev = nullptr;
  if (const nvmlReturn_t r = api_->handle_by_index(index, &dev); r != kNvmlSuccess) {
    g.error = fmt::format("nvmlDeviceGetHandleByIndex_v2({}) failed: {}", index, api_->text(r));
    return g;
  }
  char uuid[96] = {};  // NVML_DEVICE_UUID_V2_BUFFER_SIZE
  if (const nvmlReturn_t r = api_->device_uuid(dev, uuid, sizeof(uuid)); r != kNvmlSuccess) {
    g.error = fmt::format("nvmlDeviceGetUUID failed: {}", api_->text(r));
    return g;
  }
  struct {
    NvmlPciInfo info;
    char slack[128];
  } pci{};
  if (const nvmlReturn_t r = api_->pci_info(dev, &pci.info); r != kNvmlSuccess) {
    g.error = fmt::format("nvmlDeviceGetPciInfo_v3 failed: {}", api_->text(r));
    return g;
  }
  g.ok = true;
  g.uuid = std::string(uuid, strnlen(uuid, sizeof(uuid)));
  g.bus_id = canonical_bus_id(
      std::string_view(pci.info.bus_id, strnlen(pci.info.bus_id, sizeof(pci.info.bus_id))));
  return g;
}

}  // namespace dcp::fabric
