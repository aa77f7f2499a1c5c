// The reduce input pattern (merge/reduce_pattern.hpp): shares of empty shards and all-empty
// entries within binomial bounds, live shards never NaN/Inf/zero and in range, empty shards
// carrying poison, weights reaching tiny-normal, subnormal and zero values, fresh per call,
// base-2 LSEs the base-e ones times log2(e).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

#include "core/pattern.hpp"
#include "merge/merge_routine.hpp"
#include "merge/reduce_pattern.hpp"

namespace dcp::merge {
namespace {

/// |observed - n p| within 6 standard deviations of a binomial(n, p).
void expect_share(std::uint64_t observed, std::uint64_t n, double p, const char* what) {
  const double mean = static_cast<double>(n) * p;
  const double sd = std::sqrt(static_cast<double>(n) * p * (1 - p));
  EXPECT_NEAR(static_cast<double>(observed), mean, 6 * sd) << what << " over " << n;
}

bool finite16(std::uint16_t h, bool fp16) {
  return fp16 ? (h & 0x7C00u) != 0x7C00u : (h & 0x7F80u) != 0x7F80u;
}

TEST(ReducePattern, SharesOfEmptyShardsAndEntries) {
  const int cp = 8;
  std::uint64_t entries = 0, forced_empty = 0, shards = 0, empty = 0, live = 0, gapped = 0;
  for (std::uint32_t call = 0; call < 3; ++call) {
    for (std::uint32_t dst = 0; dst < 2; ++dst) {
      for (std::uint64_t e = 0; e < 4000; ++e) {
        pattern::Coord c{42, call, 0, dst, e, 0};
        ++entries;
        const bool all_empty = reduce_entry_all_empty(c);
        if (all_empty) ++forced_empty;
        float m = minus_inf();
        for (std::uint32_t s = 0; s < cp; ++s) {
          c.src = s;
          const float l = sanitize_lse(reduce_lse(c, LseBase::kE));
          if (all_empty) {
            EXPECT_EQ(l, minus_inf());
            continue;
          }
          ++shards;
          if (reduce_shard_empty(c)) {
            ++empty;
            EXPECT_EQ(l, minus_inf());
          } else {
            ++live;
            if (l < -20.0f) ++gapped;
          }
          m = max_lse(m, l);
        }
      }
    }
  }
  expect_share(forced_empty, entries, 1.0 / kAllEmptyEntryOneIn, "all-empty entries");
  expect_share(empty, shards, 1.0 / kEmptyShardOneIn, "empty shards");
  expect_share(gapped, live, 1.0 / kGapOneIn, "gapped live shards");
}

TEST(ReducePattern, LiveShardsAreFiniteAndInRangeEmptyOnesArePoison) {
  int kinds[3] = {0, 0, 0};  // -inf, +inf, NaN among empty shards
  for (bool fp16 : {false, true}) {
    for (std::uint64_t e = 0; e < 3000; ++e) {
      for (std::uint32_t s = 0; s < 4; ++s) {
        pattern::Coord c{7, 3, s, 1, e, 0};
        const float l = reduce_lse(c, LseBase::kE);
        const bool empty = reduce_shard_empty(c);
        if (empty) {
          ASSERT_TRUE(std::isnan(l) || std::isinf(l)) << l;
          kinds[std::isnan(l) ? 2 : (l > 0 ? 1 : 0)]++;
        } else {
          ASSERT_TRUE(std::isfinite(l));
          // b + delta in [-10, 26); a gap of [60, 120) below that.
          ASSERT_TRUE((l >= -10.0f && l < 26.0f) || (l >= -130.0f && l < -34.0f)) << l;
        }
        for (std::uint32_t k = 0; k < 64; ++k) {
          c.element = k;
          const std::uint16_t h = reduce_o_bits(c, fp16);
          if (empty) {
            ASSERT_FALSE(finite16(h, fp16)) << std::hex << h;  // NaN or Inf: poisons any sum
          } else {
            ASSERT_TRUE(finite16(h, fp16)) << std::hex << h;
            const float a = std::fabs(half_to_float(h, fp16));
            ASSERT_GE(a, 0x1p-8f);
            ASSERT_LT(a, 4.0f);
          }
        }
      }
    }
  }
  EXPECT_GT(kinds[0], 0);
  EXPECT_GT(kinds[1], 0);
  EXPECT_GT(kinds[2], 0);
}

// The gaps reach every class of weight the merge must get right, in both bases.
TEST(ReducePattern, WeightsReachTinyNormalSubnormalAndZero) {
  for (LseBase base : {LseBase::kE, LseBase::kTwo}) {
    int tiny_normal = 0, subnormal = 0, zero_live = 0;
    const int cp = 8;
    for (std::uint64_t e = 0; e < 20000; ++e) {
      float lse[cp];
      for (std::uint32_t s = 0; s < cp; ++s) {
        lse[s] = reduce_lse(pattern::Coord{11, 0, s, 2, e, 0}, base);
      }
      float scale[kMaxCp];
      merge_weights(lse, 1, cp, base, scale);
      float m = minus_inf();
      for (float l : lse)
        m = max_lse(m, sanitize_lse(l));
      if (m == minus_inf()) continue;
      for (int s = 0; s < cp; ++s) {
        const float l = sanitize_lse(lse[s]);
        if (l == minus_inf()) continue;
        const float w = source_weight(l, m, base);
        if (w == 0.0f) ++zero_live;
        if (w > 0.0f && w < 0x1p-126f) ++subnormal;
        if (w >= 0x1p-126f && w < 0x1p-60f) ++tiny_normal;
      }
    }
    EXPECT_GT(tiny_normal, 100) << static_cast<int>(base);
    EXPECT_GT(subnormal, 100) << static_cast<int>(base);
    EXPECT_GT(zero_live, 100) << static_cast<int>(base);
  }
}

TEST(ReducePattern, FreshEveryCall) {
  int same_o = 0, same_lse = 0, total_o = 0, total_lse = 0;
  for (std::uint64_t e = 0; e < 2000; ++e) {
    for (std::uint32_t s = 0; s < 4; ++s) {
      pattern::Coord a{5, 0, s, 3, e, 0};
      pattern::Coord b = a;
      b.call = 1;
      if (!reduce_shard_empty(a) && !reduce_shard_empty(b)) {
        ++total_lse;
        if (reduce_lse(a, LseBase::kE) == reduce_lse(b, LseBase::kE)) ++same_lse;
        for (std::uint32_t k = 0; k < 16; ++k) {
          a.element = b.element = k;
          ++total_o;
          if (reduce_o_bits(a, false) == reduce_o_bits(b, false)) ++same_o;
        }
      }
    }
  }
  EXPECT_EQ(same_lse, 0) << total_lse;
  EXPECT_LT(same_o, total_o / 200) << "bf16 values equal by chance about 1 in 2560";
}

TEST(ReducePattern, EveryCoordinateMatters) {
  const pattern::Coord base{1, 2, 3, 4, 5, 6};
  auto differs = [&](pattern::Coord c) {
    int n = 0;
    for (std::uint32_t k = 0; k < 32; ++k) {
      pattern::Coord x = base, y = c;
      x.element = y.element = base.element + k;
      if (reduce_o_bits(x, true) != reduce_o_bits(y, true)) ++n;
    }
    return n;
  };
  pattern::Coord c = base;
  c.seed = 9;
  EXPECT_GT(differs(c), 20);
  c = base;
  c.src = 0;
  EXPECT_GT(differs(c), 20);
  c = base;
  c.dst = 0;
  EXPECT_GT(differs(c), 20);
  c = base;
  c.entry = 0;
  EXPECT_GT(differs(c), 20);
}

TEST(ReducePattern, BaseTwoIsBaseETimesLog2e) {
  for (std::uint64_t e = 0; e < 5000; ++e) {
    const pattern::Coord c{3, 1, 2, 0, e, 0};
    const float le = reduce_lse(c, LseBase::kE);
    const float l2 = reduce_lse(c, LseBase::kTwo);
    if (std::isfinite(le)) {
      ASSERT_EQ(l2, mul_rn(le, detail::kLog2e));
    } else {
      ASSERT_EQ(sanitize_lse(l2), minus_inf());
    }
  }
}

}  // namespace
}  // namespace dcp::merge
