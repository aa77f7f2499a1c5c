#include "diag/context.hpp"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "core/cuda_check.hpp"
#include "core/device.hpp"
#include "core/host_wait.hpp"
#include "fabric/nvml.hpp"

namespace dcp::diag {

Context::Context(const DiagPlan& plan, World& world, const DiagDevice& device,
                 const DiagEnvironment& env)
    : plan_(plan),
      env_(env),
      world_(world),
      device_(device),
      sizes_(probe_sizes(plan.quick, plan.ll128_lines)),
      mapping_(world) {
  ranks_ = gather(this_rank(env), "diag rank facts");
}

Context::~Context() = default;

bool Context::cuda_ready_everywhere() const {
  return std::all_of(ranks_.begin(), ranks_.end(), [](const RankFacts& r) { return r.cuda_ready; });
}

bool Context::single_host() const {
  return std::all_of(ranks_.begin(), ranks_.end(),
                     [&](const RankFacts& r) { return r.host == ranks_.front().host; });
}

double Context::host_wait_s() const {
  return dcp::host_wait_s(plan_.timeout_s);
}

const fabric::Nvml& Context::nvml() {
  if (!nvml_) nvml_ = std::make_unique<fabric::Nvml>();
  return *nvml_;
}

const fabric::PeerPathTable& Context::paths() {
  if (!paths_) {
    const RankFacts& mine = rank(me());
    paths_ = fabric::gather_peer_paths(
        world_, fabric::make_identity(nvml(), mine.host, mine.gpu_uuid, mine.pci_bus_id));
  }
  return *paths_;
}

RankFacts Context::this_rank(const DiagEnvironment& env) {
  RankFacts f;
  f.rank = world_.rank();
  f.local_rank = world_.local_rank();
  f.local_size = world_.local_size();
  f.host = world_.host();
  if (const char* cvd = std::getenv("CUDA_VISIBLE_DEVICES")) {
    f.cvd_set = true;
    f.cvd = cvd;
  }
  f.nccl_version = env.nccl_loaded;
  f.nccl_compiled = env.nccl_compiled;
  f.nccl_warning = env.nccl_warning;
  int v = 0;
  // 0 = no driver: left empty ("unknown"), not "0.0".
  if (cudaDriverGetVersion(&v) == cudaSuccess && v > 0) f.driver_version = cuda_version_string(v);
  if (cudaRuntimeGetVersion(&v) == cudaSuccess) f.runtime_version = cuda_version_string(v);
  f.cuda_ready = device_.cuda_ready;
  f.cuda_error = device_.cuda_error;
  f.cuda_error_name = device_.cuda_error_name;
  f.cuda_error_text = device_.cuda_error_text;
  if (!device_.cuda_ready) {
    // CUDA cannot name the GPU: take NVML's GPU number local_rank (NVML ignores
    // CUDA_VISIBLE_DEVICES; with it set to indices, its entry for this local rank), so the NVML
    // groups (fabric_manager, nvlink, paths, imex) can still report on it.
    unsigned index = static_cast<unsigned>(f.local_rank);
    if (f.cvd_set && !f.cvd.empty()) {
      std::vector<unsigned> ids;
      const char* p = f.cvd.c_str();
      while (*p != '\0') {
        char* end = nullptr;
        const unsigned long id = std::strtoul(p, &end, 10);
        if (end == p) {
          ids.clear();  // UUIDs or MIG names: fall back to the local rank
          break;
        }
        ids.push_back(static_cast<unsigned>(id));
        p = *end == ',' ? end + 1 : end;
        if (*end != ',' && *end != '\0') {
          ids.clear();
          break;
        }
      }
      if (!ids.empty()) index = ids[static_cast<std::size_t>(f.local_rank) % ids.size()];
    }
    const fabric::NvmlGpu g = nvml().gpu_by_index(index);
    if (g.ok) {
      f.gpu_uuid = g.uuid;
      f.pci_bus_id = g.bus_id;
    }
    return f;
  }
  const RankInfo info = describe_device(device_.device);
  f.device = device_.device;
  DCP_CUDA_CHECK(cudaGetDeviceCount(&f.visible_devices));
  for (int d = 0; d < f.visible_devices; ++d)
    f.visible_uuids.push_back(d == device_.device ? info.gpu_uuid : describe_device(d).gpu_uuid);
  f.gpu_name = info.gpu_name;
  f.gpu_uuid = info.gpu_uuid;
  f.pci_bus_id = info.pci_bus_id;
  f.sm_count = info.sm_count;
  f.cc_major = info.cc_major;
  f.cc_minor = info.cc_minor;
  f.driver_version = info.driver_version;
  f.runtime_version = info.runtime_version;
  return f;
}

Context::LongWait::LongWait(World& world, double seconds)
    : world_(world), saved_(world.timeout_s()) {
  if (seconds > saved_) world_.set_timeout_s(seconds);
}

Context::LongWait::~LongWait() {
  world_.set_timeout_s(saved_);
}

}  // namespace dcp::diag
