// A fake libnvidia-ml for the NVML loader's tests (fabric/nvml.cpp): the C entry points the
// loader resolves, answering from a scenario in the environment variable DCP_FAKE_NVML, so the
// tests exercise the real dlopen/dlsym path, the struct layouts and version words, and every
// branch the checks depend on, without a GPU. Built three times (tests/unit/fabric.cmake):
//   full           every entry point
//   FAKE_NVML_V1   without nvmlDeviceGetGpuFabricInfoV (an NVML older than R550)
//   FAKE_NVML_NO_FABRIC without either fabric-info entry point, nor nvmlDeviceGetP2PStatus
//
// Scenario: ';'-separated key=value pairs (all optional):
//   gpus=N         GPUs (default 2): uuid "GPU-0000000<i>-0000-0000-0000-000000000000", bus id
//                  "00000000:1<i>:00.0"
//   links=N        NVLinks per GPU (default 18; 0 = no NVLink: link 0 answers NOT_SUPPORTED)
//   down=g:l,...   links that are inactive
//   remote=switch|direct   far end of every link: an NVSwitch (default), or the other GPU
//   fabric=completed|not_started|in_progress|not_supported|error   (default completed)
//   health=0x..    the v2 health mask (default 0x1aa: every 2-bit field FALSE, configuration NONE)
//   cluster=0|1    cluster UUID bytes all 0x11 (1, default) or all zero (0); clique=N (default 7)
//   p2p=ok|not_supported   NVLink P2P status between any two GPUs (default ok)
//   init=fail      nvmlInit_v2 answers NVML_ERROR_DRIVER_NOT_LOADED (9)
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

struct Scenario {
  int gpus = 2;
  int links = 18;
  std::string down;
  bool direct = false;
  std::string fabric = "completed";
  unsigned health = 0x1aa;
  bool cluster = true;
  unsigned clique = 7;
  bool p2p_ok = true;
  bool init_fail = false;
};

Scenario scenario() {
  Scenario s;
  const char* env = std::getenv("DCP_FAKE_NVML");
  std::string text = env ? env : "";
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find(';', pos);
    if (end == std::string::npos) end = text.size();
    const std::string kv = text.substr(pos, end - pos);
    pos = end + 1;
    const std::size_t eq = kv.find('=');
    if (eq == std::string::npos) continue;
    const std::string k = kv.substr(0, eq);
    const std::string v = kv.substr(eq + 1);
    if (k == "gpus") s.gpus = std::atoi(v.c_str());
    if (k == "links") s.links = std::atoi(v.c_str());
    if (k == "down") s.down = "," + v + ",";
    if (k == "remote") s.direct = v == "direct";
    if (k == "fabric") s.fabric = v;
    if (k == "health") s.health = static_cast<unsigned>(std::strtoul(v.c_str(), nullptr, 0));
    if (k == "cluster") s.cluster = v != "0";
    if (k == "clique") s.clique = static_cast<unsigned>(std::atoi(v.c_str()));
    if (k == "p2p") s.p2p_ok = v == "ok";
    if (k == "init") s.init_fail = v == "fail";
  }
  return s;
}

// Devices are handles 1..N (never dereferenced by the loader).
int index_of(void* dev) {
  return static_cast<int>(reinterpret_cast<std::uintptr_t>(dev)) - 1;
}
void* handle_of(int i) {
  return reinterpret_cast<void*>(static_cast<std::uintptr_t>(i + 1));
}

std::string uuid_of(int i) {
  char b[64];
  std::snprintf(b, sizeof(b), "GPU-0000000%d-0000-0000-0000-000000000000", i);
  return b;
}

void bus_of(int i, char* out, std::size_t n) {
  std::snprintf(out, n, "00000000:1%d:00.0", i);
}

struct PciInfo {
  char bus_id_legacy[16];
  unsigned domain, bus, device, pci_device_id, pci_sub_system_id;
  char bus_id[32];
};

struct FabricV1 {
  unsigned char cluster_uuid[16];
  int status;
  unsigned clique_id;
  unsigned char state;
};

struct FabricV2 {
  unsigned version;
  unsigned char cluster_uuid[16];
  int status;
  unsigned clique_id;
  unsigned char state;
  unsigned health_mask;
};

constexpr int kSuccess = 0;
constexpr int kInvalidArgument = 2;
constexpr int kNotSupported = 3;
constexpr int kNotFound = 6;
constexpr int kDriverNotLoaded = 9;
constexpr int kVersionMismatch = 25;

bool link_down(const Scenario& s, int gpu, unsigned link) {
  char key[32];
  std::snprintf(key, sizeof(key), ",%d:%u,", gpu, link);
  return s.down.find(key) != std::string::npos;
}

/// Fills the common fabric fields; returns the call's result.
[[maybe_unused]] int fabric_fields(void* dev, unsigned char (&uuid)[16], int& status,
                                   unsigned& clique, unsigned char& state) {
  const Scenario s = scenario();
  if (index_of(dev) < 0 || index_of(dev) >= s.gpus) return kInvalidArgument;
  if (s.fabric == "not_supported") return kNotSupported;
  std::memset(uuid, s.cluster ? 0x11 : 0, sizeof(uuid));
  status = kSuccess;
  clique = s.clique;
  state = 3;
  if (s.fabric == "not_started") state = 1;
  if (s.fabric == "in_progress") state = 2;
  if (s.fabric == "error") status = 999;
  return kSuccess;
}

}  // namespace

extern "C" {

int nvmlInit_v2() {
  return scenario().init_fail ? kDriverNotLoaded : kSuccess;
}
int nvmlShutdown() {
  return kSuccess;
}
const char* nvmlErrorString(int r) {
  switch (r) {
    case kNotSupported:
      return "Not Supported";
    case kNotFound:
      return "Not Found";
    case kDriverNotLoaded:
      return "Driver Not Loaded";
    case kVersionMismatch:
      return "Argument Version Mismatch";
    default:
      return "Unknown Error";
  }
}
int nvmlDeviceGetCount_v2(unsigned* n) {
  *n = static_cast<unsigned>(scenario().gpus);
  return kSuccess;
}
int nvmlDeviceGetHandleByIndex_v2(unsigned i, void** dev) {
  if (static_cast<int>(i) >= scenario().gpus) return kInvalidArgument;
  *dev = handle_of(static_cast<int>(i));
  return kSuccess;
}
int nvmlDeviceGetHandleByUUID(const char* uuid, void** dev) {
  const Scenario s = scenario();
  for (int i = 0; i < s.gpus; ++i) {
    if (uuid_of(i) == uuid) {
      *dev = handle_of(i);
      return kSuccess;
    }
  }
  return kNotFound;
}
int nvmlDeviceGetUUID(void* dev, char* out, unsigned n) {
  std::snprintf(out, n, "%s", uuid_of(index_of(dev)).c_str());
  return kSuccess;
}
int nvmlDeviceGetPciInfo_v3(void* dev, PciInfo* p) {
  std::memset(p, 0, sizeof(*p));
  bus_of(index_of(dev), p->bus_id, sizeof(p->bus_id));
  return kSuccess;
}
int nvmlDeviceGetNvLinkState(void* dev, unsigned link, int* active) {
  const Scenario s = scenario();
  if (s.links == 0) return kNotSupported;
  if (static_cast<int>(link) >= s.links) return kInvalidArgument;
  *active = link_down(s, index_of(dev), link) ? 0 : 1;
  return kSuccess;
}
int nvmlDeviceGetNvLinkRemotePciInfo_v2(void* dev, unsigned link, PciInfo* p) {
  const Scenario s = scenario();
  std::memset(p, 0, sizeof(*p));
  if (s.direct) {
    bus_of((index_of(dev) + 1) % s.gpus, p->bus_id, sizeof(p->bus_id));
  } else {
    std::snprintf(p->bus_id, sizeof(p->bus_id), "00000000:%02X:00.0", 0xA0 + (link % 4));
  }
  return kSuccess;
}
int nvmlDeviceGetNvLinkRemoteDeviceType(void*, unsigned, int* type) {
  *type = scenario().direct ? 0 : 2;
  return kSuccess;
}

#if !defined(FAKE_NVML_NO_FABRIC)
int nvmlDeviceGetGpuFabricInfo(void* dev, FabricV1* f) {
  return fabric_fields(dev, f->cluster_uuid, f->status, f->clique_id, f->state);
}
int nvmlDeviceGetP2PStatus(void* a, void* b, int index, int* status) {
  if (index != 2 || a == b) return kInvalidArgument;  // NVML_P2P_CAPS_INDEX_NVLINK
  *status = scenario().p2p_ok ? 0 : 5;                // OK / NOT_SUPPORTED
  return kSuccess;
}
#endif

#if !defined(FAKE_NVML_NO_FABRIC) && !defined(FAKE_NVML_V1)
int nvmlDeviceGetGpuFabricInfoV(void* dev, FabricV2* f) {
  // nvmlGpuFabricInfo_v2 = sizeof(nvmlGpuFabricInfo_v2_t) | 2 << 24.
  if (f->version != (static_cast<unsigned>(sizeof(FabricV2)) | (2U << 24U))) {
    return kVersionMismatch;
  }
  const int r = fabric_fields(dev, f->cluster_uuid, f->status, f->clique_id, f->state);
  f->health_mask = scenario().health;
  return r;
}
#endif

}  // extern "C"
