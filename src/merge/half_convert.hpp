#pragma once
/// @file
/// bf16 / fp16 <-> fp32 conversions by integer bit manipulation, identical on host and device.
///
///  - to fp32: exact for every pattern (fp16 subnormals normalised; Inf kept; NaN kept with its
///    sign and payload).
///  - from fp32: round to nearest, ties to even, with subnormal results, overflow to Inf (at and
///    above the halfway point between the largest finite value and the next power of two), and
///    NaN to a quiet NaN of the same sign that keeps the payload's top bits (the quiet bit set).
///
/// Round trip: for every 16-bit pattern that is not NaN, from_float(to_float(h)) == h; a NaN
/// comes back as h with its quiet bit set (tests/unit/merge/half_convert_test.cpp, exhaustive).
///
/// C++17 and host-compilable: included by CUDA translation units.

#include <cstdint>

#include "merge/rounded_ops.hpp"

namespace dcp::merge {

/// fp32 value of a bf16 pattern (exact).
DCP_HOST_DEVICE DCP_FORCEINLINE float bf16_to_float(std::uint16_t h) {
  return bits_float(static_cast<std::uint32_t>(h) << 16);
}

/// fp32 value of an fp16 pattern (exact).
DCP_HOST_DEVICE DCP_FORCEINLINE float fp16_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exponent = (h >> 10) & 0x1Fu;
  std::uint32_t mantissa = h & 0x3FFu;
  if (exponent == 0x1Fu) return bits_float(sign | 0x7F800000u | (mantissa << 13));  // Inf, NaN
  if (exponent != 0) return bits_float(sign | ((exponent + 112u) << 23) | (mantissa << 13));
  if (mantissa == 0) return bits_float(sign);  // +-0
  // Subnormal: mantissa * 2^-24. Shift the leading 1 up to bit 10; each shift lowers the
  // exponent from that of 2^-14.
  std::uint32_t biased = 113u;  // biased exponent of 2^-14, plus one for the first shift
  while ((mantissa & 0x400u) == 0) {
    mantissa <<= 1;
    --biased;
  }
  return bits_float(sign | (biased << 23) | ((mantissa & 0x3FFu) << 13));
}

/// bf16 pattern nearest to x (ties to even).
DCP_HOST_DEVICE DCP_FORCEINLINE std::uint16_t float_to_bf16(float x) {
  const std::uint32_t u = float_bits(x);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<std::uint16_t>((u >> 16) | 0x0040u);
  // Adding 0x7FFF plus the lowest kept bit rounds to nearest-even; a carry out of the mantissa
  // bumps the exponent (up to Inf past the largest finite value), which is the right result.
  const std::uint32_t rounded = u + 0x7FFFu + ((u >> 16) & 1u);
  return static_cast<std::uint16_t>(rounded >> 16);
}

/// fp16 pattern nearest to x (ties to even).
DCP_HOST_DEVICE DCP_FORCEINLINE std::uint16_t float_to_fp16(float x) {
  const std::uint32_t u = float_bits(x);
  const auto sign = static_cast<std::uint16_t>((u >> 16) & 0x8000u);
  const std::uint32_t a = u & 0x7FFFFFFFu;
  if (a > 0x7F800000u) {  // NaN: quiet, top 10 payload bits kept
    return static_cast<std::uint16_t>(sign | 0x7E00u | ((a >> 13) & 0x3FFu));
  }
  // 65520 = 0x477FF000 is halfway between 65504 (the largest fp16) and 65536: it and everything
  // above (Inf included) rounds to Inf.
  if (a >= 0x477FF000u) return static_cast<std::uint16_t>(sign | 0x7C00u);
  if (a >= 0x38800000u) {  // >= 2^-14: a normal fp16. Rebias the exponent, round off 13 bits.
    const std::uint32_t r = a - 0x38000000u;
    return static_cast<std::uint16_t>(sign | ((r + 0xFFFu + ((r >> 13) & 1u)) >> 13));
  }
  // Below 2^-14: an fp16 subnormal q * 2^-24 (q = 1024 is the smallest normal, encoded the same).
  // Up to 2^-25 (the tie between 0 and 2^-24, even = 0) the result is zero; fp32 subnormals too.
  if (a <= 0x33000000u) return sign;
  const std::uint32_t mantissa = (a & 0x7FFFFFu) | 0x800000u;  // x = mantissa * 2^(e - 150)
  const std::uint32_t shift = 126u - (a >> 23);                // 14..24 here
  std::uint32_t q = mantissa >> shift;
  const std::uint32_t rest = mantissa & ((1u << shift) - 1u);
  const std::uint32_t half = 1u << (shift - 1u);
  if (rest > half || (rest == half && (q & 1u) != 0)) ++q;
  return static_cast<std::uint16_t>(sign | q);
}

/// fp32 value of a 16-bit element of the given type.
DCP_HOST_DEVICE DCP_FORCEINLINE float half_to_float(std::uint16_t h, bool fp16) {
  return fp16 ? fp16_to_float(h) : bf16_to_float(h);
}

/// The 16-bit element of the given type nearest to x.
DCP_HOST_DEVICE DCP_FORCEINLINE std::uint16_t float_to_half(float x, bool fp16) {
  return fp16 ? float_to_fp16(x) : float_to_bf16(x);
}

}  // namespace dcp::merge
