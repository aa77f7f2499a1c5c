// The watchdog fires for a region that outlives its deadline, and only for that one.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/watchdog.hpp"

namespace dcp {
namespace {

using namespace std::chrono_literals;

struct Recorder {
  std::mutex mu;
  std::vector<std::string> fired;
  Watchdog::ExpireFn fn() {
    return [this](const std::string& what, double) {
      std::lock_guard<std::mutex> lock(mu);
      fired.push_back(what);
    };
  }
  std::vector<std::string> get() {
    std::lock_guard<std::mutex> lock(mu);
    return fired;
  }
};

TEST(Watchdog, FiresWhenARegionOutlivesItsDeadline) {
  Recorder r;
  Watchdog dog(r.fn());
  const auto t = dog.arm("barrier 'x'", 0.05);
  std::this_thread::sleep_for(300ms);
  ASSERT_EQ(r.get().size(), 1u);
  EXPECT_EQ(r.get()[0], "barrier 'x'");
}

TEST(Watchdog, DisarmedRegionsNeverFire) {
  Recorder r;
  Watchdog dog(r.fn());
  for (int i = 0; i < 100; ++i) {
    const auto t = dog.arm("quick step", 0.05);
  }
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(r.get().empty());
}

TEST(Watchdog, OnlyTheExpiredOfSeveralRegionsFires) {
  Recorder r;
  Watchdog dog(r.fn());
  auto long_region = dog.arm("long", 30.0);
  auto short_region = dog.arm("short", 0.05);
  std::this_thread::sleep_for(300ms);
  ASSERT_EQ(r.get().size(), 1u);
  EXPECT_EQ(r.get()[0], "short");
  long_region.release();
}

TEST(Watchdog, MovedTokenDisarmsOnce) {
  Recorder r;
  Watchdog dog(r.fn());
  Watchdog::Token a = dog.arm("moved", 0.1);
  Watchdog::Token b = std::move(a);
  b.release();
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(r.get().empty());
}

}  // namespace
}  // namespace dcp
