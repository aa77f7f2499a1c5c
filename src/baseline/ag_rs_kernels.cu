// The local kernels of nccl-ag-rs (baseline/ag_rs_kernels.hpp). No fmt here. Compiled with the
// merge's exactness flags (src/baseline/CMakeLists.txt): the scales are the routine's bits.
#include <cuda_runtime.h>

#include <algorithm>

#include "baseline/ag_rs_kernels.hpp"
#include "baseline/ag_rs_math.hpp"
#include "core/cuda_check.hpp"

namespace dcp::baseline {

namespace {

constexpr int kThreads = 256;
constexpr std::int64_t kMaxBlocks = 4096;

__global__ void __launch_bounds__(kThreads)
    weights_kernel(merge::MergeShape s, int rank, const float* gathered, float* scale,
                   float* lse_out) {
  const std::int64_t pairs = s.entries * s.cp;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < pairs;
       i += stride) {
    const std::int64_t e = i / s.cp;
    const int p = static_cast<int>(i - e * s.cp);
    float lse = 0.0f;
    scale[i] = ag_rs_scale(gathered + i, pairs, s.cp, rank, s.base, &lse);
    if (p == rank) lse_out[e] = lse;
  }
}

__global__ void __launch_bounds__(kThreads)
    rescale_kernel(merge::MergeShape s, const float* scale, const std::uint16_t* partial_o,
                   std::uint16_t* terms) {
  const std::int64_t total = s.entries * s.cp * s.head_dim;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t u = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; u < total;
       u += stride) {
    const std::int64_t r = u / s.head_dim;  // p * E + e
    const int k = static_cast<int>(u - r * s.head_dim);
    const std::int64_t p = r / s.entries;
    const std::int64_t e = r - p * s.entries;
    const std::int64_t in_row = e * s.cp + p;
    terms[u] = ag_rs_term(scale[in_row], partial_o + in_row * s.head_dim + k, s.fp16);
  }
}

unsigned blocks_for(std::int64_t work) {
  return static_cast<unsigned>(
      std::clamp<std::int64_t>((work + kThreads - 1) / kThreads, 1, kMaxBlocks));
}

}  // namespace

void launch_ag_rs_weights(const merge::MergeShape& shape, int rank, const float* gathered,
                          float* scale, float* lse_out, StreamHandle stream) {
  if (shape.entries == 0) return;
  weights_kernel<<<blocks_for(shape.entries * shape.cp), kThreads, 0, stream>>>(
      shape, rank, gathered, scale, lse_out);
  DCP_CUDA_CHECK_LAUNCH();
}

void launch_ag_rs_rescale(const merge::MergeShape& shape, const float* scale, const void* partial_o,
                          void* terms, StreamHandle stream) {
  if (shape.entries == 0) return;
  rescale_kernel<<<blocks_for(shape.entries * shape.cp * shape.head_dim), kThreads, 0, stream>>>(
      shape, scale, static_cast<const std::uint16_t*>(partial_o),
      static_cast<std::uint16_t*>(terms));
  DCP_CUDA_CHECK_LAUNCH();
}

}  // namespace dcp::baseline
