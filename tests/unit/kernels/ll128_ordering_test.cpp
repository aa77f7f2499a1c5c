// The ordering model of the wire format (ll128_ordering.hpp): a writer whose line arrives word by
// word in ascending address order, a reader that samples words in any order. The old format
// (flag first on odd lines) tears, flag-last with a single read tears, flag-last with a reload
// after the flag never does. The stepped driver is deterministic (own PRNG), so its counts are
// exact facts of the seed: the "> 0" assertions cannot flake.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "core/error.hpp"
#include "kernels/ll128_ordering.hpp"

namespace dcp::kernels::ll128 {
namespace {

std::string repeat(char c, int n) {
  return std::string(static_cast<std::size_t>(n), c);
}

OrderingOptions options(LineLayout layout, ReadMode read, std::uint64_t lines) {
  OrderingOptions o;
  o.layout = layout;
  o.read = read;
  o.lines = lines;
  return o;
}

void print(const char* what, const OrderingResult& r) {
  std::printf(
      "%-40s lines %llu  torn %llu (odd %llu, words %llu)  polls %llu\n", what,
      static_cast<unsigned long long>(r.lines), static_cast<unsigned long long>(r.torn_lines),
      static_cast<unsigned long long>(r.torn_odd_lines),
      static_cast<unsigned long long>(r.torn_words), static_cast<unsigned long long>(r.polls));
}

// ---- forced schedules: the tear, step by step
// ----------------------------------------------------

TEST(Ll128Ordering, OldLayoutAcceptsAnOddLineWhoseFlagArrivedFirst) {
  // Line 0 is written and read completely; then the writer stores ONE word of line 1, which in
  // the old format is its flag (word 0 of an odd line); the reader samples line 1 in ascending
  // order, sees the flag and accepts 15 words of zero fill. A reload right after cannot help:
  // the data has not arrived yet.
  for (const ReadMode read : {ReadMode::kSingle, ReadMode::kReloadAfterFlag}) {
    const int read_steps = read == ReadMode::kSingle ? 16 : 32;
    OrderingOptions o = options(LineLayout::kFlagFirstOnOdd, read, 2);
    o.ascending_reads = true;
    o.script = repeat('w', 16) + repeat('r', read_steps) + "w" + repeat('r', read_steps);
    const OrderingResult r = run_ordering_stepped(o);
    EXPECT_EQ(r.lines, 2u);
    EXPECT_EQ(r.torn_lines, 1u);
    EXPECT_EQ(r.torn_odd_lines, 1u);
    EXPECT_EQ(r.torn_words, 15u);
    // The same schedule with the flag in the last word: at that point the reader sees no flag
    // and samples again (more polls), and with the reload nothing tears. (With a single read the
    // rest of the run may tear: FlagLastSingleReadTearsAndTheReloadDoesNot.)
    if (read == ReadMode::kReloadAfterFlag) {
      o.layout = LineLayout::kFlagLast;
      const OrderingResult fixed = run_ordering_stepped(o);
      EXPECT_EQ(fixed.lines, 2u);
      EXPECT_EQ(fixed.torn_lines, 0u);
      EXPECT_GT(fixed.polls, r.polls);
    }
  }
}

TEST(Ll128Ordering, FlagLastSingleReadTearsAndTheReloadDoesNot) {
  // The reader samples words 0..14 of line 1 before the writer starts it, then the writer stores
  // the whole line, then the reader samples word 15: the new flag with 15 stale words. This is
  // one warp-wide poll whose data sectors were served before its flag sector: the reason the
  // kernel reloads a burst after its flags matched. With the reload the same schedule is exact.
  OrderingOptions o = options(LineLayout::kFlagLast, ReadMode::kSingle, 2);
  o.ascending_reads = true;
  o.script = repeat('w', 16) + repeat('r', 16) + repeat('r', 15) + repeat('w', 16) + "r";
  const OrderingResult single = run_ordering_stepped(o);
  EXPECT_EQ(single.lines, 2u);
  EXPECT_EQ(single.torn_lines, 1u);
  EXPECT_EQ(single.torn_words, 15u);
  o.read = ReadMode::kReloadAfterFlag;
  o.script = repeat('w', 16) + repeat('r', 32) + repeat('r', 15) + repeat('w', 16) + "r";
  const OrderingResult reload = run_ordering_stepped(o);
  EXPECT_EQ(reload.lines, 2u);
  EXPECT_EQ(reload.torn_lines, 0u);
}

// ---- seeded schedules: how often ---------------------------------------------------------------

TEST(Ll128Ordering, SeededScheduleOldLayoutTears) {
  constexpr std::uint64_t kLines = 20000;
  for (const ReadMode read : {ReadMode::kSingle, ReadMode::kReloadAfterFlag}) {
    const OrderingResult r =
        run_ordering_stepped(options(LineLayout::kFlagFirstOnOdd, read, kLines));
    print(read == ReadMode::kSingle ? "old layout, single read" : "old layout, reload", r);
    EXPECT_EQ(r.lines, kLines);
    EXPECT_GT(r.torn_odd_lines, 0u);
    if (read == ReadMode::kReloadAfterFlag) {
      // With the reload only the lines whose flag is NOT last can tear: the odd ones.
      EXPECT_EQ(r.torn_lines, r.torn_odd_lines);
    }
  }
}

TEST(Ll128Ordering, SeededScheduleFlagLastSingleReadTears) {
  // Reported as a fact of the model: a single sampling pass can tear even with the flag last
  // (what the kernel's reload exists for). Deterministic for this seed.
  constexpr std::uint64_t kLines = 20000;
  for (const LineLayout layout : {LineLayout::kFlagLast, LineLayout::kFlagLastUnaligned}) {
    const OrderingResult r = run_ordering_stepped(options(layout, ReadMode::kSingle, kLines));
    print(layout == LineLayout::kFlagLast ? "flag last, single read"
                                          : "flag last unaligned, single read",
          r);
    EXPECT_EQ(r.lines, kLines);
    EXPECT_GT(r.torn_lines, 0u);
  }
}

TEST(Ll128Ordering, FlagLastWithReloadNeverTearsOverAMillionLines) {
  // The shipped format and reader: 10^6 lines under the seeded step schedule (every interleaving
  // of single-word steps is possible), depth 2 and 4 (slot reuse one and three lines back).
  constexpr std::uint64_t kLines = 1000000;
  OrderingOptions o = options(LineLayout::kFlagLast, ReadMode::kReloadAfterFlag, kLines);
  const OrderingResult r = run_ordering_stepped(o);
  print("flag last, reload (stepped)", r);
  EXPECT_EQ(r.lines, kLines);
  EXPECT_EQ(r.torn_lines, 0u);
  EXPECT_GT(r.polls, r.lines) << "the reader never had to wait: the schedule tested nothing";
  o.depth = 4;
  o.lines = 50000;
  o.seed = 9;
  const OrderingResult deeper = run_ordering_stepped(o);
  EXPECT_EQ(deeper.lines, 50000u);
  EXPECT_EQ(deeper.torn_lines, 0u);
  o.layout = LineLayout::kFlagLastUnaligned;
  const OrderingResult unaligned = run_ordering_stepped(o);
  EXPECT_EQ(unaligned.torn_lines, 0u);
}

TEST(Ll128Ordering, SameSeedSameCounts) {
  const OrderingOptions o = options(LineLayout::kFlagFirstOnOdd, ReadMode::kSingle, 3000);
  const OrderingResult a = run_ordering_stepped(o);
  const OrderingResult b = run_ordering_stepped(o);
  EXPECT_EQ(a.torn_lines, b.torn_lines);
  EXPECT_EQ(a.torn_words, b.torn_words);
  EXPECT_EQ(a.polls, b.polls);
}

// ---- real threads -------------------------------------------------------------------------------

TEST(Ll128Ordering, ThreadedFlagLastWithReloadNeverTears) {
  // The same model with a writer thread and a reader thread (random spin/yield pauses): the
  // C++ memory model forbids a tear here, and the count is exact regardless of scheduling.
  // (The 10^6-line run is the stepped one above; this one is sized for 2 busy cores and ASan.)
  constexpr std::uint64_t kLines = 100000;
  const OrderingResult r =
      run_ordering_threaded(options(LineLayout::kFlagLast, ReadMode::kReloadAfterFlag, kLines));
  print("flag last, reload (threads)", r);
  EXPECT_EQ(r.lines, kLines);
  EXPECT_EQ(r.torn_lines, 0u);
}

TEST(Ll128Ordering, ThreadedCountsOfTheOtherVariantsAreReported) {
  // Whether the threads interleave finely enough to tear depends on the machine: these counts
  // are printed, not asserted (the deterministic tests above assert the tears). Asserted: every
  // line is delivered and a torn line is never an even line of the old format with a reload.
  constexpr std::uint64_t kLines = 20000;
  for (const LineLayout layout : {LineLayout::kFlagFirstOnOdd, LineLayout::kFlagLast}) {
    for (const ReadMode read : {ReadMode::kSingle, ReadMode::kReloadAfterFlag}) {
      if (layout == LineLayout::kFlagLast && read == ReadMode::kReloadAfterFlag) continue;
      const OrderingResult r = run_ordering_threaded(options(layout, read, kLines));
      print(layout == LineLayout::kFlagLast
                ? "flag last, single read (threads)"
                : (read == ReadMode::kSingle ? "old layout, single (threads)"
                                             : "old layout, reload (threads)"),
            r);
      EXPECT_EQ(r.lines, kLines);
      if (layout == LineLayout::kFlagFirstOnOdd && read == ReadMode::kReloadAfterFlag) {
        EXPECT_EQ(r.torn_lines, r.torn_odd_lines);
      }
    }
  }
}

TEST(Ll128Ordering, BadOptionsAreRefused) {
  OrderingOptions o;
  o.depth = 0;
  EXPECT_THROW(run_ordering_stepped(o), ConfigError);
  o.depth = 2;
  o.script = "wx";
  EXPECT_THROW(run_ordering_stepped(o), ConfigError);
}

}  // namespace
}  // namespace dcp::kernels::ll128
