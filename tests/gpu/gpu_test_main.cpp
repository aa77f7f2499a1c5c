// main() of every GPU test executable: exits 77 (ctest SKIP_RETURN_CODE) when the machine has no
// CUDA device, so CI without a GPU reports these tests as skipped, never as passed.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "core/cuda_check.hpp"

int main(int argc, char** argv) {
  // As dcpbench's main: every kernel loaded at CUDA init, so kernels that wait on one another in
  // one process never wait on a lazy load (src/cli/main.cpp).
  setenv("CUDA_MODULE_LOADING", "EAGER", 0);
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (dcp::is_no_device_error(err) || (err == cudaSuccess && count == 0)) {
    std::printf("SKIP: no CUDA device (%s)\n", cudaGetErrorName(err));
    return 77;
  }
  if (err != cudaSuccess) {
    std::printf("cudaGetDeviceCount failed: %s\n", cudaGetErrorString(err));
    return 1;
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
