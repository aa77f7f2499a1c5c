// The pack/unpack kernels of nccl-packed (baseline/packed_kernels.hpp). No fmt here.
// One thread per 16-bit unit, grid-stride, written as gathers so that a warp's stores are
// contiguous; the index math is baseline/packed_rows.hpp's, tested on the CPU.
#include <cuda_runtime.h>

#include <algorithm>

#include "baseline/packed_kernels.hpp"
#include "core/cuda_check.hpp"

namespace dcp::baseline {

namespace {

constexpr int kThreads = 256;
constexpr std::int64_t kMaxBlocks = 4096;

__global__ void __launch_bounds__(kThreads)
    pack_kernel(PackedLayout l, const std::uint16_t* in_o, const std::uint16_t* in_stats,
                std::uint16_t* send) {
  const std::int64_t total = l.units();
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t u = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; u < total;
       u += stride) {
    const PackedUnit pu = packed_unit(l, u);
    send[u] = packed_value(l, pu.in_row, pu.k, in_o, in_stats);
  }
}

__global__ void __launch_bounds__(kThreads)
    unpack_kernel(PackedLayout l, const std::uint16_t* recv, std::uint16_t* out_o,
                  std::uint16_t* out_stats) {
  const std::int64_t o_units = l.entries * l.cp * l.head_dim;
  const std::int64_t total = unpacked_units(l);
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t u = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; u < total;
       u += stride) {
    const std::uint16_t v = recv[unpacked_source(l, u)];
    if (u < o_units) {
      out_o[u] = v;
    } else {
      out_stats[u - o_units] = v;
    }
  }
}

unsigned blocks_for(std::int64_t work) {
  return static_cast<unsigned>(
      std::clamp<std::int64_t>((work + kThreads - 1) / kThreads, 1, kMaxBlocks));
}

}  // namespace

void launch_pack_rows(const PackedLayout& layout, const void* in_o, const void* in_stats,
                      void* send, StreamHandle stream) {
  if (layout.entries == 0) return;
  pack_kernel<<<blocks_for(layout.units()), kThreads, 0, stream>>>(
      layout, static_cast<const std::uint16_t*>(in_o), static_cast<const std::uint16_t*>(in_stats),
      static_cast<std::uint16_t*>(send));
  DCP_CUDA_CHECK_LAUNCH();
}

void launch_unpack_rows(const PackedLayout& layout, const void* recv, void* out_o, void* out_stats,
                        StreamHandle stream) {
  if (layout.entries == 0) return;
  unpack_kernel<<<blocks_for(unpacked_units(layout)), kThreads, 0, stream>>>(
      layout, static_cast<const std::uint16_t*>(recv), static_cast<std::uint16_t*>(out_o),
      static_cast<std::uint16_t*>(out_stats));
  DCP_CUDA_CHECK_LAUNCH();
}

}  // namespace dcp::baseline
