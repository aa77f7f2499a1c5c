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
  EXPECT_EQ(max_channels_for(1), 64);
  EXPECT_EQ(max_channels_for(2), 64);
  EXPECT_EQ(max_channels_for(4), 64);
  EXPECT_EQ(max_channels_for(8), 32);
  EXPECT_EQ(max_channels_for(16), 16);
  EXPECT_EQ(max_channels_for(64), 4);
  EXPECT_EQ(workspace_bytes(1), 2109440);
  EXPECT_EQ(workspace_bytes(2), 4214784);
  EXPECT_EQ(workspace_bytes(4), 8425472);
  EXPECT_EQ(workspace_bytes(8), 8425472);
  EXPECT_EQ(workspace_bytes(16), 8425472);
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
  const Geometry g{4, 2, 3, 5};
  for (std::uint64_t seq = 0; seq < 20; ++seq) {
    EXPECT_EQ(g.line_offset(1, 1, seq, 2), g.line_offset(1, 1, seq + 3, 2));
    EXPECT_NE(g.line_offset(1, 1, seq, 0), g.line_offset(1, 1, seq + 1, 0));
    const std::int64_t in_fifo = g.line_offset(1, 1, seq, 4) - g.fifo_offset(1, 1);
    EXPECT_GE(in_fifo, 0);
    EXPECT_LT(in_fifo, g.fifo_bytes());
  }
  // 64-bit sequence numbers far from 0 keep their slot.
  const std::uint64_t big = (std::uint64_t{1} << 40) + 7;
  EXPECT_EQ(g.line_offset(0, 0, big, 0) - g.fifo_offset(0, 0), (big % 3) * g.slot_bytes());
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

TEST(Ll128Layout, ChannelsSplitEntriesIntoContiguousBalancedBlocks) {
  for (std::int64_t e : {1, 2, 5, 16, 100, 1000, 4097}) {
    for (int c = 1; c <= 32 && c <= e; ++c) {
      std::int64_t next = 0;
      std::int64_t smallest = e, largest = 0;
      for (int ch = 0; ch < c; ++ch) {
        EXPECT_EQ(channel_first_entry(e, c, ch), next);
        const std::int64_t n = channel_first_entry(e, c, ch + 1) - next;
        smallest = std::min(smallest, n);
        largest = std::max(largest, n);
        next += n;
      }
      EXPECT_EQ(next, e);
      EXPECT_LE(largest - smallest, 1);
      EXPECT_GE(smallest, 1);
      // The last channel is a largest one (the launcher sizes the variant from it).
      EXPECT_EQ(channel_first_entry(e, c, c) - channel_first_entry(e, c, c - 1), largest);
    }
  }
}

TEST(Ll128Layout, ChannelCountFollowsTheCase) {
  // E = 1: one channel.
  EXPECT_EQ(channel_count(make_shape(4, 1, 128, 2), 64), 1);
  EXPECT_EQ(channel_count(make_shape(4, 0, 128, 2), 64), 0);
  // 128 entries of D=128, S=2: 33 words each -> 282 lines -> 64 channels (71 at 4 lines/warp).
  EXPECT_EQ(channel_count(make_shape(4, 128, 128, 2), 64), 64);
  EXPECT_EQ(channel_count(make_shape(4, 128, 128, 2), 64, 8), 36);
  EXPECT_EQ(channel_count(make_shape(4, 128, 128, 2), 64, 32), 9);
  EXPECT_EQ(channel_count(make_shape(4, 128, 128, 2), 64, 16), 18);
  EXPECT_EQ(channel_count(make_shape(4, 128, 128, 2), 64, 1000), 1);
  // Large E: capped by the limit.
  EXPECT_EQ(channel_count(make_shape(8, 4096, 512, 2), 32), 32);
  // Never more channels than entries.
  EXPECT_EQ(channel_count(make_shape(2, 3, 4096, 2), 64), 3);
}

TEST(Ll128Layout, StreamGeometryCountsWordsLinesAndSlots) {
  const ExchangeShape s = make_shape(4, 1, 128, 2);
  const StreamGeometry g = stream_geometry(s, 1, 0, 128);
  EXPECT_EQ(g.o_row_words, 32u);
  EXPECT_EQ(g.stats_row_words, 1u);
  EXPECT_EQ(g.words, 33u);
  EXPECT_EQ(g.lines, 3u);
  EXPECT_EQ(g.slots, 1u);
  EXPECT_EQ(g.lines_in_slot(0, 128), 3u);

  const ExchangeShape big = make_shape(2, 100, 512, 6);  // 128 + 3 words per entry
  const StreamGeometry b = stream_geometry(big, 3, 1, 16);
  EXPECT_EQ(b.first_entry, 33);
  EXPECT_EQ(b.entries, 33u);
  EXPECT_EQ(b.words, 33u * 131u);
  EXPECT_EQ(b.lines, (33u * 131u + 14u) / 15u);
  EXPECT_EQ(b.slots, (b.lines + 15u) / 16u);
  std::uint32_t total = 0;
  for (std::uint32_t k = 0; k < b.slots; ++k)
    total += b.lines_in_slot(k, 16);
  EXPECT_EQ(total, b.lines);
  EXPECT_EQ(b.lines_in_slot(b.slots - 1, 16), b.lines - (b.slots - 1) * 16);
}

TEST(Ll128Layout, WordAddressingCoversEveryWordOnce) {
  // For each (shape, other rank) the streams of all channels hit every word of the rows
  // (e, other) of both tensors exactly once, and nothing else.
  for (const ExchangeShape& s : {make_shape(3, 7, 8, 2), make_shape(2, 5, 24, 6, true),
                                 make_shape(1, 4, 16, 4), make_shape(4, 33, 64, 2)}) {
    const RowDivisors d = RowDivisors::make(s);
    for (int channels : {1, 2, 3}) {
      if (channels > s.entries) continue;
      for (int other = 0; other < s.cp_size; ++other) {
        std::set<std::pair<bool, std::int64_t>> seen;
        for (int ch = 0; ch < channels; ++ch) {
          const StreamGeometry g = stream_geometry(s, channels, ch, 4);
          for (std::uint32_t w = 0; w < g.words; ++w) {
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
