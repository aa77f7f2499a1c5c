#pragma once
/// @file
/// The four explicitly rounded fp32 operations every exact merge computation is built from.
///
/// Each one is a single IEEE-754 binary32 operation rounded to nearest-even, with subnormal
/// inputs and results kept (never flushed):
///  - on the device they are the intrinsics `__fadd_rn`, `__fsub_rn`, `__fmul_rn`, `__fdiv_rn`,
///    which the compiler never contracts into an FMA (whatever `--fmad` says) and which keep
///    subnormals as long as the translation unit is compiled with `-ftz=false` (nvcc's default
///    without `--use_fast_math`; src/merge/CMakeLists.txt sets it explicitly);
///  - on the host they are plain `float` operators, which are single IEEE operations on every
///    target with FLT_EVAL_METHOD == 0 (x86-64 SSE, AArch64) **provided** the compiler does not
///    contract a multiply and an add into an FMA: every target that compiles these headers for
///    the host gets `-ffp-contract=off` (dcp_merge_host's INTERFACE options), and the build
///    refuses -ffast-math below.
///
/// Therefore a computation written only with these operations (and integer bit manipulation)
/// gives the same bits on the host and on the device. tests/unit/merge checks the host half (an
/// FMA-sensitive probe, and the same digest from g++ and clang++); tests/unit/merge.cmake greps
/// the merge kernels' PTX for any fused or flushed fp32 instruction.
///
/// C++17 and host-compilable: included by CUDA translation units.

#include <cfloat>
#include <cstdint>
#include <cstring>

#include "core/host_device.hpp"

#if !defined(__CUDA_ARCH__)
#if defined(__FAST_MATH__)
#error "src/merge must not be compiled with -ffast-math: its fp32 operations must be IEEE"
#endif
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD != 0
#error "src/merge needs FLT_EVAL_METHOD == 0 (each float operation rounded to binary32)"
#endif
#endif

namespace dcp::merge {

/// a + b, rounded to nearest-even fp32.
DCP_HOST_DEVICE DCP_FORCEINLINE float add_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}

/// a - b, rounded to nearest-even fp32.
DCP_HOST_DEVICE DCP_FORCEINLINE float sub_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fsub_rn(a, b);
#else
  return a - b;
#endif
}

/// a * b, rounded to nearest-even fp32 (never fused with a following add).
DCP_HOST_DEVICE DCP_FORCEINLINE float mul_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}

/// a / b, correctly rounded to nearest-even fp32.
DCP_HOST_DEVICE DCP_FORCEINLINE float div_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fdiv_rn(a, b);
#else
  return a / b;
#endif
}

/// The bits of an fp32 value.
DCP_HOST_DEVICE DCP_FORCEINLINE std::uint32_t float_bits(float x) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(x);
#else
  std::uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
#endif
}

/// The fp32 value of `bits`.
DCP_HOST_DEVICE DCP_FORCEINLINE float bits_float(std::uint32_t bits) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(bits);
#else
  float x;
  std::memcpy(&x, &bits, sizeof x);
  return x;
#endif
}

/// +infinity and -infinity, built from bits (no <cmath>, no library call).
DCP_HOST_DEVICE DCP_FORCEINLINE float plus_inf() {
  return bits_float(0x7F800000u);
}
DCP_HOST_DEVICE DCP_FORCEINLINE float minus_inf() {
  return bits_float(0xFF800000u);
}

/// True for NaN (exponent all ones, mantissa non-zero), by bits.
DCP_HOST_DEVICE DCP_FORCEINLINE bool is_nan_bits(float x) {
  return (float_bits(x) & 0x7FFFFFFFu) > 0x7F800000u;
}

}  // namespace dcp::merge
