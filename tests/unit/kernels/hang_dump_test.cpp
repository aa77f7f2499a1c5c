// Hang forensics (hang_dump.hpp, core/hang_report.hpp): where the words are read from, how
// crafted counter words decode, and the text form.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/hang_report.hpp"
#include "kernels/hang_dump.hpp"

namespace dcp::kernels::ll128 {
namespace {

TEST(HangDump, OffsetsAreTheWordsTheExchangeWrites) {
  for (const Geometry& g : {Geometry{3, 2, 2, 4}, default_geometry(4), Geometry{5, 3, 4, 1}}) {
    for (int s = 0; s < g.cp_size; ++s) {
      for (int c = 0; c < g.max_channels; ++c) {
        for (int k = 0; k < g.depth; ++k) {
          // The slot flags are one strided run: flag word of line 0 of physical slot k.
          EXPECT_EQ(slot_flags_offset(g, LineLayout::kFlagLast) +
                        slot_flag_index(g, s, c, k) * g.slot_bytes(),
                    g.line_offset(s, c, static_cast<std::uint64_t>(k), 0) + 15 * kWordBytes);
        }
        // The credit word a receiver `s` publishes into a peer's record (s, c).
        EXPECT_EQ(peer_credit_offset(g, s) + c * kCounterRecordBytes,
                  g.counter_offset(s, c) + kCreditWord * kWordBytes);
      }
    }
    EXPECT_EQ(slot_flag_count(g), std::int64_t{g.cp_size} * g.max_channels * g.depth);
  }
}

/// Empty (all-idle) words of one rank for geometry g.
RankWords empty_words(const Geometry& g, int rank) {
  RankWords w;
  w.rank = rank;
  w.header.assign(static_cast<std::size_t>(g.fifos_offset() / kWordBytes), 0);
  w.slot_flags.assign(static_cast<std::size_t>(slot_flag_count(g)), 0);
  w.peer_credit.assign(static_cast<std::size_t>(g.cp_size * g.max_channels), 0);
  return w;
}

void set_counters(const Geometry& g, RankWords& w, int peer, int ch, std::uint64_t head,
                  std::uint64_t credit, std::uint64_t tail) {
  const auto rec = static_cast<std::size_t>(g.counter_offset(peer, ch) / kWordBytes);
  w.header[rec + kHeadWord] = head;
  w.header[rec + kCreditWord] = credit;
  w.header[rec + kTailWord] = tail;
}

TEST(HangDump, CraftedWordsDecode) {
  // cp 3, 2 channels, depth 2. Rank 0 after a timeout waiting for peer 1 on channel 0: it sent
  // sequence numbers 3 and 4 (head 5) of which peer 1 consumed none (credit 3); it received up
  // to 4 (tail 4, consumed 4) and sequence 4's slot has arrived (flag 5) but is not consumed.
  // Channel 1 with peer 2 and everything else is quiet at sequence 7 / 0.
  const Geometry g{3, 2, 2, 4};
  RankWords w = empty_words(g, 0);
  set_counters(g, w, 1, 0, 5, 3, 4);
  w.slot_flags[static_cast<std::size_t>(slot_flag_index(g, 1, 0, 0))] = 5;  // seq 4
  w.slot_flags[static_cast<std::size_t>(slot_flag_index(g, 1, 0, 1))] = 4;  // seq 3
  w.peer_credit[1 * 2 + 0] = 4;
  set_counters(g, w, 2, 1, 7, 7, 7);  // quiet channel: all at 7
  w.slot_flags[static_cast<std::size_t>(slot_flag_index(g, 2, 1, 0))] = 7;
  w.slot_flags[static_cast<std::size_t>(slot_flag_index(g, 2, 1, 1))] = 6;
  w.peer_credit[2 * 2 + 1] = 7;
  const std::uint64_t record[kErrorWords] = {encode_error_info(ErrorRole::kRecv, 0, 1, 0), 4, 0, 3};
  for (int i = 0; i < kErrorWords; ++i)
    w.header[static_cast<std::size_t>(i)] = record[i];

  const HangReport r = decode_hang(g, std::vector<RankWords>{w}, 2.0);
  EXPECT_EQ(r.ranks, 1);
  EXPECT_EQ(r.peers, 3);
  EXPECT_EQ(r.channels_per_pair, 2);
  ASSERT_EQ(r.channels.size(), 1u);
  EXPECT_EQ(r.idle_channels, 5u);
  const HangChannel& c = r.channels[0];
  EXPECT_EQ(c.rank, 0);
  EXPECT_EQ(c.peer, 1);
  EXPECT_EQ(c.channel, 0);
  EXPECT_EQ(c.head, 5u);
  EXPECT_EQ(c.credit, 3u);
  EXPECT_EQ(c.tail, 4u);
  EXPECT_EQ(c.consumed, 4u);
  EXPECT_EQ(c.arrived, 5u);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].find("rank 0: no data from peer 1 on channel 0 (awaited sequence 4"),
            std::string::npos)
      << r.errors[0];
  EXPECT_EQ(to_text(r),
            "FIFO state after the timeout (1 rank of cp 3, 2 channels per pair): 1 of 6 channels "
            "not idle\n"
            "  error record: " +
                r.errors[0] +
                "\n"
                "  rank 0 / peer 1: 1 channel not idle; ch 0: send head 5 credit 3 (2 slots not "
                "consumed by peer 1); recv awaits 4 (tail 4), arrived 5 (1 slot arrived, not "
                "consumed)");
}

TEST(HangDump, ASkippedPeerShowsOnEveryChannel) {
  // Ranks 0 and 2 of cp 3 (4 channels) waited for rank 1, which never launched: every channel
  // with peer 1 has one slot sent and not consumed and nothing arrived; the channels with the
  // other live peer are idle. One line per (rank, peer), the channels alike counted.
  const Geometry g{3, 4, 2, 4};
  std::vector<RankWords> ranks{empty_words(g, 0), empty_words(g, 2)};
  for (RankWords& w : ranks) {
    for (int ch = 0; ch < 4; ++ch)
      set_counters(g, w, 1, ch, 1, 0, 0);
  }
  set_counters(g, ranks[1], 1, 3, 2, 0, 0);  // rank 2 channel 3 sent two slots: differs
  const HangReport r = decode_hang(g, ranks, 1.0);
  ASSERT_EQ(r.channels.size(), 8u);
  for (const HangChannel& c : r.channels) {
    EXPECT_EQ(c.peer, 1);
    EXPECT_NE(c.rank, 1);
  }
  EXPECT_EQ(r.idle_channels, 2u * 3 * 4 - 8);
  const std::string text = to_text(r);
  EXPECT_NE(text.find("rank 0 / peer 1: 4 channels not idle; ch 0: send head 1 credit 0 (1 slot "
                      "not consumed by peer 1); recv awaits 0 (tail 0), arrived 0 (nothing new "
                      "from peer 1) [4 channels alike]"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("rank 2 / peer 1: 4 channels not idle; ch 0: "), std::string::npos) << text;
  EXPECT_NE(text.find("[3 channels alike]"), std::string::npos) << text;
  EXPECT_NE(text.find("\n  rank 2 / peer 1 ch 3: send head 2 credit 0 (2 slots"), std::string::npos)
      << text;
  EXPECT_EQ(text.find("peer 2"), std::string::npos) << "idle channels are left out";
  // The row cap: one summary line plus at most max_rows lines.
  const std::string capped = to_text(r, 1);
  EXPECT_NE(capped.find("(2 more lines not shown)"), std::string::npos) << capped;
}

TEST(HangDump, UnreadablePeerSegmentsAndBadSizes) {
  const Geometry g{2, 1, 2, 4};
  RankWords w = empty_words(g, 1);
  w.peer_credit.clear();  // consumed unknown
  set_counters(g, w, 0, 0, 3, 3, 2);
  w.slot_flags[static_cast<std::size_t>(slot_flag_index(g, 0, 0, 0))] = 3;  // seq 2 arrived
  const HangReport r = decode_hang(g, std::vector<RankWords>{w}, 1.0);
  ASSERT_EQ(r.channels.size(), 1u);
  EXPECT_FALSE(r.channels[0].consumed_known);
  EXPECT_NE(to_text(r).find("peer 0's segment unreadable"), std::string::npos);

  RankWords bad = empty_words(g, 0);
  bad.header.pop_back();
  EXPECT_THROW(decode_hang(g, std::vector<RankWords>{bad}, 1.0), Error);
  bad = empty_words(g, 0);
  bad.slot_flags.push_back(0);
  EXPECT_THROW(decode_hang(g, std::vector<RankWords>{bad}, 1.0), Error);
  bad = empty_words(g, 2);  // rank out of range
  EXPECT_THROW(decode_hang(g, std::vector<RankWords>{bad}, 1.0), Error);
}

TEST(HangDump, IdleMeansNothingInFlight) {
  HangChannel c;
  EXPECT_TRUE(c.idle());
  c.head = c.credit = c.tail = c.consumed = c.arrived = 9;
  EXPECT_TRUE(c.idle());
  c.arrived = 10;  // a slot arrived that nobody consumed
  EXPECT_FALSE(c.idle());
  c.arrived = 9;
  c.credit = 8;  // a slot sent that the peer did not consume
  EXPECT_FALSE(c.idle());
  c.credit = 9;
  c.consumed = 10;  // the receiver is inside a call (tail is written at its end)
  EXPECT_FALSE(c.idle());
}

TEST(HangDump, HangErrorIsATimeoutErrorCarryingTheReport) {
  HangReport r;
  r.ranks = 2;
  r.idle_channels = 7;
  try {
    throw HangError("rank 0: no data from peer 1", r);
  } catch (const TimeoutError& e) {
    const auto* hang = dynamic_cast<const HangError*>(&e);
    ASSERT_NE(hang, nullptr);
    EXPECT_EQ(hang->report().idle_channels, 7u);
    EXPECT_EQ(e.exit_code(), ExitCode::kRuntime);
  }
}

}  // namespace
}  // namespace dcp::kernels::ll128
