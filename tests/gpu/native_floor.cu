#include "native_floor.hpp"

#include <cuda_runtime.h>

#include "core/cuda_check.hpp"

namespace dcp::testing {

namespace {

__device__ __forceinline__ void pdl_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

__device__ __forceinline__ void pdl_trigger() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

__device__ __forceinline__ std::uint64_t globaltimer_ns() {
  std::uint64_t t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

__global__ void floor_empty_kernel() {
  pdl_wait();
  pdl_trigger();
}

__global__ void floor_ping_kernel(std::uint64_t* mailbox, std::uint64_t* counters, int rank, int cp,
                                  std::uint64_t timeout_ns, int* failed) {
  pdl_wait();
  pdl_trigger();
  const int lane = static_cast<int>(threadIdx.x);
  volatile std::uint64_t* box = mailbox;
  const std::uint64_t seq = counters[rank] + 1;
  if (lane < cp) {
    box[lane * cp + rank] = seq;  // to peer `lane`
    const std::uint64_t start = globaltimer_ns();
    while (box[rank * cp + lane] < seq) {  // a peer may be one call ahead
      if (globaltimer_ns() - start > timeout_ns) {
        *failed = 1;
        break;
      }
    }
  }
  __syncwarp();
  if (lane == 0) counters[rank] = seq;
}

cudaLaunchConfig_t config(int ctas, int threads, cudaStream_t stream, bool pdl,
                          cudaLaunchAttribute* attr) {
  cudaLaunchConfig_t cfg{};
  cfg.gridDim = dim3(static_cast<unsigned>(ctas));
  cfg.blockDim = dim3(static_cast<unsigned>(threads));
  cfg.stream = stream;
  attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attr[0].val.programmaticStreamSerializationAllowed = pdl ? 1 : 0;
  cfg.attrs = attr;
  cfg.numAttrs = 1;
  return cfg;
}

}  // namespace

void launch_floor_empty(int ctas, int threads, cudaStream_t stream, bool pdl) {
  cudaLaunchAttribute attr[1];
  const cudaLaunchConfig_t cfg = config(ctas, threads, stream, pdl, attr);
  DCP_CUDA_CHECK(cudaLaunchKernelEx(&cfg, floor_empty_kernel));
}

void launch_floor_ping(std::uint64_t* mailbox, std::uint64_t* counters, int rank, int cp,
                       std::uint64_t timeout_ns, int* failed, cudaStream_t stream, bool pdl) {
  cudaLaunchAttribute attr[1];
  const cudaLaunchConfig_t cfg = config(1, 32, stream, pdl, attr);
  DCP_CUDA_CHECK(
      cudaLaunchKernelEx(&cfg, floor_ping_kernel, mailbox, counters, rank, cp, timeout_ns, failed));
}

}  // namespace dcp::testing
