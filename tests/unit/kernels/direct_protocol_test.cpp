// The direct protocol's programs (direct_protocol.hpp): both schemes obey the rules for every
// cp, E and block split, the staged steps do exactly what they say, and the checker catches the
// broken programs a kernel author could write.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "kernels/direct_protocol.hpp"
#include "kernels/fused_plan.hpp"

namespace dcp::kernels::direct {
namespace {

ExchangeShape shape(int cp, std::int64_t e, int d = 64) {
  return ExchangeShape{cp, e, d, 1, false};
}

fused::FusedPlan direct_plan(const ExchangeShape& s, const Layout& l, int ctas) {
  fused::PlanRequest req;
  req.transport = fused::Transport::kDirect;
  req.shape = s;
  req.sm_count = ctas;
  req.ctas_per_sm = 1;
  req.block_entries = l.block_entries;
  const fused::PlanOutcome out = fused::make_fused_plan(req);
  EXPECT_TRUE(out.plan.has_value()) << out.problem;
  return out.plan.value_or(fused::FusedPlan{});
}

std::vector<RankCall> fused_calls(const Layout& l, const fused::FusedPlan& p, std::uint64_t epoch) {
  std::vector<RankCall> calls;
  for (int r = 0; r < l.cp_size; ++r)
    calls.push_back(fused_call(l, p, r, epoch));
  return calls;
}

std::vector<RankCall> staged_calls(const Layout& l, int ctas, std::uint64_t epoch) {
  std::vector<RankCall> calls;
  for (int r = 0; r < l.cp_size; ++r)
    calls.push_back(staged_call(l, ctas, r, epoch));
  return calls;
}

std::string problem_text(const std::optional<std::string>& p) {
  return p.value_or("");
}

class DirectProtocolRules : public ::testing::TestWithParam<int> {};

TEST_P(DirectProtocolRules, BothSchemesObeyTheRules) {
  const int cp = GetParam();
  int checked = 0;
  for (std::int64_t e : {1, 5, 33, 90}) {
    for (std::int64_t be : {0, 1, 4}) {
      for (int ctas : {1, 3, 64}) {
        for (std::uint64_t epoch : {std::uint64_t{0}, (std::uint64_t{1} << 40) + 1}) {
          const ExchangeShape s = shape(cp, e);
          const Layout l = make_layout(s, be);
          const fused::FusedPlan p = direct_plan(s, l, ctas);
          EXPECT_EQ(protocol_problem(l, fused_calls(l, p, epoch), epoch), std::nullopt)
              << "fused E=" << e << " be=" << be << " ctas=" << ctas << " epoch=" << epoch;
          EXPECT_EQ(protocol_problem(l, staged_calls(l, ctas, epoch), epoch), std::nullopt)
              << "staged E=" << e << " be=" << be << " ctas=" << ctas << " epoch=" << epoch;
          ++checked;
        }
      }
    }
  }
  EXPECT_EQ(checked, 4 * 3 * 3 * 2);
}

INSTANTIATE_TEST_SUITE_P(Cp1To8, DirectProtocolRules, ::testing::Range(1, 9));

TEST(DirectProtocol, EmptyCallLaunchesNothing) {
  const Layout l = make_layout(shape(4, 0));
  const fused::FusedPlan p = direct_plan(shape(4, 0), l, 4);
  EXPECT_EQ(p.ctas, 0);
  for (int r = 0; r < 4; ++r) {
    EXPECT_TRUE(fused_call(l, p, r, 3).empty());
    EXPECT_TRUE(staged_call(l, 4, r, 3).empty());
  }
  EXPECT_EQ(protocol_problem(l, fused_calls(l, p, 3), 3), std::nullopt);
  std::vector<RankCall> bad = fused_calls(l, p, 3);
  bad[1].push_back({Program{Action{Op::kArrive}}});
  EXPECT_NE(problem_text(protocol_problem(l, bad, 3)).find("E = 0"), std::string::npos);
}

// What each staged launch does, spelled out: advance only advances; write only writes rows (every
// block once per destination over the CTAs); signal releases one flag per destination in the pair
// slot covering every block; wait awaits one flag per source, then delivers its blocks.
TEST(DirectProtocol, StagedStepSemantics) {
  const int cp = 3;
  const Layout l = make_layout(shape(cp, 50), 4);  // 13 blocks
  ASSERT_EQ(l.blocks, 13u);
  const std::uint64_t epoch = 9;  // parity 1, flag 10
  EXPECT_EQ(staged_ctas(StagedStep::kAdvance, l, 5), 1);
  EXPECT_EQ(staged_ctas(StagedStep::kWrite, l, 5), 5);
  EXPECT_EQ(staged_ctas(StagedStep::kSignal, l, 5), 1);
  EXPECT_EQ(staged_ctas(StagedStep::kWaitDeliver, l, 64), 13);

  const Program adv = staged_cta_program(l, StagedStep::kAdvance, 1, 0, 1, epoch);
  ASSERT_EQ(adv.size(), 1u);
  EXPECT_EQ(adv[0].op, Op::kAdvanceEpoch);
  EXPECT_EQ(adv[0].value, epoch + 1);

  std::vector<int> written(static_cast<std::size_t>(cp) * l.blocks, 0);
  for (int c = 0; c < 5; ++c) {
    for (const Action& a : staged_cta_program(l, StagedStep::kWrite, 1, c, 5, epoch)) {
      ASSERT_EQ(a.op, Op::kWriteRows);
      EXPECT_EQ(a.parity, 1u);
      ++written[static_cast<std::size_t>(a.peer) * l.blocks + a.block];
    }
  }
  EXPECT_TRUE(std::all_of(written.begin(), written.end(), [](int n) { return n == 1; }));

  const Program sig = staged_cta_program(l, StagedStep::kSignal, 1, 0, 1, epoch);
  ASSERT_EQ(sig.size(), static_cast<std::size_t>(cp));
  std::vector<int> dests;
  for (const Action& a : sig) {
    EXPECT_EQ(a.op, Op::kReleaseFlag);
    EXPECT_EQ(a.block, kPairFlagBlock);
    EXPECT_EQ(a.cover_first, 0u);
    EXPECT_EQ(a.cover_count, l.blocks);
    EXPECT_EQ(a.value, flag_for(epoch));
    dests.push_back(a.peer);
  }
  std::sort(dests.begin(), dests.end());
  EXPECT_EQ(dests, (std::vector<int>{0, 1, 2}));

  std::vector<int> delivered(l.blocks, 0);
  for (int c = 0; c < 5; ++c) {
    const Program w = staged_cta_program(l, StagedStep::kWaitDeliver, 1, c, 5, epoch);
    for (int k = 0; k < cp; ++k) {
      EXPECT_EQ(w[static_cast<std::size_t>(k)].op, Op::kAwaitFlag);
      EXPECT_EQ(w[static_cast<std::size_t>(k)].block, kPairFlagBlock);
    }
    for (std::size_t i = static_cast<std::size_t>(cp); i < w.size(); ++i) {
      ASSERT_EQ(w[i].op, Op::kDeliver);
      ++delivered[w[i].block];
    }
  }
  EXPECT_TRUE(std::all_of(delivered.begin(), delivered.end(), [](int n) { return n == 1; }));
}

// The fused CTA: per block, writes to every destination then releases their flags; then per
// block awaits every source and delivers; arrives last.
TEST(DirectProtocol, FusedCtaProgramShape) {
  const int cp = 4;
  const ExchangeShape s = shape(cp, 40);
  const Layout l = make_layout(s, 3);  // 14 blocks
  const fused::FusedPlan p = direct_plan(s, l, 4);
  ASSERT_EQ(p.ctas, 4);
  const Program prog = fused_cta_program(l, p, 2, 1, 4);
  const fused::Range blocks = fused::cta_blocks(p, 1);
  ASSERT_EQ(prog.size(), blocks.count * (2u * cp) + blocks.count * (cp + 1u) + 1u);
  std::size_t i = 0;
  for (std::uint32_t b = blocks.first; b < blocks.end(); ++b) {
    for (int k = 0; k < cp; ++k, ++i)
      EXPECT_EQ(prog[i], (Action{Op::kWriteRows, fused::send_peer(2, k, cp), 0, b, 0, 0, 0}));
    for (int k = 0; k < cp; ++k, ++i) {
      EXPECT_EQ(prog[i],
                (Action{Op::kReleaseFlag, fused::send_peer(2, k, cp), 0, b, b, 1, flag_for(4)}));
    }
  }
  for (std::uint32_t b = blocks.first; b < blocks.end(); ++b) {
    for (int k = 0; k < cp; ++k, ++i) {
      EXPECT_EQ(prog[i],
                (Action{Op::kAwaitFlag, fused::recv_peer(2, k, cp), 0, b, b, 1, flag_for(4)}));
    }
    EXPECT_EQ(prog[i++], (Action{Op::kDeliver, 0, 0, b, 0, 0, 0}));
  }
  EXPECT_EQ(prog[i].op, Op::kArrive);
  // A plan of another layout is refused.
  const Layout other = make_layout(s, 5);
  EXPECT_THROW(fused_cta_program(other, p, 0, 0, 0), Error);
}

// The checker catches the mistakes a kernel could make.
class BrokenPrograms : public ::testing::Test {
 protected:
  static constexpr int kCp = 3;
  static constexpr std::uint64_t kEpoch = 5;
  ExchangeShape s_ = shape(kCp, 20);
  Layout l_ = make_layout(s_, 4);  // 5 blocks
  fused::FusedPlan p_ = direct_plan(s_, l_, 2);
  std::vector<RankCall> fused_ = fused_calls(l_, p_, kEpoch);
  std::vector<RankCall> staged_ = staged_calls(l_, 2, kEpoch);

  std::string check(const std::vector<RankCall>& calls) {
    return problem_text(protocol_problem(l_, calls, kEpoch));
  }
};

TEST_F(BrokenPrograms, FlagBeforeData) {
  Program& prog = fused_[1][0][0];
  // Swap the first write and the first release of the CTA's first block.
  auto w = std::find_if(prog.begin(), prog.end(),
                        [](const Action& a) { return a.op == Op::kWriteRows; });
  auto f = std::find_if(prog.begin(), prog.end(),
                        [](const Action& a) { return a.op == Op::kReleaseFlag; });
  std::rotate(w, w + 1, f + 1);  // the write moves after the block's releases
  EXPECT_NE(check(fused_).find("not written before"), std::string::npos) << check(fused_);
}

TEST_F(BrokenPrograms, SignalInTheSameLaunchAsTheWritesOfAnotherCta) {
  // Staged without the kernel boundary: the signal runs as CTA 1 of the write launch, while CTA 0
  // of that launch writes some of the blocks it covers - the two CTAs are not ordered.
  for (RankCall& rc : staged_) {
    rc[1][1].insert(rc[1][1].end(), rc[2][0].begin(), rc[2][0].end());
    rc.erase(rc.begin() + 2);
  }
  EXPECT_NE(check(staged_).find("not written before"), std::string::npos) << check(staged_);
}

TEST_F(BrokenPrograms, SingleBuffer) {
  for (RankCall& rc : fused_) {
    for (Program& prog : rc[0]) {
      for (Action& a : prog) {
        if (a.op == Op::kWriteRows || a.op == Op::kDeliver) a.parity = 0;  // kEpoch is odd
      }
    }
  }
  EXPECT_NE(check(fused_).find("parity"), std::string::npos) << check(fused_);
}

TEST_F(BrokenPrograms, DeliverWithoutAwaitingEverySource) {
  Program& prog = fused_[2][0][0];
  const auto a = std::find_if(prog.begin(), prog.end(),
                              [](const Action& x) { return x.op == Op::kAwaitFlag; });
  prog.erase(a);
  EXPECT_NE(check(fused_).find("before awaiting"), std::string::npos) << check(fused_);
}

TEST_F(BrokenPrograms, BlockDeliveredTwiceOrWrittenTwice) {
  std::vector<RankCall> twice = fused_;
  Program& prog = twice[0][0][1];
  ASSERT_GE(prog.size(), 2u);
  const Action last_delivery = prog[prog.size() - 2];
  prog.back() = last_delivery;  // deliver the last block again, then arrive
  prog.push_back(Action{Op::kArrive});
  EXPECT_NE(check(twice).find("delivers block"), std::string::npos) << check(twice);
  std::vector<RankCall> rewrite = fused_;
  Program& p2 = rewrite[0][0][0];
  ASSERT_FALSE(p2.empty());
  const Action first_write = p2.front();
  p2.push_back(first_write);  // the same rows written twice
  EXPECT_NE(check(rewrite).find("writes block"), std::string::npos) << check(rewrite);
}

TEST_F(BrokenPrograms, WrongFlagValueOrMissingRelease) {
  std::vector<RankCall> stale = fused_;
  for (Action& a : stale[0][0][0])
    if (a.op == Op::kReleaseFlag) a.value = kEpoch;  // forgot the + 1
  EXPECT_NE(check(stale).find("carries flag"), std::string::npos) << check(stale);
  std::vector<RankCall> missing = fused_;
  Program& prog = missing[1][0][0];
  prog.erase(std::find_if(prog.begin(), prog.end(),
                          [](const Action& a) { return a.op == Op::kReleaseFlag; }));
  EXPECT_NE(check(missing).find("nobody releases"), std::string::npos) << check(missing);
}

TEST_F(BrokenPrograms, EpochAdvancedWrongly) {
  std::vector<RankCall> no_arrive = fused_;
  no_arrive[0][0][0].pop_back();
  EXPECT_NE(check(no_arrive).find("never arrives"), std::string::npos) << check(no_arrive);
  std::vector<RankCall> two_advances = staged_;
  two_advances[1][1][0].push_back(Action{Op::kAdvanceEpoch, 0, 0, 0, 0, 0, kEpoch + 1});
  EXPECT_NE(check(two_advances).find("not alone"), std::string::npos) << check(two_advances);
}

}  // namespace
}  // namespace dcp::kernels::direct
