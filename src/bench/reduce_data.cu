// Device kernels behind bench/reduce_data.hpp. C++17; no fmt here (nvcc 13 + fmt 9 in C++20).
#include <cuda_runtime.h>

#include "bench/reduce_data.hpp"
#include "core/cuda_check.hpp"
#include "core/pattern.hpp"
#include "merge/reduce_pattern.hpp"

namespace dcp::bench {

namespace {

constexpr int kThreads = 256;

/// One thread per element of partial_o, then one per LSE (grid-stride), with the pattern's
/// coordinates of merge::fill_reduce_inputs_host: row (e, p) of source `src` for destination p.
__global__ void fill_reduce_kernel(merge::MergeShape shape, std::uint64_t seed, std::uint32_t call,
                                   int src, std::uint16_t* partial_o, float* lse) {
  const long long rows = shape.entries * shape.cp;
  const long long o_elems = rows * shape.head_dim;
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
       i < o_elems + rows; i += stride) {
    const bool is_o = i < o_elems;
    const long long row = is_o ? i / shape.head_dim : i - o_elems;
    const pattern::Coord c{seed,
                           call,
                           static_cast<std::uint32_t>(src),
                           static_cast<std::uint32_t>(row % shape.cp),
                           static_cast<std::uint64_t>(row / shape.cp),
                           is_o ? static_cast<std::uint32_t>(i % shape.head_dim) : 0u};
    if (is_o) {
      partial_o[i] = merge::reduce_o_bits(c, shape.fp16);
    } else {
      lse[row] = merge::reduce_lse(c, shape.base);
    }
  }
}

int blocks_for(long long work) {
  long long b = (work + kThreads - 1) / kThreads;
  if (b < 1) b = 1;
  if (b > 65535) b = 65535;
  return static_cast<int>(b);
}

}  // namespace

void fill_reduce_inputs_device(const merge::MergeShape& shape, std::uint64_t seed,
                               std::uint32_t call, int src, void* partial_o, void* lse,
                               StreamHandle stream) {
  const long long work = shape.entries * shape.cp * (shape.head_dim + 1LL);
  if (work == 0) return;
  fill_reduce_kernel<<<blocks_for(work), kThreads, 0, stream>>>(
      shape, seed, call, src, static_cast<std::uint16_t*>(partial_o), static_cast<float*>(lse));
  DCP_CUDA_CHECK_LAUNCH();
}

void poison_reduce_outputs_device(const merge::MergeShape& shape, void* out, void* lse_out,
                                  StreamHandle stream) {
  if (shape.entries == 0) return;
  DCP_CUDA_CHECK(cudaMemsetAsync(out, 0xFF, static_cast<size_t>(shape.out_elements()) * 2, stream));
  DCP_CUDA_CHECK(
      cudaMemsetAsync(lse_out, 0xFF, static_cast<size_t>(shape.entries) * sizeof(float), stream));
}

}  // namespace dcp::bench
