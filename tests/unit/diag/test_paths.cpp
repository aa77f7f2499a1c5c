// Group `paths`: a row per pair from the peer-path table, PASS on NVLink-class paths, FAIL with
// the documented remedy elsewhere (the worse direction decides), SKIP on one rank.
#include <gtest/gtest.h>

#include "diag/groups/paths.hpp"
#include "diag_test_util.hpp"

namespace dcp::diag {
namespace {

using testing::expect_remedies;
using testing::find;
using testing::make_rank;
using testing::two_ranks;

fabric::PeerPathTable table(fabric::PathKind k01, fabric::PathKind k10) {
  std::vector<std::vector<fabric::PeerPath>> rows(2);
  rows[0].push_back(fabric::PeerPath{0, 1, k01, "evidence 0->1"});
  rows[1].push_back(fabric::PeerPath{1, 0, k10, "evidence 1->0"});
  return fabric::assemble_table(2, rows);
}

TEST(DiagPaths, NvlinkPassesOthersFailWithTheRemedy) {
  const auto ok =
      paths_checks(two_ranks(), table(fabric::PathKind::kNvlink, fabric::PathKind::kNvlink));
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(ok[0].name, "ll128_path");
  EXPECT_EQ(ok[0].verdict, Verdict::kPass);
  EXPECT_EQ(ok[0].value, "NVLink: evidence 1->0");
  const auto bad =
      paths_checks(two_ranks(), table(fabric::PathKind::kNvlink, fabric::PathKind::kPcie));
  EXPECT_EQ(bad[0].verdict, Verdict::kFail);
  EXPECT_HAS(bad[0].hint, "ranks 0 and 1 are joined by PCIe (evidence 1->0)");
  EXPECT_EQ(bad[0].remedy,
            "LL128 needs NVLink; use --impl nccl-* or --allow-unvalidated-path at your own risk");
  for (auto k : {fabric::PathKind::kNetwork, fabric::PathKind::kUnknown}) {
    const auto rows = paths_checks(two_ranks(), table(k, k));
    EXPECT_EQ(rows[0].verdict, Verdict::kFail);
    expect_remedies(rows);
  }
  EXPECT_EQ(paths_checks(two_ranks(), table(fabric::PathKind::kMnnvl, fabric::PathKind::kMnnvl))[0]
                .verdict,
            Verdict::kPass);
}

TEST(DiagPaths, SingleRankSkips) {
  const auto rows = paths_checks({make_rank(0)}, fabric::assemble_table(1, {}));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].verdict, Verdict::kSkip);
}

}  // namespace
}  // namespace dcp::diag
