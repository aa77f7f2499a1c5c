// Group `imex`: the IMEX channel per rank and the NVLink partition (cluster, clique) agreement
// across ranks, on crafted facts: one host (not needed), several hosts healthy, a missing
// channel, disagreeing cliques and clusters, an unregistered GPU, no NVML.
#include <gtest/gtest.h>

#include "diag/groups/imex.hpp"
#include "diag_test_util.hpp"
#include "fabric/nvml.hpp"

namespace dcp::diag {
namespace {

using testing::expect_remedies;
using testing::find;
using testing::make_rank;
using testing::two_ranks;

ImexFacts good(std::uint32_t clique = 7, const std::string& cluster = "cl-a") {
  ImexFacts f;
  f.channel_dir = "/dev/nvidia-caps-imex-channels";
  f.channel0_exists = f.channel0_accessible = true;
  f.summary = "/dev/nvidia-caps-imex-channels/channel0 exists and is accessible";
  f.nvml_available = f.fabric_queried = true;
  f.fabric_state = fabric::kFabricStateCompleted;
  f.cluster_uuid = cluster;
  f.clique_id = clique;
  return f;
}

ImexFacts no_channel() {
  ImexFacts f = good();
  f.channel0_exists = f.channel0_accessible = false;
  f.summary = "/dev/nvidia-caps-imex-channels does not exist (so no channel0)";
  return f;
}

const std::vector<RankFacts> kTwoHosts{make_rank(0, "a"), make_rank(1, "b")};

TEST(DiagImex, OneHostNeedsNoImex) {
  const auto rows = imex_checks(two_ranks(), {no_channel(), no_channel()});
  EXPECT_EQ(find(rows, "imex_channel", {0}).verdict, Verdict::kSkip);
  EXPECT_HAS(find(rows, "imex_channel", {0}).hint, "not needed: all ranks share host node0");
  EXPECT_EQ(find(rows, "imex_domain").verdict, Verdict::kSkip);
}

TEST(DiagImex, SeveralHostsInOneCliquePass) {
  const auto rows = imex_checks(kTwoHosts, {good(), good()});
  EXPECT_EQ(find(rows, "imex_channel", {1}).verdict, Verdict::kPass);
  const DiagCheck& d = find(rows, "imex_domain");
  EXPECT_EQ(d.verdict, Verdict::kPass);
  EXPECT_EQ(d.value, "all 2 ranks in cluster cl-a clique 7");
}

TEST(DiagImex, MissingChannelAcrossHostsFails) {
  const auto rows = imex_checks(kTwoHosts, {good(), no_channel()});
  const DiagCheck& c = find(rows, "imex_channel", {1});
  EXPECT_EQ(c.verdict, Verdict::kFail);
  EXPECT_HAS(c.hint, "does not exist (so no channel0)");
  EXPECT_HAS(c.remedy, "mknod /dev/nvidia-caps-imex-channels/channel0");
  expect_remedies(rows);
}

TEST(DiagImex, DisagreeingCliquesOrClustersFailNamingTheGroups) {
  const std::vector<RankFacts> ranks{make_rank(0, "a"), make_rank(1, "a"), make_rank(2, "b")};
  const auto rows = imex_checks(ranks, {good(7), good(7), good(9)});
  const DiagCheck& d = find(rows, "imex_domain");
  EXPECT_EQ(d.verdict, Verdict::kFail);
  EXPECT_HAS(d.hint, "cluster cl-a clique 7 on ranks 0, 1; cluster cl-a clique 9 on rank 2");
  const auto clusters = imex_checks(kTwoHosts, {good(7, "cl-a"), good(7, "cl-b")});
  EXPECT_EQ(find(clusters, "imex_domain").verdict, Verdict::kFail);
  expect_remedies(rows);
}

TEST(DiagImex, UnregisteredGpuFailsNoNvmlSkips) {
  ImexFacts pending = good();
  pending.fabric_state = fabric::kFabricStateInProgress;
  const DiagCheck d = find(imex_checks(kTwoHosts, {good(), pending}), "imex_domain");
  EXPECT_EQ(d.verdict, Verdict::kFail);
  EXPECT_EQ(d.ranks, std::vector<int>{1});
  EXPECT_HAS(d.hint, "not registered with an NVLink fabric (first: IN_PROGRESS)");
  ImexFacts unknown = good();
  unknown.nvml_available = false;
  unknown.fabric_queried = false;
  const DiagCheck s = find(imex_checks(kTwoHosts, {good(), unknown}), "imex_domain");
  EXPECT_EQ(s.verdict, Verdict::kSkip);
  EXPECT_HAS(s.hint, "NVML gave no fabric info on rank 1");
}

}  // namespace
}  // namespace dcp::diag
