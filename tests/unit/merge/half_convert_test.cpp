// bf16/fp16 <-> fp32 conversions: exhaustive round trip over all 65,536 patterns of each type,
// and float -> 16 bits against an independent nearest-value search over the type's sorted
// values (ties to even, overflow to Inf, subnormals, zeros, NaN).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "merge/half_convert.hpp"

namespace dcp::merge {
namespace {

bool is_nan16(std::uint16_t h, bool fp16) {
  return fp16 ? (h & 0x7C00u) == 0x7C00u && (h & 0x3FFu) != 0
              : (h & 0x7F80u) == 0x7F80u && (h & 0x7Fu) != 0;
}

/// The value of a 16-bit pattern computed with ldexp (independent of the code under test).
double value16(std::uint16_t h, bool fp16) {
  const int mbits = fp16 ? 10 : 7;
  const int ebits = fp16 ? 5 : 8;
  const int bias = (1 << (ebits - 1)) - 1;
  const int e = (h >> mbits) & ((1 << ebits) - 1);
  const int m = h & ((1 << mbits) - 1);
  const double sign = (h & 0x8000u) ? -1.0 : 1.0;
  if (e == (1 << ebits) - 1) {
    return m ? std::numeric_limits<double>::quiet_NaN()
             : sign * std::numeric_limits<double>::infinity();
  }
  if (e == 0) return sign * std::ldexp(static_cast<double>(m), 1 - bias - mbits);
  return sign * std::ldexp(static_cast<double>(m + (1 << mbits)), e - bias - mbits);
}

TEST(HalfConvert, ToFloatIsExactForEveryPattern) {
  for (bool fp16 : {false, true}) {
    for (std::uint32_t i = 0; i < 65536; ++i) {
      const auto h = static_cast<std::uint16_t>(i);
      const float f = half_to_float(h, fp16);
      if (is_nan16(h, fp16)) {
        ASSERT_TRUE(std::isnan(f)) << std::hex << i;
        ASSERT_EQ(std::signbit(f), (h & 0x8000u) != 0) << std::hex << i;
      } else {
        ASSERT_EQ(static_cast<double>(f), value16(h, fp16)) << std::hex << i << " fp16 " << fp16;
        ASSERT_EQ(std::signbit(f), (h & 0x8000u) != 0) << std::hex << i;
      }
    }
  }
}

TEST(HalfConvert, RoundTripOfEveryPattern) {
  for (bool fp16 : {false, true}) {
    const std::uint16_t quiet = fp16 ? 0x0200u : 0x0040u;
    for (std::uint32_t i = 0; i < 65536; ++i) {
      const auto h = static_cast<std::uint16_t>(i);
      const std::uint16_t back = float_to_half(half_to_float(h, fp16), fp16);
      if (is_nan16(h, fp16)) {
        ASSERT_EQ(back, h | quiet) << std::hex << i << " fp16 " << fp16;
      } else {
        ASSERT_EQ(back, h) << std::hex << i << " fp16 " << fp16;
      }
    }
  }
}

/// Independent rounding: the nearest of the type's non-negative finite values (sorted by
/// pattern), ties to the even pattern, Inf from halfway above the largest finite value.
class NearestSearch {
 public:
  explicit NearestSearch(bool fp16) : fp16_(fp16) {
    const std::uint16_t inf = fp16 ? 0x7C00u : 0x7F80u;
    for (std::uint32_t h = 0; h < inf; ++h)
      values_.push_back(value16(static_cast<std::uint16_t>(h), fp16));
    const double max = values_.back();
    const double ulp = max - values_[values_.size() - 2];
    overflow_ = max + ulp / 2;  // halfway to the next power of two
  }

  std::uint16_t round(float x) const {
    if (std::isnan(x)) return 0;  // not used for NaN
    const std::uint16_t sign = std::signbit(x) ? 0x8000u : 0u;
    const double a = std::fabs(static_cast<double>(x));
    if (a >= overflow_) return static_cast<std::uint16_t>(sign | (fp16_ ? 0x7C00u : 0x7F80u));
    const auto it = std::lower_bound(values_.begin(), values_.end(), a);
    auto hi = static_cast<std::uint32_t>(it - values_.begin());
    if (hi == values_.size()) hi = static_cast<std::uint32_t>(values_.size() - 1);
    if (values_[hi] == a || hi == 0) return static_cast<std::uint16_t>(sign | hi);
    const std::uint32_t lo = hi - 1;
    const double dlo = a - values_[lo], dhi = values_[hi] - a;
    std::uint32_t pick = dlo < dhi ? lo : (dhi < dlo ? hi : ((lo & 1u) == 0 ? lo : hi));
    return static_cast<std::uint16_t>(sign | pick);
  }

 private:
  bool fp16_;
  std::vector<double> values_;
  double overflow_;
};

TEST(HalfConvert, FromFloatRoundsToNearestEven) {
  for (bool fp16 : {false, true}) {
    const NearestSearch nearest(fp16);
    auto check = [&](float x) {
      ASSERT_EQ(float_to_half(x, fp16), nearest.round(x)) << std::hexfloat << x << " fp16 " << fp16;
    };
    // Every value and every midpoint (a tie) between neighbours, and a quarter either side.
    for (std::uint32_t i = 0; i + 1 < 65536; ++i) {
      const double a = value16(static_cast<std::uint16_t>(i), fp16);
      const double b = value16(static_cast<std::uint16_t>(i + 1), fp16);
      if (std::isnan(a) || std::isnan(b) || std::isinf(a) || std::isinf(b)) continue;
      if ((i & 0x8000u) != ((i + 1) & 0x8000u)) continue;
      for (double t : {0.0, 0.25, 0.5, 0.75}) {
        const double v = a + (b - a) * t;
        const auto x = static_cast<float>(v);
        if (static_cast<double>(x) == v) check(x);  // only points representable in fp32
      }
    }
    // Random floats over the whole line (every exponent), and the extremes.
    std::mt19937 rng(1234);
    for (int i = 0; i < 2'000'000; ++i) {
      const auto u = static_cast<std::uint32_t>(rng());
      if ((u & 0x7FFFFFFFu) > 0x7F800000u) continue;
      float x;
      std::memcpy(&x, &u, sizeof x);
      check(x);
    }
    for (float x : {0.0f, -0.0f, INFINITY, -INFINITY, 65504.0f, 65519.99f, 65520.0f, 65536.0f,
                    0x1p-24f, 0x1p-25f, 0x1.000002p-25f, 0x1.8p-24f, 0x1p-14f, 0x1.ffcp-15f,
                    0x1p-133f, 0x1p-134f, 0x1.000002p-134f, 0x1p-149f, 3.4e38f}) {
      check(x);
    }
  }
}

TEST(HalfConvert, NanFromFloatIsAQuietNanOfTheSameSign) {
  for (std::uint32_t u : {0x7FC00000u, 0xFFC00000u, 0x7F800001u, 0xFF800001u, 0x7FFFFFFFu}) {
    float x;
    std::memcpy(&x, &u, sizeof x);
    const std::uint16_t b = float_to_bf16(x);
    const std::uint16_t h = float_to_fp16(x);
    EXPECT_TRUE(is_nan16(b, false)) << std::hex << u;
    EXPECT_TRUE(is_nan16(h, true)) << std::hex << u;
    EXPECT_EQ((b & 0x8000u) != 0, (u >> 31) != 0);
    EXPECT_EQ((h & 0x8000u) != 0, (u >> 31) != 0);
    EXPECT_NE(b & 0x0040u, 0u);
    EXPECT_NE(h & 0x0200u, 0u);
  }
}

}  // namespace
}  // namespace dcp::merge
