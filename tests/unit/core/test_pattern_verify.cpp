// The data pattern and the host verifier: values encode their origin, are never zero/Inf/NaN,
// and a single flipped bit anywhere is found and located.
#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <vector>

#include "core/pattern.hpp"
#include "core/verify.hpp"

namespace dcp {
namespace {

bool bf16_is_finite_nonzero(std::uint16_t b) {
  const unsigned exp = (b >> 7) & 0xFF;
  return exp != 0 && exp != 0xFF;
}
bool fp16_is_finite_nonzero(std::uint16_t b) {
  const unsigned exp = (b >> 10) & 0x1F;
  return exp != 0 && exp != 0x1F;
}
bool fp32_is_finite_nonzero(std::uint32_t b) {
  const unsigned exp = (b >> 23) & 0xFF;
  return exp != 0 && exp != 0xFF;
}

TEST(Pattern, NeverZeroInfNanAndNeverThePoison) {
  for (std::uint32_t i = 0; i < 20000; ++i) {
    const pattern::Coord c{7, i % 13, i % 5, i % 7, i / 3, i % 257};
    const auto b = pattern::o_bits(false, c);
    const auto h = pattern::o_bits(true, c);
    const auto s = pattern::stats_bits(c);
    ASSERT_TRUE(bf16_is_finite_nonzero(b));
    ASSERT_TRUE(fp16_is_finite_nonzero(h));
    ASSERT_TRUE(fp32_is_finite_nonzero(s));
    ASSERT_NE(b, pattern::kPoisonO);
    ASSERT_NE(s, pattern::kPoisonStats);
  }
}

TEST(Pattern, EveryCoordinateChangesTheValue) {
  const pattern::Coord base{1, 2, 3, 4, 5, 6};
  const std::uint32_t v = pattern::stats_bits(base);
  auto changed = base;
  changed.seed = 9;
  EXPECT_NE(pattern::stats_bits(changed), v);
  changed = base;
  changed.call = 3;
  EXPECT_NE(pattern::stats_bits(changed), v);
  changed = base;
  changed.src = 4;
  EXPECT_NE(pattern::stats_bits(changed), v);
  changed = base;
  changed.dst = 5;
  EXPECT_NE(pattern::stats_bits(changed), v);
  changed = base;
  changed.entry = 6;
  EXPECT_NE(pattern::stats_bits(changed), v);
  changed = base;
  changed.element = 7;
  EXPECT_NE(pattern::stats_bits(changed), v);
}

TEST(Pattern, ValuesAreWellSpread) {
  std::set<std::uint16_t> seen;
  for (std::uint32_t e = 0; e < 4096; ++e)
    seen.insert(pattern::o_bits(false, {3, 0, 0, 1, e, 0}));
  EXPECT_GT(seen.size(), 3000u);  // bf16 has 2^13 values in the pattern's range
}

/// A host-side exchange: every rank's inputs, transposed by hand, give each rank's outputs.
struct HostExchange {
  ExchangeShape shape;
  std::uint64_t seed = 42;
  std::uint32_t call = 3;
  std::vector<std::vector<std::uint16_t>> in_o, out_o;
  std::vector<std::vector<std::uint32_t>> in_s, out_s;

  explicit HostExchange(ExchangeShape s) : shape(s) {
    const auto r = static_cast<std::size_t>(s.cp_size);
    in_o.resize(r);
    out_o.resize(r);
    in_s.resize(r);
    out_s.resize(r);
    for (std::size_t k = 0; k < r; ++k) {
      in_o[k].resize(static_cast<std::size_t>(s.rows() * s.head_dim));
      out_o[k].resize(in_o[k].size());
      in_s[k].resize(static_cast<std::size_t>(s.rows() * s.stats_dim));
      out_s[k].resize(in_s[k].size());
      fill_inputs_host(s, seed, call, static_cast<int>(k), in_o[k].data(), in_s[k].data());
      poison_outputs_host(s, out_o[k].data(), out_s[k].data());
    }
  }
  void transpose() {
    for (int r = 0; r < shape.cp_size; ++r) {
      for (std::int64_t e = 0; e < shape.entries; ++e) {
        for (int p = 0; p < shape.cp_size; ++p) {
          // out[r][e, p] = in[p][e, r]
          std::memcpy(&out_o[r][shape.row_index(e, p) * shape.head_dim],
                      &in_o[p][shape.row_index(e, r) * shape.head_dim], 2u * shape.head_dim);
          std::memcpy(&out_s[r][shape.row_index(e, p) * shape.stats_dim],
                      &in_s[p][shape.row_index(e, r) * shape.stats_dim], 4u * shape.stats_dim);
        }
      }
    }
  }
  VerifyOutcome verify(int r) const {
    return verify_outputs_host(shape, seed, call, r, out_o[r].data(), out_s[r].data());
  }
};

TEST(Verify, CorrectTransposePasses) {
  HostExchange x({3, 5, 16, 6, false});
  x.transpose();
  for (int r = 0; r < 3; ++r) {
    const auto v = x.verify(r);
    EXPECT_TRUE(v.ok()) << v.summary();
    EXPECT_EQ(v.rows_checked, 15u);
  }
}

TEST(Verify, PoisonedOutputFailsEveryRow) {
  HostExchange x({2, 4, 8, 2, true});
  const auto v = x.verify(0);
  EXPECT_FALSE(v.ok());
  EXPECT_EQ(v.bad_rows, 8u);
  EXPECT_EQ(v.mismatched_elements, 8u * (8 + 2));
}

TEST(Verify, PlantedFlippedBitIsFoundAndLocated) {
  HostExchange x({4, 7, 24, 4, false});
  x.transpose();
  // Rank 2's output row (e=5, p=3), element 17 of partial_o: flip one mantissa bit.
  const auto idx = static_cast<std::size_t>(x.shape.row_index(5, 3) * x.shape.head_dim + 17);
  const std::uint16_t good = x.out_o[2][idx];
  x.out_o[2][idx] ^= 0x0004;
  const auto v = x.verify(2);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.bad_rows, 1u);
  EXPECT_EQ(v.mismatched_elements, 1u);
  ASSERT_TRUE(v.first.has_value());
  EXPECT_EQ(v.first->tensor, "partial_o");
  EXPECT_EQ(v.first->dst_rank, 2);
  EXPECT_EQ(v.first->src_rank, 3);
  EXPECT_EQ(v.first->entry, 5);
  EXPECT_EQ(v.first->element, 17);
  EXPECT_EQ(v.first->expected_bits, good);
  EXPECT_EQ(v.first->actual_bits, static_cast<std::uint32_t>(good ^ 0x0004));
  EXPECT_NE(v.summary().find("from rank 3"), std::string::npos);
  // Other ranks are untouched.
  EXPECT_TRUE(x.verify(1).ok());
}

TEST(Verify, StatsFlipAndSkippingStats) {
  HostExchange x({2, 3, 8, 2, false});
  x.transpose();
  x.out_s[1][3] ^= 1u << 30;
  const auto v = x.verify(1);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.first->tensor, "softmax_stats");
  EXPECT_TRUE(verify_outputs_host(x.shape, x.seed, x.call, 1, x.out_o[1].data(), x.out_s[1].data(),
                                  /*check_stats=*/false)
                  .ok());
}

TEST(Verify, MisroutedRowIsCaught) {
  HostExchange x({3, 2, 8, 2, false});
  x.transpose();
  // Swap two rows of rank 0's output: same bytes, wrong place.
  std::swap_ranges(x.out_o[0].begin(), x.out_o[0].begin() + 8, x.out_o[0].begin() + 8);
  EXPECT_EQ(x.verify(0).bad_rows, 2u);
}

TEST(Verify, StaleCallIsCaught) {
  HostExchange x({2, 4, 8, 2, false});
  x.transpose();
  EXPECT_FALSE(
      verify_outputs_host(x.shape, x.seed, x.call + 1, 0, x.out_o[0].data(), x.out_s[0].data())
          .ok());
}

TEST(Verify, EmptyExchange) {
  HostExchange x({2, 0, 8, 2, false});
  const auto v = x.verify(0);
  EXPECT_TRUE(v.ok());
  EXPECT_EQ(v.rows_checked, 0u);
}

// Issue 13 item 9: a case reported ok must have checked rows; an empty exchange says so.
TEST(Verify, ACaseThatCheckedNoRowIsADefectUnlessTheExchangeIsEmpty) {
  VerifyOutcome v;
  ASSERT_TRUE(verification_defect(16, v).has_value());  // no call checked at all
  EXPECT_EQ(*verification_defect(0, v),
            "verification checked no call: the outputs were not verified");
  v.calls_checked = 10;
  const auto defect = verification_defect(16, v);
  ASSERT_TRUE(defect.has_value());
  EXPECT_EQ(*defect,
            "verification checked no row of a non-empty exchange (E = 16) over 10 calls: the "
            "outputs were not verified");
  EXPECT_FALSE(verification_defect(0, v).has_value());
  EXPECT_EQ(v.summary(), "ok: empty exchange (E = 0), no rows to check, 10 calls");
  v.rows_checked = 320;
  EXPECT_FALSE(verification_defect(16, v).has_value());
  EXPECT_EQ(v.summary(), "ok: 0 bad rows of 320 over 10 calls");
  // A host-verified empty exchange reads the same.
  HostExchange x({2, 0, 8, 2, false});
  const auto empty = x.verify(0);
  EXPECT_FALSE(verification_defect(0, empty).has_value());
  EXPECT_NE(empty.summary().find("empty exchange"), std::string::npos) << empty.summary();
}

TEST(Verify, MergeKeepsTheFirstMismatch) {
  VerifyOutcome a, b;
  a.rows_checked = 10;
  b.rows_checked = 5;
  b.bad_rows = 1;
  b.mismatched_elements = 2;
  b.first = Mismatch{"partial_o", 1, 0, 3, 4, 5, 6, 7};
  a.merge(b);
  EXPECT_EQ(a.rows_checked, 15u);
  EXPECT_EQ(a.bad_rows, 1u);
  ASSERT_TRUE(a.first.has_value());
  EXPECT_EQ(a.first->entry, 3);
}

}  // namespace
}  // namespace dcp
