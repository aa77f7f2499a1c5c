// Workspace layout arithmetic: rounding to the granularity, the common granularity of all ranks,
// the stride, and the messages that name a rank whose value differs.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <vector>

#include "core/error.hpp"
#include "fabric/layout.hpp"

namespace dcp::fabric {
namespace {

constexpr std::size_t kMiB = std::size_t{1} << 20;

TEST(FabricLayout, RoundUp) {
  EXPECT_EQ(round_up(0, 2 * kMiB), 0U);
  EXPECT_EQ(round_up(1, 2 * kMiB), 2 * kMiB);
  EXPECT_EQ(round_up(2 * kMiB, 2 * kMiB), 2 * kMiB);
  EXPECT_EQ(round_up(2 * kMiB + 1, 2 * kMiB), 4 * kMiB);
  EXPECT_EQ(round_up(7, 3), 9U);
  EXPECT_THROW((void)round_up(5, 0), Error);
  EXPECT_THROW((void)round_up(std::numeric_limits<std::size_t>::max(), 2 * kMiB), Error);
}

TEST(FabricLayout, SegmentsBackToBackAtGranularity) {
  const std::vector<std::size_t> g{2 * kMiB, 2 * kMiB};
  const SegmentLayout l = plan_layout(2, 8 * kMiB, g);
  EXPECT_EQ(l.cp, 2);
  EXPECT_EQ(l.segment_bytes, 8 * kMiB);
  EXPECT_EQ(l.granularity, 2 * kMiB);
  EXPECT_EQ(l.mapped_bytes, 8 * kMiB);
  EXPECT_EQ(l.stride, 8 * kMiB);
  EXPECT_EQ(l.range_bytes(), 16 * kMiB);
  EXPECT_EQ(l.offset(0), 0U);
  EXPECT_EQ(l.offset(1), 8 * kMiB);
}

TEST(FabricLayout, OddSizeIsRoundedUpAndStrideFollows) {
  // The native exchange's size is cp * maxC * 524,800 bytes: never a granule multiple.
  const std::size_t bytes = 8 * 66 * 524800;  // cp 8, 66 channels: 277,094,400 bytes
  const std::vector<std::size_t> g(8, 2 * kMiB);
  const SegmentLayout l = plan_layout(8, bytes, g);
  EXPECT_EQ(l.mapped_bytes % (2 * kMiB), 0U);
  EXPECT_GE(l.mapped_bytes, bytes);
  EXPECT_LT(l.mapped_bytes - bytes, 2 * kMiB);
  EXPECT_EQ(l.stride, l.mapped_bytes);
  EXPECT_EQ(l.offset(7), 7 * l.stride);
  EXPECT_EQ(l.range_bytes(), 8 * l.stride);
}

TEST(FabricLayout, CommonGranularityIsTheLcmOfAllRanks) {
  const std::vector<std::size_t> g{2 * kMiB, 512 * kMiB, 2 * kMiB};
  const SegmentLayout l = plan_layout(3, 3 * kMiB, g);
  EXPECT_EQ(l.granularity, 512 * kMiB);
  EXPECT_EQ(l.stride, 512 * kMiB);
  const std::vector<std::size_t> odd{4, 6};
  EXPECT_EQ(plan_layout(2, 5, odd).granularity, 12U);
  EXPECT_EQ(plan_layout(2, 5, odd).stride, 12U);
}

TEST(FabricLayout, RejectsBadInput) {
  const std::vector<std::size_t> g{2 * kMiB};
  EXPECT_THROW((void)plan_layout(1, 0, g), ConfigError);
  EXPECT_THROW((void)plan_layout(0, kMiB, g), ConfigError);
  const std::vector<std::size_t> zero{2 * kMiB, 0};
  EXPECT_THROW((void)plan_layout(2, kMiB, zero), Error);
  const std::vector<std::size_t> none;
  EXPECT_THROW((void)plan_layout(2, kMiB, none), Error);
  const std::vector<std::size_t> huge(4, 2 * kMiB);
  EXPECT_THROW((void)plan_layout(4, std::numeric_limits<std::size_t>::max() / 2, huge), Error);
}

TEST(FabricLayout, FirstMismatchNamesTheRank) {
  const std::vector<std::uint64_t> same{5, 5, 5};
  EXPECT_EQ(first_mismatch(same), -1);
  const std::vector<std::uint64_t> one{5};
  EXPECT_EQ(first_mismatch(one), -1);
  const std::vector<std::uint64_t> differ{5, 5, 6, 7};
  EXPECT_EQ(first_mismatch(differ), 2);
  const std::vector<std::uint64_t> first_differs{4, 5, 5};
  EXPECT_EQ(first_mismatch(first_differs), 1);
}

TEST(FabricLayout, MismatchMessage) {
  const std::vector<std::uint64_t> same{8, 8};
  EXPECT_TRUE(mismatch_message("workspace ipc", "segment size (bytes)", same).empty());
  const std::vector<std::uint64_t> differ{8388608, 8388608, 4194304};
  const std::string m = mismatch_message("workspace ipc", "segment size (bytes)", differ);
  EXPECT_NE(m.find("workspace ipc: rank 2 has segment size (bytes) 4194304"), std::string::npos)
      << m;
  EXPECT_NE(m.find("rank 0 has 8388608"), std::string::npos) << m;
}

TEST(FabricLayout, FormatBytes) {
  EXPECT_EQ(format_bytes(8 * kMiB), "8 MiB");
  EXPECT_EQ(format_bytes(3 * 1024), "3 KiB");
  EXPECT_EQ(format_bytes(1000), "1000 bytes");
  EXPECT_EQ(format_bytes(2 * 1024 * kMiB), "2 GiB");
  EXPECT_EQ(format_bytes(kMiB + 1024), "1025 KiB");
  EXPECT_EQ(format_bytes(0), "0 bytes");
}

}  // namespace
}  // namespace dcp::fabric
