// The native fused LL128 exchange on one GPU (sim mode: all cp ranks on this GPU, one stream
// each). Every exchange uses FRESH inputs and poisoned outputs and is checked bit-exactly.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bench/timing.hpp"
#include "core/error.hpp"
#include "core/hang_report.hpp"
#include "core/verify.hpp"
#include "kernels/fused_alltoall.hpp"
#include "kernels/ll128_layout.hpp"
#include "kernels/ll128_reference.hpp"
#include "kernels/native_alltoall.hpp"
#include "native_sim_harness.hpp"

namespace dcp::testing {
namespace {

namespace ll = kernels::ll128;
using kernels::NativeAllToAll;
using kernels::NativeOptions;

std::string describe(const Case& c) {
  return c.key();
}

std::vector<std::uint64_t> copy_segment(const NativeAllToAll& impl, int rank) {
  const fabric::Workspace* ws = impl.workspace();
  std::vector<std::uint64_t> out(ws->segment_bytes() / 8);
  DCP_CUDA_CHECK(cudaMemcpy(out.data(), ws->segment(rank), out.size() * 8, cudaMemcpyDeviceToHost));
  return out;
}

TEST(NativeExchange, DevicePackingMatchesTheHostReference) {
  // Small FIFOs and forced channels so that streams span several slots; the inputs are made on
  // the host and copied, and afterwards every line in every receiver's FIFO must equal the
  // reference packer's bytes (payload, zero padding and the flag in word 15 of every line).
  NativeOptions o;
  o.geometry = ll::Geometry{0, 2, 2, 2};
  o.target_lines_per_warp = 2;
  NativeAllToAll impl(nullptr, o);
  const Case c = sim_case(3, 5, 40, 6);
  SimHarness h(impl, c, 1);
  const ExchangeShape s = h.shape();
  const int channels = impl.params(0).channels;
  ASSERT_EQ(channels, 2);

  std::vector<std::vector<std::uint16_t>> in_o(3);
  std::vector<std::vector<std::uint32_t>> in_st(3);
  for (int r = 0; r < 3; ++r) {
    auto& o16 = in_o[static_cast<std::size_t>(r)];
    auto& st = in_st[static_cast<std::size_t>(r)];
    o16.resize(static_cast<std::size_t>(s.rows() * s.head_dim));
    st.resize(static_cast<std::size_t>(s.rows() * s.stats_dim));
    std::vector<std::uint16_t> out_o(o16.size());
    std::vector<std::uint32_t> out_st(st.size());
    fill_inputs_host(s, 5, 0, r, o16.data(), st.data());
    poison_outputs_host(s, out_o.data(), out_st.data());
    const RankBuffers& b = h.buffers(0, r);
    DCP_CUDA_CHECK(
        cudaMemcpy(const_cast<void*>(b.in_o), o16.data(), o16.size() * 2, cudaMemcpyHostToDevice));
    DCP_CUDA_CHECK(cudaMemcpy(const_cast<void*>(b.in_stats), st.data(), st.size() * 4,
                              cudaMemcpyHostToDevice));
    DCP_CUDA_CHECK(cudaMemcpy(b.out_o, out_o.data(), out_o.size() * 2, cudaMemcpyHostToDevice));
    DCP_CUDA_CHECK(
        cudaMemcpy(b.out_stats, out_st.data(), out_st.size() * 4, cudaMemcpyHostToDevice));
  }
  impl.run(0);
  h.sync();
  impl.check();

  const ll::Geometry g = impl.params(0).geometry;
  int lines_checked = 0;
  for (int dst = 0; dst < 3; ++dst) {
    const auto seg = copy_segment(impl, dst);
    for (int src = 0; src < 3; ++src) {
      for (int ch = 0; ch < channels; ++ch) {
        const auto payload =
            ll::gather_stream(s, channels, ch, dst, in_o[static_cast<std::size_t>(src)].data(),
                              in_st[static_cast<std::size_t>(src)].data());
        const ll::StreamGeometry sg = ll::stream_geometry(s, channels, ch, g.slot_lines);
        const auto lines =
            ll::pack_stream(payload, 0, g.slot_lines, sg.first_line, kernels::kNativeLayout);
        ASSERT_EQ(lines.size(), sg.lines);
        ASSERT_LE(sg.slots, static_cast<std::uint32_t>(g.depth));  // all still in the FIFO
        for (std::size_t l = 0; l < lines.size(); ++l) {
          const std::uint64_t seq = l / static_cast<std::size_t>(g.slot_lines);
          const std::int64_t off =
              g.line_offset(src, ch, seq, static_cast<int>(l % g.slot_lines)) / 8;
          ASSERT_EQ(std::memcmp(&seg[static_cast<std::size_t>(off)], lines[l].data(), 128), 0)
              << "dst " << dst << " src " << src << " channel " << ch << " line " << l;
          ++lines_checked;
        }
        // Counters: both sides advanced by the stream's slots.
        const std::int64_t rec = g.counter_offset(src, ch) / 8;
        EXPECT_EQ(seg[static_cast<std::size_t>(rec + ll::kTailWord)], sg.slots);
      }
    }
    // The outputs are right too.
    std::vector<std::uint16_t> out_o(in_o[0].size());
    std::vector<std::uint32_t> out_st(in_st[0].size());
    const RankBuffers& b = h.buffers(0, dst);
    DCP_CUDA_CHECK(cudaMemcpy(out_o.data(), b.out_o, out_o.size() * 2, cudaMemcpyDeviceToHost));
    DCP_CUDA_CHECK(
        cudaMemcpy(out_st.data(), b.out_stats, out_st.size() * 4, cudaMemcpyDeviceToHost));
    const VerifyOutcome v = verify_outputs_host(s, 5, 0, dst, out_o.data(), out_st.data());
    EXPECT_TRUE(v.ok()) << v.summary();
  }
  EXPECT_EQ(lines_checked, 3 * 3 * 5);  // 65 words = 5 lines per pair: 3 + 2 on 2 channels
}

/// Runs `calls` verified exchanges with fresh inputs and asserts every one is exact.
void expect_exact(NativeAllToAll& impl, const Case& c, int calls, int ring = 2) {
  SCOPED_TRACE(describe(c) + " | " + std::to_string(calls) + " calls");
  SimHarness h(impl, c, ring);
  SCOPED_TRACE(impl.detail());
  for (int k = 0; k < calls; ++k) {
    const VerifyOutcome v =
        h.exchange(static_cast<std::size_t>(k % ring), static_cast<std::uint32_t>(k));
    ASSERT_TRUE(v.ok()) << "call " << k << ": " << v.summary();
    ASSERT_EQ(v.rows_checked, static_cast<std::uint64_t>(c.batch * c.cp_size * c.cp_size));
  }
}

TEST(NativeExchange, SimExchangeIsBitExactOverAGrid) {
  // One impl for the whole grid: the cached workspace of each cp serves every shape in turn, so
  // this also checks that counters stay in step across cases without re-initialisation.
  NativeAllToAll impl(nullptr);
  struct Row {
    int d, s;
    DType t;
  };
  const Row rows[] = {
      {128, 2, DType::kBf16}, {512, 6, DType::kFp16}, {8, 2, DType::kBf16}, {576, 2, DType::kBf16}};
  for (int cp : {1, 2, 3, 4, 8, 16}) {
    for (std::int64_t e : {1, 7, 64, 300}) {
      for (const Row& r : rows) {
        expect_exact(impl, sim_case(cp, e, r.d, r.s, r.t), 3);
        if (::testing::Test::HasFailure()) return;  // one failing case is enough
      }
    }
  }
}

TEST(NativeExchange, BothWarpModesAreExact) {
  // Every shape with a sender and a receiver warp per (peer, channel), and with one warp doing
  // both wherever that is deadlock-free (the automatic choice mixes them by shape).
  for (const kernels::WarpMode mode : {kernels::WarpMode::kSplit, kernels::WarpMode::kSingle}) {
    SCOPED_TRACE(mode == kernels::WarpMode::kSplit ? "split roles" : "single warp");
    NativeOptions o;
    o.warps = mode;
    NativeAllToAll impl(nullptr, o);
    for (int cp : {1, 2, 4, 8}) {
      for (std::int64_t e : {1, 7, 128}) {
        expect_exact(impl, sim_case(cp, e, 128, 2), 2);
        expect_exact(impl, sim_case(cp, e, 512, 6, DType::kFp16), 2);
        if (::testing::Test::HasFailure()) return;
      }
    }
    EXPECT_EQ(impl.plan(sim_case(2, 128, 512, 2), 2).single_warp,
              mode == kernels::WarpMode::kSingle);
  }
  NativeOptions single;
  single.warps = kernels::WarpMode::kSingle;
  EXPECT_FALSE(NativeAllToAll(nullptr, single).plan(sim_case(2, 8192, 512, 2), 2).single_warp)
      << "more slots per call than the FIFO is deep: separate roles";
}

/// Graph-captured calls with fresh inputs per call (fill, poison, exchange, verify captured per
/// call and rank); `graphs` graphs with different input sets are replayed in turn, so that
/// consecutive exchanges overlap through PDL exactly as in the timing loops.
void expect_exact_in_graphs(NativeAllToAll& impl, const Case& c, int calls, int graphs,
                            int replays) {
  SCOPED_TRACE(describe(c));
  SimHarness h(impl, c, calls);
  SCOPED_TRACE(impl.detail());
  const auto streams = h.streams();
  std::uint32_t base = 0;
  auto enqueue = [&](std::size_t slot) {
    const std::uint32_t call = base + static_cast<std::uint32_t>(slot);
    h.prepare(slot, call);
    impl.run(slot);
    h.enqueue_verify(slot, call);
  };
  std::vector<std::unique_ptr<bench::GraphRunner>> runners;
  for (int g = 0; g < graphs; ++g) {
    base = 100u + static_cast<std::uint32_t>(g * calls);
    runners.push_back(std::make_unique<bench::GraphRunner>(enqueue, streams, calls, calls));
  }
  for (int r = 0; r < replays; ++r)
    runners[static_cast<std::size_t>(r % graphs)]->launch();
  h.sync();
  impl.check();
  const VerifyOutcome v = h.collect();
  EXPECT_TRUE(v.ok()) << v.summary();
  EXPECT_EQ(v.rows_checked,
            static_cast<std::uint64_t>(c.batch * c.cp_size * c.cp_size * calls * replays));
}

TEST(NativeExchange, GraphStressWithFreshInputs) {
  NativeAllToAll impl(nullptr);
  expect_exact_in_graphs(impl, sim_case(2, 1, 128, 2), 16, 3, 30);
  expect_exact_in_graphs(impl, sim_case(2, 128, 512, 2), 16, 3, 10);
  expect_exact_in_graphs(impl, sim_case(4, 128, 512, 4), 16, 3, 10);
  expect_exact_in_graphs(impl, sim_case(4, 1024, 512, 4), 8, 2, 4);  // split roles
  // Tiny FIFOs: 2 slots of 4 lines. E=12 at cp=3 on 3 channels is 6 lines = 2 slots = depth per
  // channel: one warp sends both slots and then receives, with the next call overlapping.
  NativeOptions o;
  o.geometry = ll::Geometry{0, 3, 2, 4};
  o.warps = kernels::WarpMode::kSingle;
  NativeAllToAll tiny(nullptr, o);
  ASSERT_TRUE(tiny.plan(sim_case(3, 12, 64, 6), 3).single_warp);
  expect_exact_in_graphs(tiny, sim_case(3, 12, 64, 6), 16, 3, 20);
  expect_exact_in_graphs(tiny, sim_case(3, 50, 64, 6), 16, 2, 10);  // split roles
  o.warps = kernels::WarpMode::kAuto;
  NativeAllToAll tiny_auto(nullptr, o);
  expect_exact_in_graphs(tiny_auto, sim_case(3, 12, 64, 6), 16, 3, 20);
}

TEST(NativeExchange, FlowControlAtLargeBatches) {
  // Per (pair, channel) many more slots than the FIFO is deep.
  NativeAllToAll impl(nullptr);
  expect_exact(impl, sim_case(4, 4096, 512, 2), 3);
  expect_exact(impl, sim_case(8, 2048, 512, 6, DType::kFp16), 3);
  expect_exact(impl, sim_case(2, 8192, 128, 2), 3);
}

TEST(NativeExchange, TinyFifosWrapManyTimesPerCall) {
  NativeOptions o;
  o.geometry = ll::Geometry{0, 3, 2, 4};  // 2 slots of 4 lines
  NativeAllToAll impl(nullptr, o);
  for (int cp : {2, 3, 5}) {
    expect_exact(impl, sim_case(cp, 50, 64, 6), 5);
    expect_exact(impl, sim_case(cp, 1, 8, 2), 5);
    if (::testing::Test::HasFailure()) return;
  }
}

TEST(NativeExchange, SingleRankIsTheIdentity) {
  // cp = 1: the rank sends to itself through its own FIFO (one grid: also the case run under
  // compute-sanitizer, which may serialise the grids of several ranks). Tiny FIFOs force flow
  // control and slot reuse on the loopback pair.
  NativeAllToAll plain(nullptr);
  expect_exact(plain, sim_case(1, 16, 128, 2), 3);
  expect_exact(plain, sim_case(1, 300, 512, 6, DType::kFp16), 3);
  NativeOptions o;
  o.geometry = ll::Geometry{0, 3, 2, 4};
  NativeAllToAll tiny(nullptr, o);
  expect_exact(tiny, sim_case(1, 50, 64, 6), 4);
  expect_exact(tiny, sim_case(1, 1, 8, 2), 4);
}

TEST(NativeExchange, RepeatedCallsWithoutReinit) {
  NativeAllToAll impl(nullptr);
  const Case c = sim_case(4, 64, 128, 2);
  expect_exact(impl, c, 200, 3);
  // Counters advanced by exactly 200 x slots on every pair and channel that has entries.
  const ll::Geometry g = ll::default_geometry(4);
  const int channels = impl.plan(c, 4).channels;
  ASSERT_GE(channels, 2);
  for (int r = 0; r < 4; ++r) {
    const auto seg = copy_segment(impl, r);
    for (int peer = 0; peer < 4; ++peer) {
      for (int ch = 0; ch < g.max_channels; ++ch) {
        const std::uint64_t want =
            ch < channels ? 200u * ll::stream_geometry(c.shape(), channels, ch, g.slot_lines).slots
                          : 0u;
        const auto rec = static_cast<std::size_t>(g.counter_offset(peer, ch) / 8);
        EXPECT_EQ(seg[rec + ll::kHeadWord], want);
        EXPECT_EQ(seg[rec + ll::kTailWord], want);
        EXPECT_EQ(seg[rec + ll::kCreditWord], want);
      }
    }
  }
}

TEST(NativeExchange, PdlOffIsExactToo) {
  NativeAllToAll impl(nullptr);
  for (int cp : {1, 2, 4, 8}) {
    expect_exact(impl, sim_case(cp, 16, 128, 2, DType::kBf16, false), 4);
    expect_exact(impl, sim_case(cp, 300, 512, 6, DType::kFp16, false), 2);
    if (::testing::Test::HasFailure()) return;
  }
}

TEST(NativeExchange, GraphCaptureAndReplayAcrossRankStreams) {
  for (bool pdl : {true, false}) {
    SCOPED_TRACE(pdl ? "pdl on" : "pdl off");
    NativeAllToAll impl(nullptr);
    const Case c = sim_case(4, 32, 256, 6, DType::kBf16, pdl);
    constexpr int kCalls = 8;
    SimHarness h(impl, c, kCalls);
    const auto streams = h.streams();
    bench::GraphRunner graph([&](std::size_t slot) { impl.run(slot); }, streams, kCalls, kCalls);
    for (std::uint32_t replay = 0; replay < 5; ++replay) {
      for (int k = 0; k < kCalls; ++k)
        h.prepare(static_cast<std::size_t>(k), replay * kCalls + static_cast<std::uint32_t>(k));
      graph.launch();
      for (int k = 0; k < kCalls; ++k)
        h.enqueue_verify(static_cast<std::size_t>(k),
                         replay * kCalls + static_cast<std::uint32_t>(k));
      h.sync();
      impl.check();
      const VerifyOutcome v = h.collect();
      ASSERT_TRUE(v.ok()) << "replay " << replay << ": " << v.summary();
      ASSERT_EQ(v.calls_checked, static_cast<std::uint64_t>(kCalls * 4));
    }
    // Eager calls after the replays continue the same sequence numbers.
    for (int k = 0; k < 3; ++k)
      ASSERT_TRUE(h.exchange(0, 1000 + static_cast<std::uint32_t>(k)).ok());
  }
}

TEST(NativeExchange, SkipLaunchTimesOutNamingThePeer) {
  NativeAllToAll impl(nullptr);
  const double timeout_s = 1.0;
  {
    SimHarness h(impl, sim_case(3, 16, 128, 2), 1, timeout_s,
                 FaultInjection{FaultKind::kSkipLaunch, 1});
    h.prepare(0, 0);
    const auto t0 = std::chrono::steady_clock::now();
    impl.run(0);
    h.sync();
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_LT(elapsed, timeout_s + 2.0);
    EXPECT_GE(elapsed, timeout_s * 0.9);
    std::string msg;
    try {
      impl.check();
      ADD_FAILURE() << "check() did not throw";
    } catch (const TimeoutError& e) {
      msg = e.what();
    }
    std::printf("skip-launch: %.3f s, message: %s\n", elapsed, msg.c_str());
    EXPECT_NE(msg.find("no data from peer 1"), std::string::npos) << msg;
    EXPECT_NE(msg.find("within 1 s"), std::string::npos) << msg;
    // Refuses to run until the collective reset.
    EXPECT_THROW(impl.run(0), Error);
  }
  // setup() resets the workspace; the exchange is exact again.
  expect_exact(impl, sim_case(3, 16, 128, 2), 3);
}

TEST(NativeExchange, SkipLaunchWithFlowControlTimesOut) {
  // The peers' senders block on credit (payload >> FIFO) and their receivers starve: both waits
  // are bounded and the error names rank 0.
  NativeAllToAll impl(nullptr);
  const double timeout_s = 0.5;
  {
    SimHarness h(impl, sim_case(2, 4096, 512, 2), 1, timeout_s,
                 FaultInjection{FaultKind::kSkipLaunch, 0});
    h.prepare(0, 0);
    const auto t0 = std::chrono::steady_clock::now();
    impl.run(0);
    h.sync();
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_LT(elapsed, timeout_s + 2.0);
    try {
      impl.check();
      ADD_FAILURE() << "check() did not throw";
    } catch (const TimeoutError& e) {
      EXPECT_NE(std::string(e.what()).find("peer 0"), std::string::npos) << e.what();
      std::printf("skip-launch with flow control: %.3f s, message: %s\n", elapsed, e.what());
    }
  }
  expect_exact(impl, sim_case(2, 4096, 512, 2), 2);
}

TEST(NativeExchange, SkipLaunchDumpNamesTheSkippedPeer) {
  // Hang forensics (issue 17.3): after the device timeout, check() reads every local rank's FIFO
  // state from device memory. Rank 1 never launches: every channel of ranks 0 and 2 that is not
  // idle is one with peer 1 and shows nothing new from it, and rank 1's own FIFOs hold slots
  // that arrived and were never consumed.
  NativeAllToAll impl(nullptr);
  const Case c = sim_case(3, 64, 128, 2);
  {
    SimHarness h(impl, c, 1, 1.0, FaultInjection{FaultKind::kSkipLaunch, 1});
    h.prepare(0, 0);
    impl.run(0);
    h.sync();
    try {
      impl.check();
      ADD_FAILURE() << "check() did not throw";
    } catch (const HangError& e) {
      std::printf("%s\n", e.what());
      const HangReport& r = e.report();
      EXPECT_EQ(r.ranks, 3);
      EXPECT_FALSE(r.errors.empty());
      bool waits_on_1[3] = {false, false, false};
      bool unconsumed_at_1 = false;
      for (const HangChannel& ch : r.channels) {
        if (ch.rank == 1) {
          unconsumed_at_1 |= ch.arrived > ch.consumed;
          continue;
        }
        EXPECT_EQ(ch.peer, 1) << "rank " << ch.rank << " channel " << ch.channel;
        EXPECT_LE(ch.arrived, ch.consumed) << "nothing can have arrived from the skipped rank";
        waits_on_1[ch.rank] = true;
      }
      EXPECT_TRUE(waits_on_1[0]);
      EXPECT_TRUE(waits_on_1[2]);
      EXPECT_TRUE(unconsumed_at_1);
      const std::string msg = e.what();
      EXPECT_NE(msg.find("no data from peer 1"), std::string::npos) << msg;
      EXPECT_NE(msg.find("rank 0 / peer 1:"), std::string::npos) << msg;
      EXPECT_NE(msg.find("rank 2 / peer 1:"), std::string::npos) << msg;
    }
  }
  expect_exact(impl, c, 3);
}

TEST(NativeExchange, ResetAfterAnAbortWaitsForRunningKernelsThen1000ExactExchanges) {
  // Issue 13.7: the host gives up while exchange kernels still spin (rank 1 skipped its launch;
  // the device waits 2 s), as the runner does when its own deadline passes. The next setup must
  // reset the workspace, and may zero it only after those kernels ended: their late writes (the
  // error record, FIFO lines, credits) would otherwise break the exchanges that follow. Then
  // 1,000 exchanges with fresh inputs, each checked bit-exactly. The clean harness is built
  // first, so that nothing but the reset (no allocation) runs between the abort and the timing.
  NativeAllToAll impl(nullptr);
  const Case c = sim_case(3, 64, 128, 2);
  const double device_timeout_s = 2.0;
  SimHarness clean(impl, c, 4);
  {
    SimHarness aborted(impl, c, 1, device_timeout_s, FaultInjection{FaultKind::kSkipLaunch, 1});
    aborted.prepare(0, 0);
    DCP_CUDA_CHECK(cudaStreamSynchronize(aborted.stream(0)));
    const auto t0 = std::chrono::steady_clock::now();
    impl.run(0);
    impl.abort_inflight();
    EXPECT_THROW(impl.run(0), Error) << "must refuse to run until the collective reset";
    impl.setup(clean.setup());  // vote, drain, barrier, zero, barrier, checks
    const double setup_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("reset after the abort returned after %.3f s (device timeout %.1f s)\n", setup_s,
                device_timeout_s);
    EXPECT_GE(setup_s, device_timeout_s * 0.9) << "the reset did not wait for the running kernels";
    for (int k = 0; k < 1000; ++k) {
      const VerifyOutcome v =
          clean.exchange(static_cast<std::size_t>(k % 4), 5000 + static_cast<std::uint32_t>(k));
      ASSERT_TRUE(v.ok()) << "exchange " << k << ": " << v.summary();
      ASSERT_EQ(v.rows_checked, static_cast<std::uint64_t>(c.batch * c.cp_size * c.cp_size));
    }
  }
}

TEST(NativeExchange, CorruptLineIsCaughtByVerification) {
  NativeAllToAll impl(nullptr);
  SimHarness h(impl, sim_case(4, 40, 128, 2), 2, 10.0, FaultInjection{FaultKind::kCorruptLine, 2});
  for (std::uint32_t call = 0; call < 4; ++call) {
    const VerifyOutcome v = h.exchange(call % 2, call);  // check() must not throw
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.bad_rows, 1u) << v.summary();
    EXPECT_EQ(v.mismatched_elements, 1u);
    ASSERT_TRUE(v.first.has_value());
    EXPECT_EQ(v.first->dst_rank, 3);
    EXPECT_EQ(v.first->src_rank, 2);
    EXPECT_EQ(v.first->entry, 0);
    EXPECT_EQ(v.first->element, 0);
    EXPECT_EQ(v.first->expected_bits ^ v.first->actual_bits, 1u);
  }
}

TEST(NativeExchange, EmptyExchangeLaunchesNothing) {
  NativeAllToAll impl(nullptr);
  expect_exact(impl, sim_case(4, 16, 128, 2), 1);
  const auto before = copy_segment(impl, 1);
  {
    SimHarness h(impl, sim_case(4, 0, 128, 2), 1);
    impl.run(0);
    h.sync();
    impl.check();
    EXPECT_EQ(impl.detail(), "empty exchange: no launch");
  }
  // The exchange state (error record, counters, FIFOs) is untouched; only the row-order
  // signature that every setup writes into the header (ll128::kSignatureOffset) may differ.
  auto after = copy_segment(impl, 1);
  auto mask = [](std::vector<std::uint64_t>& words) {
    const auto first = static_cast<std::size_t>(kernels::ll128::kSignatureOffset / 8);
    words.at(first) = 0;
    words.at(first + 1) = 0;
  };
  auto expected = before;
  mask(after);
  mask(expected);
  EXPECT_EQ(after, expected);
  expect_exact(impl, sim_case(4, 16, 128, 2), 2);
}

TEST(NativeExchange, CoResidencyIsCheckedInsteadOfHanging) {
  NativeAllToAll impl(nullptr);
  const int capacity = kernels::fused_alltoall_resident_ctas();
  std::printf("resident CTAs of the exchange kernel on this GPU: %d\n", capacity);
  EXPECT_GT(capacity, 0);
  // Large cp x batch: channels are capped so that every grid stays resident.
  const kernels::ChannelPlan p = impl.plan(sim_case(16, 4096, 512, 2), 16);
  EXPECT_TRUE(p.problem.empty()) << p.problem;
  EXPECT_LE(p.resident_needed, p.resident_capacity);
  std::printf("sim cp=16 batch=4096: channels=%d capped=%d needs %d of %d CTAs\n", p.channels,
              p.capped ? 1 : 0, p.resident_needed, p.resident_capacity);
  expect_exact(impl, sim_case(16, 4096, 512, 2), 2);
  // cp=64 in sim cannot fit even with one channel: refused with a clear message.
  const Case big = sim_case(64, 64, 128, 2);
  const auto why = impl.unsupported_reason(big);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("resident CTAs"), std::string::npos) << *why;
  std::printf("refused: %s\n", why->c_str());
  EXPECT_THROW(SimHarness(impl, big, 1), ConfigError);
}

TEST(NativeExchange, InvalidShapesAreRefused) {
  NativeAllToAll impl(nullptr);
  EXPECT_TRUE(impl.unsupported_reason(sim_case(2, 4, 12, 2)).has_value());  // 24-byte rows
  EXPECT_TRUE(impl.unsupported_reason(sim_case(2, 4, 128, 3)).has_value());
  EXPECT_FALSE(impl.unsupported_reason(sim_case(2, 4, 128, 6)).has_value());
  EXPECT_THROW(SimHarness(impl, sim_case(2, 4, 12, 2), 1), ConfigError);
  Case no_ws = sim_case(2, 4, 128, 2);
  no_ws.workspace.reset();
  EXPECT_TRUE(impl.unsupported_reason(no_ws).has_value());
  Case ipc = sim_case(2, 4, 128, 2);
  ipc.workspace = WorkspaceKind::kIpc;
  EXPECT_TRUE(impl.unsupported_reason(ipc).has_value());  // no MPI world given
}

TEST(NativeExchange, WorkspaceIsSmall) {
  NativeAllToAll impl(nullptr);
  for (int cp : {2, 4, 8, 16}) {
    SimHarness h(impl, sim_case(cp, 1, 128, 2), 1);
    EXPECT_EQ(impl.workspace_bytes(), static_cast<std::size_t>(ll::workspace_bytes(cp)));
    EXPECT_LE(impl.workspace_bytes(), 16u << 20);
    std::printf("cp=%d workspace %zu bytes per rank; %s\n", cp, impl.workspace_bytes(),
                impl.detail().c_str());
  }
}

}  // namespace
}  // namespace dcp::testing
