// LL128 layout math: workspace sizes, segment offsets, fast division, channel split, word
// addressing. These functions are shared by the kernel, the reference and the emulation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <vector>

#include "kernels/ll128_layout.hpp"

namespace dcp::kernels::ll128 {
namespace {

ExchangeShape make_shape(int cp, std::int64_t e, int d, int s, bool fp16 = false) {
  ExchangeShape x;
  x.cp_size = cp;
  x.entries = e;
  x.head_dim = d;
  x.stats_dim = s;
  x.fp16 = fp16;
  return x;
}

TEST(Ll128Layout, WorkspaceBytesPerRankDependOnlyOnCp) {
  EXPECT_EQ(max_channels_for(1), 128);
  EXPECT_EQ(max_channels_for(2), 128);
  EXPECT_EQ(max_channels_for(4), 128);
  EXPECT_EQ(max_channels_for(8), 64);
  EXPECT_EQ(max_channels_for(16), 32);
  EXPECT_EQ(max_channels_for(64), 8);
  EXPECT_EQ(workspace_bytes(1), 2117632);
  EXPECT_EQ(workspace_bytes(2), 4231168);
  EXPECT_EQ(workspace_bytes(4), 8458240);
  EXPECT_EQ(workspace_bytes(8), 8458240);
  EXPECT_EQ(workspace_bytes(16), 8458240);
  EXPECT_EQ(workspace_bytes(64), 8458240);
  for (int cp = 1; cp <= kMaxCp; ++cp) {
    EXPECT_LE(workspace_bytes(cp), 16 * 1024 * 1024) << "cp=" << cp;
    EXPECT_EQ(workspace_bytes(cp) % kFifoAlignBytes, 0);
  }
}

TEST(Ll128Layout, SegmentRegionsDoNotOverlap) {
  for (int cp : {1, 2, 3, 4, 8, 16, 64}) {
    const Geometry g = default_geometry(cp);
    ASSERT_EQ(geometry_problem(g), nullptr);
    // Error record, then counters, then FIFOs.
    EXPECT_GE(g.counter_offset(0, 0), kErrorWords * kWordBytes);
    const std::int64_t last_counter = g.counter_offset(cp - 1, g.max_channels - 1);
    EXPECT_LE(last_counter + kCounterRecordBytes, g.fifos_offset());
    EXPECT_EQ(g.fifos_offset() % kFifoAlignBytes, 0);
    // FIFOs tile the rest of the segment exactly.
    EXPECT_EQ(g.fifo_offset(cp - 1, g.max_channels - 1) + g.fifo_bytes(), g.segment_bytes());
    std::set<std::int64_t> fifos;
    for (int s = 0; s < cp; ++s) {
      for (int c = 0; c < g.max_channels; ++c) {
        const std::int64_t off = g.fifo_offset(s, c);
        EXPECT_EQ(off % kLineBytes, 0);
        EXPECT_TRUE(fifos.insert(off).second);
      }
    }
    // Consecutive FIFOs are exactly fifo_bytes apart (no overlap).
    std::int64_t prev = -1;
    for (std::int64_t off : fifos) {
      if (prev >= 0) {
        EXPECT_EQ(off - prev, g.fifo_bytes());
      }
      prev = off;
    }
  }
}

TEST(Ll128Layout, SequenceNumbersMapToSlotsModuloDepth) {
  const Geometry g{4, 2, 4, 5};
  for (std::uint64_t seq = 0; seq < 20; ++seq) {
    EXPECT_EQ(g.physical_slot(seq), seq % 4);
    EXPECT_EQ(g.line_offset(1, 1, seq, 2), g.line_offset(1, 1, seq + 4, 2));
    EXPECT_NE(g.line_offset(1, 1, seq, 0), g.line_offset(1, 1, seq + 1, 0));
    const std::int64_t in_fifo = g.line_offset(1, 1, seq, 4) - g.fifo_offset(1, 1);
    EXPECT_GE(in_fifo, 0);
    EXPECT_LT(in_fifo, g.fifo_bytes());
  }
  // 64-bit sequence numbers far from 0 keep their slot.
  const std::uint64_t big = (std::uint64_t{1} << 40) + 7;
  EXPECT_EQ(g.line_offset(0, 0, big, 0) - g.fifo_offset(0, 0), (big % 4) * g.slot_bytes());
  // The kernel masks instead of dividing: depth must be a power of two.
  EXPECT_NE(geometry_problem(Geometry{4, 2, 3, 5}), nullptr);
  EXPECT_EQ(geometry_problem(Geometry{4, 2, 1, 5}), nullptr);
  EXPECT_EQ(geometry_problem(Geometry{4, 2, 1024, 5}), nullptr);
}

TEST(Ll128Layout, FlagIsTheHighestAddressedWordOfEveryLine) {
  // Spec §3.8: only a flag in the last 8 bytes of a line proves the line arrived. Every line
  // index, both parities, both flag-last layouts.
  for (const LineLayout layout : {LineLayout::kFlagLast, LineLayout::kFlagLastUnaligned}) {
    ASSERT_TRUE(flag_is_last(layout));
    for (std::uint32_t line = 0; line < 1000; ++line) {
      EXPECT_EQ(flag_word(line, layout), kWordsPerLine - 1) << line;
      EXPECT_EQ(flag_lane(line, layout), kLanesPerLine - 1) << line;
      EXPECT_EQ(payload_index(line, kWordsPerLine - 1, layout), -1);
      for (int i = 0; i < kPayloadWordsPerLine; ++i)
        EXPECT_LT(payload_slot(line, i, layout), flag_word(line, layout));
    }
  }
  // The shipped default of every host function is the flag-last format.
  for (std::uint32_t line = 0; line < 64; ++line)
    EXPECT_EQ(flag_word(line), 15);
  // The old format (ordering emulation only) put the flag FIRST on odd lines.
  EXPECT_FALSE(flag_is_last(LineLayout::kFlagFirstOnOdd));
  EXPECT_EQ(flag_word(7, LineLayout::kFlagFirstOnOdd), 0);
  EXPECT_EQ(flag_word(8, LineLayout::kFlagFirstOnOdd), 15);
}

TEST(Ll128Layout, PayloadFillsTheOtherWordsOnce) {
  for (const LineLayout layout :
       {LineLayout::kFlagLast, LineLayout::kFlagLastUnaligned, LineLayout::kFlagFirstOnOdd}) {
    for (std::uint32_t line = 0; line < 64; ++line) {
      const int fw = flag_word(line, layout);
      std::set<int> used{fw};
      for (int i = 0; i < kPayloadWordsPerLine; ++i) {
        const int w = payload_slot(line, i, layout);
        EXPECT_TRUE(used.insert(w).second) << line << " " << i;
        EXPECT_EQ(payload_index(line, w, layout), i);
      }
      EXPECT_EQ(used.size(), 16u);
    }
  }
  // kFlagLast: even lines in order; odd lines rotate the odd first word next to the flag.
  EXPECT_EQ(payload_slot(4, 0), 0);
  EXPECT_EQ(payload_slot(4, 14), 14);
  EXPECT_EQ(payload_slot(5, 0), 14);
  EXPECT_EQ(payload_slot(5, 1), 0);
  EXPECT_EQ(payload_slot(5, 14), 13);
}

TEST(Ll128Layout, LanePairsStartAtEvenStreamWords) {
  // kFlagLast: lanes 0-6 move the pairs (w, w + 1) with w even, lane 7 one word and the flag.
  for (std::uint32_t line = 0; line < 64; ++line) {
    for (int part = 0; part < kLanesPerLine; ++part) {
      const std::uint32_t w0 = lane_first_word(line, part);
      if (part < kLanesPerLine - 1) {
        EXPECT_EQ(w0 % 2, 0u) << line << " " << part;
      }
      // The lane's 16 bytes are line words 2*part, 2*part + 1.
      const int lower = part * kWordsPerLane;
      EXPECT_EQ(line * 15 + static_cast<std::uint32_t>(payload_index(line, lower)), w0);
      if (part < kLanesPerLine - 1) {
        EXPECT_EQ(line * 15 + static_cast<std::uint32_t>(payload_index(line, lower + 1)), w0 + 1);
      } else {
        EXPECT_EQ(lower + 1, flag_word(line));
      }
    }
  }
  // The unaligned build option: odd lines' pairs start at odd words.
  EXPECT_EQ(lane_first_word(1, 0, LineLayout::kFlagLastUnaligned), 15u);
  EXPECT_EQ(lane_first_word(1, 7, LineLayout::kFlagLastUnaligned), 29u);
}

TEST(Ll128Layout, LaneMovesCoverEveryPayloadWordOnce) {
  // The kernel's per-lane moves (lane_move: which stream words, one 16-byte or 8-byte accesses)
  // put every payload word exactly where the layout puts it, and a 16-byte pair is two
  // consecutive partial_o words of one row at an even index. (Against the reference packer's
  // bytes: ll128_reference_test, LaneMovesAssembleTheReferenceLine.)
  for (const LineLayout layout : {LineLayout::kFlagLast, LineLayout::kFlagLastUnaligned}) {
    for (const ExchangeShape& s : {make_shape(2, 5, 8, 2), make_shape(3, 7, 24, 6),
                                   make_shape(4, 33, 64, 2), make_shape(2, 9, 512, 10)}) {
      const KernelPlan k = make_kernel_plan(s, 1);
      const StreamWindow w = stream_window(k, 0, s.cp_size - 1);
      const std::uint32_t lines = w.lines;
      int pairs = 0;
      for (std::uint32_t line = 0; line < lines; ++line) {
        std::set<std::uint32_t> moved;
        for (int part = 0; part < kLanesPerLine; ++part) {
          const LaneMove m = lane_move(w.o_words, line, part, layout);
          const int lower = part * kWordsPerLane;
          EXPECT_EQ(m.lower,
                    line * 15 + static_cast<std::uint32_t>(payload_index(line, lower, layout)));
          EXPECT_EQ(m.upper, lower + 1 != flag_word(line, layout));
          moved.insert(m.lower);
          if (m.upper) moved.insert(m.lower + 1);
          if (m.o_pair) {
            ++pairs;
            ASSERT_TRUE(m.upper);
            ASSERT_LT(m.lower + 1, w.o_words);
            EXPECT_EQ(o_word_index(k, w, m.lower) % 2, 0u);
            EXPECT_EQ(o_word_index(k, w, m.lower + 1), o_word_index(k, w, m.lower) + 1);
          }
        }
        EXPECT_EQ(moved.size(), 15u);
        EXPECT_EQ(*moved.begin(), line * 15);
        EXPECT_EQ(*moved.rbegin(), line * 15 + 14);
      }
      EXPECT_GT(pairs, 0);
      if (layout == LineLayout::kFlagLast) {
        // Every lane 0-6 word pair inside partial_o is one 16-byte access.
        for (std::uint32_t line = 0; line < lines; ++line) {
          for (int part = 0; part < kLanesPerLine - 1; ++part) {
            const LaneMove m = lane_move(w.o_words, line, part);
            EXPECT_EQ(m.o_pair, m.lower < w.o_words);
          }
        }
      }
    }
  }
}

TEST(Ll128Layout, KernelWindowAddressesMatchLocateWord) {
  // The kernel's division-free addressing (KernelPlan + StreamWindow) and the reference's
  // locate_word agree on every word of every channel.
  for (const ExchangeShape& s :
       {make_shape(3, 7, 8, 2), make_shape(2, 5, 24, 6, true), make_shape(1, 4, 16, 4),
        make_shape(4, 33, 64, 2), make_shape(4, 128, 512, 2), make_shape(5, 9, 40, 10)}) {
    const RowDivisors d = RowDivisors::make(s);
    const auto total_lines = static_cast<int>(pair_stream_lines(s));
    for (int channels : {1, 2, 3, 5, 17}) {
      if (channels > total_lines) continue;
      const KernelPlan k = make_kernel_plan(s, channels);
      EXPECT_TRUE(same_plan(k, make_kernel_plan(s, channels)));
      for (int ch = 0; ch < channels; ++ch) {
        const StreamGeometry g = stream_geometry(s, channels, ch, 4);
        for (int other = 0; other < s.cp_size; ++other) {
          const StreamWindow w = stream_window(k, ch, other);
          ASSERT_EQ(w.first_line, g.first_line);
          ASSERT_EQ(w.lines, g.lines);
          ASSERT_EQ(w.words, g.words);
          ASSERT_EQ(w.o_words, g.o_words);
          const std::uint32_t first = g.first_line * 15;
          for (std::uint32_t i = 0; i < g.channel_words(); ++i) {
            const WordLoc loc = locate_word(g, d, s.cp_size, other, first + i);
            const std::uint32_t idx = first + i < w.o_words ? o_word_index(k, w, first + i)
                                                            : stats_word_index(k, w, first + i);
            ASSERT_EQ(loc.stats, first + i >= w.o_words);
            ASSERT_EQ(static_cast<std::int64_t>(idx), loc.index) << "word " << first + i;
          }
          // A lane 0-6 pair inside partial_o is one row: 16-byte aligned and contiguous.
          for (std::uint32_t line = g.first_line; line < g.first_line + g.lines; ++line) {
            for (int part = 0; part < kLanesPerLine - 1; ++part) {
              const std::uint32_t w0 = lane_first_word(line, part);
              if (w0 >= w.o_words) continue;
              ASSERT_LT(w0 + 1, w.o_words);
              ASSERT_EQ(o_word_index(k, w, w0) % 2, 0u);
              ASSERT_EQ(o_word_index(k, w, w0 + 1), o_word_index(k, w, w0) + 1);
            }
          }
        }
      }
    }
  }
}

TEST(Ll128Layout, SingleWarpNeedsAtMostDepthSlotsPerCall) {
  EXPECT_TRUE(single_warp_allowed(1, 4));
  EXPECT_TRUE(single_warp_allowed(4, 4));
  EXPECT_FALSE(single_warp_allowed(5, 4));
  EXPECT_TRUE(single_warp_allowed(0, 1));
  EXPECT_FALSE(single_warp_allowed(2, 1));
}

TEST(Ll128Layout, FlagsOfReusedSlotsNeverRepeat) {
  // Physical slot k mod depth carries flag k + 1; every use of a slot has a different flag, and
  // none equals the zero-filled initial memory.
  const int depth = 4;
  for (int slot = 0; slot < depth; ++slot) {
    std::set<std::uint64_t> flags;
    for (std::uint64_t k = static_cast<std::uint64_t>(slot); k < 1000; k += depth) {
      EXPECT_NE(flag_for(k), 0u);
      EXPECT_TRUE(flags.insert(flag_for(k)).second);
    }
  }
}

TEST(Ll128Layout, FastDivisionIsExact) {
  std::mt19937_64 rng(42);
  std::vector<std::uint32_t> divisors;
  for (std::uint32_t d = 1; d <= 600; ++d)
    divisors.push_back(d);
  for (int i = 0; i < 200; ++i)
    divisors.push_back(static_cast<std::uint32_t>(rng() % 0xFFFFFFFFu) + 1);
  divisors.push_back(0x80000000u);
  divisors.push_back(0xFFFFFFFFu);
  for (std::uint32_t d : divisors) {
    const FastDivU32 f = FastDivU32::make(d);
    std::vector<std::uint32_t> ns{0,     1,           d - 1,       d,          d + 1,
                                  2 * d, 0x7FFFFFFFu, 0xFFFFFFFEu, 0xFFFFFFFFu};
    for (int i = 0; i < 500; ++i)
      ns.push_back(static_cast<std::uint32_t>(rng()));
    for (int i = 0; i < 100; ++i)
      ns.push_back(static_cast<std::uint32_t>(rng() % 100000));
    for (std::uint32_t n : ns)
      ASSERT_EQ(f.div(n), n / d) << n << " / " << d;
  }
}

TEST(Ll128Layout, ChannelsSplitLinesIntoContiguousBalancedRanges) {
  for (std::int64_t lines : {1, 2, 5, 16, 100, 1000, 4097}) {
    for (int c = 1; c <= 32 && c <= lines; ++c) {
      std::int64_t next = 0;
      std::int64_t smallest = lines, largest = 0;
      for (int ch = 0; ch < c; ++ch) {
        EXPECT_EQ(channel_first_line(lines, c, ch), next);
        const std::int64_t n = channel_first_line(lines, c, ch + 1) - next;
        smallest = std::min(smallest, n);
        largest = std::max(largest, n);
        next += n;
      }
      EXPECT_EQ(next, lines);
      EXPECT_LE(largest - smallest, 1);
      EXPECT_GE(smallest, 1);
      // Channel 0 is a largest one (the launcher sizes the variant from it).
      EXPECT_EQ(channel_first_line(lines, c, 1) - channel_first_line(lines, c, 0), largest);
    }
  }
  // The kernel's division-free split gives the same ranges: E=100 rows of D=8, S=2 (3 words
  // each) are 300 words = 20 lines.
  const ExchangeShape shape = make_shape(2, 100, 8, 2);
  ASSERT_EQ(pair_stream_lines(shape), 20);
  for (int c = 1; c <= 20; ++c) {
    const KernelPlan k = make_kernel_plan(shape, c);
    for (int ch = 0; ch < c; ++ch) {
      const StreamWindow w = stream_window(k, ch, 1);
      EXPECT_EQ(w.first_line, static_cast<std::uint32_t>(channel_first_line(20, c, ch)));
      EXPECT_EQ(w.lines, static_cast<std::uint32_t>(channel_first_line(20, c, ch + 1) -
                                                    channel_first_line(20, c, ch)));
      EXPECT_EQ(w.o_base, 2u);  // row (0, 1): 1 row of 2 words in
      EXPECT_EQ(w.stats_base, 1u);
    }
  }
}

TEST(Ll128Layout, ChannelCountFollowsTheCase) {
  // E = 1, D=128, S=2: 33 words = 3 lines: one channel at 4 lines per warp, 3 at 1.
  EXPECT_EQ(channel_count(make_shape(4, 1, 128, 2), 64), 1);
  EXPECT_EQ(channel_count(make_shape(4, 1, 128, 2), 64, 1), 3);
  EXPECT_EQ(channel_count(make_shape(4, 0, 128, 2), 64), 0);
  // 128 entries of D=128, S=2: 33 words each -> 282 lines -> 64 channels (71 at 4 lines/warp).
  EXPECT_EQ(channel_count(make_shape(4, 128, 128, 2), 64), 64);
  EXPECT_EQ(channel_count(make_shape(4, 128, 128, 2), 128), 71);
  EXPECT_EQ(channel_count(make_shape(4, 128, 128, 2), 64, 8), 36);
  EXPECT_EQ(channel_count(make_shape(4, 128, 128, 2), 64, 32), 9);
  EXPECT_EQ(channel_count(make_shape(4, 128, 128, 2), 64, 16), 18);
  EXPECT_EQ(channel_count(make_shape(4, 128, 128, 2), 64, 1000), 1);
  // Large E: capped by the limit.
  EXPECT_EQ(channel_count(make_shape(8, 4096, 512, 2), 32), 32);
  // Never more channels than lines (not entries: one entry can feed several channels).
  EXPECT_EQ(channel_count(make_shape(2, 3, 4096, 2), 64), 52);  // 3 x 1025 words = 205 lines
  EXPECT_EQ(channel_count(make_shape(2, 1, 8, 2), 64, 1), 1);
}

TEST(Ll128Layout, StreamGeometryCountsWordsLinesAndSlots) {
  const ExchangeShape s = make_shape(4, 1, 128, 2);
  const StreamGeometry g = stream_geometry(s, 1, 0, 128);
  EXPECT_EQ(g.o_row_words, 32u);
  EXPECT_EQ(g.stats_row_words, 1u);
  EXPECT_EQ(g.words, 33u);
  EXPECT_EQ(g.first_line, 0u);
  EXPECT_EQ(g.lines, 3u);
  EXPECT_EQ(g.slots, 1u);
  EXPECT_EQ(g.channel_words(), 33u);
  EXPECT_EQ(g.lines_in_slot(0, 128), 3u);

  const ExchangeShape big = make_shape(2, 100, 512, 6);  // 128 + 3 words per entry
  const std::int64_t lines = (100 * 131 + 14) / 15;      // 874 lines
  ASSERT_EQ(pair_stream_lines(big), lines);
  const StreamGeometry b = stream_geometry(big, 3, 1, 16);
  EXPECT_EQ(b.first_line, 292u);  // 874 = 292 + 291 + 291
  EXPECT_EQ(b.lines, 291u);
  EXPECT_EQ(b.o_words, 100u * 128u);
  EXPECT_EQ(b.words, 100u * 131u);
  EXPECT_EQ(b.channel_words(), 291u * 15u);
  EXPECT_EQ(b.slots, (b.lines + 15u) / 16u);
  std::uint32_t total = 0;
  for (std::uint32_t k = 0; k < b.slots; ++k)
    total += b.lines_in_slot(k, 16);
  EXPECT_EQ(total, b.lines);
  EXPECT_EQ(b.lines_in_slot(b.slots - 1, 16), b.lines - (b.slots - 1) * 16);
  // The last channel ends with the stream: its last line is partial.
  const StreamGeometry last = stream_geometry(big, 3, 2, 16);
  EXPECT_EQ(last.first_line + last.lines, 874u);
  EXPECT_EQ(last.channel_words(), 100u * 131u - 583u * 15u);
}

TEST(Ll128Layout, WordAddressingCoversEveryWordOnce) {
  // For each (shape, other rank) the channels of a pair hit every word of the rows (e, other) of
  // both tensors exactly once, and nothing else.
  for (const ExchangeShape& s : {make_shape(3, 7, 8, 2), make_shape(2, 5, 24, 6, true),
                                 make_shape(1, 4, 16, 4), make_shape(4, 33, 64, 2)}) {
    const RowDivisors d = RowDivisors::make(s);
    for (int channels : {1, 2, 3, 7}) {
      if (channels > pair_stream_lines(s)) continue;
      for (int other = 0; other < s.cp_size; ++other) {
        std::set<std::pair<bool, std::int64_t>> seen;
        for (int ch = 0; ch < channels; ++ch) {
          const StreamGeometry g = stream_geometry(s, channels, ch, 4);
          const std::uint32_t first = g.first_line * 15;
          for (std::uint32_t w = first; w < first + g.channel_words(); ++w) {
            const WordLoc loc = locate_word(g, d, s.cp_size, other, w);
            EXPECT_TRUE(seen.insert({loc.stats, loc.index}).second);
            if (w + 1 < g.words) {
              // next_in_row: the next stream word is the next word of the same row.
              const WordLoc next = locate_word(g, d, s.cp_size, other, w + 1);
              const std::int64_t rw = loc.stats ? s.stats_dim / 2 : s.head_dim / 4;
              EXPECT_EQ(loc.next_in_row, next.stats == loc.stats && next.index == loc.index + 1 &&
                                             next.index / rw == loc.index / rw);
            }
            const std::int64_t row_words = loc.stats ? s.stats_dim / 2 : s.head_dim / 4;
            const std::int64_t row = loc.index / row_words;
            EXPECT_EQ(row % s.cp_size, other);
            EXPECT_LT(row / s.cp_size, s.entries);
          }
        }
        EXPECT_EQ(seen.size(),
                  static_cast<std::size_t>(s.entries * (s.head_dim / 4 + s.stats_dim / 2)));
      }
    }
  }
}

TEST(Ll128Layout, PackedLseStreamCarriesEveryValueOnce) {
  // S = 1 (the reduce's LSE): the stats part is ceil(E / 2) words of two fp32 values each; the
  // kernel's addressing (lse_value_index) and locate_word agree, and every value (e, other) of
  // the [E, cp] tensor is carried exactly once, entry 2v in the lower half of stats word v.
  for (const ExchangeShape& s :
       {make_shape(1, 1, 8, 1), make_shape(2, 5, 24, 1, true), make_shape(3, 7, 8, 1),
        make_shape(4, 16, 512, 1), make_shape(8, 33, 128, 1), make_shape(5, 2, 64, 1)}) {
    ASSERT_EQ(shape_problem(s), nullptr);
    ASSERT_TRUE(packed_stats(s));
    EXPECT_EQ(stats_stream_words(s), (s.entries + 1) / 2);
    EXPECT_EQ(pair_stream_words(s), s.entries * s.head_dim / 4 + (s.entries + 1) / 2);
    const RowDivisors d = RowDivisors::make(s);
    const auto total_lines = static_cast<int>(pair_stream_lines(s));
    for (int channels : {1, 2, 3, 7}) {
      if (channels > total_lines) continue;
      const KernelPlan k = make_kernel_plan(s, channels);
      EXPECT_EQ(k.lse_values, static_cast<std::uint32_t>(s.entries));
      for (int other = 0; other < s.cp_size; ++other) {
        std::set<std::int64_t> values;
        std::set<std::int64_t> o_words;
        for (int ch = 0; ch < channels; ++ch) {
          const StreamGeometry g = stream_geometry(s, channels, ch, 4);
          const StreamWindow w = stream_window(k, ch, other);
          ASSERT_EQ(g.lse_values, static_cast<std::uint32_t>(s.entries));
          const std::uint32_t first = g.first_line * 15;
          for (std::uint32_t i = 0; i < g.channel_words(); ++i) {
            const std::uint32_t word = first + i;
            const WordLoc loc = locate_word(g, d, s.cp_size, other, word);
            if (word < w.o_words) {
              ASSERT_FALSE(loc.packed);
              EXPECT_TRUE(o_words.insert(loc.index).second);
              continue;
            }
            ASSERT_TRUE(loc.stats && loc.packed);
            const std::uint32_t v0 = 2 * (word - w.o_words);
            EXPECT_EQ(loc.index, std::int64_t{v0} * s.cp_size + other);
            EXPECT_EQ(loc.index, lse_value_index(k, w, v0));
            EXPECT_TRUE(values.insert(loc.index).second);
            if (v0 + 1 < s.entries) {
              EXPECT_EQ(loc.index2, std::int64_t{v0 + 1} * s.cp_size + other);
              EXPECT_EQ(loc.index2, lse_value_index(k, w, v0 + 1));
              EXPECT_TRUE(values.insert(loc.index2).second);
            } else {
              EXPECT_EQ(loc.index2, -1);  // E odd: the last word's upper half is padding
              EXPECT_EQ(v0 + 1, s.entries);
            }
          }
        }
        EXPECT_EQ(values.size(), static_cast<std::size_t>(s.entries));
        EXPECT_EQ(o_words.size(), static_cast<std::size_t>(s.entries * s.head_dim / 4));
        for (const std::int64_t v : values) {
          EXPECT_EQ(v % s.cp_size, other);
          EXPECT_LT(v / s.cp_size, s.entries);
        }
      }
    }
  }
}

TEST(Ll128Layout, ErrorRecordRoundTrips) {
  const std::uint64_t info = encode_error_info(ErrorRole::kSend, 15, 63, 31);
  EXPECT_NE(info, 0u);
  const std::uint64_t rec[kErrorWords] = {info, 17, 2, 99};
  const ErrorInfo e = decode_error(rec);
  EXPECT_TRUE(e.valid);
  EXPECT_EQ(e.role, ErrorRole::kSend);
  EXPECT_EQ(e.rank, 15);
  EXPECT_EQ(e.peer, 63);
  EXPECT_EQ(e.channel, 31);
  EXPECT_EQ(e.sequence, 17u);
  EXPECT_EQ(e.line, 2u);
  EXPECT_EQ(e.observed, 99u);
  const std::uint64_t none[kErrorWords] = {};
  EXPECT_FALSE(decode_error(none).valid);
}

TEST(Ll128Layout, ShapeProblemsAreNamed) {
  EXPECT_EQ(shape_problem(make_shape(4, 16, 128, 2)), nullptr);
  EXPECT_EQ(shape_problem(make_shape(4, 0, 128, 6)), nullptr);
  EXPECT_EQ(shape_problem(make_shape(4, 16, 512, 1)), nullptr);  // the reduce's LSE
  EXPECT_NE(shape_problem(make_shape(4, 16, 12, 2)), nullptr);   // 24 bytes: not a multiple of 16
  EXPECT_NE(shape_problem(make_shape(4, 16, 128, 3)), nullptr);  // odd S
  EXPECT_NE(shape_problem(make_shape(4, 16, 128, 0)), nullptr);
  EXPECT_NE(shape_problem(make_shape(65, 16, 128, 2)), nullptr);
  EXPECT_NE(shape_problem(make_shape(0, 16, 128, 2)), nullptr);
  EXPECT_NE(geometry_problem(Geometry{2, 0, 4, 128}), nullptr);
  EXPECT_NE(geometry_problem(Geometry{2, 1, 0, 128}), nullptr);
}

}  // namespace
}  // namespace dcp::kernels::ll128
