// The fused LL128 exchange+merge kernel's data path on the CPU (fused_reduce_model.hpp): for the
// reduce shapes of DeepSeek-V3 (D 512, 16 or 128/cp heads) and a D 128 model, both dtypes and LSE
// bases, cp 1..8 and several calls, every line the kernel's lane functions assemble equals the
// reference packer's, lands in its own FIFO line, and the staged merge is bit-identical to the
// CPU reference (merge/reference.hpp). Concurrency is the GPU test's (native_reduce_test).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/fused_plan.hpp"
#include "kernels/fused_reduce_layout.hpp"
#include "kernels/fused_reduce_model.hpp"
#include "merge/reference.hpp"

namespace dcp::kernels::fused {
namespace {

/// The plan native-fused asks for in sim mode on an H100 (132 SMs, 3 CTAs per SM, cp grids x 2
/// with PDL, 54 KiB of staging).
FusedPlan plan_for(int cp, std::int64_t entries, int d) {
  PlanRequest r;
  r.transport = Transport::kLl128;
  r.shape = ExchangeShape{cp, entries, d, 1, false};
  r.sm_count = 132;
  r.ctas_per_sm = 3;
  r.local_grids = 2 * cp;
  r.warps_per_cta = kDefaultWarpsPerCta;
  r.stage_rows = true;
  r.smem_limit_bytes = 54 * 1024;
  r.max_channels = ll128::max_channels_for(cp);
  r.fifo_lines = ll128::kDefaultDepth * ll128::kDefaultSlotLines;
  const PlanOutcome out = make_fused_plan(r);
  EXPECT_TRUE(out.plan.has_value()) << out.problem;
  return out.plan.value_or(FusedPlan{});
}

void expect_same(const merge::MergeOutputs& got, const merge::MergeOutputs& want,
                 const std::string& what) {
  ASSERT_EQ(got.out.size(), want.out.size()) << what;
  ASSERT_EQ(got.lse_out.size(), want.lse_out.size()) << what;
  for (std::size_t i = 0; i < got.out.size(); ++i)
    ASSERT_EQ(got.out[i], want.out[i]) << what << " element " << i;
  for (std::size_t i = 0; i < got.lse_out.size(); ++i) {
    std::uint32_t a = 0;
    std::uint32_t b = 0;
    std::memcpy(&a, &got.lse_out[i], 4);
    std::memcpy(&b, &want.lse_out[i], 4);
    ASSERT_EQ(a, b) << what << " lse_out " << i;
  }
}

TEST(FusedReduceModel, BitIdenticalToTheReferenceAtModelShapes) {
  struct Shape {
    int tokens;
    int heads;  // 0: 128 / cp (DeepSeek-V3 at TP = cp)
    int d;
  };
  const std::vector<Shape> shapes = {{1, 16, 512}, {8, 16, 512}, {1, 0, 512},
                                     {3, 0, 512},  {1, 8, 128},  {8, 8, 128}};
  for (int cp : {1, 2, 3, 4, 8}) {
    const ll128::Geometry g = ll128::default_geometry(cp);
    for (const Shape& sh : shapes) {
      const int heads = sh.heads > 0 ? sh.heads : 128 / cp;
      const std::int64_t e = std::int64_t{sh.tokens} * heads;
      const FusedPlan plan = plan_for(cp, e, sh.d);
      if (plan.ctas == 0) continue;  // refused (reported by plan_for's expectation)
      // Both dtypes and both bases, in two combinations (each combination is a separate path
      // only in the merge routine, which tests/unit/merge covers in full).
      for (bool fp16 : {false, true}) {
        for (merge::LseBase base : {fp16 ? merge::LseBase::kTwo : merge::LseBase::kE}) {
          const merge::MergeShape ms{cp, e, sh.d, fp16, base};
          for (std::uint32_t call = 0; call < 2; ++call) {
            for (int dst = call == 0 ? 0 : cp - 1; dst < cp; ++dst) {
              const std::string what = "cp=" + std::to_string(cp) + " E=" + std::to_string(e) +
                                       " D=" + std::to_string(sh.d) + (fp16 ? " fp16" : " bf16") +
                                       " call " + std::to_string(call) + " dst " +
                                       std::to_string(dst);
              // Sequence numbers far from 0, as after many calls.
              const merge::MergeOutputs got =
                  model_fused_reduce(plan, ms, g, 0xF05ED, call, dst, 1000003 + call);
              expect_same(got, merge::reference_merge(ms, 0xF05ED, call, dst), what);
            }
          }
        }
      }
    }
  }
}

TEST(FusedReduceModel, TheComparisonSeesAWrongDestination) {
  // Control: the model's output for one destination is not another destination's reference.
  const int cp = 4;
  const FusedPlan plan = plan_for(cp, 16, 512);
  const merge::MergeShape ms{cp, 16, 512, false, merge::LseBase::kE};
  const merge::MergeOutputs got =
      model_fused_reduce(plan, ms, ll128::default_geometry(cp), 7, 0, 1, 0);
  EXPECT_NE(got.out, merge::reference_merge(ms, 7, 0, 2).out);
  EXPECT_NE(got.out, merge::reference_merge(ms, 7, 1, 1).out);  // another call's inputs
}

TEST(FusedReduceModel, StagingLayoutIsAlignedAndDisjoint) {
  for (int cp : {1, 2, 3, 8, 64}) {
    for (std::uint32_t n : {1u, 2u, 5u, 14u}) {
      for (std::uint32_t r : {2u, 32u, 128u}) {
        const StageLayout s = stage_layout(cp, n, r);
        const auto c = static_cast<std::uint32_t>(cp);
        EXPECT_EQ(s.rows, 0u);
        EXPECT_GE(s.lse, c * n * r * 8);
        EXPECT_GE(s.scale, s.lse + c * n * 4);
        EXPECT_GE(s.live, s.scale + c * n * 4);
        EXPECT_GE(s.bytes, s.live + n * 8);
        EXPECT_EQ(s.lse % 16, 0u);
        EXPECT_EQ(s.scale % 16, 0u);
        EXPECT_EQ(s.live % 16, 0u);
        EXPECT_EQ(s.bytes % 16, 0u);
      }
    }
  }
}

TEST(FusedReduceModel, StreamsFitTheFifoAndItemsStayInOneSlot) {
  // One call's stream of a CTA fits its FIFO (so a sender never waits on its own call), and an
  // item of 4 lines never straddles two slots (slot_lines is a multiple of 4).
  static_assert(ll128::kDefaultSlotLines % kLinesPerItem == 0);
  for (int cp : {1, 2, 4, 8}) {
    const ll128::Geometry g = ll128::default_geometry(cp);
    for (std::int64_t e : {1, 16, 64, 128 / cp * 8}) {
      const FusedPlan plan = plan_for(cp, e, 512);
      for (int c = 0; c < plan.ctas; ++c) {
        const StreamShape st = ll128_stream(plan, c);
        EXPECT_LE(stream_slots(st.lines, g.slot_lines), static_cast<std::uint32_t>(g.depth));
        EXPECT_TRUE(ll128::single_warp_allowed(stream_slots(st.lines, g.slot_lines), g.depth));
      }
    }
  }
}

}  // namespace
}  // namespace dcp::kernels::fused
