// The fault kinds of --inject (core/fault.hpp) as `run` takes them: every kind parses from the
// flag with and without a rank, a rank outside the job is refused before any GPU work, and the
// kinds whose effect is a message say what they must. skip-launch and corrupt-line provoke
// device-side effects (tests/gpu/native_exchange_test.cpp); skip-init and row-order provoke the
// setup checks' messages, produced by the functions tested here; shape-mismatch is named by the
// plan agreement (tests/cli: cli_mpi_shape_mismatch); kill ends the process with SIGKILL when its
// second run starts (bench/runner.cpp), which only the launcher reports: its parse and rank
// bound are tested here, its effect by scripts/device-check.sh (step inject: exit 137).
#include <gtest/gtest.h>

#include <string>

#include "cli/run_options.hpp"
#include "core/error.hpp"
#include "core/fault.hpp"
#include "core/resolve.hpp"
#include "kernels/native_alltoall.hpp"
#include "metadata_catalog.hpp"

namespace dcp::cli {
namespace {

SweepSpec with_inject(const std::string& text) {
  RunArgs a;
  a.inject = text;
  return build_spec(a);
}

std::string resolve_error(const std::string& inject, int world) {
  try {
    (void)resolve_sweep(with_inject(inject), testing::metadata_catalog(), world);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "accepted";
}

TEST(FaultKinds, EveryKindParsesFromTheFlagWithAndWithoutARank) {
  const std::pair<const char*, FaultKind> kinds[] = {
      {"skip-launch", FaultKind::kSkipLaunch},       {"corrupt-line", FaultKind::kCorruptLine},
      {"shape-mismatch", FaultKind::kShapeMismatch}, {"kill", FaultKind::kKill},
      {"skip-init", FaultKind::kSkipInit},           {"row-order", FaultKind::kRowOrder}};
  for (const auto& [name, kind] : kinds) {
    SCOPED_TRACE(name);
    const SweepSpec all = with_inject(name);
    ASSERT_TRUE(all.measure.inject.has_value());
    EXPECT_EQ(all.measure.inject->kind, kind);
    EXPECT_FALSE(all.measure.inject->rank.has_value());
    EXPECT_TRUE(all.measure.inject->applies_to(3));
    const SweepSpec one = with_inject(std::string(name) + ":1");
    ASSERT_TRUE(one.measure.inject->rank.has_value());
    EXPECT_EQ(*one.measure.inject->rank, 1);
    EXPECT_TRUE(one.measure.inject->applies_to(1));
    EXPECT_FALSE(one.measure.inject->applies_to(0));
    EXPECT_EQ(to_string(*one.measure.inject), std::string(name) + ":1");
    EXPECT_NE(accepted_faults().find(name), std::string::npos);
  }
  for (const char* bad : {"skip-init:", "row-order:-1", "kill:x", "row-order:1:2", "Skip-Init"}) {
    SCOPED_TRACE(bad);
    try {
      (void)with_inject(bad);
      FAIL() << "accepted";
    } catch (const ConfigError& e) {
      EXPECT_EQ(std::string(e.what()).rfind("inject: ", 0), 0u) << e.what();
    }
  }
}

TEST(FaultKinds, ARankOutsideTheJobIsRefusedBeforeAnyWork) {
  // skip-init and row-order name exchange ranks: one process simulates cp=2 and 4 (ranks 0..3).
  EXPECT_EQ(resolve_error("skip-init:3", 1), "accepted");
  EXPECT_EQ(resolve_error("row-order:4", 1),
            "inject: rank 4 is outside every simulated exchange (cp_size up to 4); accepted: a "
            "rank in 0..3");
  EXPECT_EQ(resolve_error("row-order:1", 2), "accepted");
  EXPECT_EQ(resolve_error("skip-init:2", 2),
            "inject: rank 2 is outside this job of 2 ranks; accepted: a rank in 0..1");
  // kill and shape-mismatch name processes.
  EXPECT_EQ(resolve_error("kill:1", 1),
            "inject: rank 1 is outside this job of 1 rank; accepted: a rank in 0..0");
  EXPECT_EQ(resolve_error("kill:0", 1), "accepted");
  EXPECT_EQ(resolve_error("shape-mismatch:1", 2), "accepted");
  EXPECT_EQ(resolve_error("kill", 8), "accepted");
}

// The messages the setup checks give for the states skip-init and row-order provoke: each names
// the rank, what was found and where, and what must hold.
TEST(FaultKinds, SkipInitAndRowOrderMessagesNameTheRankAndWhatWasFound) {
  const std::string init = kernels::uninitialised_segment_message(1, 0, 3, 0xa5a5a5a5a5a5a5a5, 0);
  EXPECT_EQ(init.rfind("native: the workspace segment of rank 1 is not initialised: its counter "
                       "record for peer 0 channel 3 reads 0xa5a5a5a5a5a5a5a5 instead of 0 (seen by "
                       "rank 0).",
                       0),
            0u)
      << init;
  EXPECT_NE(init.find("Every rank must zero its own segment"), std::string::npos);
  const std::string order = kernels::row_order_message(2, "rank 3's signature", 2);
  EXPECT_EQ(order.rfind("native: workspace rows are not in rank order: rank 2 finds rank 3's "
                        "signature in row 2 of its peer table, expected rank 2's.",
                        0),
            0u)
      << order;
  EXPECT_NE(order.find("sends every line to the wrong peer"), std::string::npos);
  EXPECT_EQ(init.find('\n'), std::string::npos);
  EXPECT_EQ(order.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace dcp::cli
