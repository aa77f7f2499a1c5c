#pragma once
/// @file
/// DCP_CUDA_CHECK: throws dcp::CudaError with the call text, file, line and CUDA's message.
/// DCP_CUDA_CHECK_NOEXCEPT: for destructors; prints and terminates instead of throwing.
/// C++17, usable from CUDA translation units.

#include <cuda_runtime_api.h>

#include <string>

#include "core/error.hpp"

namespace dcp {

[[noreturn]] void throw_cuda_error(cudaError_t err, const char* expr, const char* file, int line);
void report_cuda_error_noexcept(cudaError_t err, const char* expr, const char* file,
                                int line) noexcept;

/// True for the codes CUDA returns when there is no usable GPU (no device, or no driver:
/// cudaErrorInsufficientDriver on a machine without the driver, see environment.md).
constexpr bool is_no_device_error(cudaError_t err) {
  return err == cudaErrorNoDevice || err == cudaErrorInsufficientDriver;
}

/// Number of visible CUDA devices; throws EnvironmentError("no CUDA device: ...") when there is
/// none or no driver, CudaError for any other failure.
int require_cuda_devices();

}  // namespace dcp

#define DCP_CUDA_CHECK(expr)                                        \
  do {                                                              \
    const cudaError_t dcp_err_ = (expr);                            \
    if (dcp_err_ != cudaSuccess) {                                  \
      ::dcp::throw_cuda_error(dcp_err_, #expr, __FILE__, __LINE__); \
    }                                                               \
  } while (0)

#define DCP_CUDA_CHECK_NOEXCEPT(expr)                                         \
  do {                                                                        \
    const cudaError_t dcp_err_ = (expr);                                      \
    if (dcp_err_ != cudaSuccess) {                                            \
      ::dcp::report_cuda_error_noexcept(dcp_err_, #expr, __FILE__, __LINE__); \
    }                                                                         \
  } while (0)

/// After a kernel launch: checks the launch error.
#define DCP_CUDA_CHECK_LAUNCH() DCP_CUDA_CHECK(cudaGetLastError())
