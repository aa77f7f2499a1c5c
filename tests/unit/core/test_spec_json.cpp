// Config files: strict parsing, every bad-input class named, round trip.
#include <gtest/gtest.h>

#include "core/error.hpp"
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
  expect_error(R"({"impl": ["nccl"]})", "impl");
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

TEST(SpecJson, MissingFileIsAConfigError) {
  EXPECT_THROW(report::read_json_file("/nonexistent/dcpbench.json"), ConfigError);
}

}  // namespace
}  // namespace dcp
