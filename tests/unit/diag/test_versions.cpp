// Groups `driver` and `nccl`: driver/runtime agreement and NCCL loaded-vs-compiled and
// agreement across ranks, on crafted rank facts.
#include <gtest/gtest.h>

#include "diag/groups/driver.hpp"
#include "diag/groups/nccl.hpp"
#include "diag/rules.hpp"
#include "diag_test_util.hpp"

namespace dcp::diag {
namespace {

using testing::expect_remedies;
using testing::find;
using testing::make_rank;
using testing::two_ranks;

TEST(DiagDriver, AgreeingVersionsPass) {
  const auto rows = driver_checks(two_ranks());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].name, "driver_runtime");
  EXPECT_EQ(rows[0].verdict, Verdict::kPass);
  EXPECT_EQ(rows[0].value, "driver 13.0, runtime 13.0 on every rank");
}

TEST(DiagDriver, DisagreementWarnsNamingValuesAndRanks) {
  std::vector<RankFacts> ranks{make_rank(0), make_rank(1), make_rank(2)};
  ranks[2].driver_version = "12.8";
  ranks[1].runtime_version = "12.9";
  const DiagCheck c = driver_checks(ranks)[0];
  EXPECT_EQ(c.verdict, Verdict::kWarn);
  EXPECT_HAS(c.hint, "driver versions differ: 13.0 on ranks 0, 1; 12.8 on rank 2");
  EXPECT_HAS(c.hint, "CUDA runtime versions differ: 13.0 on ranks 0, 2; 12.9 on rank 1");
  expect_remedies({c});
}

TEST(DiagNccl, ParseVersion) {
  EXPECT_EQ(parse_nccl_version("2.28.9"), (std::array<int, 3>{2, 28, 9}));
  EXPECT_FALSE(parse_nccl_version(""));
  EXPECT_FALSE(parse_nccl_version("2.28"));
  EXPECT_FALSE(parse_nccl_version("2.28.9.1"));
  EXPECT_FALSE(parse_nccl_version("2.x.9"));
  EXPECT_FALSE(parse_nccl_version("-2.28.9"));
}

TEST(DiagNccl, HealthyPasses) {
  const auto rows = nccl_checks(two_ranks());
  EXPECT_EQ(find(rows, "nccl_version").verdict, Verdict::kPass);
  EXPECT_EQ(find(rows, "nccl_version").value, "loaded NCCL 2.28.9 = compiled on every rank");
  EXPECT_EQ(find(rows, "nccl_agreement").verdict, Verdict::kPass);
  EXPECT_EQ(find(rows, "nccl_agreement").value, "NCCL 2.28.9 on every rank");
}

TEST(DiagNccl, OlderLoadedThanCompiledFails) {
  auto ranks = two_ranks();
  for (auto& r : ranks)
    r.nccl_version = "2.28.3";
  const auto rows = nccl_checks(ranks);
  const DiagCheck& v = find(rows, "nccl_version");
  EXPECT_EQ(v.verdict, Verdict::kFail);
  EXPECT_HAS(v.hint, "ranks 0, 1 loaded an NCCL older than the compiled 2.28.9");
  EXPECT_HAS(v.remedy, "LD_LIBRARY_PATH");
  EXPECT_HAS(v.remedy, "libnccl.so.2.28.9");
  EXPECT_EQ(find(rows, "nccl_agreement").verdict, Verdict::kPass);  // the same on every rank
  expect_remedies(rows);
}

TEST(DiagNccl, NewerLoadedWarnsUnknownWarns) {
  auto ranks = two_ranks();
  ranks[0].nccl_version = "2.29.1";
  ranks[1].nccl_version = "";
  const auto rows = nccl_checks(ranks);
  const DiagCheck& v = find(rows, "nccl_version");
  EXPECT_EQ(v.verdict, Verdict::kWarn);
  EXPECT_HAS(v.hint, "rank 0 loaded an NCCL newer than the compiled 2.28.9");
  EXPECT_HAS(v.hint, "rank 1: the loaded or compiled NCCL version is unknown");
}

TEST(DiagNccl, DisagreementAcrossRanksFails) {
  std::vector<RankFacts> ranks{make_rank(0), make_rank(1), make_rank(2)};
  ranks[1].nccl_version = "2.28.3";
  const auto rows = nccl_checks(ranks);
  const DiagCheck& a = find(rows, "nccl_agreement");
  EXPECT_EQ(a.verdict, Verdict::kFail);
  EXPECT_HAS(a.hint, "loaded NCCL differs: 2.28.9 on ranks 0, 2; 2.28.3 on rank 1");
  EXPECT_HAS(a.hint, "Mismatched NCCL version");
  EXPECT_EQ(find(rows, "nccl_version").verdict, Verdict::kFail);  // rank 1 is older too
  expect_remedies(rows);
  EXPECT_EQ(summarize(rows).exit_code, 1);
}

}  // namespace
}  // namespace dcp::diag
