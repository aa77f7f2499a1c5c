// Which ring slots a timing plan writes: post-timing verification checks exactly those.
#include <gtest/gtest.h>

#include "bench/timing.hpp"

namespace dcp::bench {
namespace {

TEST(SlotsWritten, EagerCountsWarmupAndIterations) {
  TimingPlan p{LaunchMode::kEager, 1, 2, 20, 5, 10.0};
  EXPECT_EQ(slots_written(p), 3u);  // 3 calls reach slots 0, 1, 2 only
  p.iters = 1000;
  EXPECT_EQ(slots_written(p), 5u);
}

TEST(SlotsWritten, GraphReplaysTheSameCalls) {
  TimingPlan p{LaunchMode::kGraph, 50, 1000, 2, 5, 10.0};
  EXPECT_EQ(slots_written(p), 2u);  // every replay writes slots 0 and 1
  p.calls_per_sample = 20;
  EXPECT_EQ(slots_written(p), 5u);
}

TEST(SlotsWritten, PipelinedCountsWholeSamples) {
  TimingPlan p{LaunchMode::kPipelined, 1, 1, 2, 5, 10.0};
  EXPECT_EQ(slots_written(p), 4u);  // one warm-up sample + one timed sample of 2 calls
  p.iters = 2;
  EXPECT_EQ(slots_written(p), 5u);
}

}  // namespace
}  // namespace dcp::bench
