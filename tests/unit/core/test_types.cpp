// Enum spellings round-trip; fault injection syntax.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/fault.hpp"
#include "core/impl_info.hpp"
#include "core/result.hpp"
#include "core/types.hpp"

namespace dcp {
namespace {

TEST(Types, NamesRoundTrip) {
  for (auto v : kAllDTypes)
    EXPECT_EQ(parse_dtype(to_string(v)), v);
  for (auto v : kAllWorkspaceKinds)
    EXPECT_EQ(parse_workspace(to_string(v)), v);
  for (auto v : kAllLaunchModes)
    EXPECT_EQ(parse_launch(to_string(v)), v);
  EXPECT_FALSE(parse_dtype("fp32").has_value());
  EXPECT_FALSE(parse_launch("Graph").has_value());
  EXPECT_EQ(accepted_launches(), "eager|pipelined|graph");
  for (auto s :
       {CaseStatus::kOk, CaseStatus::kVerifyFailed, CaseStatus::kSkipped, CaseStatus::kError}) {
    EXPECT_EQ(parse_case_status(to_string(s)), s);
  }
}

TEST(Types, OpNamesRoundTrip) {
  for (auto v : kAllOps)
    EXPECT_EQ(parse_op(to_string(v)), v);
  EXPECT_EQ(to_string(Op::kExchange), "exchange");
  EXPECT_EQ(to_string(Op::kReduce), "reduce");
  EXPECT_FALSE(parse_op("merge").has_value());
  EXPECT_EQ(accepted_ops(), "exchange|reduce");
}

TEST(Types, LseBaseNamesRoundTrip) {
  for (auto v : kAllLseBases)
    EXPECT_EQ(parse_lse_base(to_string(v)), v);
  EXPECT_EQ(accepted_lse_bases(), "e|2");
  EXPECT_FALSE(parse_lse_base("10").has_value());
  EXPECT_FALSE(parse_lse_base("E").has_value());
}

TEST(Fault, ParsesKindAndRank) {
  const auto f = parse_fault("skip-launch:1");
  EXPECT_EQ(f.kind, FaultKind::kSkipLaunch);
  ASSERT_TRUE(f.rank.has_value());
  EXPECT_EQ(*f.rank, 1);
  EXPECT_TRUE(f.applies_to(1));
  EXPECT_FALSE(f.applies_to(0));
  EXPECT_EQ(to_string(f), "skip-launch:1");
  const auto all = parse_fault("corrupt-line");
  EXPECT_FALSE(all.rank.has_value());
  EXPECT_TRUE(all.applies_to(7));
}

TEST(Fault, BadInputNamesTheField) {
  for (const char* bad : {"explode", "skip-launch:", "skip-launch:x", "skip-launch:-1", ""}) {
    try {
      (void)parse_fault(bad);
      FAIL() << bad;
    } catch (const ConfigError& e) {
      EXPECT_EQ(std::string(e.what()).rfind("inject:", 0), 0u) << e.what();
    }
  }
}

}  // namespace
}  // namespace dcp
