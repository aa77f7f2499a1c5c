#pragma once
/// @file
/// The PTX one-liners both native protocols use (the LL128 FIFO kernels, fused_alltoall.cuh and
/// fused_reduce.cuh, and the direct-store kernels, direct_kernel.cuh): the global timer and
/// 8-byte volatile / acquire accesses to global memory. Each protocol keeps its own release
/// store, because their ordering contracts differ (a plain st.release for LL128's credit, a
/// fence plus relaxed store covering the CTA's barrier-ordered payload for the direct flags).
/// CUDA translation units only.

#include <cstdint>

namespace dcp::kernels::ptx {

/// Nanoseconds of the GPU's global timer.
__device__ __forceinline__ std::uint64_t globaltimer_ns() {
  std::uint64_t t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

__device__ __forceinline__ std::uint64_t ld_volatile_u64(const std::uint64_t* p) {
  std::uint64_t v;
  asm volatile("ld.volatile.global.u64 %0, [%1];" : "=l"(v) : "l"(p) : "memory");
  return v;
}

__device__ __forceinline__ void st_volatile_u64(std::uint64_t* p, std::uint64_t v) {
  asm volatile("st.volatile.global.u64 [%0], %1;" ::"l"(p), "l"(v) : "memory");
}

__device__ __forceinline__ std::uint64_t ld_acquire_sys_u64(const std::uint64_t* p) {
  std::uint64_t v;
  asm volatile("ld.acquire.sys.global.u64 %0, [%1];" : "=l"(v) : "l"(p) : "memory");
  return v;
}

}  // namespace dcp::kernels::ptx
