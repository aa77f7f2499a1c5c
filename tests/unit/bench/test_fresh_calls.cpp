// Verification depth (issue 13 item 9): the native exchange tells the runner how many calls with
// fresh inputs reuse every FIFO slot with new data (NativeAllToAll::min_fresh_calls, from
// calls_to_reuse_fifos). Checked against a direct count of the sequence numbers each channel
// consumes (consecutive per call, slot = seq mod depth), not against the formula. No GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/ll128_layout.hpp"
#include "kernels/native_alltoall.hpp"

namespace dcp::kernels {
namespace {

/// Fewest writes any physical slot of any channel's FIFO got after `calls` calls.
std::uint64_t fewest_writes(const ExchangeShape& s, int channels, const ll128::Geometry& g,
                            std::uint64_t calls) {
  std::uint64_t fewest = UINT64_MAX;
  for (int ch = 0; ch < channels; ++ch) {
    const std::uint32_t per_call = ll128::stream_geometry(s, channels, ch, g.slot_lines).slots;
    std::vector<std::uint64_t> writes(static_cast<std::size_t>(g.depth), 0);
    std::uint64_t seq = 0;
    for (std::uint64_t c = 0; c < calls; ++c) {
      for (std::uint32_t k = 0; k < per_call; ++k)
        ++writes[g.physical_slot(seq++)];
    }
    for (std::uint64_t w : writes)
      fewest = std::min(fewest, w);
  }
  return fewest;
}

TEST(FreshCalls, EveryFifoSlotIsReusedWithFreshDataAndNoCallIsWasted) {
  std::vector<ll128::Geometry> geometries;
  for (int cp : {2, 4, 8})
    geometries.push_back(ll128::default_geometry(cp));
  geometries.push_back(ll128::Geometry{2, 8, 2, 4});   // tiny FIFOs: many slots per call
  geometries.push_back(ll128::Geometry{4, 16, 8, 2});  // deep FIFOs, two-line slots
  int checked = 0;
  for (const ll128::Geometry& g : geometries) {
    for (std::int64_t e : {1, 3, 16, 128, 1024}) {
      for (int d : {128, 512}) {
        const ExchangeShape s{g.cp_size, e, d, 2, false};
        const int channels = ll128::channel_count(s, g.max_channels);
        const std::uint64_t n = calls_to_reuse_fifos(s, channels, g, 2);
        SCOPED_TRACE(::testing::Message()
                     << "cp=" << g.cp_size << " E=" << e << " D=" << d << " C=" << channels
                     << " depth=" << g.depth << " slot_lines=" << g.slot_lines << " calls=" << n);
        ASSERT_GE(n, 1u);
        EXPECT_GE(fewest_writes(s, channels, g, n), 2u);      // every slot reused once at least
        EXPECT_LT(fewest_writes(s, channels, g, n - 1), 2u);  // and one call fewer is not enough
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 50);
  // The default run at the reference shape (cp=2, E=1, D=128): one slot per call on a depth-4
  // FIFO, so 8 calls, more than the 5 ring sets the correctness pass made before.
  const ll128::Geometry g = ll128::default_geometry(2);
  const ExchangeShape s{2, 1, 128, 2, false};
  EXPECT_EQ(calls_to_reuse_fifos(s, ll128::channel_count(s, g.max_channels), g, 2),
            2u * static_cast<std::uint64_t>(g.depth));
}

TEST(FreshCalls, NothingIsCarriedByAnEmptyExchange) {
  const ll128::Geometry g = ll128::default_geometry(2);
  EXPECT_EQ(calls_to_reuse_fifos(ExchangeShape{2, 0, 128, 2, false}, 1, g, 2), 0u);
  // Before setup an implementation has no case.
  const NativeAllToAll impl(nullptr);
  EXPECT_EQ(impl.min_fresh_calls(), 0u);
}

}  // namespace
}  // namespace dcp::kernels
