// Group `ll128_order` on the CPU: the probe's line format and classification (ll128_line.hpp,
// the functions the GPU kernels apply lane by lane), the counting, an emulation of a line
// delivered word by word in ascending address order (what §3.8 allows a fabric to do) read at
// every point in between, the self-test writer's deliberate tears counted exactly, and the
// verdict rule over crafted counts (healthy, a torn shipped layout, timeouts, errors, skips).
#include <gtest/gtest.h>

#include <array>

#include "diag/groups/ll128_order.hpp"
#include "diag/ll128_line.hpp"
#include "diag/rules.hpp"
#include "diag_test_util.hpp"

namespace dcp::diag {
namespace {

using ll128probe::FlagLayout;
using ll128probe::LineState;
using testing::expect_remedies;
using testing::find;
using testing::make_rank;
using testing::two_ranks;

using Line = std::array<std::uint64_t, ll128probe::kLineWords>;

/// The line a correct writer stores for round `round` of slot `slot`.
Line line_of(FlagLayout l, std::uint32_t epoch, std::uint64_t round, std::uint32_t slot) {
  Line w{};
  for (int i = 0; i < ll128probe::kLineWords; ++i)
    w[static_cast<std::size_t>(i)] = ll128probe::line_word(l, epoch, round, slot, i);
  return w;
}

TEST(Ll128Line, Geometry) {
  EXPECT_EQ(ll128probe::flag_word(FlagLayout::kFlagFirst), 0);
  EXPECT_EQ(ll128probe::flag_word(FlagLayout::kFlagLast), 15);  // the last 8 bytes
  EXPECT_EQ(ll128probe::kLineWords * 8, ll128probe::kLineBytes);
  EXPECT_EQ(ll128probe::kLanesPerLine * 16, ll128probe::kLineBytes);
  EXPECT_EQ(ll128probe::kLinesPerWarpStore * ll128probe::kLanesPerLine, 32);
  EXPECT_EQ(ll128probe::slot_of(4100, 2048), 4u);
  EXPECT_EQ(ll128probe::round_of(4100, 2048), 3u);
  EXPECT_NE(ll128probe::torn_word(FlagLayout::kFlagFirst), 0);
  EXPECT_NE(ll128probe::torn_word(FlagLayout::kFlagLast), 15);
}

TEST(Ll128Line, ValuesDependOnEveryInput) {
  const std::uint64_t v = ll128probe::payload_word(5, 7, 9, 3);
  EXPECT_NE(v, ll128probe::payload_word(6, 7, 9, 3));
  EXPECT_NE(v, ll128probe::payload_word(5, 8, 9, 3));
  EXPECT_NE(v, ll128probe::payload_word(5, 7, 10, 3));
  EXPECT_NE(v, ll128probe::payload_word(5, 7, 9, 4));
  EXPECT_NE(ll128probe::flag_value(5, 7), ll128probe::flag_value(5, 8));
  EXPECT_NE(ll128probe::flag_value(5, 7), ll128probe::flag_value(6, 7));
  EXPECT_NE(ll128probe::flag_value(0, 1), 0u);  // a zeroed ring never shows a flag
}

TEST(Ll128Line, ClassifiesWholeTornAndNotArrived) {
  for (const auto l : {FlagLayout::kFlagFirst, FlagLayout::kFlagLast}) {
    const Line good = line_of(l, 3, 2, 17);
    EXPECT_EQ(ll128probe::classify_line(good.data(), l, 3, 2, 17), LineState::kWhole);
    EXPECT_EQ(ll128probe::classify_line(good.data(), l, 3, 3, 17), LineState::kNotArrived);
    EXPECT_EQ(ll128probe::classify_line(good.data(), l, 4, 2, 17), LineState::kNotArrived);
    for (int w = 0; w < ll128probe::kLineWords; ++w) {
      if (w == ll128probe::flag_word(l)) continue;
      Line torn = good;
      torn[static_cast<std::size_t>(w)] = ll128probe::payload_word(3, 1, 17, w);  // last round's
      EXPECT_EQ(ll128probe::classify_line(torn.data(), l, 3, 2, 17), LineState::kTorn)
          << "word " << w;
    }
    // The lane test agrees with the line test, chunk by chunk.
    for (int c = 0; c < ll128probe::kLanesPerLine; ++c) {
      EXPECT_TRUE(ll128probe::chunk_payload_ok(good[2 * c], good[2 * c + 1], c, l, 3, 2, 17));
      EXPECT_FALSE(
          ll128probe::chunk_payload_ok(good[2 * c] ^ 1, good[2 * c + 1] ^ 1, c, l, 3, 2, 17));
    }
  }
}

/// The slot holds round `round - 1`; round `round` arrives word by word in ascending address
/// order. A reader samples the line after `k` words arrived (k = 0..16); a sample that shows the
/// flag is classified, and a reload at any later point too. Returns (single-read tears,
/// after-flag tears) over every (k, later) pair.
std::pair<int, int> ascending_delivery(FlagLayout l) {
  const Line old_line = line_of(l, 1, 4, 0);
  const Line new_line = line_of(l, 1, 5, 0);
  const auto at = [&](int k) {
    Line s = old_line;
    for (int i = 0; i < k; ++i)
      s[static_cast<std::size_t>(i)] = new_line[static_cast<std::size_t>(i)];
    return s;
  };
  int single = 0;
  int after = 0;
  for (int k = 0; k <= ll128probe::kLineWords; ++k) {
    const Line first = at(k);
    if (ll128probe::classify_line(first.data(), l, 1, 5, 0) == LineState::kNotArrived) continue;
    if (ll128probe::classify_line(first.data(), l, 1, 5, 0) == LineState::kTorn) ++single;
    for (int later = k; later <= ll128probe::kLineWords; ++later) {
      const Line reload = at(later);
      if (ll128probe::classify_line(reload.data(), l, 1, 5, 0) == LineState::kTorn) ++after;
    }
  }
  return {single, after};
}

TEST(Ll128Line, AscendingDeliveryTearsFlagFirstNeverFlagLast) {
  // Flag first: the flag lands with word 0, so samples after 1..15 words show it over old data.
  const auto first = ascending_delivery(FlagLayout::kFlagFirst);
  EXPECT_EQ(first.first, 15);
  EXPECT_GT(first.second, 0);
  // Flag last: the flag is the last word to land; a line that shows it is whole.
  EXPECT_EQ(ascending_delivery(FlagLayout::kFlagLast), std::make_pair(0, 0));
}

TEST(Ll128Line, InjectedTearsAreCountedExactly) {
  // The self-test writer's lines, read whole (as one GPU delivers them): the reader must find
  // exactly the injected tears, in both reads, for both layouts.
  constexpr std::uint32_t kRing = 64;
  constexpr std::uint64_t kLines = 1000;
  for (const auto l : {FlagLayout::kFlagFirst, FlagLayout::kFlagLast}) {
    for (const std::uint64_t every : {0ULL, 1ULL, 7ULL, 1000ULL, 1001ULL}) {
      Ll128LayoutCounts counts;
      for (std::uint64_t g = 0; g < kLines; ++g) {
        Line w{};
        for (int i = 0; i < ll128probe::kLineWords; ++i)
          w[static_cast<std::size_t>(i)] = ll128probe::writer_word(l, 9, kRing, g, i, every);
        const auto s = ll128probe::classify_line(w.data(), l, 9, ll128probe::round_of(g, kRing),
                                                 ll128probe::slot_of(g, kRing));
        ASSERT_NE(s, LineState::kNotArrived);
        counts.add(g, s, s);
      }
      EXPECT_EQ(counts.lines, kLines);
      EXPECT_EQ(counts.torn_single, ll128probe::injected_lines(kLines, every)) << every;
      EXPECT_EQ(counts.torn_after_flag, ll128probe::injected_lines(kLines, every)) << every;
      EXPECT_EQ(counts.first_torn_line,
                every == 0 || every > kLines ? -1 : static_cast<std::int64_t>(every - 1));
    }
  }
}

Ll128OrderFacts pair(int w, int r, std::uint64_t torn_last_after = 0) {
  Ll128OrderFacts f;
  f.writer = w;
  f.reader = r;
  f.ran = true;
  f.ring_lines = 2048;
  f.flag_first.lines = f.flag_last.lines = 10'000'000;
  f.flag_first.torn_single = 1234;
  f.flag_first.torn_after_flag = 56;
  f.flag_last.torn_single = 7;
  f.flag_last.torn_after_flag = torn_last_after;
  return f;
}

TEST(DiagLl128Order, ShippedLayoutWithoutTearsPassesAndReportsEveryCount) {
  const auto rows = ll128_order_checks(two_ranks(), {pair(1, 0), pair(0, 1)});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].ranks, (std::vector<int>{0, 1}));  // sorted
  EXPECT_EQ(rows[0].verdict, Verdict::kPass);
  EXPECT_EQ(rows[0].value,
            "flag last: 7 single-read / 0 after-flag torn of 10000000; flag first: 1234 "
            "single-read / 56 after-flag torn of 10000000");
  EXPECT_EQ(*rows[0].number, 0.0);
  EXPECT_EQ(rows[0].unit, "lines");
}

TEST(DiagLl128Order, TornShippedLayoutFails) {
  Ll128OrderFacts f = pair(0, 1, 3);
  f.flag_last.first_torn_line = 4711;
  const DiagCheck c = ll128_order_checks(two_ranks(), {f})[0];
  EXPECT_EQ(c.verdict, Verdict::kFail);
  EXPECT_HAS(c.hint, "tore 3 of 10000000 lines from rank 0 to rank 1 (first at line 4711)");
  EXPECT_HAS(c.remedy, "--impl nccl-*");
  EXPECT_EQ(summarize({c}).exit_code, 1);
}

TEST(DiagLl128Order, TimeoutsErrorsAndSkips) {
  Ll128OrderFacts stalled = pair(0, 1);
  stalled.flag_last.timed_out = true;
  stalled.flag_last.stalled_side = "reader (waiting for a line's flag)";
  stalled.flag_last.stalled_at_line = 40;
  const DiagCheck t = ll128_order_checks(two_ranks(), {stalled})[0];
  EXPECT_EQ(t.verdict, Verdict::kFail);
  EXPECT_HAS(t.hint,
             "from rank 0 to rank 1 stalled (flag-last layout): the reader (waiting for "
             "a line's flag) made no progress for the timeout at line 40");
  Ll128OrderFacts err = pair(1, 0);
  err.error = "cudaErrorLaunchFailure";
  EXPECT_EQ(ll128_order_checks(two_ranks(), {err})[0].verdict, Verdict::kFail);
  Ll128OrderFacts skip;
  skip.writer = 0;
  skip.reader = 1;
  skip.skip_reason = "ranks 0 and 1 share one GPU";
  EXPECT_EQ(ll128_order_checks(two_ranks(), {skip})[0].verdict, Verdict::kSkip);
  Ll128OrderFacts empty = pair(0, 1);
  empty.flag_last.lines = 0;
  EXPECT_EQ(ll128_order_checks(two_ranks(), {empty})[0].verdict, Verdict::kFail);
  const auto one = ll128_order_checks({make_rank(0)}, {});
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].hint, kSingleRankReason);
  expect_remedies(ll128_order_checks(two_ranks(), {stalled, err, empty}));
}

TEST(DiagLl128Order, WriterStallMergesIntoTheReadersRecord) {
  Ll128OrderFacts reader = pair(0, 1);
  Ll128OrderFacts writer;
  writer.writer = 0;
  writer.reader = 1;
  writer.flag_first.timed_out = true;
  writer.flag_first.stalled_side = "writer (waiting for the reader's credit)";
  writer.flag_first.stalled_at_line = 2048;
  const auto merged = merge_ll128_order({writer, reader});
  ASSERT_EQ(merged.size(), 1u);
  EXPECT_EQ(merged[0].flag_last.lines, 10'000'000u);  // the reader's counts
  EXPECT_TRUE(merged[0].flag_first.timed_out);        // the writer's stall
  EXPECT_EQ(merged[0].flag_first.stalled_side, "writer (waiting for the reader's credit)");
  EXPECT_EQ(merged[0].flag_first.torn_single, 1234u);
  const DiagCheck c = ll128_order_checks(two_ranks(), {reader, writer})[0];
  EXPECT_EQ(c.verdict, Verdict::kFail);
  EXPECT_HAS(c.hint, "the writer (waiting for the reader's credit) made no progress");
}

}  // namespace
}  // namespace dcp::diag
