// Group `store_load`: both sides' records of every ordered pair merged into one row: healthy,
// a timeout on each side (naming the pair and what never arrived), a wrong loaded-back value,
// an error, a skip, and one rank.
#include <gtest/gtest.h>

#include "diag/groups/store_load.hpp"
#include "diag/rules.hpp"
#include "diag_test_util.hpp"

namespace dcp::diag {
namespace {

using testing::expect_remedies;
using testing::find;
using testing::make_rank;
using testing::two_ranks;

StoreLoadFacts side(int from, int to, bool initiator) {
  StoreLoadFacts f;
  f.from = from;
  f.to = to;
  f.initiator = initiator;
  f.ran = true;
  f.load_checked = true;
  f.expected = f.loaded = 0x1234;
  f.seconds = 3e-6;
  return f;
}

TEST(DiagStoreLoad, RoundTripsPass) {
  const auto rows = store_load_checks(
      two_ranks(), {side(0, 1, true), side(0, 1, false), side(1, 0, true), side(1, 0, false)});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].ranks, (std::vector<int>{0, 1}));
  EXPECT_EQ(rows[0].verdict, Verdict::kPass);
  EXPECT_EQ(rows[0].value, "store, load back and answer through the mapping in 3.00 us");
}

TEST(DiagStoreLoad, TimeoutsFailNamingThePairAndTheStep) {
  StoreLoadFacts waited = side(0, 1, false);
  waited.timed_out = true;
  waited.step = static_cast<int>(StoreLoadStep::kResponderWait);
  waited.load_checked = false;
  StoreLoadFacts no_answer = side(0, 1, true);
  no_answer.timed_out = true;
  no_answer.step = static_cast<int>(StoreLoadStep::kInitiatorWait);
  const auto rows = store_load_checks(two_ranks(), {no_answer, waited});
  const DiagCheck& c = find(rows, "store_load", {0, 1});
  EXPECT_EQ(c.verdict, Verdict::kFail);
  EXPECT_HAS(c.hint, "rank 1 never saw rank 0's store arrive in its memory");
  EXPECT_HAS(c.hint, "rank 0 never saw rank 1's answer arrive in its memory");
  EXPECT_HAS(c.hint, "peer access was never granted");
  expect_remedies(rows);
}

TEST(DiagStoreLoad, WrongLoadedValueAndErrorFail) {
  StoreLoadFacts wrong = side(1, 0, true);
  wrong.loaded = 0;
  const DiagCheck w = store_load_checks(two_ranks(), {wrong, side(1, 0, false)})[0];
  EXPECT_EQ(w.verdict, Verdict::kFail);
  EXPECT_HAS(w.hint,
             "rank 1 loaded back 0x0000000000000000 through the mapping after storing "
             "0x0000000000001234");
  StoreLoadFacts err = side(0, 1, false);
  err.error = "cudaErrorIllegalAddress";
  EXPECT_HAS(store_load_checks(two_ranks(), {side(0, 1, true), err})[0].hint,
             "rank 1: cudaErrorIllegalAddress");
}

TEST(DiagStoreLoad, SkipsAndSingleRank) {
  StoreLoadFacts a = side(0, 1, true);
  a.ran = false;
  a.skip_reason = "no cross-GPU mapping to test through (x)";
  StoreLoadFacts b = a;
  b.initiator = false;
  const DiagCheck c = store_load_checks(two_ranks(), {a, b})[0];
  EXPECT_EQ(c.verdict, Verdict::kSkip);
  EXPECT_EQ(c.hint, "no cross-GPU mapping to test through (x)");
  const auto one = store_load_checks({make_rank(0)}, {});
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].hint, kSingleRankReason);
}

}  // namespace
}  // namespace dcp::diag
