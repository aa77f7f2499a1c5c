// The direct-store strategies (native-direct: one fused kernel; direct-staged: four launches) on
// one GPU in sim mode (all cp ranks on this GPU, one stream each). Every call uses FRESH inputs
// and poisoned outputs and is checked bit for bit on the device: exchange against the input
// pattern, reduce against the merge routine on the delivered inputs (the CPU reference's bits).
// One implementation object per scheme serves every case, so the workspace, its epochs and its
// flag area persist across calls AND cases, as in a sweep.
//
// What a single GPU cannot show: anything about NVLink ordering (every rank shares one L2).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/hang_report.hpp"
#include "direct_sim_harness.hpp"
#include "kernels/direct_kernel.hpp"
#include "kernels/direct_layout.hpp"
#include "kernels/native_direct.hpp"

namespace dcp::testing {
namespace {

using kernels::DirectOptions;
using kernels::DirectScheme;
using kernels::NativeDirect;

const char* scheme_name(DirectScheme s) {
  return s == DirectScheme::kFused ? "native-direct" : "direct-staged";
}

/// `calls` verified calls with fresh inputs (input sets first, first + 1, ...) over a ring of 2.
void expect_exact(NativeDirect& impl, const Case& c, int calls, std::uint32_t first = 0) {
  SCOPED_TRACE(impl.name() + " " + c.key());
  DirectSim h(impl, c, 2);
  ASSERT_GE(static_cast<std::uint64_t>(calls), impl.min_fresh_calls());
  for (int k = 0; k < calls; ++k) {
    const CallOutcome o =
        h.call(static_cast<std::size_t>(k % 2), first + static_cast<std::uint32_t>(k));
    ASSERT_TRUE(o.exact()) << "call " << k << ": " << o.text();
  }
}

class DirectSchemes : public ::testing::TestWithParam<DirectScheme> {};

/// direct-staged refuses sim at cp > 2 (a stall seen on an H100, 2026-12-05; unsupported_reason).
bool refused_in_sim(DirectScheme scheme, int cp) {
  return scheme == DirectScheme::kStaged && cp > 2;
}

TEST(DirectStaged, SimWithThreeOrMoreRanksIsRefusedWithTheReason) {
  const NativeDirect impl(nullptr, DirectScheme::kStaged);
  const auto why =
      impl.unsupported_reason(direct_case(Op::kReduce, 3, 16, 512, DType::kBf16, LseBase::kTwo));
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("known stall"), std::string::npos) << *why;
  EXPECT_FALSE(
      impl.unsupported_reason(direct_case(Op::kReduce, 2, 16, 512, DType::kBf16, LseBase::kTwo))
          .has_value());
}

TEST_P(DirectSchemes, ReduceIsBitIdenticalToTheReference) {
  NativeDirect impl(nullptr, GetParam());
  for (const int cp : {1, 2, 3, 4, 8}) {
    if (refused_in_sim(GetParam(), cp)) continue;
    // DeepSeek-V3 decode shapes: 16 heads per rank, D = 512, tokens 1, 8, 64, 256.
    for (const std::int64_t tokens : {1, 8, 64, 256}) {
      expect_exact(impl,
                   direct_case(Op::kReduce, cp, tokens * 16, 512, DType::kBf16, LseBase::kTwo), 5);
      if (tokens == 8 || tokens == 64) {
        expect_exact(impl,
                     direct_case(Op::kReduce, cp, tokens * 16, 512, DType::kFp16, LseBase::kE), 5,
                     100);
      }
    }
    // D = 128 (GQA models), both bases; an E that is no multiple of the block size.
    expect_exact(impl, direct_case(Op::kReduce, cp, 8 * 8, 128, DType::kBf16, LseBase::kE), 5);
    expect_exact(impl, direct_case(Op::kReduce, cp, 1000, 128, DType::kFp16, LseBase::kTwo), 5);
  }
}

TEST_P(DirectSchemes, ExchangeIsBitExact) {
  NativeDirect impl(nullptr, GetParam());
  for (const int cp : {1, 2, 3, 4, 8}) {
    if (refused_in_sim(GetParam(), cp)) continue;
    for (const std::int64_t tokens : {1, 8, 64, 256})
      expect_exact(impl, direct_case(Op::kExchange, cp, tokens * 16, 512), 5);
    expect_exact(impl, direct_case(Op::kExchange, cp, 37, 128, DType::kFp16, LseBase::kE, 6), 5);
    expect_exact(impl, direct_case(Op::kExchange, cp, 1024, 128, DType::kBf16, LseBase::kE, 1), 5);
  }
}

TEST_P(DirectSchemes, ManyCallsAlternatingCasesStayExact) {
  // Cases alternate on one workspace: the flag area holds flags of earlier cases' calls, the
  // epochs keep growing; every call still delivers its own inputs.
  NativeDirect impl(nullptr, GetParam());
  for (int round = 0; round < 3; ++round) {
    const auto base = static_cast<std::uint32_t>(round * 100);
    expect_exact(impl, direct_case(Op::kReduce, 4, 1024, 512, DType::kBf16, LseBase::kTwo), 7,
                 base);
    expect_exact(impl, direct_case(Op::kReduce, 4, 16, 512, DType::kBf16, LseBase::kTwo), 5,
                 base + 50);
    expect_exact(impl, direct_case(Op::kExchange, 4, 333, 128), 5, base + 70);
  }
}

TEST_P(DirectSchemes, EmptyCallLaunchesNothing) {
  NativeDirect impl(nullptr, GetParam());
  {
    DirectSim h(impl, direct_case(Op::kReduce, 4, 0, 512), 1);
    impl.run(0);
    h.sync();
    impl.check();
    EXPECT_EQ(impl.min_fresh_calls(), 0u);
  }
  // The epochs did not move: the next case is exact.
  expect_exact(impl, direct_case(Op::kReduce, 4, 64, 512), 5);
}

TEST_P(DirectSchemes, GraphReplaysAreExact) {
  NativeDirect impl(nullptr, GetParam());
  const Case c = direct_case(Op::kReduce, 4, 1024, 512, DType::kBf16, LseBase::kTwo);
  DirectSim h(impl, c, 1);
  // Capture one call of every rank: stream 0 forks to the others and joins them.
  std::vector<cudaEvent_t> events(5);
  for (auto& e : events)
    ASSERT_EQ(cudaEventCreateWithFlags(&e, cudaEventDisableTiming), cudaSuccess);
  cudaGraph_t graph = nullptr;
  ASSERT_EQ(cudaStreamBeginCapture(h.stream(0), cudaStreamCaptureModeThreadLocal), cudaSuccess);
  ASSERT_EQ(cudaEventRecord(events[0], h.stream(0)), cudaSuccess);
  for (int r = 1; r < 4; ++r)
    ASSERT_EQ(cudaStreamWaitEvent(h.stream(r), events[0], 0), cudaSuccess);
  impl.run(0);
  for (int r = 1; r < 4; ++r) {
    ASSERT_EQ(cudaEventRecord(events[static_cast<std::size_t>(r)], h.stream(r)), cudaSuccess);
    ASSERT_EQ(cudaStreamWaitEvent(h.stream(0), events[static_cast<std::size_t>(r)], 0),
              cudaSuccess);
  }
  ASSERT_EQ(cudaStreamEndCapture(h.stream(0), &graph), cudaSuccess);
  cudaGraphExec_t exec = nullptr;
  ASSERT_EQ(cudaGraphInstantiate(&exec, graph, 0), cudaSuccess);
  for (std::uint32_t call = 0; call < 6; ++call) {
    h.prepare(0, call);
    h.sync();
    ASSERT_EQ(cudaGraphLaunch(exec, h.stream(0)), cudaSuccess);
    h.sync();
    h.enqueue_verify(0, call);
    h.sync();
    impl.check();
    const CallOutcome o = h.collect();
    ASSERT_TRUE(o.exact()) << "replay " << call << ": " << o.text();
  }
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
  for (auto& e : events)
    cudaEventDestroy(e);
}

TEST_P(DirectSchemes, SkipLaunchTimesOutNamingPeerAndBlock) {
  NativeDirect impl(nullptr, GetParam());
  const double timeout_s = 1.0;
  const Case c = direct_case(Op::kReduce, 3, 256, 512);
  {
    DirectSim h(impl, c, 1, timeout_s, FaultInjection{FaultKind::kSkipLaunch, 1});
    h.prepare(0, 0);
    const auto t0 = std::chrono::steady_clock::now();
    impl.run(0);
    h.sync();  // must return: every wait is bounded
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_LT(elapsed, timeout_s + 3.0);
    EXPECT_GE(elapsed, timeout_s * 0.9);
    std::string msg;
    try {
      impl.check();
      ADD_FAILURE() << "check() did not throw";
    } catch (const HangError& e) {
      msg = e.what();
      EXPECT_FALSE(e.report().errors.empty());
    }
    std::printf("%s skip-launch: %.3f s, message: %s\n", scheme_name(GetParam()), elapsed,
                msg.c_str());
    EXPECT_NE(msg.find("no flag from peer 1 for block"), std::string::npos) << msg;
    EXPECT_NE(msg.find("within 1 s"), std::string::npos) << msg;
    EXPECT_NE(msg.find("from peer 1:"), std::string::npos) << msg;  // the flag summary
    EXPECT_THROW(impl.run(0), Error);  // refuses until the collective reset
  }
  // setup() resets the workspace; the exchange is exact again.
  expect_exact(impl, c, 5);
}

TEST_P(DirectSchemes, CaseBeyondTheCapacityIsRefused) {
  DirectOptions o;
  // cp 2: direct-staged refuses sim at cp > 2 for another reason (the known stall).
  o.capacity.cases.push_back(ExchangeShape{2, 64, 512, 1, false});
  NativeDirect impl(nullptr, GetParam(), o);
  const Case small = direct_case(Op::kReduce, 2, 64, 512);
  EXPECT_FALSE(impl.unsupported_reason(small).has_value());
  const Case big = direct_case(Op::kReduce, 2, 65, 512);
  const auto why = impl.unsupported_reason(big);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("needs"), std::string::npos) << *why;
  EXPECT_THROW(DirectSim(impl, big, 1), ConfigError);
  {
    DirectSim h(impl, small, 2);
    const auto g = kernels::direct::geometry_for(2, 64, 512, 1);
    EXPECT_EQ(impl.workspace_bytes(), static_cast<std::size_t>(g.segment_bytes()));
    for (int k = 0; k < 5; ++k)
      ASSERT_TRUE(h.call(static_cast<std::size_t>(k % 2), static_cast<std::uint32_t>(k)).exact());
  }
}

INSTANTIATE_TEST_SUITE_P(Schemes, DirectSchemes,
                         ::testing::Values(DirectScheme::kFused, DirectScheme::kStaged),
                         [](const ::testing::TestParamInfo<DirectScheme>& param_info) {
                           return param_info.param == DirectScheme::kFused ? std::string("Fused")
                                                                           : std::string("Staged");
                         });

TEST(DirectStaged, PartsInOrderAreOneCall) {
  NativeDirect impl(nullptr, DirectScheme::kStaged);
  const Case c = direct_case(Op::kReduce, 4, 1024, 512, DType::kBf16, LseBase::kTwo);
  DirectSim h(impl, c, 2);
  const std::vector<std::string> parts = impl.parts();
  ASSERT_EQ(parts, (std::vector<std::string>{"advance", "write", "signal", "wait-merge"}));
  for (std::uint32_t call = 0; call < 5; ++call) {
    const std::size_t slot = call % 2;
    h.prepare(slot, call);
    for (std::size_t p = 0; p < parts.size(); ++p)
      impl.run_part(slot, p);
    h.enqueue_verify(slot, call);
    h.sync();
    impl.check();
    const CallOutcome o = h.collect();
    ASSERT_TRUE(o.exact()) << "call " << call << ": " << o.text();
  }
}

TEST(DirectKernels, ResourcesAreReported) {
  // Registers and spills of the kernels (reported in docs/perf/fused-direct.md).
  const std::string r = kernels::direct_kernel_resources();
  std::printf("%s\n", r.c_str());
  EXPECT_NE(r.find("registers"), std::string::npos);
}

}  // namespace
}  // namespace dcp::testing
