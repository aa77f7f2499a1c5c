#pragma once
/// @file
/// exp and log for the merge, built only from the rounded operations of rounded_ops.hpp and
/// integer bit manipulation: no libm, no intrinsic, no lookup table. They therefore give the
/// same bits on the host and on the device (see rounded_ops.hpp for the conditions).
///
/// Domains are those the merge needs, not the whole float line:
///  - exp2_rn(x), exp_rn(x) for x <= 0 (a weight exp_b(l_s - m) with m the maximum), results in
///    [0, 1] including subnormal results; x = 0 gives exactly 1; below the subnormal range the
///    result is +0; -inf and NaN give +0.
///  - log2_rn(w), ln_rn(w) for positive normal finite w (the merge uses w = sum of weights in
///    [1, 64]); log of exactly 1 is exactly +0.
///
/// Method. exp: Cody-Waite reduction x = n ln(2) + r (base 2: x = n + f) with n an integer
/// obtained by the round-to-nearest "magic number" addition, |r| <= ln(2)/2 (+ a rounding);
/// e^r (2^f) by its degree-8 Taylor polynomial in Horner form; then scaling by 2^n through the
/// exponent bits, in two steps below 2^-126 so that a subnormal result is rounded once, as IEEE
/// multiplication does (no flush to zero). log: w = 2^e m with m in [sqrt(1/2), sqrt(2)],
/// ln(m) = 2 atanh(s), s = (m - 1)/(m + 1), by the odd series in s up to s^11 arranged so that
/// the exact m - 1 is the leading term; then
/// ln(w) = e ln(2) + ln(m) (ln(2) split hi + lo), log2(w) = e + ln(m) log2(e).
///
/// Accuracy, in fp32 ulps of the exact value (the ulp of a subnormal value is 2^-149), asserted
/// by tests/unit/merge/merge_math_test.cpp against long double:
///  - exp2_rn, exp_rn: <= kExpUlpBound = 1.25 over x <= 0. Measured maxima 1.06 (exp2) and
///    1.16 (exp) over 4M evenly spaced points of [-160, 0], strided binades and 1M random
///    floats (2 x 10^8 random floats offline gave the same maxima). An a-priori budget agrees:
///    the final add 1 + r q rounds (0.5 ulp), q's own Horner error reaches it scaled by |r| <= 0.35
///    (about 0.4 ulp), the product r q rounds (about 0.25 ulp), the truncation is below 0.01 ulp,
///    and the scaling by 2^n is exact for normal results and one rounding for subnormal ones.
///  - log2_rn, ln_rn: <= kLogUlpBound = 1.5 on [1, 64], tested exhaustively (every float of
///    [1, 64] in optimised builds): maxima 1.26 (log2) and 0.89 (ln); and over 1M random positive
///    normal floats.
///
/// C++17 and host-compilable: included by CUDA translation units.

#include <cstdint>

#include "merge/rounded_ops.hpp"

namespace dcp::merge {

/// Bound of exp2_rn / exp_rn in fp32 ulps of the exact result (see the file comment).
inline constexpr double kExpUlpBound = 1.25;
/// Bound of log2_rn / ln_rn in fp32 ulps of the exact result (see the file comment).
inline constexpr double kLogUlpBound = 1.5;

namespace detail {

/// 1.5 * 2^23: adding and subtracting it rounds |x| < 2^22 to the nearest integer (ties even).
inline constexpr float kRoundMagic = 0x1.8p+23f;
inline constexpr float kLog2e = 0x1.715476p+0f;     ///< log2(e) rounded to fp32
inline constexpr float kLog2eHi = 0x1.714000p+0f;   ///< log2(e) to 12 bits
inline constexpr float kLog2eLo = 0x1.47652cp-12f;  ///< log2(e) - kLog2eHi rounded to fp32
inline constexpr float kLn2Hi = 0x1.62e400p-1f;     ///< ln(2) to 15 bits: n * kLn2Hi is exact
inline constexpr float kLn2Lo = 0x1.7f7d1cp-20f;    ///< ln(2) - kLn2Hi rounded to fp32
inline constexpr float kSqrt2 = 0x1.6a09e6p+0f;     ///< sqrt(2) rounded to fp32

/// 2^k as an fp32 for k in [-126, 127] (a normal number), from its exponent bits.
DCP_HOST_DEVICE DCP_FORCEINLINE float pow2_normal(int k) {
  return bits_float(static_cast<std::uint32_t>(k + 127) << 23);
}

/// p * 2^n for p in [0.5, 2] and n in [-152, 0], rounded once (subnormal results included).
DCP_HOST_DEVICE DCP_FORCEINLINE float scale_pow2(float p, int n) {
  if (n >= -126) return mul_rn(p, pow2_normal(n));
  // p * 2^(n + 126) is normal, hence exact; the second multiplication rounds once.
  return mul_rn(mul_rn(p, pow2_normal(n + 126)), pow2_normal(-126));
}

/// Nearest integer of x (ties to even) for |x| < 2^22, as a float holding an integer.
DCP_HOST_DEVICE DCP_FORCEINLINE float round_to_integer(float x) {
  return sub_rn(add_rn(x, kRoundMagic), kRoundMagic);
}

/// ln(m) for m in [sqrt(1/2), sqrt(2)] as f - c, with f = m - 1 (exact) and the correction c.
/// With s = f / (2 + f): ln(m) = 2 atanh(s) = 2s + s R(s^2), R(z) = 2z/3 + 2z^2/5 + ..., and
/// 2s = f - s f, so ln(m) = f - s (f - R): the leading term f carries no rounding error and the
/// roundings of s only reach c = s (f - R), about f^2 / 2.
DCP_HOST_DEVICE DCP_FORCEINLINE float ln_reduced_correction(float f) {
  const float s = div_rn(f, add_rn(2.0f, f));
  const float z = mul_rn(s, s);
  float r = 0x1.745d18p-3f;                  // 2/11
  r = add_rn(0x1.c71c72p-3f, mul_rn(z, r));  // 2/9
  r = add_rn(0x1.24924ap-2f, mul_rn(z, r));  // 2/7
  r = add_rn(0x1.99999ap-2f, mul_rn(z, r));  // 2/5
  r = add_rn(0x1.555556p-1f, mul_rn(z, r));  // 2/3
  r = mul_rn(z, r);
  return mul_rn(s, sub_rn(f, r));
}

/// Splits a positive normal w into 2^e * m with m in [sqrt(1/2), sqrt(2)].
DCP_HOST_DEVICE DCP_FORCEINLINE float split_log(float w, int& e) {
  const std::uint32_t u = float_bits(w);
  e = static_cast<int>(u >> 23) - 127;
  float m = bits_float((u & 0x007FFFFFu) | 0x3F800000u);
  if (m > kSqrt2) {
    m = mul_rn(m, 0.5f);
    e += 1;
  }
  return m;
}

}  // namespace detail

/// 2^x for x <= 0 (see the file comment for the domain and the bound).
DCP_HOST_DEVICE DCP_FORCEINLINE float exp2_rn(float x) {
  // 2^x <= 2^-150 rounds to +0 (2^-150 is the tie between 0 and 2^-149: even = 0); the negated
  // comparison also sends NaN to +0.
  if (!(x > -150.0f)) return 0.0f;
  const float nf = detail::round_to_integer(x);
  const float f = sub_rn(x, nf);  // exact, |f| <= 0.5
  // 2^f = sum (f ln2)^k / k!, Horner from degree 8.
  float p = 0x1.62c022p-20f;
  p = add_rn(0x1.ffcbfcp-17f, mul_rn(f, p));
  p = add_rn(0x1.430912p-13f, mul_rn(f, p));
  p = add_rn(0x1.5d87fep-10f, mul_rn(f, p));
  p = add_rn(0x1.3b2ab6p-7f, mul_rn(f, p));
  p = add_rn(0x1.c6b08ep-5f, mul_rn(f, p));
  p = add_rn(0x1.ebfbe0p-3f, mul_rn(f, p));
  p = add_rn(0x1.62e430p-1f, mul_rn(f, p));
  p = add_rn(1.0f, mul_rn(f, p));
  return detail::scale_pow2(p, static_cast<int>(nf));
}

/// e^x for x <= 0 (see the file comment for the domain and the bound).
DCP_HOST_DEVICE DCP_FORCEINLINE float exp_rn(float x) {
  // e^x < 2^-150 below -104 (e^-104 = 2^-150.04): rounds to +0. NaN goes to +0 too.
  if (!(x > -104.0f)) return 0.0f;
  const float nf = detail::round_to_integer(mul_rn(x, detail::kLog2e));
  // r = x - n ln2 in two steps: n * kLn2Hi is exact and so is its difference with x (Sterbenz).
  const float r = sub_rn(sub_rn(x, mul_rn(nf, detail::kLn2Hi)), mul_rn(nf, detail::kLn2Lo));
  // e^r = sum r^k / k!, Horner from degree 8.
  float p = 0x1.a01a02p-16f;
  p = add_rn(0x1.a01a02p-13f, mul_rn(r, p));
  p = add_rn(0x1.6c16c2p-10f, mul_rn(r, p));
  p = add_rn(0x1.111112p-7f, mul_rn(r, p));
  p = add_rn(0x1.555556p-5f, mul_rn(r, p));
  p = add_rn(0x1.555556p-3f, mul_rn(r, p));
  p = add_rn(0.5f, mul_rn(r, p));
  p = add_rn(1.0f, mul_rn(r, p));
  p = add_rn(1.0f, mul_rn(r, p));
  return detail::scale_pow2(p, static_cast<int>(nf));
}

/// log2(w) for positive normal finite w (see the file comment for the bound).
DCP_HOST_DEVICE DCP_FORCEINLINE float log2_rn(float w) {
  int e = 0;
  const float f = sub_rn(detail::split_log(w, e), 1.0f);
  const float c = detail::ln_reduced_correction(f);
  // log2(m) = (f - c) log2(e) with f = hi + lo, hi = f's top 12 significant bits and
  // log2(e) = kLog2eHi + kLog2eLo, kLog2eHi of 12 bits: hi * kLog2eHi is exact, and only the
  // small terms carry roundings.
  const float hi = bits_float(float_bits(f) & 0xFFFFF000u);
  const float lo = sub_rn(sub_rn(f, hi), c);  // f - hi is exact
  const float small = add_rn(mul_rn(lo, detail::kLog2e), mul_rn(hi, detail::kLog2eLo));
  const float t = add_rn(mul_rn(hi, detail::kLog2eHi), small);
  if (e == 0) return t;
  return add_rn(static_cast<float>(e), t);
}

/// ln(w) for positive normal finite w (see the file comment for the bound).
DCP_HOST_DEVICE DCP_FORCEINLINE float ln_rn(float w) {
  int e = 0;
  const float f = sub_rn(detail::split_log(w, e), 1.0f);
  const float lm = sub_rn(f, detail::ln_reduced_correction(f));
  if (e == 0) return lm;
  const float ef = static_cast<float>(e);
  return add_rn(mul_rn(ef, detail::kLn2Hi), add_rn(lm, mul_rn(ef, detail::kLn2Lo)));
}

}  // namespace dcp::merge
