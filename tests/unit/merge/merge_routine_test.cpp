// The merge routine (merge/merge_routine.hpp) on edge cases and random inputs: empty shards
// (-inf/NaN/+inf LSE with garbage payload), all shards empty, one live shard, cp = 1, huge LSE
// gaps, subnormal weights, payload of zero-weight sources never read, both LSE bases, bf16 and
// fp16, cp up to 64, LSE strides, and the error against fp64 within the stated bounds.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <vector>

#include "merge/exact_merge.hpp"
#include "merge/merge_routine.hpp"
#include "merge/reference.hpp"
#include "merge/ulp.hpp"

namespace dcp::merge {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
const float kNan = std::numeric_limits<float>::quiet_NaN();

/// One entry's inputs: cp rows of D elements and cp LSEs.
struct Entry {
  int cp = 1;
  int d = 1;
  bool fp16 = false;
  LseBase base = LseBase::kE;
  std::vector<std::uint16_t> o;  // [cp, D]
  std::vector<float> lse;        // [cp]

  Entry(int cp_, int d_, bool fp16_, LseBase base_)
      : cp(cp_),
        d(d_),
        fp16(fp16_),
        base(base_),
        o(static_cast<std::size_t>(cp_ * d_)),
        lse(static_cast<std::size_t>(cp_)) {}

  std::uint16_t* row(int s) { return o.data() + static_cast<std::ptrdiff_t>(s) * d; }
};

/// The routine's outputs for one entry.
struct Merged {
  std::vector<std::uint16_t> out;
  float lse_out = 0;
};

Merged run(const Entry& e) {
  Merged m;
  m.out.assign(static_cast<std::size_t>(e.d), 0xABCDu);  // overwritten by every element
  m.lse_out =
      merge_entry(e.o.data(), e.d, e.lse.data(), 1, e.cp, e.d, e.fp16, e.base, m.out.data());
  return m;
}

std::uint16_t garbage(std::mt19937_64& rng, bool fp16) {
  const auto r = static_cast<std::uint16_t>(rng());
  if (fp16) return static_cast<std::uint16_t>((r & 0x83FFu) | 0x7C00u);  // NaN or Inf
  return static_cast<std::uint16_t>((r & 0x807Fu) | 0x7F80u);
}

std::uint16_t finite(std::mt19937_64& rng, bool fp16, int min_exp, int max_exp) {
  const auto r = rng();
  const auto span = static_cast<std::uint64_t>(max_exp - min_exp + 1);
  const int e = min_exp + static_cast<int>((r >> 20) % span);
  const auto sign = static_cast<std::uint16_t>((r >> 63) << 15);
  if (fp16) return static_cast<std::uint16_t>(sign | ((e + 15) << 10) | (r & 0x3FFu));
  return static_cast<std::uint16_t>(sign | ((e + 127) << 7) | (r & 0x7Fu));
}

void fill_rows(Entry& e, std::mt19937_64& rng, int min_exp = -8, int max_exp = 1) {
  for (auto& v : e.o)
    v = finite(rng, e.fp16, min_exp, max_exp);
}

const std::vector<std::pair<bool, LseBase>> kVariants = {
    {false, LseBase::kE}, {false, LseBase::kTwo}, {true, LseBase::kE}, {true, LseBase::kTwo}};

TEST(MergeRoutine, SanitizeLse) {
  EXPECT_EQ(sanitize_lse(kNan), -kInf);
  EXPECT_EQ(sanitize_lse(-kNan), -kInf);
  EXPECT_EQ(sanitize_lse(kInf), -kInf);
  EXPECT_EQ(sanitize_lse(-kInf), -kInf);
  EXPECT_EQ(float_bits(sanitize_lse(-0.0f)), 0u);
  EXPECT_EQ(sanitize_lse(3.5f), 3.5f);
  EXPECT_EQ(sanitize_lse(-1e30f), -1e30f);
}

TEST(MergeRoutine, AllShardsEmptyGiveZeroRowAndMinusInfLse) {
  std::mt19937_64 rng(1);
  for (auto [fp16, base] : kVariants) {
    for (int cp : {1, 2, 5, 64}) {
      Entry e(cp, 24, fp16, base);
      for (auto& v : e.o)
        v = garbage(rng, fp16);
      const float empties[] = {-kInf, kNan, kInf, -kNan};
      for (int s = 0; s < cp; ++s)
        e.lse[static_cast<std::size_t>(s)] = empties[s % 4];
      const Merged m = run(e);
      EXPECT_EQ(float_bits(m.lse_out), 0xFF800000u) << cp;
      for (std::uint16_t v : m.out)
        ASSERT_EQ(v, 0u) << "cp " << cp;
    }
  }
}

TEST(MergeRoutine, OneLiveShardAmongEmptyOnesIsCopied) {
  std::mt19937_64 rng(2);
  for (auto [fp16, base] : kVariants) {
    for (int cp : {2, 3, 8, 64}) {
      for (int live = 0; live < cp; live += std::max(1, cp / 4)) {
        Entry e(cp, 40, fp16, base);
        for (auto& v : e.o)
          v = garbage(rng, fp16);
        for (int s = 0; s < cp; ++s)
          e.lse[static_cast<std::size_t>(s)] = (s % 2) ? kNan : -kInf;
        std::uint16_t* row = e.row(live);
        for (int k = 0; k < e.d; ++k)
          row[k] = finite(rng, fp16, fp16 ? -14 : -20, 10);
        e.lse[static_cast<std::size_t>(live)] = 17.25f;
        const Merged m = run(e);
        EXPECT_EQ(m.lse_out, 17.25f);
        for (int k = 0; k < e.d; ++k)
          ASSERT_EQ(m.out[static_cast<std::size_t>(k)], row[k]) << k;
      }
    }
  }
}

// cp = 1 with a live shard: out bits == input bits for every non-NaN element (Inf and zeros of
// both signs included), lse_out == lse except -0 -> +0.
TEST(MergeRoutine, CpOneIsTheIdentity) {
  for (auto [fp16, base] : kVariants) {
    Entry e(1, 65536, fp16, base);
    for (std::uint32_t i = 0; i < 65536; ++i)
      e.o[i] = static_cast<std::uint16_t>(i);
    for (float l : {0.0f, -0.0f, 1e-30f, -7.5f, 23.0f, -1e38f, 3e38f}) {
      e.lse[0] = l;
      const Merged m = run(e);
      EXPECT_EQ(float_bits(m.lse_out), float_bits(l == 0.0f ? 0.0f : l)) << l;
      for (std::uint32_t i = 0; i < 65536; ++i) {
        const auto h = static_cast<std::uint16_t>(i);
        const bool nan = std::isnan(half_to_float(h, fp16));
        if (!nan) {
          ASSERT_EQ(m.out[i], h) << std::hex << i << " fp16 " << fp16;
        }
      }
    }
  }
}

TEST(MergeRoutine, NanAndPlusInfLseAreEmptyShards) {
  std::mt19937_64 rng(3);
  for (auto [fp16, base] : kVariants) {
    Entry e(6, 32, fp16, base);
    fill_rows(e, rng);
    e.lse = {1.0f, -2.0f, 0.5f, 3.0f, -1.0f, 2.0f};
    Entry reference = e;
    for (int s : {1, 3, 4})
      reference.lse[static_cast<std::size_t>(s)] = -kInf;
    const Merged want = run(reference);
    const float marks[] = {kNan, kInf, -kNan};
    for (float mark : marks) {
      Entry marked = e;
      for (int s : {1, 3, 4}) {
        marked.lse[static_cast<std::size_t>(s)] = mark;
        for (int k = 0; k < e.d; ++k)
          marked.row(s)[k] = garbage(rng, fp16);
      }
      const Merged got = run(marked);
      EXPECT_EQ(float_bits(got.lse_out), float_bits(want.lse_out));
      EXPECT_EQ(got.out, want.out);
    }
  }
}

// A source whose weight is 0 (empty, or a gap so large that exp underflows) is never read: a
// NaN payload there leaves the output bits unchanged, and the source is not live.
TEST(MergeRoutine, PayloadOfZeroWeightSourcesIsNeverRead) {
  std::mt19937_64 rng(4);
  for (auto [fp16, base] : kVariants) {
    const float underflow = base == LseBase::kTwo ? 151.0f : 105.0f;  // exp_b(-gap) = +0
    Entry e(5, 48, fp16, base);
    fill_rows(e, rng);
    e.lse = {4.0f, 4.0f - underflow, 3.0f, -kInf, 4.0f - 2.0f * underflow};
    float scale[kMaxCp];
    const MergeWeights w = merge_weights(e.lse.data(), 1, e.cp, base, scale);
    EXPECT_EQ(w.live, 0b00101u);
    EXPECT_EQ(scale[1], 0.0f);
    EXPECT_EQ(scale[3], 0.0f);
    EXPECT_EQ(scale[4], 0.0f);
    const Merged want = run(e);
    Entry poisoned = e;
    for (int s : {1, 3, 4}) {
      for (int k = 0; k < e.d; ++k)
        poisoned.row(s)[k] = garbage(rng, fp16);
    }
    const Merged got = run(poisoned);
    EXPECT_EQ(got.out, want.out);
    EXPECT_EQ(float_bits(got.lse_out), float_bits(want.lse_out));
    // Control: the same NaN in a live source does reach the output.
    Entry live_poisoned = e;
    live_poisoned.row(2)[7] = fp16 ? 0x7E00u : 0x7FC0u;
    const Merged poisoned_out = run(live_poisoned);
    EXPECT_TRUE(std::isnan(half_to_float(poisoned_out.out[7], fp16)));
  }
}

// Subnormal weights are computed and kept, correctly rounded: scale = w / W with W = 1.
TEST(MergeRoutine, SubnormalWeightsAreCorrectlyRounded) {
  for (LseBase base : {LseBase::kE, LseBase::kTwo}) {
    for (float gap : {88.0f, 95.5f, 100.0f, 103.0f, 127.0f, 140.5f, 148.9f}) {
      const double exact_w = base == LseBase::kTwo ? std::exp2(-static_cast<double>(gap))
                                                   : std::exp(-static_cast<double>(gap));
      if (exact_w >= 0x1p-126 || exact_w < 0x1p-150) continue;  // subnormal results only
      const float lse[2] = {2.0f, 2.0f - gap};
      float scale[kMaxCp];
      const MergeWeights w = merge_weights(lse, 1, 2, base, scale);
      const auto want_units = static_cast<std::uint32_t>(std::nearbyint(exact_w / 0x1p-149));
      // d = 2 - (2 - gap) may differ from -gap by its rounding; allow the bound of exp.
      const double got_units = static_cast<double>(float_bits(scale[1]));
      EXPECT_NEAR(got_units, static_cast<double>(want_units), kExpUlpBound + 0.5)
          << "gap " << gap << " base " << static_cast<int>(base);
      EXPECT_GT(float_bits(scale[1]), 0u);
      EXPECT_LT(float_bits(scale[1]), 0x00800000u);  // subnormal
      EXPECT_EQ(w.live, 0b11u);
      EXPECT_EQ(scale[0], 1.0f);
    }
  }
}

// The weights are the same whatever order a kernel reduces the maximum in (the merge kernel
// reduces it with a warp butterfly), since no NaN and no -0 remain after sanitising.
TEST(MergeRoutine, MaximumIsOrderIndependent) {
  std::mt19937_64 rng(5);
  for (int trial = 0; trial < 2000; ++trial) {
    const int cp = 1 + static_cast<int>(rng() % 64);
    float l[64];
    for (int s = 0; s < cp; ++s) {
      const int kind = static_cast<int>(rng() % 6);
      l[s] = kind == 0   ? -0.0f
             : kind == 1 ? 0.0f
             : kind == 2 ? kNan
                         : static_cast<float>(static_cast<int>(rng() % 9) - 4);
    }
    float seq = minus_inf();
    for (int s = 0; s < cp; ++s)
      seq = max_lse(seq, sanitize_lse(l[s]));
    // Butterfly over 32 lanes holding sources lane and lane + 32, as in the kernel.
    float lane[32];
    for (int i = 0; i < 32; ++i) {
      lane[i] = max_lse(i < cp ? sanitize_lse(l[i]) : minus_inf(),
                        i + 32 < cp ? sanitize_lse(l[i + 32]) : minus_inf());
    }
    for (int off = 16; off > 0; off /= 2) {
      float next[32];
      for (int i = 0; i < 32; ++i)
        next[i] = max_lse(lane[i], lane[i ^ off]);
      std::copy(next, next + 32, lane);
    }
    for (int i = 0; i < 32; ++i)
      ASSERT_EQ(float_bits(lane[i]), float_bits(seq));
  }
}

TEST(MergeRoutine, LseStrideSelectsElementZeroOfStatsRows) {
  std::mt19937_64 rng(6);
  Entry e(7, 16, false, LseBase::kE);
  fill_rows(e, rng);
  e.lse = {1.0f, 2.5f, -3.0f, kNan, 0.25f, 2.0f, -60.0f};
  std::vector<float> stats(7 * 3, 123.0f);  // [cp, S = 3], LSE at element 0
  for (int s = 0; s < 7; ++s)
    stats[static_cast<std::size_t>(s * 3)] = e.lse[static_cast<std::size_t>(s)];
  const Merged want = run(e);
  std::vector<std::uint16_t> out(16);
  const float lse_out =
      merge_entry(e.o.data(), e.d, stats.data(), 3, e.cp, e.d, e.fp16, e.base, out.data());
  EXPECT_EQ(out, want.out);
  EXPECT_EQ(float_bits(lse_out), float_bits(want.lse_out));
}

TEST(MergeRoutine, DeterministicAndSixtyFourSources) {
  std::mt19937_64 rng(7);
  for (auto [fp16, base] : kVariants) {
    Entry e(64, 64, fp16, base);
    fill_rows(e, rng);
    for (int s = 0; s < 64; ++s)
      e.lse[static_cast<std::size_t>(s)] = static_cast<float>(s % 7) * 0.75f;
    e.lse[63] = 5.0f;  // the maximum in the last source: bit 63 of the live mask
    float scale[kMaxCp];
    const MergeWeights w = merge_weights(e.lse.data(), 1, 64, base, scale);
    EXPECT_EQ(w.live, ~std::uint64_t{0});
    EXPECT_EQ(scale[63], scale[63]);
    const Merged a = run(e);
    const Merged b = run(e);
    EXPECT_EQ(a.out, b.out);
    EXPECT_EQ(float_bits(a.lse_out), float_bits(b.lse_out));
  }
}

/// Checks one entry against fp64 within the a-priori bounds; returns the largest element
/// error in output ulps.
double check_against_fp64(const Entry& e, const Merged& m) {
  std::vector<double> w(static_cast<std::size_t>(e.cp));
  const ExactWeights ex = exact_weights(e.lse.data(), 1, e.cp, e.base, w.data());
  double max_gap = 0;
  for (int s = 0; s < e.cp; ++s) {
    const float l = sanitize_lse(e.lse[static_cast<std::size_t>(s)]);
    if (l != minus_inf()) {
      const double gap = ex.max_lse - static_cast<double>(l);
      max_gap = std::max(max_gap, e.base == LseBase::kTwo ? gap * std::log(2.0) : gap);
    }
  }
  double worst = 0;
  for (int k = 0; k < e.d; ++k) {
    const double x = exact_element(w.data(), ex.w_sum, e.cp, e.o.data() + k, e.d, e.fp16);
    double abs_sum = 0;
    for (int s = 0; s < e.cp; ++s) {
      if (w[static_cast<std::size_t>(s)] != 0.0) {
        abs_sum += w[static_cast<std::size_t>(s)] *
                   std::fabs(static_cast<double>(
                       half_to_float(e.o[static_cast<std::size_t>(s * e.d + k)], e.fp16)));
      }
    }
    if (ex.w_sum > 0) abs_sum /= ex.w_sum;
    const std::uint16_t got = m.out[static_cast<std::size_t>(k)];
    const double diff = std::fabs(static_cast<double>(half_to_float(got, e.fp16)) - x);
    EXPECT_LE(diff, element_error_bound(x, abs_sum, max_gap, e.cp, e.fp16))
        << "element " << k << " exact " << x << " got " << half_to_float(got, e.fp16);
    worst = std::max(worst, element_error_ulps(got, x, e.fp16));
  }
  if (ex.w_sum > 0) {
    const double diff = std::fabs(static_cast<double>(m.lse_out) - ex.lse_out);
    EXPECT_LE(diff, lse_error_bound(ex.lse_out, ex.w_sum, e.cp, e.base))
        << "lse exact " << ex.lse_out << " got " << m.lse_out;
  } else {
    EXPECT_EQ(m.lse_out, -kInf);
  }
  return worst;
}

// Random entries: cp 1..64, LSEs spread over [-30, 30] with occasional huge gaps, empty shards,
// payload magnitudes over 2^-20..2^10 with random signs (cancellation included), both types
// and bases. Every element within the bound of merge/reference.hpp.
TEST(MergeRoutine, RandomInputsWithinFp64Bounds) {
  std::mt19937_64 rng(8);
  std::uniform_real_distribution<float> lse_dist(-30.0f, 30.0f);
  for (auto [fp16, base] : kVariants) {
    double worst = 0;
    for (int trial = 0; trial < 3000; ++trial) {
      const int cp =
          trial % 4 == 0 ? 1 + static_cast<int>(rng() % 64) : 1 + static_cast<int>(rng() % 8);
      Entry e(cp, 32, fp16, base);
      fill_rows(e, rng, fp16 ? -12 : -20, fp16 ? 10 : 10);
      for (int s = 0; s < cp; ++s) {
        float l = lse_dist(rng);
        if (rng() % 8 == 0) l -= 60.0f + static_cast<float>(rng() % 120);
        if (rng() % 10 == 0) l = (rng() % 2) ? kNan : -kInf;
        e.lse[static_cast<std::size_t>(s)] = l;
      }
      worst = std::max(worst, check_against_fp64(e, run(e)));
    }
    std::printf("fp16 %d base %s: max element error %.3f ulp\n", fp16,
                base == LseBase::kTwo ? "2" : "e", worst);
  }
}

}  // namespace
}  // namespace dcp::merge
