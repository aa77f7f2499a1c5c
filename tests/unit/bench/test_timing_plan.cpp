// Which ring slots a timing plan writes (post-timing verification checks exactly those), and
// which pass is the last, whose slots are poisoned right before it (issue 13 item 9).
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

LastPass pass(std::int64_t before, std::vector<std::size_t> slots) {
  return LastPass{before, std::move(slots)};
}

TEST(LastPass, EagerIsTheLastCallOnEverySlot) {
  // 50 + 1000 calls over 5 slots: the last 5 calls (iterations 1045..1049) write every slot.
  TimingPlan p{LaunchMode::kEager, 50, 1000, 20, 5, 10.0};
  EXPECT_EQ(last_pass(p), pass(1045, {0, 1, 2, 3, 4}));
  // Fewer calls than slots: all of them are the last pass.
  p = TimingPlan{LaunchMode::kEager, 1, 2, 20, 5, 10.0};
  EXPECT_EQ(last_pass(p), pass(0, {0, 1, 2}));
  // 2 + 4 calls over 5 slots: calls 1..5 -> slots 1, 2, 3, 4, 0.
  p = TimingPlan{LaunchMode::kEager, 2, 4, 20, 5, 10.0};
  EXPECT_EQ(last_pass(p), pass(1, {0, 1, 2, 3, 4}));
  // Every slot the last pass writes was written during timing (and is checked).
  for (int warmup : {0, 1, 7}) {
    for (int iters : {1, 3, 1000}) {
      p = TimingPlan{LaunchMode::kEager, warmup, iters, 20, 5, 10.0};
      for (std::size_t k : last_pass(p).slots)
        EXPECT_LT(k, slots_written(p));
    }
  }
}

TEST(LastPass, GraphIsTheLastReplay) {
  TimingPlan p{LaunchMode::kGraph, 50, 1000, 20, 5, 10.0};
  EXPECT_EQ(last_pass(p), pass(999, {0, 1, 2, 3, 4}));
  p.calls_per_sample = 2;  // a replay writes slots 0 and 1 only
  EXPECT_EQ(last_pass(p), pass(999, {0, 1}));
  p.iters = 1;
  EXPECT_EQ(last_pass(p).before, 0);
}

TEST(LastPass, PipelinedIsTheLastSampleWhereverItStartsInTheRing) {
  // 1 warm-up sample + 1 timed sample of 2 calls: the timed calls 2 and 3.
  TimingPlan p{LaunchMode::kPipelined, 1, 1, 2, 5, 10.0};
  EXPECT_EQ(last_pass(p), pass(0, {2, 3}));
  // 1 warm-up + 3 timed samples of 2 calls: the last sample is calls 6, 7 -> slots 1, 2.
  p.iters = 3;
  EXPECT_EQ(last_pass(p), pass(2, {1, 2}));
  // 1 warm-up + 3 timed samples of 3 calls: the last is calls 9, 10, 11 -> slots 4, 0, 1.
  p = TimingPlan{LaunchMode::kPipelined, 3, 3, 3, 5, 10.0};
  EXPECT_EQ(last_pass(p), pass(2, {0, 1, 4}));
  // A sample longer than the ring writes every slot.
  p = TimingPlan{LaunchMode::kPipelined, 50, 1000, 20, 5, 10.0};
  EXPECT_EQ(last_pass(p).slots, (std::vector<std::size_t>{0, 1, 2, 3, 4}));
}

}  // namespace
}  // namespace dcp::bench
