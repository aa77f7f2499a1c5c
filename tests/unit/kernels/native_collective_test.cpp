// The native exchange's rules between ranks (native_collective.hpp): plan agreement and the
// order of the collective workspace reset.
#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "kernels/native_collective.hpp"

namespace dcp::kernels {
namespace {

PlanWire plan(int channels, bool single, int cp = 2) {
  PlanWire p;
  p.ok = 1;
  p.channels = channels;
  p.single_warp = single ? 1 : 0;
  p.cp_size = cp;
  p.max_channels = 128;
  p.depth = 4;
  p.slot_lines = 32;
  return p;
}

TEST(NativePlanAgreement, IdenticalPlansAgree) {
  EXPECT_FALSE(plan_disagreement(std::vector<PlanWire>{}).has_value());
  EXPECT_FALSE(plan_disagreement(std::vector<PlanWire>{plan(64, true)}).has_value());
  EXPECT_FALSE(
      plan_disagreement(std::vector<PlanWire>{plan(64, true), plan(64, true), plan(64, true)})
          .has_value());
}

TEST(NativePlanAgreement, DifferentChannelsNameTheRanksAndValues) {
  // An H200 and an H100 rank would pick different channel counts for the same case.
  const std::vector<PlanWire> plans{plan(128, true, 3), plan(96, false, 3), plan(128, true, 3)};
  const auto why = plan_disagreement(plans);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("channels=128 warps=single geometry=cp3xC128xdepth4x32lines on ranks 0, 2"),
            std::string::npos)
      << *why;
  EXPECT_NE(why->find("channels=96 warps=split geometry=cp3xC128xdepth4x32lines on rank 1"),
            std::string::npos)
      << *why;
  EXPECT_NE(why->find("same GPU model"), std::string::npos) << *why;
  EXPECT_EQ(why->find('\n'), std::string::npos) << "one line";
}

TEST(NativePlanAgreement, EveryFieldCounts) {
  const PlanWire base = plan(8, true);
  for (int field = 0; field < 6; ++field) {
    PlanWire other = base;
    switch (field) {
      case 0:
        other.channels = 9;
        break;
      case 1:
        other.single_warp = 0;
        break;
      case 2:
        other.cp_size = 4;
        break;
      case 3:
        other.max_channels = 64;
        break;
      case 4:
        other.depth = 2;
        break;
      default:
        other.slot_lines = 64;
        break;
    }
    EXPECT_TRUE(plan_disagreement(std::vector<PlanWire>{base, other}).has_value()) << field;
  }
}

TEST(NativePlanAgreement, ARankThatCannotRunIsNamed) {
  std::vector<PlanWire> plans{plan(8, true), plan(8, true), plan(8, true)};
  plans[1].ok = 0;
  const auto why = plan_disagreement(plans);
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(*why, "native: rank 1 cannot run this case (see its message), so no rank runs it");
  plans[2].ok = 0;
  EXPECT_NE(plan_disagreement(plans)->find("ranks 1, 2 cannot run"), std::string::npos);
}

/// Records the order of the reset steps.
struct Recorder {
  std::vector<std::string> steps;
  bool vote_result = false;
  ResetSteps make() {
    ResetSteps s;
    s.vote = [this](bool mine) {
      steps.push_back(mine ? "vote(yes)" : "vote(no)");
      return vote_result;
    };
    s.drain = [this] { steps.emplace_back("drain"); };
    s.barrier = [this](std::string_view) { steps.emplace_back("barrier"); };
    s.zero = [this] { steps.emplace_back("zero"); };
    return s;
  }
};

TEST(NativeReset, NothingHappensWhenNoRankNeedsIt) {
  Recorder r;
  EXPECT_FALSE(collective_reset(false, r.make()));
  EXPECT_EQ(r.steps, (std::vector<std::string>{"vote(no)"}));
}

TEST(NativeReset, DrainBarrierZeroBarrierInThisOrder) {
  Recorder r;
  r.vote_result = true;
  EXPECT_TRUE(collective_reset(true, r.make()));
  EXPECT_EQ(r.steps,
            (std::vector<std::string>{"vote(yes)", "drain", "barrier", "zero", "barrier"}));
  // A rank that saw no error resets too when another rank needs it.
  Recorder clean;
  clean.vote_result = true;
  EXPECT_TRUE(collective_reset(false, clean.make()));
  EXPECT_EQ(clean.steps,
            (std::vector<std::string>{"vote(no)", "drain", "barrier", "zero", "barrier"}));
}

TEST(NativeReset, NoSegmentIsWrittenAfterItWasZeroed) {
  // Four "ranks" as threads. Each rank's in-flight "kernel" (a thread) keeps writing into the
  // NEXT rank's segment, as a stuck exchange writes FIFO lines and credits into its peers, until
  // its own rank drains it; odd ranks drain slowly. With the reset order, every segment is zero
  // afterwards: nobody zeroes before every writer has stopped.
  constexpr int kRanks = 4;
  constexpr int kWords = 64;
  std::vector<std::vector<std::atomic<std::uint64_t>>> segments;
  for (int r = 0; r < kRanks; ++r)
    segments.emplace_back(kWords);
  std::vector<std::atomic<bool>> stop(kRanks);
  std::vector<std::thread> writers;
  for (int r = 0; r < kRanks; ++r) {
    writers.emplace_back([&, r] {
      auto& target = segments[static_cast<std::size_t>((r + 1) % kRanks)];
      std::uint64_t v = 1;
      while (!stop[static_cast<std::size_t>(r)].load()) {
        target[v % kWords].store(v, std::memory_order_relaxed);
        ++v;
      }
    });
  }
  std::barrier sync(kRanks);
  std::atomic<int> votes{0};
  std::vector<std::thread> ranks;
  for (int r = 0; r < kRanks; ++r) {
    ranks.emplace_back([&, r] {
      ResetSteps s;
      s.vote = [&](bool mine) {
        if (mine) ++votes;
        sync.arrive_and_wait();
        const bool any = votes.load() > 0;
        sync.arrive_and_wait();
        return any;
      };
      s.drain = [&] {
        if (r % 2 == 1) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        stop[static_cast<std::size_t>(r)].store(true);
        writers[static_cast<std::size_t>(r)].join();
      };
      s.barrier = [&](std::string_view) { sync.arrive_and_wait(); };
      s.zero = [&] {
        for (auto& w : segments[static_cast<std::size_t>(r)])
          w.store(0, std::memory_order_relaxed);
      };
      EXPECT_TRUE(collective_reset(r == 2, s));  // only rank 2 saw the timeout
    });
  }
  for (auto& t : ranks)
    t.join();
  for (int r = 0; r < kRanks; ++r) {
    for (int w = 0; w < kWords; ++w)
      EXPECT_EQ(segments[static_cast<std::size_t>(r)][static_cast<std::size_t>(w)].load(), 0u)
          << "rank " << r << " word " << w;
  }
}

}  // namespace
}  // namespace dcp::kernels
