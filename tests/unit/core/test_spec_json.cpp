// Config files: strict parsing, every bad-input class named, round trip.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/resolve.hpp"
#include "metadata_catalog.hpp"
#include "report/spec_json.hpp"

namespace dcp {
namespace {

using report::parse_json_text;
using report::spec_from_json;
using report::spec_to_json;

SweepSpec parse(const std::string& text) {
  return spec_from_json(parse_json_text(text, "test.json"), SweepSpec{}, "test.json");
}

void expect_error(const std::string& text, const std::string& field) {
  try {
    (void)parse(text);
    FAIL() << "expected ConfigError for " << text;
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << "one line: " << e.what();
  }
}

TEST(SpecJson, RoundTrip) {
  SweepSpec s;
  s.axes.batch = {0, 3, 4096};
  s.axes.head_dim = {512};
  s.axes.stats_dim = {2, 6};
  s.axes.dtype = {DType::kFp16, DType::kBf16};
  s.axes.cp_size = {2, 16};
  s.axes.impl = {"native", "nccl-1x"};
  s.axes.workspace = {WorkspaceKind::kSim};
  s.axes.launch = {LaunchMode::kPipelined};
  s.axes.pdl = {false, true};
  s.measure.warmup = 3;
  s.measure.iters = 7;
  s.measure.graph_calls = 11;
  s.measure.ring = 9;
  s.measure.seed = 0xFFFFFFFFFFFFull;
  s.measure.timeout_s = 2.5;
  s.measure.stress_calls = 100;
  s.measure.inject = parse_fault("corrupt-line:1");
  const auto j = spec_to_json(s);
  const SweepSpec back = spec_from_json(nlohmann::json::parse(j.dump()), SweepSpec{}, "rt");
  EXPECT_EQ(back, s);
}

TEST(SpecJson, ScalarsAreOneElementLists) {
  const SweepSpec s = parse(R"({"batch": 8, "dtype": "fp16", "pdl": "off"})");
  EXPECT_EQ(s.axes.batch, std::vector<std::int64_t>{8});
  EXPECT_EQ(s.axes.dtype, std::vector<DType>{DType::kFp16});
  EXPECT_EQ(s.axes.pdl, std::vector<bool>{false});
}

TEST(SpecJson, AbsentKeysKeepTheBase) {
  SweepSpec base;
  base.measure.iters = 123;
  const SweepSpec s = spec_from_json(parse_json_text(R"({"batch": [2]})", "t"), base, "t");
  EXPECT_EQ(s.measure.iters, 123);
}

TEST(SpecJson, BadInputClasses) {
  expect_error(R"({"batchsize": [1]})", "unknown key 'batchsize'");
  expect_error(R"({"batch": "one"})", "batch");
  expect_error(R"({"batch": [1.5]})", "batch");
  expect_error(R"({"batch": []})", "batch");
  expect_error(R"({"batch": [-1]})", "batch");
  expect_error(R"({"head_dim": [100]})", "head_dim");
  expect_error(R"({"stats_dim": [3]})", "stats_dim");
  expect_error(R"({"stats_dim": [1]})", "stats_dim");
  expect_error(R"({"dtype": ["fp32"]})", "dtype");
  expect_error(R"({"impl": [""]})", "impl: entry 1 of the list is empty");
  expect_error(R"({"workspace": ["shm"]})", "workspace");
  expect_error(R"({"launch": ["lazy"]})", "launch");
  expect_error(R"({"pdl": ["maybe"]})", "pdl");
  expect_error(R"({"iters": 0})", "iters");
  expect_error(R"({"iters": "many"})", "iters");
  expect_error(R"({"warmup": -2})", "warmup");
  expect_error(R"({"timeout_s": "soon"})", "timeout");
  expect_error(R"({"seed": -3})", "seed");
  expect_error(R"({"inject": "boom"})", "inject");
  expect_error(R"([1, 2])", "JSON object");
  expect_error(R"({"batch": [1,)", "not valid JSON");
}

// The config layer does not know the implementations: an unknown name is refused when the
// sweep is resolved against the catalog, before any work, naming the field.
TEST(SpecJson, UnknownImplIsRefusedWhenResolved) {
  const SweepSpec s = parse(R"({"impl": ["nccl"]})");
  try {
    (void)resolve_sweep(s, testing::metadata_catalog(), 2);
    FAIL() << "an unknown implementation was accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("impl: unknown implementation 'nccl'; accepted: ", 0),
              0u);
  }
}

// Malformed lists are refused naming the field (issue 14 item 6): empty or blank entries,
// repeated values; and a key given twice, which nlohmann would silently resolve to the last.
TEST(SpecJson, MalformedListsAndRepeatedKeysAreRefused) {
  expect_error(R"({"dtype": ["bf16", ""]})", "dtype: entry 2 of the list is empty");
  expect_error(R"({"launch": [" "]})", "launch: entry 1 of the list is blank");
  expect_error(R"({"workspace": ["ipc", "\t"]})", "workspace: entry 2 of the list is blank");
  expect_error(R"({"impl": ["native", "  "]})", "impl: entry 2 of the list is blank");
  expect_error(R"({"impl": []})", "impl: empty list");
  expect_error(R"({"batch": [1, 16, 1]})", "batch: 1 is listed twice");
  expect_error(R"({"impl": ["native", "native"]})", "impl: 'native' is listed twice");
  expect_error(R"({"batch": [1], "iters": 5, "batch": [2]})",
               "config: 'test.json': key \"batch\" appears twice in one object");
  expect_error(R"({"name": "a", "description": {"x": 1, "x": 2}})", "appears twice");
  // The same key in two different objects is fine.
  EXPECT_NO_THROW((void)parse_json_text(R"({"a": {"k": 1}, "b": {"k": 2}, "k": [{"k": 3}]})", "t"));
}

// Issue 15: the op axis, the user's vocabulary and blocks in config files.
TEST(SpecJson, ShapeFieldsAndBlocks) {
  const SweepSpec s = parse(R"({
    "cp_size": [2], "launch": "graph",
    "blocks": [
      {"name": "exchange", "batch": [16]},
      {"op": "reduce", "model": ["deepseek-v3", "kimi-k2"], "tokens": [1, 8], "lse_base": "e"},
      {"op": ["exchange", "reduce"], "tokens": [4], "heads": 8, "head_dim": 64}
    ]})");
  ASSERT_EQ(s.blocks.size(), 3u);
  EXPECT_EQ(s.blocks[0].batch, std::vector<std::int64_t>{16});
  EXPECT_TRUE(s.blocks[0].tokens.empty());
  EXPECT_EQ(s.blocks[1].op, std::vector<Op>{Op::kReduce});
  EXPECT_EQ(s.blocks[1].model, (std::vector<std::string>{"deepseek-v3", "kimi-k2"}));
  EXPECT_EQ(s.blocks[1].lse_base, std::vector<LseBase>{LseBase::kE});
  EXPECT_EQ(s.blocks[1].cp_size, std::vector<int>{2});  // from the top level
  EXPECT_EQ(s.blocks[2].heads, std::vector<int>{8});
  // Round trip, blocks included.
  const SweepSpec back =
      spec_from_json(nlohmann::json::parse(spec_to_json(s).dump()), SweepSpec{}, "rt");
  EXPECT_EQ(back, s);
  const auto runs = resolve_sweep(s, testing::metadata_catalog(), 2);
  // Block 0 is the exchange alone, block 1 the reduce alone, block 2 both: every op appears, and
  // the reduce cases are the user's shapes (tokens x heads).
  std::size_t exchange = 0;
  std::size_t reduce = 0;
  for (const auto& r : runs.runs) {
    if (r.c.op == Op::kExchange) ++exchange;
    if (r.c.op == Op::kReduce) {
      ++reduce;
      EXPECT_FALSE(r.c.tokens.has_value() && r.c.heads.has_value() &&
                   r.c.batch != *r.c.tokens * *r.c.heads)
          << r.c.key();
    }
  }
  EXPECT_GT(exchange, 0u);
  EXPECT_GT(reduce, 0u);
}

TEST(SpecJson, AFileWithShapeKeysReplacesTheBasesBlocks) {
  SweepSpec base;
  SweepAxes red = base.axes;
  red.op = {Op::kReduce};
  red.tokens = {1};
  red.heads = {2};
  base.blocks = {base.axes, red};
  auto apply = [&](const char* text) {
    return spec_from_json(parse_json_text(text, "t"), base, "t");
  };
  EXPECT_TRUE(apply(R"({"batch": [2]})").blocks.empty());
  EXPECT_TRUE(apply(R"({"op": "reduce"})").blocks.empty());
  const SweepSpec how = apply(R"({"launch": "eager", "iters": 3})");
  ASSERT_EQ(how.blocks.size(), 2u);
  EXPECT_EQ(how.blocks[1].launch, std::vector<LaunchMode>{LaunchMode::kEager});
  EXPECT_EQ(how.blocks[1].tokens, std::vector<std::int64_t>{1});
  EXPECT_EQ(how.measure.iters, 3);
}

TEST(SpecJson, BadShapeFieldsAreRefused) {
  expect_error(R"({"op": "sum"})", "op: unknown value 'sum'; accepted: exchange|reduce");
  expect_error(R"({"lse_base": "10"})", "lse_base: unknown value '10'; accepted: e|2");
  expect_error(R"({"model": "gpt-4", "tokens": 1})", "model: unknown model 'gpt-4'; accepted: ");
  expect_error(R"({"batch": [1], "tokens": [1], "heads": 2})", "batch: given together with tokens");
  expect_error(R"({"tokens": [1]})", "heads: tokens are given without heads per rank");
  expect_error(R"({"op": "reduce", "stats_dim": 4})", "stats_dim: does not apply to op reduce");
  expect_error(R"({"model": "kimi-k2", "tokens": 1, "head_dim": 128})",
               "head_dim: 128 contradicts model kimi-k2 (D = 512)");
  expect_error(R"({"blocks": []})", "blocks: [] is not allowed");
  expect_error(R"({"blocks": [3]})", "blocks: entry 1 of test.json is number");
  expect_error(R"({"blocks": [{"iters": 3}]})",
               "config: unknown key 'iters' in blocks[1] of test.json; accepted: ");
  expect_error(R"({"blocks": [{"batch": 1}, {"tokens": [2]}]})",
               "blocks[2]: heads: tokens are given without heads per rank");
  expect_error(R"({"allow_unvalidated_path": "yes"})",
               "allow_unvalidated_path: \"yes\" is not allowed; accepted: true|false");
}

TEST(SpecJson, MissingFileIsAConfigError) {
  EXPECT_THROW(report::read_json_file("/nonexistent/dcpbench.json"), ConfigError);
}

}  // namespace
}  // namespace dcp
