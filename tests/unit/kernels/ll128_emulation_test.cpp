// CPU-thread emulation of the FIFO protocol: real exchanges with fresh inputs on every call,
// checked bit-exactly by core/verify.hpp, over cp 1..16, slot reuse across many calls, flow
// control, empty channels, E = 0, S = 6, fp16, fault injection and timeouts. By default every
// line is delivered word by word in ascending address order and sampled by the receiver in a
// random order, with the payload reloaded after the flag (Delivery::kAscendingWords, the shipped
// flag-last format); the atomic-line delivery of earlier versions is checked too.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>

#include "kernels/ll128_reference.hpp"

namespace dcp::kernels::ll128 {
namespace {

using std::chrono::milliseconds;

ExchangeShape make_shape(int cp, std::int64_t e, int d, int s, bool fp16 = false) {
  ExchangeShape x;
  x.cp_size = cp;
  x.entries = e;
  x.head_dim = d;
  x.stats_dim = s;
  x.fp16 = fp16;
  return x;
}

/// A small FIFO (so that flow control and slot reuse happen at small shapes).
Geometry tiny(int cp, int channels = 4, int depth = 2, int slot_lines = 3) {
  return Geometry{cp, channels, depth, slot_lines};
}

std::uint64_t counter(const FifoEmulator& emu, int rank, int peer, int channel, int word) {
  return emu.load_word(rank, emu.geometry().counter_offset(peer, channel) / kWordBytes + word);
}

void expect_exact(const EmulatedCall& r, const ExchangeShape& s) {
  EXPECT_TRUE(r.errors.empty()) << describe_error(r.errors.front(), 1);
  EXPECT_TRUE(r.verify.ok()) << r.verify.summary();
  EXPECT_EQ(r.verify.rows_checked, static_cast<std::uint64_t>(s.rows() * s.cp_size));
}

TEST(Ll128Emulation, ExactForCp1To16) {
  for (int cp = 1; cp <= 16; ++cp) {
    SCOPED_TRACE("cp=" + std::to_string(cp));
    FifoEmulator emu(tiny(cp, 3, 2, 4));
    const ExchangeShape s = make_shape(cp, 7, 16, 2);
    for (std::uint32_t call = 0; call < 3; ++call) {
      expect_exact(emu.run_call(s, 11, call), s);
    }
  }
}

TEST(Ll128Emulation, ExactWithTheDefaultGeometry) {
  for (int cp : {1, 2, 4, 8}) {
    SCOPED_TRACE("cp=" + std::to_string(cp));
    FifoEmulator emu(default_geometry(cp));
    for (const ExchangeShape& s : {make_shape(cp, 1, 128, 2), make_shape(cp, 40, 512, 2),
                                   make_shape(cp, 16, 256, 6, true)}) {
      const EmulatedCall r = emu.run_call(s, 5, 0);
      EXPECT_GE(r.channels, 1);
      expect_exact(r, s);
    }
  }
}

TEST(Ll128Emulation, SlotReuseAcrossManyCallsKeepsCountersInStep) {
  // depth 2, 1-line slots: every call wraps the FIFOs twice; 40 calls with fresh inputs.
  const int cp = 3;
  FifoEmulator emu(tiny(cp, 2, 2, 1));
  const ExchangeShape s = make_shape(cp, 6, 64, 6);  // 16 + 3 words per entry
  EmulationOptions o;
  o.channels = 2;
  std::uint64_t slots_per_call = 0;
  for (std::uint32_t call = 0; call < 40; ++call) {
    const EmulatedCall r = emu.run_call(s, 123, call, o);
    expect_exact(r, s);
    ASSERT_EQ(r.channels, 2);
    slots_per_call = stream_geometry(s, r.channels, 0, 1).slots;
  }
  ASSERT_GT(slots_per_call, 2u);  // more slots per call than the FIFO is deep
  for (int r = 0; r < cp; ++r) {
    for (int p = 0; p < cp; ++p) {
      EXPECT_EQ(counter(emu, r, p, 0, kHeadWord), 40 * slots_per_call);
      EXPECT_EQ(counter(emu, r, p, 0, kTailWord), 40 * slots_per_call);
      EXPECT_EQ(counter(emu, r, p, 0, kCreditWord), 40 * slots_per_call);
    }
  }
}

TEST(Ll128Emulation, FlowControlWithPayloadFarBeyondFifoCapacity) {
  // One channel, depth 2 x 2 lines = 30 words of FIFO per pair, 64 entries x 34 words each.
  FifoEmulator emu(Geometry{4, 1, 2, 2});
  const ExchangeShape s = make_shape(4, 64, 128, 4);
  for (std::uint32_t call = 0; call < 2; ++call) {
    const EmulatedCall r = emu.run_call(s, 77, call);
    expect_exact(r, s);
    EXPECT_EQ(stream_geometry(s, 1, 0, 2).slots, 73u);  // 2176 words, 146 lines
  }
}

TEST(Ll128Emulation, SingleWarpAndSplitRolesAgree) {
  // depth 2, 3-line slots. E=4 x (8+1 words) = 36 words = 3 lines: 1 slot per call (single warp);
  // E=9: 81 words = 6 lines = 2 slots = depth (single warp, the limit); E=12: 8 lines = 3 slots
  // (split roles). Many calls on the same counters, both modes, fresh inputs every call.
  for (bool single : {true, false}) {
    SCOPED_TRACE(single ? "single warp" : "split roles");
    FifoEmulator emu(tiny(3, 1, 2, 3));
    EmulationOptions o;
    o.single_warp = single;
    o.timeout = milliseconds(30000);  // exactness, not a fault: generous under load
    std::uint32_t call = 0;
    for (int rep = 0; rep < 8; ++rep) {
      for (std::int64_t e : {4, 9, 12}) {
        const ExchangeShape s = make_shape(3, e, 32, 2);
        expect_exact(emu.run_call(s, 31, call++, o), s);
      }
    }
    EXPECT_EQ(stream_geometry(make_shape(3, 9, 32, 2), 1, 0, 3).slots, 2u);
    EXPECT_EQ(stream_geometry(make_shape(3, 12, 32, 2), 1, 0, 3).slots, 3u);
  }
}

TEST(Ll128Emulation, CountersFarFromZeroWork) {
  // 64-bit counters: start every pair at 2^40 + 3 (no 32-bit truncation anywhere).
  FifoEmulator emu(tiny(3));
  emu.set_all_counters((std::uint64_t{1} << 40) + 3);
  const ExchangeShape s = make_shape(3, 9, 32, 2);
  for (std::uint32_t call = 0; call < 5; ++call)
    expect_exact(emu.run_call(s, 8, call), s);
}

TEST(Ll128Emulation, EmptyChannelsConsumeNoSequenceNumbers) {
  // 3 entries of 5 words = 1 line on 4 channels: channels 1..3 get no line, i.e. are empty (only
  // possible with a forced channel count).
  FifoEmulator emu(tiny(2, 4));
  const ExchangeShape s = make_shape(2, 3, 16, 2);
  EmulationOptions o;
  o.channels = 4;
  for (std::uint32_t call = 0; call < 4; ++call)
    expect_exact(emu.run_call(s, 3, call, o), s);
  for (int r = 0; r < 2; ++r) {
    for (int p = 0; p < 2; ++p) {
      for (int c = 0; c < 4; ++c) {
        const std::uint64_t want = stream_geometry(s, 4, c, 3).slots * 4u;
        EXPECT_EQ(counter(emu, r, p, c, kHeadWord), want) << r << p << c;
        EXPECT_EQ(counter(emu, r, p, c, kTailWord), want);
      }
      ASSERT_EQ(stream_geometry(s, 4, 0, 3).lines, 1u);
      ASSERT_EQ(stream_geometry(s, 4, 3, 3).lines, 0u);
      EXPECT_EQ(counter(emu, r, p, 3, kHeadWord), 0u);  // the empty channel
      EXPECT_EQ(counter(emu, r, p, 3, kTailWord), 0u);
    }
  }
}

TEST(Ll128Emulation, EmptyExchangeTouchesNothing) {
  FifoEmulator emu(tiny(2));
  const EmulatedCall r = emu.run_call(make_shape(2, 0, 16, 2), 1, 0);
  EXPECT_EQ(r.channels, 0);
  EXPECT_EQ(r.verify.rows_checked, 0u);
  for (int w = 0; w < 64; ++w)
    EXPECT_EQ(emu.load_word(0, w), 0u);
  // The next real call still works.
  const ExchangeShape s = make_shape(2, 2, 16, 2);
  expect_exact(emu.run_call(s, 1, 1), s);
}

TEST(Ll128Emulation, ShapesS6Fp16AndOddSizes) {
  for (const ExchangeShape& s :
       {make_shape(2, 5, 8, 6), make_shape(3, 11, 72, 6, true), make_shape(5, 2, 200, 10, true),
        make_shape(2, 1, 8, 2), make_shape(4, 31, 40, 2)}) {
    FifoEmulator emu(tiny(s.cp_size, 5, 4, 2));
    for (std::uint32_t call = 0; call < 2; ++call)
      expect_exact(emu.run_call(s, 21, call), s);
  }
}

TEST(Ll128Emulation, PackedLseRowsOfTheReduceAreExact) {
  // S = 1: one fp32 LSE per row, packed two per stream word (E odd leaves a padded half); the
  // emulation moves them with the kernel's index math and core/verify checks every value.
  for (const ExchangeShape& s :
       {make_shape(2, 5, 8, 1), make_shape(3, 7, 16, 1, true), make_shape(4, 16, 512, 1),
        make_shape(8, 3, 128, 1), make_shape(1, 9, 64, 1)}) {
    SCOPED_TRACE("cp=" + std::to_string(s.cp_size) + " E=" + std::to_string(s.entries));
    FifoEmulator emu(tiny(s.cp_size, 5, 4, 2));
    for (std::uint32_t call = 0; call < 3; ++call)
      expect_exact(emu.run_call(s, 23, call), s);
  }
}

TEST(Ll128Emulation, WholeLineDeliveryIsExactToo) {
  for (bool shuffle : {true, false}) {
    FifoEmulator emu(tiny(3));
    EmulationOptions o;
    o.delivery = Delivery::kWholeLine;
    o.shuffle_payload_stores = shuffle;
    const ExchangeShape s = make_shape(3, 10, 16, 2);
    for (std::uint32_t call = 0; call < 3; ++call)
      expect_exact(emu.run_call(s, 2, call, o), s);
  }
}

TEST(Ll128Emulation, AscendingDeliveryWithReloadIsExactInBothFlagLastLayouts) {
  // Word-by-word delivery with pauses, random-order sampling, reload after the flag: exact in
  // the shipped layout and in the unaligned build option, over slot reuse and flow control.
  for (const LineLayout layout : {LineLayout::kFlagLast, LineLayout::kFlagLastUnaligned}) {
    FifoEmulator emu(tiny(3, 3, 2, 2));
    EmulationOptions o;
    o.layout = layout;
    o.delivery = Delivery::kAscendingWords;
    o.reload = true;
    for (std::uint32_t call = 0; call < 6; ++call) {
      o.schedule_seed = 100 + call;
      const ExchangeShape s = make_shape(3, 20 + call, 24, 6);
      expect_exact(emu.run_call(s, 13, call, o), s);
    }
  }
}

TEST(Ll128Emulation, UnshuffledStoresAreExactToo) {
  FifoEmulator emu(tiny(3));
  EmulationOptions o;
  o.delivery = Delivery::kWholeLine;
  o.shuffle_payload_stores = false;
  const ExchangeShape s = make_shape(3, 10, 16, 2);
  expect_exact(emu.run_call(s, 2, 0, o), s);
}

TEST(Ll128Emulation, CorruptedLineIsCaughtByVerification) {
  // Rank 1 flips one byte of stream line 0, channel 0, to peer 2: exactly row (e=0, from 1) on
  // rank 2 is wrong, element 0, on every call; no timeout.
  const ExchangeShape s = make_shape(3, 6, 16, 2);
  FifoEmulator emu(tiny(3));
  EmulationOptions o;
  o.fault = FaultInjection{FaultKind::kCorruptLine, 1};
  for (std::uint32_t call = 0; call < 3; ++call) {
    const EmulatedCall r = emu.run_call(s, 4, call, o);
    EXPECT_TRUE(r.errors.empty());
    EXPECT_FALSE(r.verify.ok());
    EXPECT_EQ(r.verify.bad_rows, 1u);
    EXPECT_EQ(r.verify.mismatched_elements, 1u);
    ASSERT_TRUE(r.verify.first.has_value());
    EXPECT_EQ(r.verify.first->dst_rank, 2);
    EXPECT_EQ(r.verify.first->src_rank, 1);
    EXPECT_EQ(r.verify.first->entry, 0);
    EXPECT_EQ(r.verify.first->element, 0);
    EXPECT_EQ(r.verify.first->expected_bits ^ r.verify.first->actual_bits, 1u);
  }
}

TEST(Ll128Emulation, SkippedRankMakesPeersTimeOutNamingIt) {
  const ExchangeShape s = make_shape(3, 4, 16, 2);
  FifoEmulator emu(tiny(3));
  EmulationOptions o;
  o.timeout = milliseconds(200);
  o.fault = FaultInjection{FaultKind::kSkipLaunch, 1};
  const auto t0 = std::chrono::steady_clock::now();
  const EmulatedCall r = emu.run_call(s, 4, 0, o);
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(elapsed, milliseconds(3000));
  ASSERT_EQ(r.errors.size(), 2u);  // ranks 0 and 2; the skipped rank 1 has no record
  for (const ErrorInfo& e : r.errors) {
    EXPECT_NE(e.rank, 1);
    if (e.role != ErrorRole::kAbort) {
      EXPECT_EQ(e.peer, 1);
      EXPECT_EQ(e.role, ErrorRole::kRecv);
      EXPECT_NE(describe_error(e, 0.2).find("no data from peer 1"), std::string::npos);
    }
  }
  // A failed rank touches nothing on the next call (its counters are inconsistent) ...
  EmulationOptions plain;
  plain.timeout = milliseconds(200);
  const EmulatedCall again = emu.run_call(s, 4, 1, plain);
  EXPECT_FALSE(again.verify.ok());
  EXPECT_FALSE(again.errors.empty());
  // ... until the collective reset.
  emu.reset();
  EXPECT_TRUE(emu.errors().empty());
  expect_exact(emu.run_call(s, 4, 2, plain), s);
}

TEST(Ll128Emulation, SenderBlockedOnCreditTimesOut) {
  // A rank that skips while its peer must push more than the FIFO holds: the peer's sender waits
  // for credit and reports a send-side timeout (or an abort after its receiver failed).
  const ExchangeShape s = make_shape(2, 32, 64, 2);
  FifoEmulator emu(Geometry{2, 1, 2, 2});
  EmulationOptions o;
  o.timeout = milliseconds(150);
  o.fault = FaultInjection{FaultKind::kSkipLaunch, 0};
  const EmulatedCall r = emu.run_call(s, 4, 0, o);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].rank, 1);
  EXPECT_EQ(r.errors[0].peer, 0);
  EXPECT_NE(r.errors[0].role, ErrorRole::kAbort);
}

}  // namespace
}  // namespace dcp::kernels::ll128
