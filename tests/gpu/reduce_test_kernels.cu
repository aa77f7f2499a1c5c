// tests/gpu/reduce_test_kernels.hpp. No fmt here.
#include <cuda_runtime.h>

#include "core/cuda_check.hpp"
#include "reduce_test_kernels.hpp"

namespace dcp::testing {

namespace {
__global__ void flip_kernel(std::uint16_t* out, std::int64_t n) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    out[i] = static_cast<std::uint16_t>(out[i] ^ 1u);
  }
}
}  // namespace

void flip_lowest_bits(std::uint16_t* out, std::int64_t n, StreamHandle stream) {
  if (n == 0) return;
  flip_kernel<<<64, 256, 0, stream>>>(out, n);
  DCP_CUDA_CHECK_LAUNCH();
}

}  // namespace dcp::testing
