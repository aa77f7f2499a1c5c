// Host reference of the LL128 stream format: golden bytes, pack/unpack round trips, gather and
// scatter as the exact transpose of spec §1.3, error messages.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <random>
#include <vector>

#include "core/error.hpp"
#include "kernels/ll128_reference.hpp"

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

TEST(Ll128Reference, GoldenBytesOfAPackedLine) {
  // cp=2, E=1, D=8 (2 words per row), S=2 (1 word per row): the stream 0 -> 1 is row (0, 1) of
  // partial_o then row (0, 1) of the stats: 3 words, one line.
  const ExchangeShape s = make_shape(2, 1, 8, 2);
  std::vector<std::uint16_t> in_o(2 * 8);
  std::vector<std::uint32_t> in_stats(2 * 2);
  for (int row = 0; row < 2; ++row) {
    for (int k = 0; k < 8; ++k)
      in_o[static_cast<std::size_t>(row * 8 + k)] = static_cast<std::uint16_t>(0x1000 * row + k);
    for (int k = 0; k < 2; ++k) {
      in_stats[static_cast<std::size_t>(row * 2 + k)] =
          0xA0000000u + static_cast<std::uint32_t>(row * 0x10 + k);
    }
  }
  const auto payload = gather_stream(s, 1, 0, /*receiver=*/1, in_o.data(), in_stats.data());
  ASSERT_EQ(payload.size(), 3u);
  const Line line = pack_line(payload, 0, flag_for(5));
  std::array<unsigned char, 128> bytes{};
  std::memcpy(bytes.data(), line.data(), 128);
  const std::array<unsigned char, 128> golden = {
      0x00, 0x10, 0x01, 0x10, 0x02, 0x10, 0x03, 0x10,  // word 0: o[0,1,0..3]
      0x04, 0x10, 0x05, 0x10, 0x06, 0x10, 0x07, 0x10,  // word 1: o[0,1,4..7]
      0x10, 0x00, 0x00, 0xA0, 0x11, 0x00, 0x00, 0xA0,  // word 2: stats[0,1,0..1]
      0,    0,    0,    0,    0,    0,    0,    0,     // words 3..14: zero padding
      0,    0,    0,    0,    0,    0,    0,    0,    0,    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
      0,    0,    0,    0,    0,    0,    0,    0,    0,    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
      0,    0,    0,    0,    0,    0,    0,    0,    0,    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
      0,    0,    0,    0,    0,    0,    0,    0,    0,    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
      0,    0,    0,    0,    0,    0,    0,    0,    0x06, 0, 0, 0, 0, 0, 0, 0,  // word 15: flag =
                                                                                  // sequence 5 + 1
  };
  EXPECT_EQ(bytes, golden);
}

TEST(Ll128Reference, GoldenBytesOfAnOddLine) {
  // Stream line 1 carries payload words 15..29: the odd first word 15 in line word 14, words
  // 16..29 in line words 0..13, and the flag in word 15 (the last word), as on every line.
  std::vector<std::uint64_t> payload(31);
  for (std::size_t i = 0; i < payload.size(); ++i)
    payload[i] = 0x1000 + i;
  const Line line = pack_line(payload, 1, flag_for(9));
  EXPECT_EQ(line[15], 10u);
  EXPECT_EQ(line[14], 0x1000u + 15);
  for (std::size_t i = 0; i < 14; ++i)
    EXPECT_EQ(line[i], 0x1000 + 16 + i) << i;
  // Line 2 (even): payload 30 in word 0, zeros, flag in word 15.
  const Line two = pack_line(payload, 2, 7);
  EXPECT_EQ(two[0], 0x1000u + 30);
  EXPECT_EQ(two[1], 0u);
  EXPECT_EQ(two[14], 0u);
  EXPECT_EQ(two[15], 7u);
  // The unaligned build option: payload word i in line word i, flag in word 15.
  const Line unaligned = pack_line(payload, 1, 10, 0, LineLayout::kFlagLastUnaligned);
  for (std::size_t i = 0; i < 15; ++i)
    EXPECT_EQ(unaligned[i], 0x1000 + 15 + i) << i;
  EXPECT_EQ(unaligned[15], 10u);
  // The old format (ordering emulation only): flag in word 0 of odd lines.
  const Line old = pack_line(payload, 1, 10, 0, LineLayout::kFlagFirstOnOdd);
  EXPECT_EQ(old[0], 10u);
  for (std::size_t i = 1; i < 16; ++i)
    EXPECT_EQ(old[i], 0x1000 + 15 + (i - 1)) << i;
}

TEST(Ll128Reference, LaneMovesAssembleTheReferenceLine) {
  // What the kernel's sender assembles, lane by lane (lane_move: lower half = stream word
  // `lower`, upper half = `lower + 1` or the flag), is byte for byte the reference line, for
  // lines of both parities, a channel starting at an odd stream line, and the stream's end.
  std::vector<std::uint64_t> payload(100);
  for (std::size_t i = 0; i < payload.size(); ++i)
    payload[i] = 0xABC00000 + i;
  for (const LineLayout layout : {LineLayout::kFlagLast, LineLayout::kFlagLastUnaligned}) {
    for (std::uint32_t first_line : {0u, 3u}) {
      const auto lines = pack_stream(payload, 41, 2, first_line, layout);
      ASSERT_EQ(lines.size(), 7u);
      for (std::uint32_t l = 0; l < lines.size(); ++l) {
        const std::uint32_t stream_line = first_line + l;
        const std::uint64_t flag = flag_for(41 + l / 2);
        for (int part = 0; part < kLanesPerLine; ++part) {
          // Channel-relative word numbers: the stream words of the channel start at 15 * first.
          const LaneMove m = lane_move(1u << 30, stream_line, part, layout);
          const std::uint32_t lower = m.lower - first_line * 15;
          auto word = [&](std::uint32_t w) { return w < payload.size() ? payload[w] : 0; };
          const auto lo = static_cast<std::size_t>(part * 2);
          EXPECT_EQ(lines[l][lo], word(lower)) << l << " " << part;
          EXPECT_EQ(lines[l][lo + 1], m.upper ? word(lower + 1) : flag) << l << " " << part;
        }
      }
    }
  }
}

TEST(Ll128Reference, PackUnpackRoundTripAcrossSlots) {
  std::mt19937_64 rng(7);
  for (const LineLayout layout :
       {LineLayout::kFlagLast, LineLayout::kFlagLastUnaligned, LineLayout::kFlagFirstOnOdd}) {
    for (std::uint32_t words : {1u, 14u, 15u, 16u, 44u, 45u, 46u, 1000u}) {
      std::vector<std::uint64_t> payload(words);
      for (auto& w : payload)
        w = rng();
      const std::uint64_t first_seq = (std::uint64_t{1} << 35) + 3;
      for (std::uint32_t first_line : {0u, 1u}) {
        const auto lines = pack_stream(payload, first_seq, 4, first_line, layout);
        ASSERT_EQ(lines.size(), (words + 14) / 15);
        for (std::size_t l = 0; l < lines.size(); ++l) {
          const auto line = first_line + static_cast<std::uint32_t>(l);
          const auto fw = static_cast<std::size_t>(flag_word(line, layout));
          EXPECT_EQ(fw, flag_is_last(layout) || line % 2 == 0 ? 15u : 0u);
          EXPECT_EQ(lines[l][fw], flag_for(first_seq + l / 4));
        }
        EXPECT_EQ(unpack_stream(lines, first_seq, 4, words, first_line, layout), payload);
        // A wrong flag anywhere is refused.
        auto bad = lines;
        const auto last = first_line + static_cast<std::uint32_t>(lines.size() - 1);
        bad.back()[static_cast<std::size_t>(flag_word(last, layout))] += 4;  // the stale flag of
                                                                             // the same physical
                                                                             // slot one cycle later
        EXPECT_THROW(unpack_stream(bad, first_seq, 4, words, first_line, layout), Error);
      }
    }
  }
}

TEST(Ll128Reference, GatherThenScatterIsTheExactTranspose) {
  for (const ExchangeShape& s :
       {make_shape(3, 5, 16, 2), make_shape(4, 9, 24, 6, true), make_shape(1, 3, 8, 4),
        make_shape(3, 5, 16, 1), make_shape(2, 8, 8, 1, true)}) {  // S = 1: packed LSEs
    const int cp = s.cp_size;
    const auto o_elems = static_cast<std::size_t>(s.rows() * s.head_dim);
    const auto s_elems = static_cast<std::size_t>(s.rows() * s.stats_dim);
    std::vector<std::vector<std::uint16_t>> in_o(static_cast<std::size_t>(cp)),
        out_o(static_cast<std::size_t>(cp));
    std::vector<std::vector<std::uint32_t>> in_st(static_cast<std::size_t>(cp)),
        out_st(static_cast<std::size_t>(cp));
    for (int r = 0; r < cp; ++r) {
      auto ri = static_cast<std::size_t>(r);
      in_o[ri].resize(o_elems);
      out_o[ri].resize(o_elems);
      in_st[ri].resize(s_elems);
      out_st[ri].resize(s_elems);
      fill_inputs_host(s, 99, 3, r, in_o[ri].data(), in_st[ri].data());
      poison_outputs_host(s, out_o[ri].data(), out_st[ri].data());
    }
    const int channels = std::min<int>(3, static_cast<int>(s.entries));
    for (int src = 0; src < cp; ++src) {
      for (int dst = 0; dst < cp; ++dst) {
        for (int ch = 0; ch < channels; ++ch) {
          const auto payload =
              gather_stream(s, channels, ch, dst, in_o[static_cast<std::size_t>(src)].data(),
                            in_st[static_cast<std::size_t>(src)].data());
          scatter_stream(s, channels, ch, src, payload, out_o[static_cast<std::size_t>(dst)].data(),
                         out_st[static_cast<std::size_t>(dst)].data());
        }
      }
    }
    for (int r = 0; r < cp; ++r) {
      const VerifyOutcome v =
          verify_outputs_host(s, 99, 3, r, out_o[static_cast<std::size_t>(r)].data(),
                              out_st[static_cast<std::size_t>(r)].data());
      EXPECT_TRUE(v.ok()) << v.summary();
      EXPECT_EQ(v.rows_checked, static_cast<std::uint64_t>(s.rows()));
    }
  }
}

TEST(Ll128Reference, TimeoutMessagesNameRankPeerChannelAndSequence) {
  ErrorInfo e;
  e.valid = true;
  e.role = ErrorRole::kRecv;
  e.rank = 0;
  e.peer = 1;
  e.channel = 3;
  e.sequence = 17;
  e.line = 2;
  EXPECT_EQ(describe_error(e, 10.0),
            "rank 0: no data from peer 1 on channel 3 (awaited sequence 17, line 2) within 10 s — "
            "the peer never launched the exchange, died, or runs a different sweep");
  e.role = ErrorRole::kSend;
  e.observed = 12;
  const std::string send = describe_error(e, 0.5);
  EXPECT_NE(send.find("peer 1 freed no FIFO space on channel 3"), std::string::npos) << send;
  EXPECT_NE(send.find("sequence 17"), std::string::npos);
  EXPECT_NE(send.find("0.5 s"), std::string::npos);
  e.role = ErrorRole::kAbort;
  EXPECT_NE(describe_error(e, 1).find("had already failed"), std::string::npos);
}

}  // namespace
}  // namespace dcp::kernels::ll128
