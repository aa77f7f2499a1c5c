// Sweep expansion: the documented order, pinned by a golden list; n/a axes; validation.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>

#include "core/error.hpp"
#include "core/sweep.hpp"
#include "metadata_catalog.hpp"

namespace dcp {
namespace {

using testing::metadata_catalog;

std::vector<PlannedRun> expand(const SweepSpec& s, int world) {
  return dcp::expand(s, metadata_catalog(), world);
}

SweepSpec small_spec() {
  SweepSpec s;
  s.axes.batch = {1, 16};
  s.axes.head_dim = {128};
  s.axes.stats_dim = {2};
  s.axes.dtype = {DType::kBf16};
  s.axes.cp_size = {2};
  s.axes.impl = {"native", "nccl-2x"};
  s.axes.workspace = {WorkspaceKind::kIpc};
  s.axes.launch = {LaunchMode::kEager, LaunchMode::kGraph};
  s.axes.pdl = {true, false};
  return s;
}

TEST(Sweep, GoldenOrder) {
  const auto plan = expand(small_spec(), 2);
  std::vector<std::string> got;
  for (const auto& r : plan)
    got.push_back(r.impl + " | " + r.c.key());
  const std::vector<std::string> want = {
      "native | cp=2 batch=1 head_dim=128 stats_dim=2 dtype=bf16 launch=eager pdl=on workspace=ipc",
      "native | cp=2 batch=1 head_dim=128 stats_dim=2 dtype=bf16 launch=eager pdl=off "
      "workspace=ipc",
      "nccl-2x | cp=2 batch=1 head_dim=128 stats_dim=2 dtype=bf16 launch=eager pdl=n/a "
      "workspace=n/a",
      "native | cp=2 batch=1 head_dim=128 stats_dim=2 dtype=bf16 launch=graph pdl=on workspace=ipc",
      "native | cp=2 batch=1 head_dim=128 stats_dim=2 dtype=bf16 launch=graph pdl=off "
      "workspace=ipc",
      "nccl-2x | cp=2 batch=1 head_dim=128 stats_dim=2 dtype=bf16 launch=graph pdl=n/a "
      "workspace=n/a",
      "native | cp=2 batch=16 head_dim=128 stats_dim=2 dtype=bf16 launch=eager pdl=on "
      "workspace=ipc",
      "native | cp=2 batch=16 head_dim=128 stats_dim=2 dtype=bf16 launch=eager pdl=off "
      "workspace=ipc",
      "nccl-2x | cp=2 batch=16 head_dim=128 stats_dim=2 dtype=bf16 launch=eager pdl=n/a "
      "workspace=n/a",
      "native | cp=2 batch=16 head_dim=128 stats_dim=2 dtype=bf16 launch=graph pdl=on "
      "workspace=ipc",
      "native | cp=2 batch=16 head_dim=128 stats_dim=2 dtype=bf16 launch=graph pdl=off "
      "workspace=ipc",
      "nccl-2x | cp=2 batch=16 head_dim=128 stats_dim=2 dtype=bf16 launch=graph pdl=n/a "
      "workspace=n/a",
  };
  EXPECT_EQ(got, want);
}

TEST(Sweep, OuterAxesVarySlowest) {
  SweepSpec s = small_spec();
  s.axes.cp_size = {2, 4};
  s.axes.dtype = {DType::kBf16, DType::kFp16};
  s.axes.impl = {"native"};
  s.axes.pdl = {true};
  s.axes.launch = {LaunchMode::kEager};
  s.axes.batch = {1};
  const auto plan = expand(s, 4);
  ASSERT_EQ(plan.size(), 4u);
  EXPECT_EQ(plan[0].c.cp_size, 2);
  EXPECT_EQ(plan[0].c.dtype, DType::kBf16);
  EXPECT_EQ(plan[1].c.cp_size, 2);
  EXPECT_EQ(plan[1].c.dtype, DType::kFp16);
  EXPECT_EQ(plan[2].c.cp_size, 4);
  EXPECT_EQ(plan[3].c.dtype, DType::kFp16);
}

TEST(Sweep, EmptyCpAxisTakesTheWorldSize) {
  SweepSpec s = small_spec();
  s.axes.cp_size.clear();
  for (const auto& r : expand(s, 8))
    EXPECT_EQ(r.c.cp_size, 8);
}

TEST(Sweep, DefaultImplsAreTheCatalogsDefaultRows) {
  SweepSpec s;
  const auto impls = effective_impls(s.axes, metadata_catalog());
  EXPECT_EQ(impls, (std::vector<std::string>{"native", "native-fused", "native-direct",
                                             "direct-staged", "nccl-2x", "nccl-fused",
                                             "nccl-device", "nccl-packed", "nccl-ag-rs"}));
  EXPECT_EQ(std::count(impls.begin(), impls.end(), std::string("nccl-1x")), 0);
}

TEST(Sweep, RunsPointAtTheirRegistryRow) {
  for (const auto& r : expand(small_spec(), 2)) {
    ASSERT_NE(r.info, nullptr);
    EXPECT_EQ(r.info->name, r.impl);
    EXPECT_EQ(r.info, metadata_catalog().find(r.impl));
  }
}

TEST(Sweep, ExpandRefusesANameTheCatalogDoesNotKnow) {
  SweepSpec s = small_spec();
  s.axes.impl = {"native", "gloo"};
  try {
    (void)expand(s, 2);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "impl: unknown implementation 'gloo'; accepted: "
              "native|native-fused|native-direct|direct-staged|native-auto|nccl-2x|nccl-fused|nccl-"
              "device|"
              "nccl-1x|nccl-packed|nccl-ag-rs");
  }
}

// pdl and workspace expand for the rows whose traits say they apply, whatever their names.
TEST(Sweep, AxesFollowTheRowsTraits) {
  std::array rows{testing::plain_row("a"), testing::plain_row("b")};
  rows[0].traits.uses_pdl = true;
  rows[1].traits.uses_workspace = true;
  const ImplCatalog catalog{std::span<const ImplInfo>(rows)};
  SweepSpec s = small_spec();
  s.axes.batch = {1};
  s.axes.launch = {LaunchMode::kEager};
  s.axes.impl = {"a", "b"};
  s.axes.workspace = {WorkspaceKind::kIpc, WorkspaceKind::kFabric};
  const auto plan = dcp::expand(s, catalog, 2);
  std::vector<std::string> got;
  for (const auto& r : plan)
    got.push_back(r.impl + " " + r.c.key().substr(r.c.exchange_key().size() + 1));
  EXPECT_EQ(got,
            (std::vector<std::string>{"a pdl=on workspace=n/a", "a pdl=off workspace=n/a",
                                      "b pdl=n/a workspace=ipc", "b pdl=n/a workspace=fabric"}));
}

TEST(Sweep, ExchangeKeyDropsImplAxes) {
  const auto plan = expand(small_spec(), 2);
  EXPECT_EQ(plan[0].c.exchange_key(), plan[2].c.exchange_key());
  EXPECT_NE(plan[0].c.key(), plan[2].c.key());
}

TEST(Sweep, BatchZeroIsValid) {
  SweepSpec s = small_spec();
  s.axes.batch = {0};
  EXPECT_NO_THROW(validate(s));
}

void expect_config_error(const SweepSpec& s, const std::string& field) {
  try {
    validate(s);
    FAIL() << "expected ConfigError naming " << field;
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(field + ":", 0), 0u) << e.what();
    EXPECT_EQ(e.exit_code(), ExitCode::kUsage);
  }
}

TEST(SweepValidate, EachBadFieldIsNamed) {
  {
    SweepSpec s;
    s.axes.batch = {-1};
    expect_config_error(s, "batch");
  }
  {
    SweepSpec s;
    s.axes.batch = {};
    expect_config_error(s, "batch");
  }
  {
    SweepSpec s;
    s.axes.head_dim = {100};
    expect_config_error(s, "head_dim");
  }
  {
    SweepSpec s;
    s.axes.head_dim = {0};
    expect_config_error(s, "head_dim");
  }
  {
    SweepSpec s;
    s.axes.stats_dim = {3};
    expect_config_error(s, "stats_dim");
  }
  {
    SweepSpec s;
    s.axes.stats_dim = {0};
    expect_config_error(s, "stats_dim");
  }
  {
    SweepSpec s;
    s.axes.impl = {"native", " "};
    expect_config_error(s, "impl");
  }
  {
    SweepSpec s;
    s.axes.impl = {""};
    expect_config_error(s, "impl");
  }
  {
    // Found by fuzz_run_flags: a name that is not one (here invalid UTF-8) must not reach the
    // report's JSON; it is refused with its bytes shown printable.
    SweepSpec s;
    s.axes.impl = {"n10\xe2g", "native"};
    expect_config_error(s, "impl");
    try {
      validate(s);
    } catch (const ConfigError& e) {
      EXPECT_EQ(std::string(e.what()),
                "impl: 'n10?g' is not an implementation name; accepted: names made of letters, "
                "digits, '-', '_' and '.'");
    }
  }
  {
    SweepSpec s;
    s.axes.cp_size = {0};
    expect_config_error(s, "cp_size");
  }
  {
    SweepSpec s;
    s.measure.iters = 0;
    expect_config_error(s, "iters");
  }
  {
    SweepSpec s;
    s.measure.iters = -5;
    expect_config_error(s, "iters");
  }
  {
    SweepSpec s;
    s.measure.warmup = -1;
    expect_config_error(s, "warmup");
  }
  {
    SweepSpec s;
    s.measure.ring = 4;
    expect_config_error(s, "ring");
  }
  {
    SweepSpec s;
    s.measure.timeout_s = 0;
    expect_config_error(s, "timeout");
  }
  {
    SweepSpec s;
    s.axes.launch = {};
    expect_config_error(s, "launch");
  }
}

// A list names each value once (issue 14 item 6): --batch 1,1 or --impl native,native would run
// and report the same cases twice.
TEST(SweepValidate, RepeatedListValuesAreRefusedNamingTheField) {
  auto message = [](const SweepSpec& s) {
    try {
      validate(s);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  SweepSpec s;
  s.axes.batch = {1, 16, 1};
  EXPECT_EQ(message(s), "batch: 1 is listed twice (entries 1 and 3); accepted: each value once");
  s = {};
  s.axes.impl = {"native", "native"};
  EXPECT_EQ(message(s),
            "impl: 'native' is listed twice (entries 1 and 2); accepted: each value once");
  s = {};
  s.axes.pdl = {true, true};
  EXPECT_EQ(message(s), "pdl: on is listed twice (entries 1 and 2); accepted: each value once");
  s = {};
  s.axes.workspace = {WorkspaceKind::kSim, WorkspaceKind::kSim};
  EXPECT_EQ(message(s),
            "workspace: sim is listed twice (entries 1 and 2); accepted: each value once");
  for (auto set : {+[](SweepSpec& x) {
                     x.axes.head_dim = {128, 128};
                   },
                   +[](SweepSpec& x) {
                     x.axes.stats_dim = {2, 2};
                   },
                   +[](SweepSpec& x) {
                     x.axes.dtype = {DType::kBf16, DType::kBf16};
                   },
                   +[](SweepSpec& x) {
                     x.axes.cp_size = {2, 2};
                   },
                   +[](SweepSpec& x) {
                     x.axes.launch = {LaunchMode::kGraph, LaunchMode::kGraph};
                   }}) {
    SweepSpec x;
    set(x);
    EXPECT_NE(message(x).find("is listed twice"), std::string::npos) << message(x);
  }
}

TEST(SweepValidate, CpMustMatchWorldUnlessSim) {
  SweepSpec s;
  s.axes.cp_size = {4};
  s.axes.workspace = {WorkspaceKind::kIpc};
  EXPECT_THROW(validate_for_world(s, 2), ConfigError);
  EXPECT_NO_THROW(validate_for_world(s, 4));
  s.axes.workspace = {WorkspaceKind::kSim};
  EXPECT_NO_THROW(validate_for_world(s, 1));
  EXPECT_THROW(validate_for_world(s, 2), ConfigError);  // sim needs one process
  s.axes.workspace = {WorkspaceKind::kSim, WorkspaceKind::kIpc};
  EXPECT_THROW(validate_for_world(s, 1), ConfigError);  // no mixing
}

TEST(Case, BytesFollowTheShapes) {
  Case c;
  c.cp_size = 4;
  c.batch = 16;
  c.head_dim = 512;
  c.stats_dim = 2;
  EXPECT_EQ(c.o_row_bytes(), 1024u);
  EXPECT_EQ(c.stats_row_bytes(), 8u);
  EXPECT_EQ(c.bytes_per_peer(), 16u * 1032u);
  EXPECT_EQ(c.bytes_per_rank(), 4u * 16u * 1032u);
}

TEST(Case, KeysNameTheOperationAndTheVocabulary) {
  Case c;  // an exchange given as entries keeps the key it had before the op axis existed
  c.cp_size = 2;
  c.batch = 16;
  c.launch = LaunchMode::kGraph;
  EXPECT_EQ(c.exchange_key(), "cp=2 batch=16 head_dim=128 stats_dim=2 dtype=bf16 launch=graph");
  EXPECT_EQ(c.key(), c.exchange_key() + " pdl=n/a workspace=n/a");

  Case r = c;  // a reduce given in the user's terms: tokens x heads of a model preset
  r.op = Op::kReduce;
  r.cp_size = 8;
  r.model = "deepseek-v3";
  r.tokens = 64;
  r.heads = 16;
  r.batch = 64 * 16;
  r.head_dim = 512;
  r.stats_dim = 1;
  r.lse_base = LseBase::kTwo;
  EXPECT_EQ(r.exchange_key(),
            "op=reduce cp=8 model=deepseek-v3 tokens=64 heads=16 head_dim=512 dtype=bf16 lse=2 "
            "launch=graph");
  Case b = r;  // the same reduce given as entries: a different key
  b.tokens.reset();
  b.heads.reset();
  b.model.clear();
  EXPECT_EQ(b.exchange_key(),
            "op=reduce cp=8 batch=1024 head_dim=512 dtype=bf16 lse=2 launch=graph");
  EXPECT_NE(b.key(), r.key());
}

}  // namespace
}  // namespace dcp
