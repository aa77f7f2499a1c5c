// The flags of the operation axis and the user's shape vocabulary (issue 15): --op, --tokens,
// --heads, --model, --lse-base, the built-in default's blocks, list --models, and every refusal
// (one line naming the field and the accepted values).
#include <gtest/gtest.h>

#include <array>
#include <sstream>
#include <string>

#include "cli/config_file.hpp"
#include "cli/list_command.hpp"
#include "cli/run_options.hpp"
#include "core/error.hpp"
#include "core/models.hpp"
#include "core/resolve.hpp"
#include "metadata_catalog.hpp"

namespace dcp::cli {
namespace {

/// The metadata rows, with native and nccl-2x also implementing the reduction.
const ImplCatalog& reduce_catalog() {
  static const auto rows = [] {
    auto r = testing::kMetadataRows;
    r[0].ops = {Op::kExchange, Op::kReduce};
    r[1].ops = {Op::kExchange, Op::kReduce};
    return r;
  }();
  static const ImplCatalog catalog{std::span<const ImplInfo>(rows)};
  return catalog;
}

std::string error_of(const RunArgs& a) {
  try {
    (void)resolve_sweep(build_spec(a), reduce_catalog(), 2);
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    return e.what();
  }
  return "accepted";
}

std::vector<PlannedRun> runs_of(const RunArgs& a, int world = 2) {
  return resolve_sweep(build_spec(a), reduce_catalog(), world).runs;
}

TEST(ShapeOptions, ModelTokensAndOpGiveTheUsersCases) {
  RunArgs a;
  a.op = {"reduce"};
  a.model = {"deepseek-v3"};
  a.tokens = {"1,64"};
  a.impl = {"native"};
  a.launch = {"graph"};
  const auto runs = runs_of(a);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[1].c.key(),
            "op=reduce cp=2 model=deepseek-v3 tokens=64 heads=16 head_dim=512 dtype=bf16 lse=2 "
            "launch=graph pdl=on workspace=auto");
  EXPECT_EQ(runs[1].c.batch, 64 * 16);
  // The shape flags replace the default's blocks: no exchange case is left.
  for (const auto& r : runs)
    EXPECT_EQ(r.c.op, Op::kReduce);
  a.lse_base = {"e"};
  a.heads = {"32"};
  const auto over = runs_of(a);
  EXPECT_EQ(over[0].c.lse_base, LseBase::kE);
  EXPECT_EQ(over[0].c.heads, 32);
}

TEST(ShapeOptions, TokensWithHeadsWithoutModel) {
  RunArgs a;
  a.tokens = {"2"};
  a.heads = {"4,8"};
  a.head_dim = {"512"};
  a.impl = {"nccl-2x"};
  a.launch = {"eager"};
  // Without --op, shapes in tokens run both operations (nccl-2x implements both).
  EXPECT_EQ(runs_of(a).size(), 4u);
  a.op = {"exchange"};
  const auto runs = runs_of(a);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].c.key(),
            "cp=2 tokens=2 heads=4 head_dim=512 stats_dim=2 dtype=bf16 launch=eager pdl=n/a "
            "workspace=n/a");
  EXPECT_EQ(runs[1].c.batch, 16);
}

TEST(ShapeOptions, RefusalsNameTheFieldAndTheAcceptedValues) {
  RunArgs a;
  a.model = {"gpt-4"};
  a.tokens = {"1"};
  EXPECT_EQ(error_of(a), "model: unknown model 'gpt-4'; accepted: " + accepted_models());
  a = {};
  a.batch = {"16"};
  a.tokens = {"1"};
  a.heads = {"4"};
  EXPECT_EQ(error_of(a),
            "batch: --batch (entries) and --tokens (E = tokens x heads) are two vocabularies for "
            "one shape; accepted: one of them");
  a = {};
  a.tokens = {"8"};
  EXPECT_EQ(error_of(a).rfind("heads: tokens are given without heads per rank; accepted: "
                              "--heads LIST (heads per rank) or --model NAME (",
                              0),
            0u);
  a = {};
  a.op = {"reduce"};
  a.stats_dim = {"4"};
  EXPECT_EQ(error_of(a),
            "stats_dim: does not apply to op reduce (one fp32 LSE per row); accepted: stats_dim "
            "with op exchange only");
  a = {};
  a.op = {"reduce"};
  a.impl = {"nccl-fused"};
  EXPECT_EQ(
      error_of(a),
      "impl: 'nccl-fused' does not implement --op reduce; accepted: "
      "native|native-fused|native-direct|direct-staged|native-auto|nccl-2x|nccl-packed|nccl-ag-rs");
  a = {};
  a.op = {"reduce"};
  a.lse_base = {"10"};
  EXPECT_EQ(error_of(a), "lse_base: unknown value '10'; accepted: e|2");
  a = {};
  a.op = {"sum"};
  EXPECT_EQ(error_of(a), "op: unknown value 'sum'; accepted: exchange|reduce");
  a = {};
  a.model = {"deepseek-v3"};
  a.tokens = {"1"};
  a.head_dim = {"128"};
  EXPECT_EQ(error_of(a),
            "head_dim: 128 contradicts model deepseek-v3 (D = 512); accepted: 512 or no head_dim "
            "with that model");
  a.head_dim = {"512"};
  EXPECT_EQ(error_of(a), "accepted");
  a = {};
  a.model = {"llama-3-70b"};
  a.tokens = {"1"};
  a.heads = {"7"};
  EXPECT_EQ(error_of(a).rfind("heads: 7 heads per rank matches no tensor-parallel size of model "
                              "llama-3-70b (64 query heads, 8 per rank at its TP 8); accepted: "
                              "1|2|4|8|16|32|64",
                              0),
            0u);
  a = {};
  a.op = {"reduce"};
  a.model = {"deepseek-v3"};
  a.tokens = {"99999999999999"};
  EXPECT_EQ(error_of(a).rfind("tokens: the case cp_size=2 batch=1599999999999984 (tokens x 16 "
                              "heads) head_dim=512",
                              0),
            0u);
}

TEST(ShapeOptions, TheDefaultRunsAnExchangeBlockThenAReduceBlock) {
  RunArgs a;
  const auto runs = runs_of(a, 1);  // one rank: cp 2 and 4 simulated
  ASSERT_FALSE(runs.empty());
  std::size_t first_reduce = runs.size();
  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (runs[i].c.op == Op::kReduce && first_reduce == runs.size()) first_reduce = i;
    if (i > first_reduce) {
      EXPECT_EQ(runs[i].c.op, Op::kReduce) << i;
    }
  }
  ASSERT_LT(first_reduce, runs.size());
  std::vector<std::int64_t> tokens;
  for (std::size_t i = first_reduce; i < runs.size(); ++i) {
    const Case& c = runs[i].c;
    EXPECT_EQ(c.model, "deepseek-v3");
    EXPECT_EQ(c.launch, LaunchMode::kGraph);
    if (runs[i].impl == "native") {
      EXPECT_EQ(c.workspace, WorkspaceKind::kSim);
    }
    EXPECT_NE(runs[i].impl, "nccl-fused");  // does not implement reduce here
    if (c.cp_size == 2 && runs[i].impl == "native") tokens.push_back(*c.tokens);
  }
  EXPECT_EQ(tokens, (std::vector<std::int64_t>{1, 8, 64, 256}));
  // A non-shape flag applies to both blocks.
  a.launch = {"eager"};
  for (const auto& r : runs_of(a, 1))
    EXPECT_EQ(r.c.launch, LaunchMode::kEager);
}

TEST(ShapeOptions, AllowUnvalidatedPathReachesTheSpec) {
  RunArgs a;
  EXPECT_FALSE(build_spec(a).measure.allow_unvalidated_path);
  a.allow_unvalidated_path = true;
  EXPECT_TRUE(build_spec(a).measure.allow_unvalidated_path);
}

TEST(ListCommand, ModelsPrintsEveryPreset) {
  std::ostringstream out;
  list_models(out);
  const std::string text = out.str();
  for (const ModelPreset& m : model_presets()) {
    EXPECT_NE(text.find(std::string(m.name) + " "), std::string::npos) << m.name;
    EXPECT_NE(text.find(std::string(m.config_url)), std::string::npos) << m.name;
  }
  EXPECT_NE(text.find("deepseek-v3      128   8        16      512   2  https://"),
            std::string::npos)
      << text;
}

TEST(ListCommand, RunsShowEDerivedFromTokensAndHeads) {
  RunArgs a;
  a.op = {"reduce"};
  a.model = {"deepseek-v3"};
  a.tokens = {"1,64"};
  a.impl = {"native"};
  a.launch = {"graph"};
  a.cp_size = {"2"};
  a.workspace = {"sim"};
  std::ostringstream out;
  EXPECT_EQ(list_command(a, reduce_catalog(), ListWhat::kRuns, out), 0);
  EXPECT_NE(out.str().find("op=reduce cp=2 model=deepseek-v3 tokens=64 heads=16 head_dim=512 "
                           "dtype=bf16 lse=2 launch=graph pdl=on workspace=sim  (E=1024)"),
            std::string::npos)
      << out.str();
}

}  // namespace
}  // namespace dcp::cli
