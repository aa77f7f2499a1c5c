#pragma once
/// @file
/// Units of the merge's error against fp64 (the definitions behind Accuracy's ulp fields),
/// computed in double with bit manipulation only, identical on host and device.
///
/// ulp_at(x, p, emin) = 2^(max(floor(log2 |x|), emin) - p) for a format with p stored mantissa
/// bits and smallest normal exponent emin: the spacing of the format's values at |x|; below the
/// smallest normal (and at 0) it is the subnormal spacing 2^(emin - p). For the formats here:
///   bf16: p = 7,  emin = -126 (subnormal spacing 2^-133)
///   fp16: p = 10, emin = -14  (subnormal spacing 2^-24)
///   fp32: p = 23, emin = -126 (subnormal spacing 2^-149)
/// The error of a value is |got - exact| / ulp_at(exact); an LSE's error uses
/// ulp_at(max(|exact|, 1)) (absolute below 1: see accuracy.hpp). Equal values (both -inf
/// included) have error 0; a NaN, or an infinity where the other is not the same infinity, has
/// error +inf.
///
/// C++17 and host-compilable: included by CUDA translation units.

#include <cstdint>
#include <cstring>

#include "core/host_device.hpp"
#include "merge/half_convert.hpp"

namespace dcp::merge {

namespace detail {

DCP_HOST_DEVICE DCP_FORCEINLINE std::uint64_t double_bits(double x) {
#if defined(__CUDA_ARCH__)
  return static_cast<std::uint64_t>(__double_as_longlong(x));
#else
  std::uint64_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
#endif
}

DCP_HOST_DEVICE DCP_FORCEINLINE double bits_double(std::uint64_t u) {
#if defined(__CUDA_ARCH__)
  return __longlong_as_double(static_cast<long long>(u));
#else
  double x;
  std::memcpy(&x, &u, sizeof x);
  return x;
#endif
}

/// 2^k for k in [-1022, 1023].
DCP_HOST_DEVICE DCP_FORCEINLINE double pow2_double(int k) {
  return bits_double(static_cast<std::uint64_t>(k + 1023) << 52);
}

DCP_HOST_DEVICE DCP_FORCEINLINE bool is_nan_double(double x) {
  return (double_bits(x) & 0x7FFFFFFFFFFFFFFFull) > 0x7FF0000000000000ull;
}

DCP_HOST_DEVICE DCP_FORCEINLINE bool is_inf_double(double x) {
  return (double_bits(x) & 0x7FFFFFFFFFFFFFFFull) == 0x7FF0000000000000ull;
}

DCP_HOST_DEVICE DCP_FORCEINLINE double inf_double() {
  return bits_double(0x7FF0000000000000ull);
}

}  // namespace detail

/// Stored mantissa bits and smallest normal exponent of a format.
struct FloatFormat {
  int mantissa_bits;
  int min_exponent;
};
inline constexpr FloatFormat kBf16Format{7, -126};
inline constexpr FloatFormat kFp16Format{10, -14};
inline constexpr FloatFormat kFp32Format{23, -126};

/// The format of a 16-bit output element (a value, usable in device code).
DCP_HOST_DEVICE DCP_FORCEINLINE FloatFormat half_format(bool fp16) {
  return fp16 ? FloatFormat{10, -14} : FloatFormat{7, -126};
}

/// The spacing of `format`'s values at |x| (see the file comment); x finite.
DCP_HOST_DEVICE DCP_FORCEINLINE double ulp_at(double x, FloatFormat format) {
  // floor(log2 |x|) from the exponent bits; 0 and double subnormals fall below every emin here.
  const int exponent = static_cast<int>((detail::double_bits(x) >> 52) & 0x7FF) - 1023;
  const int e = exponent > format.min_exponent ? exponent : format.min_exponent;
  return detail::pow2_double(e - format.mantissa_bits);
}

/// |got - exact| / ulp_at(exact), with the conventions of the file comment.
DCP_HOST_DEVICE DCP_FORCEINLINE double error_in_ulps(double got, double exact, double unit) {
  if (got == exact) return 0.0;
  if (detail::is_nan_double(got) || detail::is_nan_double(exact) || detail::is_inf_double(got) ||
      detail::is_inf_double(exact)) {
    return detail::inf_double();
  }
  const double diff = got > exact ? got - exact : exact - got;
  return diff / unit;
}

/// Error of an output element (bf16 or fp16 pattern) in output-type ulps at the exact value.
DCP_HOST_DEVICE DCP_FORCEINLINE double element_error_ulps(std::uint16_t got, double exact,
                                                          bool fp16) {
  const double g = static_cast<double>(half_to_float(got, fp16));
  if (detail::is_inf_double(exact) || detail::is_nan_double(exact)) {
    return error_in_ulps(g, exact, 1.0);
  }
  return error_in_ulps(g, exact, ulp_at(exact, half_format(fp16)));
}

/// Error of an output element in output-type ulps at `magnitude` (>= |exact|: the magnitude of
/// the merged terms, Accuracy::cond_ulp_max), with the conventions of the file comment.
DCP_HOST_DEVICE DCP_FORCEINLINE double element_error_ulps_at(std::uint16_t got, double exact,
                                                             double magnitude, bool fp16) {
  const double g = static_cast<double>(half_to_float(got, fp16));
  if (detail::is_inf_double(exact) || detail::is_nan_double(exact) ||
      detail::is_inf_double(magnitude) || detail::is_nan_double(magnitude)) {
    return error_in_ulps(g, exact, 1.0);
  }
  return error_in_ulps(g, exact, ulp_at(magnitude, half_format(fp16)));
}

/// Error of an lse_out value in fp32 ulps at max(|exact|, 1).
DCP_HOST_DEVICE DCP_FORCEINLINE double lse_error_ulps(float got, double exact) {
  const double g = static_cast<double>(got);
  if (detail::is_inf_double(exact) || detail::is_nan_double(exact)) {
    return error_in_ulps(g, exact, 1.0);
  }
  const double magnitude = exact < 0 ? -exact : exact;
  return error_in_ulps(g, exact, ulp_at(magnitude > 1.0 ? magnitude : 1.0, FloatFormat{23, -126}));
}

}  // namespace dcp::merge
