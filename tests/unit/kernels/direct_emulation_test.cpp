// CPU emulation of the direct protocol (direct_reference.hpp): both schemes, both operations,
// cp 1..8, many calls with fresh inputs (both parities reused, several calls in flight), E = 0 in
// between, case switches, a missing peer, a late rank, and broken programs that it catches.
// Reduce runs use the merge library's routine, reduce pattern and CPU reference (src/merge/).

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>

#include "core/error.hpp"
#include "kernels/direct_reference.hpp"
#include "kernels/direct_workspace.hpp"

namespace dcp::kernels::direct {
namespace {

using std::chrono::milliseconds;

// ---- helpers ------------------------------------------------------------------------------------

/// Exchange shapes move S = 2 stats per row; reduce shapes one LSE.
ExchangeShape shape_of(bool reduce, int cp, std::int64_t e, int d, bool fp16 = false) {
  return ExchangeShape{cp, e, d, reduce ? 1 : 2, fp16};
}

EmulationOptions options_for(Scheme scheme, bool reduce, int ctas = 3) {
  EmulationOptions o;
  o.scheme = scheme;
  o.reduce = reduce;
  o.ctas = ctas;
  o.timeout = milliseconds(30000);  // generous: 2 CI cores, possibly under load
  return o;
}

/// A geometry for every shape the tests use at `cp` (E <= 64, D <= 128, S <= 2).
Geometry test_geometry(int cp) {
  return covering(geometry_for(cp, 64, 128, 2), geometry_for(cp, 64, 64, 1));
}

/// Blocks until `ready` or 10 s; a test failure if it never came (the gate itself is a bug then).
void wait_for(const std::function<bool()>& ready) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!ready()) {
    if (std::chrono::steady_clock::now() > until) {
      ADD_FAILURE() << "test gate never opened";
      return;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

// ---- many calls, every cp, both schemes and operations
// -------------------------------------------

class DirectEmulation : public ::testing::TestWithParam<std::tuple<Scheme, bool, int>> {};

TEST_P(DirectEmulation, ManyCallsFreshInputsBitExact) {
  const auto [scheme, reduce, cp] = GetParam();
  Emulator em(test_geometry(cp));
  EmulationOptions o = options_for(scheme, reduce);
  constexpr std::uint32_t kCalls = 20;  // both parities reused ten times
  std::uint32_t call = 0;
  std::uint64_t epoch = 0;
  // E = 1, 7 (7 blocks) and 61 (31 blocks over 3 CTAs), switching head_dim and dtype between
  // cases on the same workspace; an E = 0 run after each.
  for (const auto& [e, d, fp16, base] :
       {std::tuple<std::int64_t, int, bool, merge::LseBase>{1, 64, false, merge::LseBase::kE},
        {7, 128, true, merge::LseBase::kTwo},
        {61, 64, false, merge::LseBase::kE}}) {
    const ExchangeShape s = shape_of(reduce, cp, e, d, fp16);
    o.lse_base = base;
    const EmulationResult res = em.run(s, 0xD1CE, call, kCalls, o);
    EXPECT_TRUE(res.exact()) << "E=" << e << ": " << res.verify.summary() << " / "
                             << res.accuracy.summary();
    const std::uint64_t rows = std::uint64_t{kCalls} * cp * static_cast<std::uint64_t>(e);
    if (reduce) {
      EXPECT_EQ(res.accuracy.rows_checked, rows);
      EXPECT_EQ(res.verify.rows_checked, 0u);
    } else {
      EXPECT_EQ(res.verify.calls_checked, std::uint64_t{kCalls} * cp);
      EXPECT_EQ(res.verify.rows_checked, rows * static_cast<std::uint64_t>(cp));
      EXPECT_EQ(res.accuracy.rows_checked, 0u);
    }
    EXPECT_EQ(res.completed, kCalls * static_cast<std::uint32_t>(cp));
    EXPECT_TRUE(res.errors.empty());
    call += kCalls;
    epoch += kCalls;
    for (int r = 0; r < cp; ++r)
      EXPECT_EQ(em.epoch(r), epoch) << "rank " << r;
    // The last call's flags (block 0 is flagged in both schemes) hold its epoch + 1.
    for (int r = 0; r < cp; ++r) {
      for (int src = 0; src < cp; ++src)
        EXPECT_EQ(em.flag(r, parity_of(epoch - 1), 0, src), flag_for(epoch - 1));
    }
    const EmulationResult empty = em.run(shape_of(reduce, cp, 0, d), 0xD1CE, call, 2, o);
    EXPECT_EQ(empty.completed, 2u * static_cast<std::uint32_t>(cp));
    EXPECT_EQ(empty.verify.rows_checked + empty.accuracy.rows_checked, 0u);
    call += 2;
    for (int r = 0; r < cp; ++r)
      EXPECT_EQ(em.epoch(r), epoch) << "E = 0 must not advance the epoch";
  }
}

INSTANTIATE_TEST_SUITE_P(AllCp, DirectEmulation,
                         ::testing::Combine(::testing::Values(Scheme::kFused, Scheme::kStaged),
                                            ::testing::Bool(), ::testing::Range(1, 9)),
                         [](const auto& param_info) {
                           return std::string(std::get<0>(param_info.param) == Scheme::kFused
                                                  ? "Fused"
                                                  : "Staged") +
                                  (std::get<1>(param_info.param) ? "Reduce" : "Exchange") + "Cp" +
                                  std::to_string(std::get<2>(param_info.param));
                         });

// ---- failures and delays ------------------------------------------------------------------------

class DirectEmulationFaults : public ::testing::TestWithParam<Scheme> {};

TEST_P(DirectEmulationFaults, MissingPeerTimesOutNamingIt) {
  const int cp = 4;
  Emulator em(test_geometry(cp));
  EmulationOptions o = options_for(GetParam(), false);
  o.timeout = milliseconds(300);
  o.skip = {{2, 5}};  // rank 2 does not make call 5 (epoch 5)
  const ExchangeShape s = shape_of(false, cp, 40, 64);
  const Layout l = make_layout(s);
  const EmulationResult res = em.run(s, 7, 0, 6, o);
  EXPECT_TRUE(res.verify.ok()) << res.verify.summary();  // every call that completed is exact
  EXPECT_EQ(res.completed, 5u * cp);
  EXPECT_EQ(res.failed, 3u);
  ASSERT_EQ(res.errors.size(), 3u);
  std::set<int> ranks;
  for (const ErrorInfo& e : res.errors) {
    ranks.insert(e.rank);
    EXPECT_EQ(e.role, ErrorRole::kRecv);
    EXPECT_EQ(e.peer, 2);
    EXPECT_EQ(e.epoch, 5u);
    EXPECT_LT(e.block, l.blocks);
    if (GetParam() == Scheme::kStaged) {
      EXPECT_EQ(e.block, kPairFlagBlock);
    }
    EXPECT_EQ(e.observed, flag_for(3));  // the same parity's flag, from call 3
    const std::string m = describe_error(e, 0.3);
    EXPECT_NE(m.find("no flag from peer 2 for block " + std::to_string(e.block)), std::string::npos)
        << m;
    EXPECT_NE(m.find("awaited epoch 5"), std::string::npos) << m;
  }
  EXPECT_EQ(ranks, (std::set<int>{0, 1, 3}));
  // After the collective reset everything works again from epoch 0.
  em.reset();
  EXPECT_TRUE(em.errors().empty());
  o.skip.clear();
  const EmulationResult again = em.run(s, 8, 0, 3, o);
  EXPECT_TRUE(again.verify.ok()) << again.verify.summary();
  EXPECT_EQ(again.completed, 3u * cp);
  EXPECT_EQ(em.epoch(0), 3u);
}

// A rank that skips a call in the middle. Epochs count calls, they do not name them: the
// skipping rank's next call carries the epoch its peers await, so nobody waits at the skipped
// call - the peers take rank 1's call 3 for call 2 and vice versa, the rows are wrong (the data
// check catches it), and the call counts disagree only at the end, where ranks 0 and 2 time out
// on call 5 naming rank 1. No hang; and why every error voids the run until the reset.
TEST_P(DirectEmulationFaults, SkippedCallInTheMiddleShiftsTheEpochs) {
  const int cp = 3;
  Emulator em(test_geometry(cp));
  EmulationOptions o = options_for(GetParam(), false);
  o.timeout = milliseconds(300);
  o.skip = {{1, 2}};
  const EmulationResult res = em.run(shape_of(false, cp, 20, 64), 9, 0, 6, o);
  ASSERT_EQ(res.errors.size(), 2u);
  for (const ErrorInfo& e : res.errors) {
    EXPECT_NE(e.rank, 1);
    EXPECT_EQ(e.role, ErrorRole::kRecv);
    EXPECT_EQ(e.peer, 1);
    EXPECT_EQ(e.epoch, 5u);
  }
  EXPECT_EQ(em.epoch(1), 5u);  // rank 1 made 5 calls
  ASSERT_FALSE(res.verify.ok()) << "the shifted rows must not pass";
  EXPECT_EQ(res.verify.first->dst_rank, 0);
  EXPECT_EQ(res.verify.first->src_rank, 1);
  EXPECT_EQ(res.verify.first->call, 2u);
}

TEST_P(DirectEmulationFaults, LateRankStillExact) {
  const int cp = 4;
  Emulator em(test_geometry(cp));
  EmulationOptions o = options_for(GetParam(), true);
  o.hook = [](int rank, int, std::uint32_t call, HookPoint point, const Action*) {
    if (point == HookPoint::kCallStart && rank == 1 && (call == 1 || call == 4)) {
      std::this_thread::sleep_for(milliseconds(30));
    }
  };
  const EmulationResult res = em.run(shape_of(true, cp, 33, 64), 11, 0, 8, o);
  EXPECT_TRUE(res.exact()) << res.accuracy.summary();
  EXPECT_EQ(res.accuracy.rows_checked, 8u * cp * 33);
  EXPECT_EQ(res.completed, 8u * cp);
  EXPECT_TRUE(res.errors.empty());
}

TEST_P(DirectEmulationFaults, PeerAheadIsReportedAtOnce) {
  // Rank 0 publishes flags of a later call of the same parity (as a rank whose epoch ran two
  // ahead would): the receivers report kAhead on sight instead of waiting for the timeout.
  const int cp = 2;
  Emulator em(test_geometry(cp));
  EmulationOptions o = options_for(GetParam(), false);
  o.timeout = milliseconds(30000);  // generous: 2 CI cores, possibly under load
  o.mutate = [](int rank, std::uint32_t, int, std::vector<Program>& programs) {
    if (rank != 0) return;
    for (Program& p : programs) {
      for (Action& a : p)
        if (a.op == Op::kReleaseFlag) a.value += 2;
    }
  };
  const EmulationResult res = em.run(shape_of(false, cp, 10, 64), 3, 0, 1, o);
  // Whoever polls rank 0's flag reports kAhead; a rank that was waiting for an already failed
  // peer reports kAbort instead. Nobody waits for the timeout.
  ASSERT_EQ(res.errors.size(), 2u);
  int ahead = 0;
  for (const ErrorInfo& e : res.errors) {
    EXPECT_EQ(e.epoch, 0u);
    if (e.role == ErrorRole::kAhead) {
      ++ahead;
      EXPECT_EQ(e.peer, 0);
      EXPECT_EQ(e.observed, 3u);
      EXPECT_NE(describe_error(e, 5).find("peer 0 is ahead"), std::string::npos);
    } else {
      EXPECT_EQ(e.role, ErrorRole::kAbort);
    }
  }
  EXPECT_GE(ahead, 1);
}

INSTANTIATE_TEST_SUITE_P(BothSchemes, DirectEmulationFaults,
                         ::testing::Values(Scheme::kFused, Scheme::kStaged),
                         [](const auto& param_info) {
                           return std::string(param_info.param == Scheme::kFused ? "Fused"
                                                                                 : "Staged");
                         });

// ---- the emulation can fail: broken programs ----------------------------------------------------

/// Single buffering: rows always go to parity 0 (flags keep theirs). Forced interleaving: rank 1
/// reads call 1 only after rank 0 has released every flag of call 2 to it - legal, because call
/// 2 goes to the other buffer. With one buffer, call 2's rows overwrote call 1's.
EmulationResult run_single_buffer_gate(bool broken, bool reduce) {
  const int cp = 2;
  Emulator em(test_geometry(cp));
  EmulationOptions o = options_for(Scheme::kFused, reduce, 2);
  const ExchangeShape s = shape_of(reduce, cp, 24, 64);
  const std::uint32_t blocks = make_layout(s).blocks;
  auto released = std::make_shared<std::atomic<std::uint32_t>>(0);
  o.hook = [released, blocks](int rank, int, std::uint32_t call, HookPoint point, const Action* a) {
    if (rank == 0 && call == 2 && point == HookPoint::kAfterRelease && a->peer == 1) ++*released;
    if (rank == 1 && call == 1 && point == HookPoint::kBeforeAwait) {
      wait_for([&] { return released->load() == blocks; });
    }
  };
  if (broken) {
    o.mutate = [](int, std::uint32_t, int, std::vector<Program>& programs) {
      for (Program& p : programs) {
        for (Action& a : p)
          if (a.op == Op::kWriteRows || a.op == Op::kDeliver) a.parity = 0;
      }
    };
  }
  return em.run(s, 21, 0, 4, o);
}

TEST(DirectEmulationBroken, SingleBufferingIsCaught) {
  for (bool reduce : {false, true}) {
    const EmulationResult good = run_single_buffer_gate(false, reduce);
    EXPECT_TRUE(good.exact()) << good.verify.summary() << " / " << good.accuracy.summary();
    EXPECT_TRUE(good.errors.empty());
    const EmulationResult bad = run_single_buffer_gate(true, reduce);
    // The gate makes rank 1's call 1 read call 2's rows; other calls may fail as well.
    EXPECT_FALSE(bad.exact()) << "the emulation missed a single-buffered protocol";
    EXPECT_GT(reduce ? bad.accuracy.rows_checked : bad.verify.rows_checked, 0u);
  }
}

/// Flag before data: each block's flags are released before its rows are written. Forced
/// interleaving: rank 0, after releasing a block's flag to rank 1 in call 1, waits until rank 1
/// delivered that block - legal when the rows came first.
EmulationResult run_flag_first_gate(bool broken) {
  const int cp = 2;
  Emulator em(test_geometry(cp));
  EmulationOptions o = options_for(Scheme::kFused, false, 2);
  const ExchangeShape s = shape_of(false, cp, 24, 64);
  struct Delivered {
    std::mutex m;
    std::set<std::uint32_t> blocks;
  };
  auto delivered = std::make_shared<Delivered>();
  o.hook = [delivered](int rank, int, std::uint32_t call, HookPoint point, const Action* a) {
    if (call != 1) return;
    if (rank == 1 && point == HookPoint::kAfterDeliver) {
      std::lock_guard<std::mutex> lock(delivered->m);
      delivered->blocks.insert(a->block);
    }
    if (rank == 0 && point == HookPoint::kAfterRelease && a->peer == 1) {
      const std::uint32_t b = a->block;
      wait_for([&] {
        std::lock_guard<std::mutex> lock(delivered->m);
        return delivered->blocks.count(b) != 0;
      });
    }
  };
  if (broken) {
    o.mutate = [](int, std::uint32_t, int, std::vector<Program>& programs) {
      for (Program& p : programs) {
        Program out;
        std::size_t i = 0;
        while (i < p.size()) {
          if (p[i].op != Op::kWriteRows) {
            out.push_back(p[i++]);
            continue;
          }
          std::size_t j = i;
          while (j < p.size() && p[j].op == Op::kWriteRows)
            ++j;
          std::size_t k = j;
          while (k < p.size() && p[k].op == Op::kReleaseFlag)
            ++k;
          out.insert(out.end(), p.begin() + static_cast<std::ptrdiff_t>(j),
                     p.begin() + static_cast<std::ptrdiff_t>(k));  // flags first
          out.insert(out.end(), p.begin() + static_cast<std::ptrdiff_t>(i),
                     p.begin() + static_cast<std::ptrdiff_t>(j));
          i = k;
        }
        p = out;
      }
    };
  }
  return em.run(s, 22, 0, 3, o);
}

TEST(DirectEmulationBroken, FlagBeforeDataIsCaught) {
  const EmulationResult good = run_flag_first_gate(false);
  EXPECT_TRUE(good.verify.ok()) << good.verify.summary();
  const EmulationResult bad = run_flag_first_gate(true);
  // The gate makes rank 1 deliver call 1 before rank 0's rows arrive; other calls may fail too.
  EXPECT_FALSE(bad.verify.ok()) << "the emulation missed a flag released before its rows";
}

TEST(DirectEmulationOptions, InconsistentRunsAreRefused) {
  Emulator em(geometry_for(2, 16, 64, 1));
  EmulationOptions o = options_for(Scheme::kFused, true);
  EXPECT_THROW(em.run(shape_of(false, 2, 4, 64), 1, 0, 1, o), ConfigError);  // reduce, S = 2
  o = options_for(Scheme::kFused, false);
  EXPECT_THROW(em.run(shape_of(false, 4, 4, 64), 1, 0, 1, o), ConfigError);   // other cp
  EXPECT_THROW(em.run(shape_of(false, 2, 17, 64), 1, 0, 1, o), ConfigError);  // too large
  EXPECT_THROW(Emulator(Geometry{2, 0, 128}), ConfigError);
}

}  // namespace
}  // namespace dcp::kernels::direct
