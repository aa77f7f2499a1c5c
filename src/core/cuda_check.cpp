#include "core/cuda_check.hpp"

#include <cstdio>
#include <exception>
#include <string>

namespace dcp {

[[noreturn]] void throw_cuda_error(cudaError_t err, const char* expr, const char* file, int line) {
  (void)cudaGetLastError();  // clear a sticky-free error so later calls are not blamed for it
  throw CudaError(std::string("CUDA error ") + cudaGetErrorName(err) + " (" +
                  cudaGetErrorString(err) + ") in " + expr + " at " + file + ":" +
                  std::to_string(line));
}

void report_cuda_error_noexcept(cudaError_t err, const char* expr, const char* file,
                                int line) noexcept {
  std::fprintf(stderr, "dcpbench: CUDA error %s (%s) in %s at %s:%d during cleanup\n",
               cudaGetErrorName(err), cudaGetErrorString(err), expr, file, line);
}

int require_cuda_devices() {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (is_no_device_error(err) || (err == cudaSuccess && count == 0)) {
    (void)cudaGetLastError();
    throw EnvironmentError(std::string("no CUDA device: ") +
                           (err == cudaSuccess ? "cudaGetDeviceCount found 0 devices"
                                               : std::string(cudaGetErrorName(err)) + " (" +
                                                     cudaGetErrorString(err) + ")") +
                           "; dcpbench run/diag need an NVIDIA GPU and its driver "
                           "(compare and list work without one)");
  }
  if (err != cudaSuccess) throw_cuda_error(err, "cudaGetDeviceCount(&count)", __FILE__, __LINE__);
  return count;
}

}  // namespace dcp
