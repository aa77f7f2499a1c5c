// The operation axis and the user's shape vocabulary (issue 15): tokens x heads, model presets,
// the LSE base, blocks, and which implementations expand for which op.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <string>

#include "core/error.hpp"
#include "core/models.hpp"
#include "core/resolve.hpp"
#include "metadata_catalog.hpp"

namespace dcp {
namespace {

/// A catalog with an exchange-only row, a reduce-only row and one that does both.
const ImplCatalog& op_catalog() {
  static const std::array rows = [] {
    std::array r{testing::plain_row("xchg"), testing::plain_row("red"), testing::plain_row("both")};
    r[1].ops = {Op::kReduce};
    r[2].ops = {Op::kExchange, Op::kReduce};
    return r;
  }();
  static const ImplCatalog catalog{std::span<const ImplInfo>(rows)};
  return catalog;
}

std::string error_of(const SweepSpec& s, int world = 2) {
  try {
    validate(s);
    (void)resolve_sweep(s, op_catalog(), world);
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << "one line: " << e.what();
    return e.what();
  }
  return "accepted";
}

SweepSpec reduce_spec() {
  SweepSpec s;
  s.axes.op = {Op::kReduce};
  s.axes.cp_size = {2};
  s.axes.launch = {LaunchMode::kGraph};
  return s;
}

TEST(ModelPresets, CompiledFromTheConfigFiles) {
  const ModelPreset* v3 = find_model("deepseek-v3");
  ASSERT_NE(v3, nullptr);
  EXPECT_EQ(v3->heads_per_rank, 16);
  EXPECT_EQ(v3->tp, 8);
  EXPECT_EQ(v3->num_attention_heads, 128);
  EXPECT_EQ(v3->head_dim, 512);
  EXPECT_EQ(v3->lse_base, LseBase::kTwo);
  EXPECT_EQ(v3->file, "configs/models/deepseek-v3.json");
  const ModelPreset& llama = model_at("llama-3-70b");
  EXPECT_EQ(llama.head_dim, 128);
  EXPECT_EQ(llama.lse_base, LseBase::kE);
  EXPECT_EQ(find_model("gpt-4"), nullptr);
  // Sorted by name, names unique, every row self-consistent.
  const auto all = model_presets();
  ASSERT_GE(all.size(), 4u);
  for (std::size_t i = 1; i < all.size(); ++i)
    EXPECT_LT(all[i - 1].name, all[i].name);
  for (const ModelPreset& m : all)
    EXPECT_EQ(m.heads_per_rank * m.tp, m.num_attention_heads) << m.name;
  EXPECT_NE(accepted_models().find("deepseek-r1|deepseek-v3|"), std::string::npos);
}

TEST(ModelPresets, UnknownModelNamesTheAcceptedOnes) {
  try {
    (void)model_at("gpt-4");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "model: unknown model 'gpt-4'; accepted: " + accepted_models());
  }
}

TEST(ModelPresets, HeadsMustBeThoseOfSomeTp) {
  const ModelPreset& v3 = model_at("deepseek-v3");
  EXPECT_EQ(model_heads_choices(v3), (std::vector<int>{1, 2, 4, 8, 16, 32, 64, 128}));
  EXPECT_NO_THROW(check_model_heads(v3, 32));
  try {
    check_model_heads(v3, 12);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "heads: 12 heads per rank matches no tensor-parallel size of model deepseek-v3 (128 "
              "query heads, 16 per rank at its TP 8); accepted: 1|2|4|8|16|32|64|128");
  }
}

TEST(Shapes, TokensTimesHeadsGivesEAndTheKeySaysSo) {
  SweepSpec s = reduce_spec();
  s.axes.tokens = {1, 64};
  s.axes.heads = {8};
  s.axes.head_dim = {256};
  s.axes.impl = {"red"};
  const auto runs = resolve_sweep(s, op_catalog(), 2).runs;
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].c.batch, 8);
  EXPECT_EQ(runs[1].c.batch, 512);
  EXPECT_EQ(runs[1].c.tokens, 64);
  EXPECT_EQ(runs[1].c.heads, 8);
  EXPECT_EQ(runs[1].c.stats_dim, 1);           // one LSE per row
  EXPECT_EQ(runs[1].c.lse_base, LseBase::kE);  // no model, no --lse-base: e
  EXPECT_EQ(runs[1].c.key(),
            "op=reduce cp=2 tokens=64 heads=8 head_dim=256 dtype=bf16 lse=e launch=graph pdl=n/a "
            "workspace=n/a");
}

TEST(Shapes, ModelFillsHeadsHeadDimAndLseBase) {
  SweepSpec s = reduce_spec();
  s.axes.tokens = {1, 8};
  s.axes.model = {"deepseek-v3", "llama-3-70b"};
  s.axes.head_dim = {64};  // replaced by each model's D
  s.axes.impl = {"red"};
  const auto runs = resolve_sweep(s, op_catalog(), 2).runs;
  ASSERT_EQ(runs.size(), 4u);
  EXPECT_EQ(runs[0].c.key(),
            "op=reduce cp=2 model=deepseek-v3 tokens=1 heads=16 head_dim=512 dtype=bf16 lse=2 "
            "launch=graph pdl=n/a workspace=n/a");
  EXPECT_EQ(runs[1].c.batch, 8 * 16);
  EXPECT_EQ(runs[2].c.model, "llama-3-70b");
  EXPECT_EQ(runs[2].c.heads, 8);
  EXPECT_EQ(runs[2].c.head_dim, 128);
  EXPECT_EQ(runs[2].c.lse_base, LseBase::kE);
  // --lse-base and --heads override the preset.
  s.axes.lse_base = {LseBase::kE};
  s.axes.heads = {32};
  s.axes.model = {"deepseek-v3"};
  const auto over = resolve_sweep(s, op_catalog(), 2).runs;
  ASSERT_EQ(over.size(), 2u);
  EXPECT_EQ(over[1].c.heads, 32);
  EXPECT_EQ(over[1].c.batch, 8 * 32);
  EXPECT_EQ(over[1].c.lse_base, LseBase::kE);
}

TEST(Shapes, ExchangeAtModelShapesKeepsStatsDim) {
  SweepSpec s;
  s.axes.cp_size = {2};
  s.axes.launch = {LaunchMode::kEager};
  s.axes.tokens = {4};
  s.axes.model = {"kimi-k2"};
  s.axes.impl = {"xchg"};
  const auto runs = resolve_sweep(s, op_catalog(), 2).runs;
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].c.stats_dim, 2);
  EXPECT_FALSE(runs[0].c.lse_base.has_value());
  EXPECT_EQ(runs[0].c.key(),
            "cp=2 model=kimi-k2 tokens=4 heads=8 head_dim=512 stats_dim=2 dtype=bf16 "
            "launch=eager pdl=n/a workspace=n/a");
}

TEST(Shapes, BadVocabularyIsRefused) {
  SweepSpec s = reduce_spec();
  s.axes.tokens = {8};
  EXPECT_EQ(error_of(s).rfind("heads: tokens are given without heads per rank; accepted: --heads "
                              "LIST (heads per rank) or --model NAME (",
                              0),
            0u);
  s.axes.tokens.clear();
  s.axes.model = {"deepseek-v3"};
  EXPECT_EQ(error_of(s),
            "tokens: a model is given without tokens; accepted: --tokens LIST (decode tokens, "
            "integers >= 1)");
  s.axes.model = {"nope"};
  s.axes.tokens = {1};
  EXPECT_EQ(error_of(s), "model: unknown model 'nope'; accepted: " + accepted_models());
  s.axes.model = {"deepseek-v3"};
  s.axes.heads = {3};
  EXPECT_EQ(error_of(s).rfind("heads: 3 heads per rank matches no tensor-parallel size", 0), 0u);
  s.axes.heads = {16};
  s.axes.tokens = {0};
  EXPECT_EQ(error_of(s), "tokens: 0 is not allowed; accepted: integers >= 1");
  s.axes.tokens = {INT64_MAX / 2};
  s.axes.heads = {4};
  EXPECT_EQ(error_of(s).rfind("tokens: 4611686018427387903 tokens x 4 heads overflows", 0), 0u);
  s.axes.tokens = {1, 1};
  EXPECT_EQ(error_of(s).rfind("tokens: 1 is listed twice", 0), 0u);
}

TEST(Shapes, TooManyTokensForOneGpuNamesTokens) {
  SweepSpec s = reduce_spec();
  s.axes.tokens = {std::int64_t{1} << 36};
  s.axes.model = {"deepseek-v3"};
  s.axes.impl = {"red"};
  EXPECT_EQ(error_of(s).rfind("tokens: the case cp_size=2 batch=1099511627776 (tokens x 16 heads) "
                              "head_dim=512",
                              0),
            0u)
      << error_of(s);
}

TEST(Shapes, ImplementationsExpandForTheOpsTheyImplement) {
  SweepSpec s;
  s.axes.op = {Op::kExchange, Op::kReduce};
  s.axes.cp_size = {2};
  s.axes.batch = {16};
  s.axes.launch = {LaunchMode::kGraph};
  const auto runs = resolve_sweep(s, op_catalog(), 2).runs;  // the default set: all three
  std::vector<std::string> got;
  for (const auto& r : runs)
    got.push_back(fmt::format("{}:{}", to_string(r.c.op), r.impl));
  EXPECT_EQ(got, (std::vector<std::string>{"exchange:xchg", "exchange:both", "reduce:red",
                                           "reduce:both"}));
  // Named explicitly for an op it lacks: refused, naming those that implement it.
  SweepSpec r = reduce_spec();
  r.axes.batch = {16};
  r.axes.impl = {"xchg"};
  EXPECT_EQ(error_of(r), "impl: 'xchg' does not implement --op reduce; accepted: red|both");
}

TEST(Shapes, AnOpWithoutImplementationsIsANoteOrRefused) {
  SweepSpec s;
  s.axes.op = {Op::kExchange, Op::kReduce};
  s.axes.cp_size = {2};
  s.axes.batch = {16};
  s.axes.impl = {"xchg"};
  const ResolvedSweep r = resolve_sweep(s, op_catalog(), 2);
  EXPECT_EQ(r.runs.size(), 2u);  // eager and graph, exchange only
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_EQ(r.notes[0],
            "op reduce: none of the implementations (xchg) implements it; its cases are not run");
  // Nothing left at all: refused (the only default row implements the exchange only).
  std::array rows{testing::plain_row("xchg")};
  rows[0].in_default_sweep = true;
  const ImplCatalog exchange_only{std::span<const ImplInfo>(rows)};
  SweepSpec only_reduce = reduce_spec();
  only_reduce.axes.batch = {16};
  try {
    (void)resolve_sweep(only_reduce, exchange_only, 2);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "op: none of the implementations (xchg) implements reduce; accepted: --impl naming "
              "one that does (dcpbench list --impls)");
  }
}

TEST(Shapes, BlocksExpandInTurn) {
  SweepSpec s;
  s.axes.cp_size = {2};
  s.axes.batch = {16};
  s.axes.launch = {LaunchMode::kGraph};
  SweepAxes ex = s.axes;
  SweepAxes red = s.axes;
  red.op = {Op::kReduce};
  red.tokens = {1, 8};
  red.model = {"deepseek-v3"};
  s.blocks = {ex, red};
  ASSERT_EQ(error_of(s), "accepted");
  const ResolvedSweep r = resolve_sweep(s, op_catalog(), 2);
  std::vector<std::string> got;
  for (const auto& run : r.runs)
    got.push_back(fmt::format("{} {}", run.impl, run.c.exchange_key()));
  EXPECT_EQ(got, (std::vector<std::string>{
                     "xchg cp=2 batch=16 head_dim=128 stats_dim=2 dtype=bf16 launch=graph",
                     "both cp=2 batch=16 head_dim=128 stats_dim=2 dtype=bf16 launch=graph",
                     "red op=reduce cp=2 model=deepseek-v3 tokens=1 heads=16 head_dim=512 "
                     "dtype=bf16 lse=2 launch=graph",
                     "both op=reduce cp=2 model=deepseek-v3 tokens=1 heads=16 head_dim=512 "
                     "dtype=bf16 lse=2 launch=graph",
                     "red op=reduce cp=2 model=deepseek-v3 tokens=8 heads=16 head_dim=512 "
                     "dtype=bf16 lse=2 launch=graph",
                     "both op=reduce cp=2 model=deepseek-v3 tokens=8 heads=16 head_dim=512 "
                     "dtype=bf16 lse=2 launch=graph"}));
  // A bad block is refused like a bad sweep.
  s.blocks[1].heads = {5};
  EXPECT_EQ(error_of(s).rfind("heads: 5 heads per rank", 0), 0u);
}

TEST(Shapes, OneRankSimulatesEveryBlock) {
  SweepSpec s;
  SweepAxes red = s.axes;
  red.op = {Op::kReduce};
  red.tokens = {1};
  red.heads = {4};
  s.blocks = {s.axes, red};
  const ResolvedSweep r = resolve_sweep(s, op_catalog(), 1);
  for (const SweepAxes& b : r.spec.blocks) {
    EXPECT_EQ(b.cp_size, (std::vector<int>{2, 4}));
    EXPECT_EQ(b.workspace, std::vector<WorkspaceKind>{WorkspaceKind::kSim});
  }
  EXPECT_EQ(r.notes.size(), 1u);
}

}  // namespace
}  // namespace dcp
