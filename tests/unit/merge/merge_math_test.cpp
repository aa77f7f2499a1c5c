// The merge's own arithmetic: the rounded operations are single IEEE operations (no FMA
// contraction), and exp2/exp/log2/ln stay within their stated ulp bounds against long double
// over dense sweeps, exhaustively for the logs on the merge's domain [1, 64], and at the edges.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>

#include "merge/exp_log.hpp"
#include "merge/rounded_ops.hpp"
#include "merge/ulp.hpp"

namespace dcp::merge {
namespace {

// Values the optimiser cannot see through, so the probes below test the compiled operations.
volatile float g_tiny = 0x1p-149f;  // smallest subnormal
volatile float g_half = 0.5f;

/// |got - exact| in fp32 ulps at the exact value (subnormal spacing 2^-149 below 2^-126).
double err_ulps(float got, long double exact) {
  return error_in_ulps(static_cast<double>(got), static_cast<double>(exact),
                       ulp_at(static_cast<double>(exact), kFp32Format));
}

TEST(RoundedOps, MultiplyAndAddAreNotFused) {
  // (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24 needs 25 bits; its 2^-24 is a tie that rounds to even
  // (dropped). Multiply, then add -(1 + 2^-11): 0. A fused multiply-add would give 2^-24. The
  // operands come through a volatile, so the compiled operations are what is tested (this can
  // fail only where the target has FMA instructions and contraction is on).
  const float a = 0x1.001p+0f * (g_half * 2.0f);
  const float c = -0x1.002p+0f * (g_half * 2.0f);
  EXPECT_EQ(add_rn(mul_rn(a, a), c), 0.0f) << "the multiply and the add were fused into an FMA";
}

TEST(RoundedOps, SubnormalsAreKept) {
  // Flush-to-zero (e.g. -ffast-math's crtfastmath or DAZ/FTZ) would break the weights.
  EXPECT_EQ(float_bits(mul_rn(g_tiny, 1.0f)), 1u);
  EXPECT_EQ(float_bits(add_rn(g_tiny, g_tiny)), 2u);
  EXPECT_EQ(float_bits(div_rn(0x1p-126f, 4.0f)), 0x00200000u);
}

TEST(ExpLog, ExactPoints) {
  EXPECT_EQ(float_bits(exp2_rn(0.0f)), float_bits(1.0f));
  EXPECT_EQ(float_bits(exp2_rn(-0.0f)), float_bits(1.0f));
  EXPECT_EQ(float_bits(exp_rn(0.0f)), float_bits(1.0f));
  EXPECT_EQ(float_bits(exp_rn(-0.0f)), float_bits(1.0f));
  for (int k = 1; k <= 149; ++k) {  // powers of two down to the smallest subnormal
    EXPECT_EQ(exp2_rn(static_cast<float>(-k)), std::ldexp(1.0f, -k)) << k;
  }
  EXPECT_EQ(float_bits(exp2_rn(-150.0f)), 0u);  // 2^-150 is the tie between 0 and 2^-149
  EXPECT_EQ(float_bits(exp2_rn(-149.5f)), 1u);  // 2^-149.5 rounds up to 2^-149
  EXPECT_EQ(float_bits(exp2_rn(-1000.0f)), 0u);
  EXPECT_EQ(float_bits(exp_rn(-104.0f)), 0u);
  EXPECT_EQ(float_bits(exp2_rn(-INFINITY)), 0u);
  EXPECT_EQ(float_bits(exp_rn(-INFINITY)), 0u);
  EXPECT_EQ(float_bits(exp2_rn(NAN)), 0u);
  EXPECT_EQ(float_bits(exp_rn(NAN)), 0u);
  EXPECT_EQ(float_bits(log2_rn(1.0f)), 0u);
  EXPECT_EQ(float_bits(ln_rn(1.0f)), 0u);
  for (int k = 1; k <= 6; ++k) {
    EXPECT_EQ(log2_rn(std::ldexp(1.0f, k)), static_cast<float>(k)) << k;
  }
}

// Dense sweep of exp2 and exp over [-160, 0]: 4M evenly spaced points, every float of the
// binades [-1, -2^-8] at a stride, and 1M random negative floats with uniformly random bits
// (log-uniform magnitudes, subnormal results included).
TEST(ExpLog, ExpWithinBound) {
  double worst2 = 0, worste = 0;
  float at2 = 0, ate = 0;
  auto check = [&](float x) {
    const double e2 = err_ulps(exp2_rn(x), exp2l(static_cast<long double>(x)));
    const double ee = err_ulps(exp_rn(x), expl(static_cast<long double>(x)));
    if (e2 > worst2) worst2 = e2, at2 = x;
    if (ee > worste) worste = ee, ate = x;
  };
  const int n = 4'000'000;
  for (int i = 0; i <= n; ++i)
    check(-160.0f * static_cast<float>(i) / n);
  for (std::uint32_t b = float_bits(-0x1p-8f); b <= float_bits(-1.0f); b += 37)
    check(bits_float(b));
  std::mt19937_64 rng(20261201);
  for (int i = 0; i < 1'000'000; ++i) {
    check(bits_float(0x80000000u | static_cast<std::uint32_t>(rng() % 0x43200000u)));
  }
  EXPECT_LE(worst2, kExpUlpBound) << "exp2 at " << at2;
  EXPECT_LE(worste, kExpUlpBound) << "exp at " << ate;
  std::printf("exp2 max %.4f ulp at %a; exp max %.4f ulp at %a\n", worst2, static_cast<double>(at2),
              worste, static_cast<double>(ate));
}

// Every float in [1, 64] (the merge's W for cp <= 64); a stride in unoptimised builds.
TEST(ExpLog, LogWithinBoundOnOneToSixtyFour) {
#if defined(NDEBUG)
  const std::uint32_t stride = 1;
#else
  const std::uint32_t stride = 17;
#endif
  double worst2 = 0, worste = 0;
  float at2 = 0, ate = 0;
  for (std::uint32_t b = float_bits(1.0f); b <= float_bits(64.0f); b += stride) {
    const float w = bits_float(b);
    const double e2 = err_ulps(log2_rn(w), log2l(static_cast<long double>(w)));
    const double ee = err_ulps(ln_rn(w), logl(static_cast<long double>(w)));
    if (e2 > worst2) worst2 = e2, at2 = w;
    if (ee > worste) worste = ee, ate = w;
  }
  EXPECT_LE(worst2, kLogUlpBound) << "log2 at " << at2;
  EXPECT_LE(worste, kLogUlpBound) << "ln at " << ate;
  std::printf("log2 max %.4f ulp at %a; ln max %.4f ulp at %a (stride %u)\n", worst2,
              static_cast<double>(at2), worste, static_cast<double>(ate), stride);
}

// Outside the merge's [1, 64], the logs still hold over the positive normal floats (sampled).
TEST(ExpLog, LogWithinBoundOverNormalFloats) {
  std::mt19937_64 rng(7);
  double worst = 0;
  for (int i = 0; i < 1'000'000; ++i) {
    const float w = bits_float(0x00800000u + static_cast<std::uint32_t>(rng() % 0x7F000000u));
    worst = std::max(worst, err_ulps(log2_rn(w), log2l(static_cast<long double>(w))));
    worst = std::max(worst, err_ulps(ln_rn(w), logl(static_cast<long double>(w))));
  }
  EXPECT_LE(worst, kLogUlpBound);
}

}  // namespace
}  // namespace dcp::merge
