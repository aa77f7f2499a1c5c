// Host-side pieces of the direct kernels (no GPU): the staged CTA split the kernels compute equals
// the one the protocol programs (and so the checker and the emulation) use, and the hang
// forensics decode flag words into a report naming rank, peer, block and epoch.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.hpp"
#include "kernels/direct_hang.hpp"
#include "kernels/direct_layout.hpp"
#include "kernels/direct_protocol.hpp"
#include "kernels/direct_split.hpp"

namespace dcp::kernels::direct {
namespace {

TEST(DirectSplit, StagedBlocksEqualTheProtocolsSplit) {
  int checked = 0;
  for (std::uint32_t blocks = 1; blocks <= 300; blocks += (blocks < 40 ? 1 : 13)) {
    Layout l;
    l.blocks = blocks;
    for (int ctas = 1; ctas <= 70; ++ctas) {
      if (static_cast<std::uint32_t>(ctas) > blocks) break;
      std::uint32_t next = 0;
      for (int c = 0; c < ctas; ++c) {
        const fused::Range a =
            staged_blocks(l, static_cast<std::uint32_t>(c), static_cast<std::uint32_t>(ctas));
        const fused::Range b = staged_cta_blocks(l, c, ctas);
        ASSERT_EQ(a.first, b.first) << blocks << " " << ctas << " " << c;
        ASSERT_EQ(a.count, b.count) << blocks << " " << ctas << " " << c;
        EXPECT_EQ(a.first, next);  // contiguous, in order
        EXPECT_GE(a.count, 1u);    // ctas <= blocks: nobody idle
        next = a.end();
        ++checked;
      }
      EXPECT_EQ(next, blocks);  // every block, once
    }
  }
  EXPECT_GT(checked, 1000);
}

/// Words of a rank: zero header and flags, epoch word `epoch_word`.
RankFlagWords words(const Geometry& g, int rank, std::uint64_t epoch_word) {
  RankFlagWords w;
  w.rank = rank;
  w.header.assign(static_cast<std::size_t>(kHeaderBytes / 8), 0);
  w.header[kEpochWord] = epoch_word;
  w.flags.assign(static_cast<std::size_t>(g.flags_bytes() / kFlagBytes), 0);
  return w;
}
std::uint64_t& flag(const Geometry& g, RankFlagWords& w, std::uint32_t parity, std::uint32_t b,
                    int src) {
  return w.flags[static_cast<std::size_t>((g.flag_offset(parity, b, src) - kHeaderBytes) / 8)];
}

TEST(DirectHang, NamesTheMissingPeerAndBlock) {
  const ExchangeShape s{3, 64, 512, 1, false};
  const Geometry g = geometry_for(3, 64, 512, 1);
  const Layout l = make_layout(s);
  ASSERT_GT(l.blocks, 3u);
  const std::uint64_t epoch = 5;  // parity 1, flag value 6
  std::vector<RankFlagWords> ranks;
  for (int r = 0; r < 3; ++r)
    ranks.push_back(words(g, r, epoch));
  // Every flag of the call arrived except those of peer 1 from block 2 on at rank 0, which still
  // hold the flags of epoch 3 (the previous call of parity 1: value 4).
  for (int r = 0; r < 3; ++r) {
    for (std::uint32_t b = 0; b < l.blocks; ++b) {
      for (int src = 0; src < 3; ++src) {
        flag(g, ranks[static_cast<std::size_t>(r)], 1, b, src) =
            (r == 0 && src == 1 && b >= 2) ? flag_for(epoch - 2) : flag_for(epoch);
      }
    }
  }
  // Rank 0 recorded the timeout (block 2 from peer 1), rank 2 an abort.
  ranks[0].header[kErrorInfo] = encode_error_info(ErrorRole::kRecv, 0, 1);
  ranks[0].header[kErrorBlock] = 2;
  ranks[0].header[kErrorEpoch] = epoch;
  ranks[0].header[kErrorObserved] = flag_for(epoch - 2);
  ranks[2].header[kErrorInfo] = encode_error_info(ErrorRole::kAbort, 2, 0);
  ranks[2].header[kErrorEpoch] = epoch;
  // The abort comes first in rank order; the report puts the root cause first.
  std::swap(ranks[0], ranks[2]);
  const HangReport rep = decode_direct_hang(g, l, FlagUse::kPerBlock, ranks, 2.0);
  ASSERT_EQ(rep.errors.size(), 3u);
  EXPECT_NE(rep.errors[0].find("rank 0: no flag from peer 1 for block 2"), std::string::npos)
      << rep.errors[0];
  EXPECT_NE(rep.errors[1].find("rank 2: stopped waiting for peer 0"), std::string::npos)
      << rep.errors[1];
  EXPECT_EQ(rep.errors[2], "rank 0 from peer 1: 2 of " + std::to_string(l.blocks) +
                               " block flags of epoch 5 arrived; first missing block 2 holds 4 "
                               "(awaited 6)");
  EXPECT_TRUE(rep.channels.empty());
  EXPECT_EQ(rep.ranks, 3);
}

TEST(DirectHang, PairFlagsOfTheStagedScheme) {
  const ExchangeShape s{2, 100, 128, 1, false};
  const Geometry g = geometry_for(2, 100, 128, 1);
  const Layout l = make_layout(s);
  // Staged: the epoch word names the call begun (word - 1 = 8, parity 0); no error record.
  std::vector<RankFlagWords> ranks{words(g, 0, 9), words(g, 1, 9)};
  flag(g, ranks[0], 0, kPairFlagBlock, 0) = flag_for(8);
  flag(g, ranks[0], 0, kPairFlagBlock, 1) = flag_for(6);  // peer 1's flag of two calls ago
  flag(g, ranks[1], 0, kPairFlagBlock, 0) = flag_for(8);
  flag(g, ranks[1], 0, kPairFlagBlock, 1) = flag_for(8);
  EXPECT_EQ(awaited_epoch(ranks[0], FlagUse::kPerPair), 8u);
  EXPECT_EQ(awaited_epoch(ranks[0], FlagUse::kPerBlock), 9u);
  const HangReport rep = decode_direct_hang(g, l, FlagUse::kPerPair, ranks, 1.0);
  ASSERT_EQ(rep.errors.size(), 1u);
  EXPECT_EQ(rep.errors[0],
            "rank 0 from peer 1: 0 of 1 pair flags of epoch 8 arrived; first missing slot 0 "
            "holds 7 (awaited 9)");
}

TEST(DirectHang, RejectsWordsOfTheWrongSize) {
  const Geometry g = geometry_for(2, 16, 128, 1);
  const Layout l = make_layout(ExchangeShape{2, 16, 128, 1, false});
  std::vector<RankFlagWords> ranks{words(g, 0, 0)};
  ranks[0].flags.pop_back();
  EXPECT_THROW(decode_direct_hang(g, l, FlagUse::kPerBlock, ranks, 1.0), Error);
}

}  // namespace
}  // namespace dcp::kernels::direct
