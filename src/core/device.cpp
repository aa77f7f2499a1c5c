#include "core/device.hpp"

#include <cuda_runtime_api.h>

#include <fmt/format.h>

#include "core/cuda_check.hpp"
#include "core/error.hpp"
#include "core/world.hpp"

namespace dcp {

std::string cuda_version_string(int v) {
  return fmt::format("{}.{}", v / 1000, (v % 1000) / 10);
}

int select_device_for_local_rank(int local_rank, int local_size) {
  const int count = require_cuda_devices();
  if (local_size > count) {
    throw EnvironmentError(fmt::format(
        "{} ranks share this host but only {} CUDA device(s) are visible: dcpbench needs one GPU "
        "per rank (check CUDA_VISIBLE_DEVICES and -np), or use --workspace sim on one rank",
        local_size, count));
  }
  DCP_CUDA_CHECK(cudaSetDevice(local_rank));
  return local_rank;
}

RankInfo describe_device(int device) {
  RankInfo info;
  info.device = device;
  cudaDeviceProp prop{};
  DCP_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  info.gpu_name = prop.name;
  info.sm_count = prop.multiProcessorCount;
  info.cc_major = prop.major;
  info.cc_minor = prop.minor;
  std::string uuid = "GPU-";
  for (int i = 0; i < 16; ++i) {
    uuid += fmt::format("{:02x}", static_cast<unsigned char>(prop.uuid.bytes[i]));
    if (i == 3 || i == 5 || i == 7 || i == 9) uuid += '-';
  }
  info.gpu_uuid = uuid;
  info.pci_bus_id =
      fmt::format("{:08x}:{:02x}:{:02x}.0", prop.pciDomainID, prop.pciBusID, prop.pciDeviceID);
  int v = 0;
  DCP_CUDA_CHECK(cudaDriverGetVersion(&v));
  info.driver_version = cuda_version_string(v);
  DCP_CUDA_CHECK(cudaRuntimeGetVersion(&v));
  info.runtime_version = cuda_version_string(v);
  return info;
}

RankInfo describe_rank(const World& world, int device, std::string nccl_version) {
  RankInfo info = describe_device(device);
  info.rank = world.rank();
  info.local_rank = world.local_rank();
  info.host = world.host();
  info.nccl_version = std::move(nccl_version);
  return info;
}

}  // namespace dcp
