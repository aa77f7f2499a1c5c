// The run context's JSON: one definition, exact round trip, strict reading.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "report/context_json.hpp"

namespace dcp::report {
namespace {

RankInfo rank(int r) {
  RankInfo i;
  i.rank = r;
  i.local_rank = r % 2;
  i.host = "node" + std::to_string(r / 2);
  i.device = r % 2;
  i.gpu_name = "NVIDIA H200";
  i.gpu_uuid = "GPU-" + std::to_string(r);
  i.pci_bus_id = "00000000:19:00.0";
  i.sm_count = 132;
  i.cc_major = 9;
  i.cc_minor = 0;
  i.driver_version = "13.0";
  i.runtime_version = "13.0";
  i.nccl_version = "2.28.9";
  return i;
}

TEST(ContextJson, RankDescriptionSurvivesTheGatherWireFormat) {
  // What cli::collect_context does: dump, move as text, parse, read back.
  const RankInfo mine = rank(3);
  const std::string text = rank_info_to_json(mine).dump();
  EXPECT_EQ(rank_info_from_json(nlohmann::json::parse(text), "rank description", "gather", "rank"),
            mine);
}

TEST(ContextJson, ContextRoundTrip) {
  RunContext c;
  c.tool_version = "0.1.0";
  c.git_sha = "abc";
  c.build_type = "Release";
  c.argv = {"dcpbench", "--batch", "1,16"};
  c.utc_time = "2026-11-25T00:00:00Z";
  c.world_size = 4;
  c.hosts = {"node0", "node1"};
  for (int r = 0; r < 4; ++r)
    c.ranks.push_back(rank(r));
  c.nccl_compiled_version = "2.28.9";
  c.topology = "2 host(s), 4 rank(s), 2 per host";
  c.notes = {"a note"};
  const auto j = nlohmann::json::parse(context_to_json(c).dump());
  EXPECT_EQ(context_from_json(j, "report", "x.json", "context"), c);
}

TEST(ContextJson, MissingFieldIsNamed) {
  auto j = nlohmann::json::parse(rank_info_to_json(rank(0)).dump());
  j.erase("sm_count");
  try {
    (void)rank_info_from_json(j, "rank description", "gather", "rank");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("field 'rank.sm_count'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace dcp::report
