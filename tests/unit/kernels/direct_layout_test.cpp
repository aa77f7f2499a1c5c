// The direct protocol's layout (direct_layout.hpp) and the host-side sizing and messages
// (direct_workspace.hpp): block split, offsets, no overlap, workspace sizing for every E up to the
// sweep's largest, 32-bit bounds, epochs and flags, the error record.

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <set>
#include <vector>

#include "core/error.hpp"
#include "kernels/direct_layout.hpp"
#include "kernels/direct_workspace.hpp"

namespace dcp::kernels::direct {
namespace {

ExchangeShape shape(int cp, std::int64_t e, int d, int s = 1) {
  return ExchangeShape{cp, e, d, s, false};
}

// Every entry lies in exactly one block; blocks are contiguous, in order, and all but the last
// have block_entries entries; the count bounds hold.
TEST(DirectLayout, BlocksPartitionTheEntries) {
  for (int cp : {1, 2, 3, 8, 64}) {
    for (int d : {8, 64, 128, 512, 4096}) {
      for (std::int64_t e : {0, 1, 2, 17, 31, 32, 33, 64, 100, 1000, 4096, 10007}) {
        const Layout l = make_layout(shape(cp, e, d));
        std::vector<int> owner(static_cast<std::size_t>(e), 0);
        std::uint32_t next = 0;
        for (std::uint32_t b = 0; b < l.blocks; ++b) {
          ASSERT_EQ(l.block_first(b), next) << "cp=" << cp << " d=" << d << " e=" << e;
          ASSERT_GE(l.block_size(b), 1u);
          if (b + 1 < l.blocks) {
            ASSERT_EQ(l.block_size(b), l.block_entries);
          }
          for (std::uint32_t i = 0; i < l.block_size(b); ++i)
            ++owner[l.block_first(b) + i];
          next += l.block_size(b);
        }
        EXPECT_EQ(next, static_cast<std::uint32_t>(e));
        EXPECT_TRUE(std::all_of(owner.begin(), owner.end(), [](int n) { return n == 1; }));
        // A block's bytes per source stay within the target unless it is a single entry; a call
        // of E entries has at least min(E, 17) blocks (n <= ceil(E / 32)).
        const std::int64_t block_bytes =
            std::int64_t{l.block_entries} * entry_bytes(shape(cp, e, d));
        if (l.block_entries > 1) {
          EXPECT_LE(block_bytes, target_block_bytes(cp));
        }
        EXPECT_GE(std::int64_t{l.blocks}, std::min<std::int64_t>(e, 17));
      }
    }
  }
}

TEST(DirectLayout, TargetBlockBytesFollowCp) {
  EXPECT_EQ(target_block_bytes(1), 64 * 1024);
  EXPECT_EQ(target_block_bytes(2), 64 * 1024);
  EXPECT_EQ(target_block_bytes(4), 32 * 1024);
  EXPECT_EQ(target_block_bytes(8), 16 * 1024);
  EXPECT_EQ(target_block_bytes(64), 16 * 1024);
  // Large calls use the byte target: D = 128 bf16 + one LSE = 260 bytes per entry at cp = 4.
  EXPECT_EQ(make_layout(shape(4, 100000, 128)).block_entries, 32u * 1024 / 260);
  // Small calls are cut by count: 64 entries -> 2 per block.
  EXPECT_EQ(make_layout(shape(4, 64, 128)).block_entries, 2u);
  EXPECT_EQ(make_layout(shape(4, 64, 128), 5).block_entries, 5u);  // explicit
}

// Offsets: alignment, order, no overlap of header, flags and regions, everything in the segment.
TEST(DirectLayout, OffsetsAreAlignedAndDisjoint) {
  for (int cp : {1, 2, 5, 8}) {
    const Geometry g = geometry_for(cp, 300, 64, 3);
    ASSERT_EQ(geometry_problem(g), nullptr);
    EXPECT_EQ(g.recv_offset() % kRecvAlignBytes, 0);
    EXPECT_GE(g.recv_offset(), kHeaderBytes + g.flags_bytes());
    std::set<std::int64_t> flags;
    for (std::uint32_t p = 0; p < 2; ++p) {
      for (std::int64_t b = 0; b < g.max_blocks; ++b) {
        for (int s = 0; s < cp; ++s) {
          const std::int64_t off = g.flag_offset(p, b, s);
          EXPECT_EQ(off % kFlagBytes, 0);
          EXPECT_GE(off, kHeaderBytes);
          EXPECT_LE(off + kFlagBytes, kHeaderBytes + g.flags_bytes());
          EXPECT_TRUE(flags.insert(off).second) << "flag offset reused";
        }
        // The cp flags of one block are contiguous (one warp polls them with one load).
        EXPECT_EQ(g.flag_offset(p, b, cp - 1) - g.flag_offset(p, b, 0), (cp - 1) * kFlagBytes);
      }
    }
    std::vector<std::pair<std::int64_t, std::int64_t>> regions;
    for (std::uint32_t p = 0; p < 2; ++p) {
      for (int s = 0; s < cp; ++s) {
        const std::int64_t off = g.region_offset(p, s);
        EXPECT_EQ(off % kRegionAlignBytes, 0);
        regions.emplace_back(off, off + g.region_bytes);
      }
    }
    std::sort(regions.begin(), regions.end());
    EXPECT_GE(regions.front().first, g.recv_offset());
    for (std::size_t i = 1; i < regions.size(); ++i)
      EXPECT_LE(regions[i - 1].second, regions[i].first);
    EXPECT_EQ(regions.back().second, g.segment_bytes());

    // Inside a region: rows 16-byte aligned and contiguous, then the stats; all within it.
    const Layout l = make_layout(shape(cp, 300, 64, 3));
    ASSERT_EQ(layout_problem(g, l), nullptr);
    for (std::uint32_t e = 0; e < l.entries; ++e) {
      EXPECT_EQ((g.region_offset(1, cp - 1) + l.row_offset(e)) % kRowAlignBytes, 0);
      EXPECT_GE(l.stats_offset(e), l.row_offset(l.entries - 1) + l.row_bytes);
      EXPECT_LE(l.stats_offset(e) + l.stats_bytes, l.region_bytes());
    }
    EXPECT_LE(l.region_bytes(), g.region_bytes);
  }
}

// geometry_for(E_max) holds the call of every E <= E_max, and its bounds are reached.
TEST(DirectLayout, WorkspaceSizedForTheLargestCaseHoldsEverySmallerOne) {
  for (int cp : {1, 2, 3, 8, 64}) {
    for (int d : {8, 64, 512, 8192}) {
      for (int s : {1, 2}) {
        for (std::int64_t emax : {0, 1, 31, 32, 33, 100, 1000, 5000}) {
          const Geometry g = geometry_for(cp, emax, d, s);
          if (geometry_problem(g) != nullptr) {  // refused only when it passes 2 GiB
            EXPECT_GT(2 * cp * g.region_bytes, kMaxSegmentBytes);
            continue;
          }
          std::int64_t most_blocks = 0;
          for (std::int64_t e = 0; e <= emax; ++e) {
            const Layout l = make_layout(shape(cp, e, d, s));
            ASSERT_EQ(layout_problem(g, l), nullptr)
                << "cp=" << cp << " d=" << d << " s=" << s << " emax=" << emax << " e=" << e;
            most_blocks = std::max<std::int64_t>(most_blocks, l.blocks);
          }
          EXPECT_EQ(g.max_blocks, std::max<std::int64_t>(most_blocks, 1)) << "bound not tight";
          EXPECT_EQ(g.region_bytes, make_layout(shape(cp, emax, d, s)).region_bytes());
        }
      }
    }
  }
}

TEST(DirectLayout, SweepGeometryCoversEveryCaseAndFitProblemExplains) {
  const std::vector<ExchangeShape> cases{shape(4, 1000, 128), shape(4, 64, 512), shape(4, 0, 64)};
  const Geometry g = geometry_for_sweep(cases);
  for (const ExchangeShape& c : cases)
    EXPECT_EQ(direct_fit_problem(c, g), std::nullopt);
  // A larger case does not fit; the message names the case and both sizes.
  const auto msg = direct_fit_problem(shape(4, 4096, 512), g);
  ASSERT_TRUE(msg.has_value());
  EXPECT_NE(msg->find("cp=4 E=4096 D=512 S=1"), std::string::npos) << *msg;
  EXPECT_NE(msg->find(std::to_string(g.segment_bytes())), std::string::npos) << *msg;
  EXPECT_NE(msg->find(std::to_string(workspace_bytes(4, 4096, 512, 1))), std::string::npos) << *msg;
  EXPECT_EQ(msg->find('\n'), std::string::npos);
  // Another cp, and a bad shape, are explained too.
  EXPECT_TRUE(direct_fit_problem(shape(2, 1, 128), g).has_value());
  EXPECT_NE(direct_fit_problem(shape(4, 1, 12), g)->find("head_dim"), std::string::npos);
  // Sweeps mixing cp, holding a bad shape or needing more than 2 GiB are refused.
  const std::vector<ExchangeShape> mixed{shape(2, 1, 128), shape(4, 1, 128)};
  EXPECT_THROW(geometry_for_sweep(mixed), ConfigError);
  const std::vector<ExchangeShape> bad{shape(2, 1, 100)};
  EXPECT_THROW(geometry_for_sweep(bad), ConfigError);
  const std::vector<ExchangeShape> huge{shape(8, 1 << 20, 512)};
  EXPECT_THROW(geometry_for_sweep(huge), ConfigError);
  EXPECT_THROW(geometry_for_sweep({}), ConfigError);
}

TEST(DirectLayout, ShapeAndGeometryBounds) {
  EXPECT_EQ(shape_problem(shape(1, 0, 8)), nullptr);
  EXPECT_EQ(shape_problem(shape(64, 1, 512)), nullptr);
  EXPECT_NE(shape_problem(shape(0, 1, 128)), nullptr);
  EXPECT_NE(shape_problem(shape(65, 1, 128)), nullptr);
  EXPECT_NE(shape_problem(shape(2, -1, 128)), nullptr);
  EXPECT_NE(shape_problem(shape(2, 1, 12)), nullptr);
  EXPECT_NE(shape_problem(shape(2, 1, 128, 0)), nullptr);
  // 32-bit tensor indices: E * cp * D must stay below 2^31.
  const std::int64_t limit = kMaxTensorElements / (8 * 512);
  EXPECT_EQ(shape_problem(shape(8, limit, 512)), nullptr);
  EXPECT_NE(shape_problem(shape(8, limit + 1, 512)), nullptr);
  // Segments stay below 2 GiB (32-bit offsets).
  EXPECT_EQ(geometry_problem(geometry_for(8, 100000, 512, 1)), nullptr);
  EXPECT_NE(geometry_problem(geometry_for(8, 200000, 512, 1)), nullptr);
  EXPECT_NE(geometry_problem(Geometry{8, 0, 128}), nullptr);
  EXPECT_NE(geometry_problem(Geometry{8, 1, 100}), nullptr);
  EXPECT_NE(geometry_problem(Geometry{65, 1, 128}), nullptr);
  // A layout of another cp, with too many blocks, or too many bytes does not fit.
  const Geometry g = geometry_for(4, 100, 128, 1);
  EXPECT_NE(layout_problem(g, make_layout(shape(2, 10, 128))), nullptr);
  EXPECT_NE(layout_problem(g, make_layout(shape(4, 100, 128), 1)), nullptr);  // 100 blocks
  EXPECT_NE(layout_problem(g, make_layout(shape(4, 101, 128))), nullptr);
  EXPECT_EQ(layout_problem(g, make_layout(shape(4, 100, 128))), nullptr);
}

TEST(DirectLayout, EpochsAndFlags) {
  EXPECT_EQ(parity_of(0), 0u);
  EXPECT_EQ(parity_of(7), 1u);
  EXPECT_EQ(parity_of(std::numeric_limits<std::uint64_t>::max()), 1u);
  EXPECT_EQ(flag_for(0), 1u);  // a zeroed workspace never matches
  EXPECT_EQ(flag_state(0, 0), FlagState::kPending);
  EXPECT_EQ(flag_state(1, 0), FlagState::kArrived);
  EXPECT_EQ(flag_state(17, 18), FlagState::kPending);  // the same parity two calls ago
  EXPECT_EQ(flag_state(19, 18), FlagState::kArrived);
  EXPECT_EQ(flag_state(21, 18), FlagState::kAhead);  // two calls ahead: epochs disagree
  const std::uint64_t far = std::uint64_t{1} << 40;
  EXPECT_EQ(flag_state(far + 1, far), FlagState::kArrived);
  EXPECT_EQ(flag_state(far - 1, far), FlagState::kPending);
  // Fused: the CTA that arrives last advances the epoch.
  EXPECT_FALSE(last_arrival(0, 3));
  EXPECT_FALSE(last_arrival(1, 3));
  EXPECT_TRUE(last_arrival(2, 3));
  EXPECT_TRUE(last_arrival(0, 1));
  // Staged: the advance launch reads n, the later launches read n + 1; all work on call n.
  EXPECT_EQ(staged_call_epoch(StagedStep::kAdvance, 5), 5u);
  EXPECT_EQ(staged_call_epoch(StagedStep::kWrite, 6), 5u);
  EXPECT_EQ(staged_call_epoch(StagedStep::kSignal, 6), 5u);
  EXPECT_EQ(staged_call_epoch(StagedStep::kWaitDeliver, 6), 5u);
}

TEST(DirectLayout, ErrorRecordRoundTripsAndIsDescribed) {
  for (ErrorRole role : {ErrorRole::kRecv, ErrorRole::kAhead, ErrorRole::kAbort}) {
    const std::uint64_t words[kErrorWords] = {encode_error_info(role, 63, 17), 4095, 1234567, 42};
    const ErrorInfo e = decode_error(words);
    ASSERT_TRUE(e.valid);
    EXPECT_EQ(e.role, role);
    EXPECT_EQ(e.rank, 63);
    EXPECT_EQ(e.peer, 17);
    EXPECT_EQ(e.block, 4095u);
    EXPECT_EQ(e.epoch, 1234567u);
    EXPECT_EQ(e.observed, 42u);
    const std::string m = describe_error(e, 2.0);
    EXPECT_NE(m.find("rank 63"), std::string::npos) << m;
    EXPECT_NE(m.find("peer 17"), std::string::npos) << m;
    EXPECT_NE(m.find("block 4095"), std::string::npos) << m;
    EXPECT_NE(m.find("epoch 1234567"), std::string::npos) << m;
  }
  const std::uint64_t none[kErrorWords] = {0, 1, 2, 3};
  EXPECT_FALSE(decode_error(none).valid);
  const std::uint64_t recv[kErrorWords] = {encode_error_info(ErrorRole::kRecv, 0, 1), 3, 17, 16};
  EXPECT_EQ(describe_error(decode_error(recv), 2.0),
            "rank 0: no flag from peer 1 for block 3 (awaited epoch 17, flag 18; saw 16) within 2 "
            "s — the peer never launched the exchange, died, or runs a different sweep");
}

}  // namespace
}  // namespace dcp::kernels::direct
