#include "fabric_workspace_kernels.hpp"

#include <stdexcept>
#include <string>

namespace dcp::test {

namespace {

__global__ void write_kernel(std::uint64_t* seg, std::size_t words, int rank) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < words;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    seg[i] = signature_word(rank, i);
  }
}

__global__ void check_kernel(const std::uint64_t* seg, std::size_t words, int rank,
                             unsigned long long* mismatches) {
  unsigned long long local = 0;
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < words;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const std::uint64_t expect = rank < 0 ? 0 : signature_word(rank, i);
    if (seg[i] != expect) ++local;
  }
  if (local != 0) atomicAdd(mismatches, local);
}

void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) {
    throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(err));
  }
}

}  // namespace

void write_signature(void* segment, std::size_t words, int rank, cudaStream_t stream) {
  write_kernel<<<264, 256, 0, stream>>>(static_cast<std::uint64_t*>(segment), words, rank);
  check(cudaGetLastError(), "write_kernel launch");
}

unsigned long long count_mismatches(const void* segment, std::size_t words, int rank,
                                    cudaStream_t stream) {
  unsigned long long* d = nullptr;
  check(cudaMallocAsync(&d, sizeof(*d), stream), "cudaMallocAsync");
  check(cudaMemsetAsync(d, 0, sizeof(*d), stream), "cudaMemsetAsync");
  check_kernel<<<264, 256, 0, stream>>>(static_cast<const std::uint64_t*>(segment), words, rank, d);
  check(cudaGetLastError(), "check_kernel launch");
  unsigned long long h = 0;
  check(cudaMemcpyAsync(&h, d, sizeof(h), cudaMemcpyDeviceToHost, stream), "cudaMemcpyAsync");
  check(cudaFreeAsync(d, stream), "cudaFreeAsync");
  check(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
  return h;
}

}  // namespace dcp::test
