// Flags over config over the built-in default; each bad flag named; the single-rank default.
#include <gtest/gtest.h>

#include "cli/config_file.hpp"
#include "cli/run_options.hpp"
#include "core/error.hpp"
#include "core/resolve.hpp"
#include "metadata_catalog.hpp"
#include "report/spec_json.hpp"

namespace dcp::cli {
namespace {

TEST(DefaultConfig, EmbeddedFileMatchesTheDocumentedDefaults) {
  const SweepSpec d = default_spec();
  SweepSpec expected;  // the defaults written in core/sweep.hpp, documented in --help and README
  expected.axes.impl = effective_impls(expected.axes, testing::metadata_catalog());
  EXPECT_EQ(d, expected);
  EXPECT_EQ(d.axes.batch, (std::vector<std::int64_t>{1, 16, 64, 128}));
  EXPECT_EQ(d.measure.iters, 1000);
  EXPECT_EQ(d.measure.warmup, 50);
  EXPECT_EQ(d.measure.graph_calls, 20);
  EXPECT_DOUBLE_EQ(d.measure.timeout_s, 10.0);
}

TEST(DefaultConfig, ShippedConfigsParse) {
  for (const char* name : {"default", "decode-mla", "regression"}) {
    const std::string path = std::string(DCP_SOURCE_DIR) + "/configs/" + name + ".json";
    EXPECT_NO_THROW((void)load_config(path)) << path;
  }
}

TEST(RunOptions, FlagsOverrideConfig) {
  RunArgs a;
  a.config = std::string(DCP_SOURCE_DIR) + "/configs/decode-mla.json";
  a.batch = {"1", "16", "64"};
  a.iters =
      std::string("7");  // a std::string: GCC 12 -O3 warns (-Wrestrict, bug 105329) on the literal
  a.pdl = {"off"};
  const SweepSpec s = build_spec(a);
  EXPECT_EQ(s.axes.batch, (std::vector<std::int64_t>{1, 16, 64}));
  EXPECT_EQ(s.axes.head_dim, (std::vector<int>{128, 512}));  // from the file
  EXPECT_EQ(s.measure.iters, 7);
  EXPECT_EQ(s.axes.pdl, std::vector<bool>{false});
}

/// The input checks of `run` before any GPU work: build_spec, then resolve_sweep (which checks
/// implementation names against the catalog).
void expect_field(const RunArgs& a, const std::string& field) {
  try {
    (void)resolve_sweep(build_spec(a), testing::metadata_catalog(), 2);
    FAIL() << "expected ConfigError naming " << field;
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(field + ":", 0), 0u) << e.what();
  }
}

TEST(RunOptions, BadFlagsNameTheirField) {
  RunArgs a;
  a.batch = {"-1"};
  expect_field(a, "batch");
  a = {};
  a.batch = {"ten"};
  expect_field(a, "batch");
  a = {};
  a.head_dim = {"100"};
  expect_field(a, "head_dim");
  a = {};
  a.stats_dim = {"5"};
  expect_field(a, "stats_dim");
  a = {};
  a.dtype = {"fp8"};
  expect_field(a, "dtype");
  a = {};
  a.impl = {"mpi"};
  expect_field(a, "impl");
  a = {};
  a.workspace = {"nvshmem"};
  expect_field(a, "workspace");
  a = {};
  a.launch = {"batched"};
  expect_field(a, "launch");
  a = {};
  a.pdl = {"yes"};
  expect_field(a, "pdl");
  a = {};
  a.iters = "0";
  expect_field(a, "iters");
  a = {};
  a.iters = "-3";
  expect_field(a, "iters");
  a = {};
  a.warmup = "x";
  expect_field(a, "warmup");
  a = {};
  a.timeout = "-1";
  expect_field(a, "timeout");
  a = {};
  a.inject = "nope";
  expect_field(a, "inject");
  a = {};
  a.config = "/nonexistent/missing.json";
  expect_field(a, "config");
}

TEST(RunOptions, BatchZeroIsAnEmptyExchangeNotAnError) {
  RunArgs a;
  a.batch = {"0"};
  EXPECT_EQ(build_spec(a).axes.batch, std::vector<std::int64_t>{0});
}

}  // namespace
}  // namespace dcp::cli
