// The native reduce strategies in sim mode (cp ranks on one GPU), bit-for-bit against the CPU
// reference (merge/reference.hpp) with fresh inputs on every call and poisoned outputs:
//  - `native` for --op reduce (NativeStrategy: LL128 exchange of partial_o and the S = 1 LSE into
//    a receive buffer, then the merge kernel), whole calls and its two parts in order;
//  - `native-fused` (NativeFused: exchange and merge in one kernel);
// over cp 1, 2, 3, 4, 8, DeepSeek-V3 shapes (D 512, 16 or 128/cp heads per rank, tokens 1..8)
// and a D 128 model, bf16 and fp16, LSE base e and 2, at least min_fresh_calls() calls (every
// FIFO slot rewritten twice), graph capture and replay, PDL off, and a skipped rank timing out
// with its name. One GPU shares one L2: this shows the index math, the sequence numbers, the
// flow control across calls and the merge's bits, not the ordering of a real NVLink path.
// Exits 77 without a GPU (tests/gpu/gpu_test_main.cpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "bench/timing.hpp"
#include "core/error.hpp"
#include "kernels/native_fused.hpp"
#include "kernels/native_strategy.hpp"
#include "reduce_sim_harness.hpp"

namespace dcp::testing {
namespace {

using kernels::NativeFused;
using kernels::NativeStrategy;

std::string text(const Case& c) {
  return "cp=" + std::to_string(c.cp_size) + " tokens=" + std::to_string(c.tokens.value_or(0)) +
         " heads=" + std::to_string(c.heads.value_or(0)) + " D=" + std::to_string(c.head_dim) +
         (c.dtype == DType::kFp16 ? " fp16" : " bf16") +
         (c.lse_base == LseBase::kTwo ? " lse=2" : " lse=e") +
         (c.pdl.value_or(true) ? "" : " nopdl");
}

/// At least `min_calls` and min_fresh_calls() verified calls over a ring of 2 slots.
void expect_exact(AllToAllImpl& impl, const Case& c, int min_calls) {
  SCOPED_TRACE(impl.name() + " " + text(c));
  ReduceSimHarness h(impl, c, 2);
  const auto calls =
      std::max<std::uint64_t>(static_cast<std::uint64_t>(min_calls), impl.min_fresh_calls());
  for (std::uint64_t k = 0; k < calls; ++k) {
    const ReduceCheck r = h.call(k % 2, static_cast<std::uint32_t>(k));
    ASSERT_TRUE(r.ok()) << r.differing << " of " << r.elements << " differ; first: " << r.first;
  }
}

/// The shapes of the issue: DeepSeek-V3 (MLA, D 512) with 16 heads per rank (TP 8) and with
/// 128 / cp heads (TP = cp), tokens 1 and 8, and a GQA model with D 128 and 8 heads per rank.
std::vector<Case> model_cases(int cp) {
  std::vector<Case> out;
  int k = 0;
  for (int heads : {16, 128 / cp}) {
    for (std::int64_t tokens : {1, 8}) {
      const DType t = k % 2 == 0 ? DType::kBf16 : DType::kFp16;
      const LseBase b = (k / 2) % 2 == 0 ? LseBase::kE : LseBase::kTwo;
      out.push_back(reduce_case(cp, tokens, heads, 512, t, b));
      ++k;
    }
  }
  out.push_back(reduce_case(cp, 8, 8, 128, DType::kFp16, LseBase::kE));
  out.push_back(reduce_case(cp, 3, 8, 128, DType::kBf16, LseBase::kTwo));
  return out;
}

TEST(NativeReduce, BitIdenticalAtModelShapes) {
  NativeStrategy impl(nullptr);
  for (int cp : {1, 2, 3, 4, 8}) {
    for (const Case& c : model_cases(cp)) {
      expect_exact(impl, c, 3);
      if (::testing::Test::HasFailure()) return;
    }
  }
}

TEST(NativeReduce, PartsInOrderAreOneCall) {
  NativeStrategy impl(nullptr);
  const Case c = reduce_case(4, 8, 16, 512, DType::kBf16, LseBase::kTwo);
  ReduceSimHarness h(impl, c, 1);
  ASSERT_EQ(impl.parts(), (std::vector<std::string>{"exchange", "merge"}));
  for (std::uint32_t k = 0; k < 6; ++k) {
    h.prepare(0, 100 + k);
    impl.run_part(0, 0);
    impl.run_part(0, 1);
    h.sync();
    impl.check();
    const ReduceCheck r = h.compare(0, 100 + k);
    ASSERT_TRUE(r.ok()) << r.first;
  }
  // The exchange part alone leaves the poisoned outputs: the comparison can fail.
  h.prepare(0, 200);
  impl.run_part(0, 0);
  h.sync();
  impl.check();
  EXPECT_FALSE(h.compare(0, 200).ok());
}

TEST(NativeFusedReduce, BitIdenticalAtModelShapes) {
  NativeFused impl(nullptr);
  for (int cp : {1, 2, 3, 4, 8}) {
    for (const Case& c : model_cases(cp)) {
      if (auto why = impl.unsupported_reason(c)) {
        ADD_FAILURE() << text(c) << " refused: " << *why;
        continue;
      }
      expect_exact(impl, c, 3);
      if (::testing::Test::HasFailure()) return;
    }
  }
}

TEST(NativeFusedReduce, PdlOffIsExactToo) {
  NativeFused impl(nullptr);
  for (int cp : {2, 8}) {
    expect_exact(impl, reduce_case(cp, 8, 16, 512, DType::kBf16, LseBase::kE, false), 3);
    expect_exact(impl, reduce_case(cp, 1, 8, 128, DType::kFp16, LseBase::kTwo, false), 3);
  }
}

TEST(NativeFusedReduce, BothStrategiesAlternateOnTheirOwnWorkspaces) {
  // Cases of different shapes one after the other: counters persist across cases (no reset).
  NativeFused fused(nullptr);
  NativeStrategy native(nullptr);
  for (int round = 0; round < 2; ++round) {
    expect_exact(fused, reduce_case(4, 1, 16, 512), 2);
    expect_exact(native, reduce_case(4, 8, 16, 512, DType::kFp16, LseBase::kTwo), 2);
    expect_exact(fused, reduce_case(4, 8, 32, 512, DType::kFp16), 2);
    expect_exact(fused, reduce_case(4, 2, 8, 128, DType::kBf16, LseBase::kTwo), 2);
  }
}

/// Graph-captured calls (ring of kCalls slots, fresh inputs in every slot before each replay).
void expect_exact_in_graph(AllToAllImpl& impl, const Case& c) {
  SCOPED_TRACE(impl.name() + " graph " + text(c));
  constexpr int kCalls = 8;
  ReduceSimHarness h(impl, c, kCalls);
  const auto streams = h.streams();
  bench::GraphRunner graph([&](std::size_t slot) { impl.run(slot); }, streams, kCalls, kCalls);
  for (std::uint32_t replay = 0; replay < 4; ++replay) {
    for (int k = 0; k < kCalls; ++k)
      h.prepare(static_cast<std::size_t>(k), replay * kCalls + static_cast<std::uint32_t>(k));
    graph.launch();
    h.sync();
    impl.check();
    for (int k = 0; k < kCalls; ++k) {
      const ReduceCheck r =
          h.compare(static_cast<std::size_t>(k), replay * kCalls + static_cast<std::uint32_t>(k));
      ASSERT_TRUE(r.ok()) << "replay " << replay << " slot " << k << ": " << r.first;
    }
  }
  // Eager calls after the replays continue the same sequence numbers.
  for (std::uint32_t k = 0; k < 3; ++k)
    ASSERT_TRUE(h.call(0, 1000 + k).ok());
}

TEST(NativeReduce, GraphCaptureAndReplay) {
  NativeStrategy impl(nullptr);
  expect_exact_in_graph(impl, reduce_case(4, 8, 16, 512));
  expect_exact_in_graph(impl, reduce_case(8, 1, 16, 512, DType::kFp16, LseBase::kTwo));
}

TEST(NativeFusedReduce, GraphCaptureAndReplay) {
  NativeFused impl(nullptr);
  expect_exact_in_graph(impl, reduce_case(4, 8, 16, 512));
  expect_exact_in_graph(impl, reduce_case(8, 1, 16, 512, DType::kFp16, LseBase::kTwo));
  expect_exact_in_graph(impl, reduce_case(2, 8, 64, 512, DType::kBf16, LseBase::kE));
}

TEST(NativeFusedReduce, SkippedRankTimesOutNamingIt) {
  NativeFused impl(nullptr);
  const double timeout_s = 1.0;
  ReduceSimHarness h(impl, reduce_case(3, 1, 16, 512), 1, timeout_s,
                     FaultInjection{FaultKind::kSkipLaunch, 1});
  h.prepare(0, 0);
  const auto t0 = std::chrono::steady_clock::now();
  impl.run(0);
  h.sync();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  try {
    impl.check();
    FAIL() << "expected a timeout";
  } catch (const TimeoutError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("peer 1"), std::string::npos) << msg;
  }
  EXPECT_LT(elapsed, 30.0);
}

TEST(NativeFusedReduce, RefusesWhatItCannotRunWithOneLine) {
  NativeFused impl(nullptr);
  Case x = reduce_case(2, 1, 16, 512);
  x.op = Op::kExchange;
  x.stats_dim = 2;
  ASSERT_TRUE(impl.unsupported_reason(x).has_value());
  // 256 tokens x 16 heads at D 512 does not fit the LL128 FIFOs per CTA: refused, with a reason.
  const auto big = impl.unsupported_reason(reduce_case(8, 256, 16, 512));
  ASSERT_TRUE(big.has_value());
  EXPECT_EQ(big->find('\n'), std::string::npos) << *big;
}

}  // namespace
}  // namespace dcp::testing
