// The merge over strided delivered inputs (MergeStrides): the CPU reference reading a [cp, E, D]
// receive buffer, or packed rows that carry their LSE, gives the same bits as the contiguous
// [E, cp, D] merge of the same values; MergePlan validates strides; the host checker's error in
// ulps of the terms' magnitude (Accuracy::cond_ulp_max) is at most its error at the exact value
// and stays small where sources cancel.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "merge/merge_plan.hpp"
#include "merge/merge_shape.hpp"
#include "merge/reference.hpp"

namespace dcp::merge {
namespace {

constexpr std::uint64_t kSeed = 0x5EED5;

TEST(MergeStrides, ContiguousMatchesTheLseStrideLayout) {
  const MergeStrides st = MergeStrides::contiguous(4, 128, 3);
  EXPECT_EQ(st.o_entry, 4 * 128);
  EXPECT_EQ(st.o_source, 128);
  EXPECT_EQ(st.lse_entry, 12);
  EXPECT_EQ(st.lse_source, 3);
  EXPECT_EQ(st.o_row(2, 3), 2 * 512 + 3 * 128);
  EXPECT_EQ(st.lse(2, 3), 2 * 12 + 3 * 3);
}

TEST(MergeStrides, SourceMajorAndPackedLayoutsMergeToTheSameBits) {
  for (int cp : {1, 2, 3, 8}) {
    for (bool fp16 : {false, true}) {
      const MergeShape shape{cp, 37, 64, fp16, fp16 ? LseBase::kTwo : LseBase::kE};
      const auto rows = static_cast<std::size_t>(shape.entries * cp);
      std::vector<std::uint16_t> recv_o(rows * 64);
      std::vector<float> recv_lse(rows);
      delivered_inputs_host(shape, kSeed, 3, cp - 1, recv_o.data(), recv_lse.data());
      std::vector<std::uint16_t> want(static_cast<std::size_t>(shape.out_elements()));
      std::vector<float> want_lse(static_cast<std::size_t>(shape.entries));
      merge_host(shape, recv_o.data(), recv_lse.data(), 1, want.data(), want_lse.data());

      // [cp, E, D] and [cp, E]: what two all-to-alls deliver.
      std::vector<std::uint16_t> by_src(recv_o.size());
      std::vector<float> by_src_lse(recv_lse.size());
      // Packed rows [cp, E, P] with P = 72 elements: D elements, the LSE's two halves at 64, pad.
      const int p = 72;
      std::vector<std::uint16_t> packed(rows * p, 0xDEAD);
      for (std::int64_t e = 0; e < shape.entries; ++e) {
        for (int s = 0; s < cp; ++s) {
          const std::size_t from = static_cast<std::size_t>(e * cp + s);
          const std::size_t to = static_cast<std::size_t>(s * shape.entries + e);
          std::memcpy(&by_src[to * 64], &recv_o[from * 64], 64 * 2);
          by_src_lse[to] = recv_lse[from];
          std::memcpy(&packed[to * p], &recv_o[from * 64], 64 * 2);
          std::memcpy(&packed[to * p + 64], &recv_lse[from], 4);
        }
      }
      const MergeStrides src_major{64, shape.entries * 64, 1, shape.entries};
      std::vector<std::uint16_t> got(want.size());
      std::vector<float> got_lse(want_lse.size());
      merge_host_strided(shape, by_src.data(), by_src_lse.data(), src_major, got.data(),
                         got_lse.data());
      EXPECT_EQ(got, want) << "cp " << cp;
      EXPECT_EQ(std::memcmp(got_lse.data(), want_lse.data(), want_lse.size() * 4), 0);

      std::vector<float> packed_lse_view;  // the LSE floats read in place through the strides
      const MergeStrides packed_st{p, shape.entries * p, p / 2, shape.entries * p / 2};
      const auto* lse_base = reinterpret_cast<const float*>(packed.data() + 64);
      std::fill(got.begin(), got.end(), 0);
      merge_host_strided(shape, packed.data(), lse_base, packed_st, got.data(), got_lse.data());
      EXPECT_EQ(got, want) << "packed, cp " << cp;
      EXPECT_EQ(std::memcmp(got_lse.data(), want_lse.data(), want_lse.size() * 4), 0);
    }
  }
}

TEST(MergeStrides, ThePlanRefusesStridesItCannotVectorise) {
  const MergePlan plan(MergeShape{2, 4, 64, false, LseBase::kE});
  alignas(16) static std::uint16_t o[4 * 2 * 80];
  alignas(16) static std::uint16_t out[4 * 64];
  static float lse[8], lse_out[4];
  MergeBuffers b{o, lse, 1, out, lse_out, std::nullopt};
  EXPECT_EQ(plan.buffers_problem(b), "");
  b.strides = MergeStrides{80, 4 * 80, 40, 160};
  EXPECT_EQ(plan.buffers_problem(b), "");
  b.strides = MergeStrides{66, 4 * 66, 33, 132};
  EXPECT_NE(plan.buffers_problem(b).find("multiples of 8"), std::string::npos);
  b.strides = MergeStrides{-64, 64, 1, 1};
  EXPECT_NE(plan.buffers_problem(b).find(">= 0"), std::string::npos);
  EXPECT_EQ(plan.strides(MergeBuffers{o, lse, 1, out, lse_out, std::nullopt}),
            MergeStrides::contiguous(2, 64, 1));
}

TEST(MergeAccuracy, ErrorInUlpsOfTheTermsIsAtMostTheErrorAtTheExactValue) {
  const MergeShape shape{8, 64, 128, false, LseBase::kE};
  const MergeOutputs ref = reference_merge(shape, kSeed, 1, 2);
  const Accuracy a = check_merge_host(shape, kSeed, 1, 2, ref.out.data(), ref.lse_out.data());
  EXPECT_TRUE(a.identical());
  EXPECT_LE(a.cond_ulp_max, a.ulp_max);
  EXPECT_LE(a.cond_ulp_max, 1.0);  // the routine: about half an ulp of the terms
  // One element off by 2 ulps of its own value: at most 2 ulps of the terms.
  std::vector<std::uint16_t> bad = ref.out;
  for (std::size_t i = 0; i < bad.size(); ++i) {
    if ((bad[i] & 0x7F80u) != 0 && (bad[i] & 0x7F80u) != 0x7F80u && (bad[i] & 0x7Fu) < 0x7Du) {
      bad[i] = static_cast<std::uint16_t>(bad[i] + 2);
      break;
    }
  }
  const Accuracy b = check_merge_host(shape, kSeed, 1, 2, bad.data(), ref.lse_out.data());
  EXPECT_FALSE(b.identical());
  EXPECT_GT(b.cond_ulp_max, 0.5);
  EXPECT_LE(b.cond_ulp_max, 3.0);
  EXPECT_EQ(b.lse_differing, 0u);
  // One lse_out off by one bit: counted as an lse_out difference.
  std::vector<float> lse = ref.lse_out;
  for (float& l : lse) {
    if (l > 1.0f) {
      l = std::nextafter(l, 100.0f);
      break;
    }
  }
  const Accuracy c = check_merge_host(shape, kSeed, 1, 2, ref.out.data(), lse.data());
  EXPECT_EQ(c.lse_differing, 1u);
  EXPECT_EQ(c.values_differing, 1u);
  ASSERT_TRUE(c.first.has_value());
  EXPECT_EQ(c.first->element, -1);
}

}  // namespace
}  // namespace dcp::merge
