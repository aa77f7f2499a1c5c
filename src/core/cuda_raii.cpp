#include "core/cuda_raii.hpp"

#include "core/cuda_check.hpp"
#include "core/units.hpp"

namespace dcp {

DeviceMemory::DeviceMemory(std::size_t bytes) : bytes_(bytes) {
  if (bytes > 0) DCP_CUDA_CHECK(cudaMalloc(&ptr_, bytes));
}

void DeviceMemory::reset() noexcept {
  if (ptr_) DCP_CUDA_CHECK_NOEXCEPT(cudaFree(ptr_));
  ptr_ = nullptr;
  bytes_ = 0;
}

PinnedMemory::PinnedMemory(std::size_t bytes) : bytes_(bytes) {
  if (bytes > 0) DCP_CUDA_CHECK(cudaMallocHost(&ptr_, bytes));
}

void PinnedMemory::reset() noexcept {
  if (ptr_) DCP_CUDA_CHECK_NOEXCEPT(cudaFreeHost(ptr_));
  ptr_ = nullptr;
  bytes_ = 0;
}

Stream::Stream() {
  DCP_CUDA_CHECK(cudaStreamCreateWithFlags(&s_, cudaStreamNonBlocking));
}

void Stream::reset() noexcept {
  if (s_) DCP_CUDA_CHECK_NOEXCEPT(cudaStreamDestroy(s_));
  s_ = nullptr;
}

void Stream::synchronize() const {
  DCP_CUDA_CHECK(cudaStreamSynchronize(s_));
}

Event::Event() {
  DCP_CUDA_CHECK(cudaEventCreate(&e_));
}

void Event::reset() noexcept {
  if (e_) DCP_CUDA_CHECK_NOEXCEPT(cudaEventDestroy(e_));
  e_ = nullptr;
}

void Event::record(cudaStream_t s) const {
  DCP_CUDA_CHECK(cudaEventRecord(e_, s));
}

double Event::seconds_since(const Event& start) const {
  float ms = 0;
  DCP_CUDA_CHECK(cudaEventElapsedTime(&ms, start.e_, e_));
  return seconds_from_ms(static_cast<double>(ms));
}

GraphExec::GraphExec(cudaGraph_t graph) {
  const cudaError_t err = cudaGraphInstantiate(&g_, graph, 0);
  DCP_CUDA_CHECK_NOEXCEPT(cudaGraphDestroy(graph));
  DCP_CUDA_CHECK(err);
}

void GraphExec::reset() noexcept {
  if (g_) DCP_CUDA_CHECK_NOEXCEPT(cudaGraphExecDestroy(g_));
  g_ = nullptr;
}

void GraphExec::launch(cudaStream_t s) const {
  DCP_CUDA_CHECK(cudaGraphLaunch(g_, s));
}

}  // namespace dcp
