// Group `nvlink`, the per-pair rule (every NVLink of a same-host pair up), on crafted per-link
// facts: healthy switch and direct topologies, links down, a pair that lost NVLink, links that
// lead elsewhere, no NVLink, no NVML, across hosts; and the facts built from the loader.
#include <gtest/gtest.h>

#include "diag/groups/nvlink.hpp"
#include "diag_test_util.hpp"
#include "fabric/nvml.hpp"

namespace dcp::diag {
namespace {

using testing::expect_remedies;
using testing::find;
using testing::make_rank;
using testing::two_ranks;

/// A GPU with `n` links to an NVSwitch, the links in `down` inactive.
NvlinkFacts switched(const std::string& bus, int n, std::vector<int> down = {}) {
  NvlinkFacts f;
  f.nvml_available = f.supported = true;
  f.bus_id = bus;
  for (int l = 0; l < n; ++l) {
    const bool up = std::find(down.begin(), down.end(), l) == down.end();
    f.links.push_back(LinkFacts{l, up, up ? "00000000:a0:00.0" : "", up ? "switch" : "unknown"});
  }
  return f;
}

/// A GPU whose `n` links all go to `peer_bus` (an NVLink bridge).
NvlinkFacts direct(const std::string& bus, const std::string& peer_bus, int n,
                   std::vector<int> down = {}) {
  NvlinkFacts f = switched(bus, n, down);
  for (auto& l : f.links) {
    if (!l.active) continue;
    l.remote_bus_id = peer_bus;
    l.remote = "gpu";
  }
  return f;
}

const std::string kBus0 = "00000000:10:00.0";
const std::string kBus1 = "00000000:11:00.0";

TEST(DiagNvlinkPair, AllLinksUpPass) {
  const auto rows = nvlink_checks(two_ranks(), {switched(kBus0, 18), switched(kBus1, 18)});
  const DiagCheck& p = find(rows, "nvlink_pair", {0, 1});
  EXPECT_EQ(p.verdict, Verdict::kPass);
  EXPECT_HAS(p.value, "through NVSwitch (18 + 18 switch links); all 36 links of both GPUs up");
  const auto bridged =
      nvlink_checks(two_ranks(), {direct(kBus0, kBus1, 4), direct(kBus1, kBus0, 4)});
  EXPECT_EQ(find(bridged, "nvlink_pair", {0, 1}).verdict, Verdict::kPass);
  EXPECT_HAS(find(bridged, "nvlink_pair", {0, 1}).value, "8 direct links");
}

TEST(DiagNvlinkPair, SomeLinksDownWarnsNamingThem) {
  const auto rows = nvlink_checks(two_ranks(), {switched(kBus0, 18, {3, 7}), switched(kBus1, 18)});
  const DiagCheck& p = find(rows, "nvlink_pair", {0, 1});
  EXPECT_EQ(p.verdict, Verdict::kWarn);
  EXPECT_HAS(p.hint, "rank 0's GPU: links 3, 7 of 18 down");
  EXPECT_HAS(p.value, "34 of 36 links up");
  EXPECT_EQ(*p.number, 34.0);
  expect_remedies({p});
}

TEST(DiagNvlinkPair, PairThatLostNvlinkFails) {
  const auto rows = nvlink_checks(
      two_ranks(),
      {switched(kBus0, 18, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}),
       switched(kBus1, 18)});
  const DiagCheck& p = find(rows, "nvlink_pair", {0, 1});
  EXPECT_EQ(p.verdict, Verdict::kFail);
  EXPECT_HAS(p.hint, "no NVLink joins these GPUs any more");
  EXPECT_EQ(find(rows, "nvlink", {0}).verdict, Verdict::kWarn);  // the rank row agrees
  expect_remedies(rows);
}

TEST(DiagNvlinkPair, LinksLeadingElsewhereOrNoNvlinkSkip) {
  // Rank 0 and rank 1 are each bridged to some third GPU, not to each other.
  const auto elsewhere = nvlink_checks(
      two_ranks(), {direct(kBus0, "00000000:20:00.0", 4), direct(kBus1, "00000000:21:00.0", 4)});
  EXPECT_EQ(find(elsewhere, "nvlink_pair", {0, 1}).verdict, Verdict::kSkip);
  EXPECT_HAS(find(elsewhere, "nvlink_pair", {0, 1}).hint, "their links lead elsewhere");
  NvlinkFacts pcie;
  pcie.nvml_available = true;
  pcie.bus_id = kBus0;
  NvlinkFacts pcie1 = pcie;
  pcie1.bus_id = kBus1;
  const auto none = nvlink_checks(two_ranks(), {pcie, pcie1});
  EXPECT_EQ(find(none, "nvlink_pair", {0, 1}).verdict, Verdict::kSkip);
  EXPECT_HAS(find(none, "nvlink_pair", {0, 1}).hint, "neither GPU has NVLink");
}

TEST(DiagNvlinkPair, NoNvmlOtherHostSharedGpuAndSingleRankSkip) {
  NvlinkFacts missing;
  missing.unavailable_reason = "dlopen failed";
  EXPECT_EQ(find(nvlink_checks(two_ranks(), {missing, switched(kBus1, 18)}), "nvlink_pair").verdict,
            Verdict::kSkip);
  const std::vector<RankFacts> far{make_rank(0), make_rank(1, "node1")};
  EXPECT_HAS(
      find(nvlink_checks(far, {switched(kBus0, 18), switched(kBus1, 18)}), "nvlink_pair").hint,
      "different hosts");
  const std::vector<RankFacts> shared{make_rank(0, "node0", "GPU-x"),
                                      make_rank(1, "node0", "GPU-x")};
  EXPECT_HAS(
      find(nvlink_checks(shared, {switched(kBus0, 18), switched(kBus0, 18)}), "nvlink_pair").hint,
      "share one GPU");
  const DiagCheck one = find(nvlink_checks({make_rank(0)}, {switched(kBus0, 18)}), "nvlink_pair");
  EXPECT_EQ(one.verdict, Verdict::kSkip);
}

TEST(DiagNvlinkPair, EveryPairOnce) {
  std::vector<RankFacts> ranks;
  std::vector<NvlinkFacts> facts;
  for (int r = 0; r < 4; ++r) {
    ranks.push_back(make_rank(r));
    facts.push_back(switched("00000000:1" + std::to_string(r) + ":00.0", 18));
  }
  int pairs = 0;
  for (const auto& c : nvlink_checks(ranks, facts)) {
    if (c.name != "nvlink_pair") continue;
    ++pairs;
    EXPECT_LT(c.ranks[0], c.ranks[1]);
  }
  EXPECT_EQ(pairs, 6);
}

TEST(DiagNvlinkPair, FactsFromTheLoader) {
  fabric::NvlinkReport r;
  r.ok = r.supported = true;
  r.links.push_back(
      fabric::NvlinkState{0, true, "00000000:a0:00.0", fabric::NvlinkRemote::kSwitch});
  r.links.push_back(fabric::NvlinkState{1, false, "", fabric::NvlinkRemote::kUnknown});
  const NvlinkFacts f = nvlink_facts(true, "", "0000:10:00.0", r);
  EXPECT_EQ(f.bus_id, kBus0);
  ASSERT_EQ(f.links.size(), 2u);
  EXPECT_EQ(f.links[0].remote, "switch");
  EXPECT_EQ(f.links_active(), 1);
  EXPECT_EQ(f.remote_bus_ids(), std::vector<std::string>{"00000000:a0:00.0"});
  const NvlinkFacts none = nvlink_facts(false, "no library", kBus0, r);
  EXPECT_FALSE(none.nvml_available);
  EXPECT_EQ(none.unavailable_reason, "no library");
  EXPECT_TRUE(none.links.empty());
}

}  // namespace
}  // namespace dcp::diag
