// Device fill of the reduce pattern (direct_reduce_fill.hpp).
#include <cuda_runtime.h>

#include <cstdint>

#include "core/cuda_check.hpp"
#include "core/pattern.hpp"
#include "direct_reduce_fill.hpp"
#include "merge/reduce_pattern.hpp"

namespace dcp::testing {

namespace {

__global__ void fill_kernel(merge::MergeShape shape, std::uint64_t seed, std::uint32_t call,
                            int src, std::uint16_t* o, float* lse) {
  const std::int64_t rows = shape.entries * shape.cp;
  const std::int64_t total = rows * shape.head_dim;
  for (std::int64_t i = blockIdx.x * std::int64_t{blockDim.x} + threadIdx.x; i < total;
       i += std::int64_t{gridDim.x} * blockDim.x) {
    const std::int64_t row = i / shape.head_dim;
    const auto k = static_cast<std::uint32_t>(i - row * shape.head_dim);
    const std::int64_t e = row / shape.cp;
    const auto p = static_cast<std::uint32_t>(row - e * shape.cp);
    pattern::Coord c{seed, call, static_cast<std::uint32_t>(src), p, static_cast<std::uint64_t>(e),
                     k};
    o[i] = merge::reduce_o_bits(c, shape.fp16);
    if (k == 0) {
      c.element = 0;
      lse[row] = merge::reduce_lse(c, shape.base);
    }
  }
}

}  // namespace

void fill_reduce_inputs_device(const merge::MergeShape& shape, std::uint64_t seed,
                               std::uint32_t call, int src, void* partial_o, void* lse,
                               cudaStream_t stream) {
  if (shape.entries == 0) return;
  fill_kernel<<<512, 256, 0, stream>>>(
      shape, seed, call, src, static_cast<std::uint16_t*>(partial_o), static_cast<float*>(lse));
  DCP_CUDA_CHECK_LAUNCH();
}

void poison_reduce_outputs_device(const merge::MergeShape& shape, void* out, void* lse_out,
                                  cudaStream_t stream) {
  if (shape.entries == 0) return;
  DCP_CUDA_CHECK(
      cudaMemsetAsync(out, 0xFF, static_cast<std::size_t>(shape.out_elements()) * 2, stream));
  DCP_CUDA_CHECK(
      cudaMemsetAsync(lse_out, 0xFF, static_cast<std::size_t>(shape.entries) * 4, stream));
}

}  // namespace dcp::testing
