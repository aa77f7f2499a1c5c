// The CPU reference and the host checker (merge/reference.hpp), Accuracy, and the merge
// kernel's plan (merge/merge_plan.hpp): inputs as sources fill them are what destinations
// receive, the reference passes its own check with errors within the fp64 bounds, one flipped
// bit anywhere is found and located, poison and stale outputs fail, and bad shapes are refused.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/accuracy.hpp"
#include "core/error.hpp"
#include "merge/exact_merge.hpp"
#include "merge/merge_plan.hpp"
#include "merge/reference.hpp"

namespace dcp::merge {
namespace {

std::size_t sz(std::int64_t n) {
  return static_cast<std::size_t>(n);
}

TEST(MergeReference, DeliveredInputsAreTheSourcesRows) {
  const MergeShape shape{4, 37, 24, true, LseBase::kTwo};
  std::vector<std::vector<std::uint16_t>> o(
      4, std::vector<std::uint16_t>(sz(shape.recv_o_elements())));
  std::vector<std::vector<float>> lse(4, std::vector<float>(sz(shape.entries * shape.cp)));
  for (int src = 0; src < 4; ++src) {
    fill_reduce_inputs_host(shape, 99, 5, src, o[sz(src)].data(), lse[sz(src)].data());
  }
  std::vector<std::uint16_t> recv_o(sz(shape.recv_o_elements()));
  std::vector<float> recv_lse(sz(shape.entries * shape.cp));
  for (int dst = 0; dst < 4; ++dst) {
    delivered_inputs_host(shape, 99, 5, dst, recv_o.data(), recv_lse.data());
    for (std::int64_t e = 0; e < shape.entries; ++e) {
      for (int s = 0; s < 4; ++s) {
        const std::int64_t got_row = e * 4 + s, src_row = e * 4 + dst;
        ASSERT_EQ(float_bits(recv_lse[sz(got_row)]), float_bits(lse[sz(s)][sz(src_row)]));
        for (int k = 0; k < shape.head_dim; ++k) {
          ASSERT_EQ(recv_o[sz(got_row * 24 + k)], o[sz(s)][sz(src_row * 24 + k)]);
        }
      }
    }
  }
}

/// Every element of the reference within the a-priori fp64 bound (merge/reference.hpp).
void expect_within_bounds(const MergeShape& shape, std::uint64_t seed, std::uint32_t call, int dst,
                          const MergeOutputs& ref) {
  std::vector<std::uint16_t> recv_o(sz(shape.recv_o_elements()));
  std::vector<float> recv_lse(sz(shape.entries * shape.cp));
  delivered_inputs_host(shape, seed, call, dst, recv_o.data(), recv_lse.data());
  std::vector<double> w(sz(shape.cp));
  for (std::int64_t e = 0; e < shape.entries; ++e) {
    const float* lse = recv_lse.data() + e * shape.cp;
    const ExactWeights ex = exact_weights(lse, 1, shape.cp, shape.base, w.data());
    double max_gap = 0;
    for (int s = 0; s < shape.cp; ++s) {
      const float l = sanitize_lse(lse[s]);
      if (l == minus_inf()) continue;
      const double gap = ex.max_lse - static_cast<double>(l);
      max_gap = std::max(max_gap, shape.base == LseBase::kTwo ? gap * std::log(2.0) : gap);
    }
    for (int k = 0; k < shape.head_dim; ++k) {
      const std::uint16_t* o = recv_o.data() + e * shape.cp * shape.head_dim + k;
      const double x = exact_element(w.data(), ex.w_sum, shape.cp, o, shape.head_dim, shape.fp16);
      double abs_sum = 0;
      for (int s = 0; s < shape.cp; ++s) {
        if (w[sz(s)] != 0.0) {
          abs_sum +=
              w[sz(s)] *
              std::fabs(static_cast<double>(half_to_float(o[s * shape.head_dim], shape.fp16)));
        }
      }
      if (ex.w_sum > 0) abs_sum /= ex.w_sum;
      const double got =
          static_cast<double>(half_to_float(ref.out[sz(e * shape.head_dim + k)], shape.fp16));
      ASSERT_LE(std::fabs(got - x), element_error_bound(x, abs_sum, max_gap, shape.cp, shape.fp16))
          << "entry " << e << " element " << k;
    }
    if (ex.w_sum > 0) {
      ASSERT_LE(std::fabs(static_cast<double>(ref.lse_out[sz(e)]) - ex.lse_out),
                lse_error_bound(ex.lse_out, ex.w_sum, shape.cp, shape.base));
    } else {
      ASSERT_EQ(ref.lse_out[sz(e)], minus_inf());
    }
  }
}

TEST(MergeReference, ReferencePassesItsCheckWithinFp64Bounds) {
  for (bool fp16 : {false, true}) {
    for (LseBase base : {LseBase::kE, LseBase::kTwo}) {
      for (int cp : {1, 2, 3, 8, 16}) {
        for (int d : {8, 64, 512}) {
          const MergeShape shape{cp, d == 512 ? 40 : 300, d, fp16, base};
          const int dst = cp - 1;
          const MergeOutputs ref = reference_merge(shape, 17, 2, dst);
          const Accuracy acc =
              check_merge_host(shape, 17, 2, dst, ref.out.data(), ref.lse_out.data());
          EXPECT_EQ(acc.rows_checked, static_cast<std::uint64_t>(shape.entries));
          EXPECT_TRUE(acc.identical());
          EXPECT_EQ(acc.values_differing, 0u);
          EXPECT_FALSE(acc.first.has_value());
          EXPECT_EQ(acc.elements_checked, static_cast<std::uint64_t>(shape.out_elements()));
          EXPECT_TRUE(std::isfinite(acc.ulp_max));
          expect_within_bounds(shape, 17, 2, dst, ref);
        }
      }
    }
  }
}

TEST(MergeReference, EveryFlippedBitIsFoundAndLocated) {
  const MergeShape shape{3, 20, 16, false, LseBase::kE};
  const MergeOutputs ref = reference_merge(shape, 4, 9, 1);
  // Every bit of a few elements, and every element of a row.
  for (std::int64_t e : {0, 7, 19}) {
    for (int k = 0; k < 16; ++k) {
      for (int bit = 0; bit < 16; ++bit) {
        MergeOutputs bad = ref;
        std::uint16_t& v = bad.out[sz(e * 16 + k)];
        const std::uint16_t want = v;
        v = static_cast<std::uint16_t>(v ^ (1u << bit));
        const Accuracy acc = check_merge_host(shape, 4, 9, 1, bad.out.data(), bad.lse_out.data());
        ASSERT_EQ(acc.rows_identical, acc.rows_checked - 1);
        ASSERT_EQ(acc.values_differing, 1u);
        ASSERT_TRUE(acc.first.has_value());
        EXPECT_EQ(*acc.first, (MergeDifference{1, 9, e, k, v, want}));
        if (k != 3) break;  // all 16 bits of element 3 only
      }
    }
  }
  for (int bit = 0; bit < 32; ++bit) {
    MergeOutputs bad = ref;
    const std::uint32_t want = float_bits(bad.lse_out[5]);
    bad.lse_out[5] = bits_float(want ^ (1u << bit));
    const Accuracy acc = check_merge_host(shape, 4, 9, 1, bad.out.data(), bad.lse_out.data());
    ASSERT_EQ(acc.rows_identical, acc.rows_checked - 1) << bit;
    EXPECT_EQ(*acc.first, (MergeDifference{1, 9, 5, -1, want ^ (1u << bit), want}));
  }
}

TEST(MergeReference, PoisonAndStaleOutputsFail) {
  const MergeShape shape{4, 64, 32, true, LseBase::kTwo};
  const MergeOutputs ref = reference_merge(shape, 4, 1, 2);
  std::vector<std::uint16_t> poison(ref.out.size(), 0xFFFFu);
  std::vector<float> poison_lse(ref.lse_out.size(), std::numeric_limits<float>::quiet_NaN());
  const Accuracy p = check_merge_host(shape, 4, 1, 2, poison.data(), poison_lse.data());
  EXPECT_EQ(p.rows_identical, 0u);
  EXPECT_TRUE(std::isinf(p.ulp_max));
  EXPECT_TRUE(std::isinf(p.lse_ulp_max));
  // The previous call's outputs (a strategy that did not write) fail on almost every row.
  const MergeOutputs stale = reference_merge(shape, 4, 0, 2);
  const Accuracy s = check_merge_host(shape, 4, 1, 2, stale.out.data(), stale.lse_out.data());
  EXPECT_LT(s.rows_identical, s.rows_checked / 8);
  // Another destination's outputs fail too.
  const MergeOutputs other = reference_merge(shape, 4, 1, 3);
  const Accuracy o = check_merge_host(shape, 4, 1, 2, other.out.data(), other.lse_out.data());
  EXPECT_LT(o.rows_identical, o.rows_checked / 8);
}

TEST(MergeReference, LseStrideInTheChecker) {
  const MergeShape shape{3, 10, 8, false, LseBase::kE};
  std::vector<std::uint16_t> recv_o(sz(shape.recv_o_elements()));
  std::vector<float> recv_lse(sz(shape.entries * shape.cp));
  delivered_inputs_host(shape, 8, 0, 0, recv_o.data(), recv_lse.data());
  std::vector<float> stats(recv_lse.size() * 2, 55.0f);  // S = 2, LSE in element 0
  for (std::size_t i = 0; i < recv_lse.size(); ++i)
    stats[2 * i] = recv_lse[i];
  std::vector<std::uint16_t> out(sz(shape.out_elements()));
  std::vector<float> lse_out(sz(shape.entries));
  merge_host(shape, recv_o.data(), stats.data(), 2, out.data(), lse_out.data());
  const MergeOutputs ref = reference_merge(shape, 8, 0, 0);
  EXPECT_EQ(out, ref.out);
  const Accuracy acc =
      check_merge_inputs(shape, recv_o.data(), stats.data(), 2, out.data(), lse_out.data(), 0, 0);
  EXPECT_TRUE(acc.identical());
}

TEST(MergeAccuracy, MergeAndSummary) {
  Accuracy a;
  a.rows_checked = 10;
  a.rows_identical = 10;
  a.elements_checked = 100;
  a.ulp_max = 0.5;
  a.ulp_sum = 20;
  a.lse_ulp_sum = 3;
  Accuracy b = a;
  b.rows_identical = 9;
  b.values_differing = 1;
  b.ulp_max = 0.75;
  b.first = MergeDifference{2, 3, 4, -1, 0x7FC00000u, 0x40000000u};
  a.merge(b);
  EXPECT_EQ(a.rows_checked, 20u);
  EXPECT_EQ(a.rows_identical, 19u);
  EXPECT_FALSE(a.identical());
  EXPECT_DOUBLE_EQ(a.ulp_max, 0.75);
  EXPECT_DOUBLE_EQ(a.ulp_mean(), 0.2);
  EXPECT_DOUBLE_EQ(a.lse_ulp_mean(), 0.3);
  ASSERT_TRUE(a.first.has_value());
  const std::string s = a.summary();
  EXPECT_NE(s.find("rows 19/20"), std::string::npos) << s;
  EXPECT_NE(s.find("lse_out got 0x7fc00000 expected 0x40000000"), std::string::npos) << s;
  EXPECT_DOUBLE_EQ(Accuracy{}.ulp_mean(), 0.0);
}

TEST(MergePlan, RefusesBadShapesNamingTheField) {
  auto problem = [](MergeShape s) { return MergePlan::problem(s); };
  EXPECT_NE(problem({0, 8, 64, false, LseBase::kE}).find("cp = 0"), std::string::npos);
  EXPECT_NE(problem({65, 8, 64, false, LseBase::kE}).find("accepted: 1..64"), std::string::npos);
  EXPECT_NE(problem({2, 8, 0, false, LseBase::kE}).find("head_dim = 0"), std::string::npos);
  EXPECT_NE(problem({2, -1, 64, false, LseBase::kE}).find("entries = -1"), std::string::npos);
  EXPECT_NE(problem({2, 8, 64, false, static_cast<LseBase>(3)}).find("accepted: e|2"),
            std::string::npos);
  EXPECT_TRUE(problem({64, 4096, 512, true, LseBase::kTwo}).empty());
  EXPECT_THROW(MergePlan({0, 8, 64, false, LseBase::kE}), ConfigError);
}

TEST(MergePlan, Geometry) {
  const MergePlan p512({8, 1000, 512, false, LseBase::kE});
  EXPECT_EQ(p512.vector_width(), 8);
  EXPECT_EQ(p512.entries_per_cta(), 8);  // 64 chunks per row, 2 x 256 pairs per CTA
  EXPECT_EQ(p512.ctas(), 125);
  EXPECT_EQ(p512.shared_bytes(), 8u * (8u + 4u * 8u));
  const MergePlan p64({2, 33, 64, true, LseBase::kTwo});
  EXPECT_EQ(p64.entries_per_cta(), MergePlan::kMaxEntriesPerCta);
  EXPECT_EQ(p64.ctas(), 2);
  const MergePlan odd({3, 5, 100, false, LseBase::kE});
  EXPECT_EQ(odd.vector_width(), 1);
  EXPECT_EQ(odd.entries_per_cta(), 5);
  EXPECT_EQ(MergePlan({3, 0, 64, false, LseBase::kE}).ctas(), 0);
}

TEST(MergePlan, BuffersChecked) {
  const MergePlan plan({2, 4, 64, false, LseBase::kE});
  alignas(16) static std::uint16_t o[2 * 4 * 64 + 8];
  alignas(16) static std::uint16_t out[4 * 64 + 8];
  alignas(16) static float lse[8 * 2], lse_out[4];
  MergeBuffers b{o, lse, 1, out, lse_out, std::nullopt};
  EXPECT_TRUE(plan.buffers_problem(b).empty());
  MergeBuffers shifted = b;
  shifted.out = out + 1;  // 2-byte aligned only: no 16-byte vectors
  EXPECT_NE(plan.buffers_problem(shifted).find("16-byte"), std::string::npos);
  MergeBuffers null_o = b;
  null_o.recv_o = nullptr;
  EXPECT_NE(plan.buffers_problem(null_o).find("null"), std::string::npos);
  MergeBuffers stride = b;
  stride.lse_stride = 0;
  EXPECT_NE(plan.buffers_problem(stride).find("lse_stride"), std::string::npos);
  EXPECT_THROW(plan.require_buffers(null_o), Error);
  // D not a multiple of 8: 2-byte alignment suffices.
  const MergePlan scalar({2, 4, 60, false, LseBase::kE});
  EXPECT_TRUE(scalar.buffers_problem(shifted).empty());
}

}  // namespace
}  // namespace dcp::merge
