// Flags over config over the built-in default; each bad flag named; the single-rank default.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>

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
  // The defaults written in core/sweep.hpp, documented in --help and README, as the first block
  // (and the top level); the second block is the DCP reduction at DeepSeek-V3's shapes.
  SweepSpec expected;
  SweepAxes reduce = expected.axes;
  reduce.op = {Op::kReduce};
  reduce.model = {"deepseek-v3"};
  reduce.tokens = {1, 8, 64, 256};
  reduce.launch = {LaunchMode::kGraph};
  expected.blocks = {expected.axes, reduce};
  EXPECT_EQ(d, expected);
  EXPECT_EQ(d.axes.batch, (std::vector<std::int64_t>{1, 16, 64, 128}));
  EXPECT_EQ(d.measure.iters, 1000);
  EXPECT_EQ(d.measure.warmup, 50);
  EXPECT_EQ(d.measure.graph_calls, 20);
  EXPECT_DOUBLE_EQ(d.measure.timeout_s, 10.0);
}

TEST(DefaultConfig, ShippedConfigsParse) {
  for (const char* name : {"default", "decode-mla", "regression", "reduce-deepseek-v3"}) {
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

std::string error_of(const RunArgs& a) {
  try {
    (void)resolve_sweep(build_spec(a), testing::metadata_catalog(), 2);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "accepted";
}

// Issue 14 item 6: every list flag refuses malformed lists, naming the field (CLI11 used to drop
// empty entries silently: "--batch 1,,2" ran batches 1 and 2).
TEST(RunOptions, MalformedListsAreRefusedNamingTheField) {
  using Set = std::function<void(RunArgs&, std::string)>;
  const std::vector<std::pair<std::string, Set>> fields = {
      {"batch", [](RunArgs& a, std::string v) { a.batch = {v}; }},
      {"head_dim", [](RunArgs& a, std::string v) { a.head_dim = {v}; }},
      {"stats_dim", [](RunArgs& a, std::string v) { a.stats_dim = {v}; }},
      {"dtype", [](RunArgs& a, std::string v) { a.dtype = {v}; }},
      {"cp_size", [](RunArgs& a, std::string v) { a.cp_size = {v}; }},
      {"impl", [](RunArgs& a, std::string v) { a.impl = {v}; }},
      {"workspace", [](RunArgs& a, std::string v) { a.workspace = {v}; }},
      {"launch", [](RunArgs& a, std::string v) { a.launch = {v}; }},
      {"pdl", [](RunArgs& a, std::string v) { a.pdl = {v}; }},
  };
  for (const auto& [field, set] : fields) {
    for (const std::string& text : {std::string("x,,y"), std::string(",x"), std::string("x,"),
                                    std::string(" "), std::string(""), std::string("x, ,y")}) {
      RunArgs a;
      set(a, text);
      const std::string e = error_of(a);
      EXPECT_EQ(e.rfind(field + ": ", 0), 0u) << field << " '" << text << "': " << e;
      const bool blank = text == " " || text == "x, ,y";
      const std::string want = text.empty()  ? "the list is empty"
                               : text == " " ? "the list is blank"
                               : blank       ? "is blank"
                                             : "is empty (a stray comma)";
      EXPECT_NE(e.find(want), std::string::npos) << field << " '" << text << "': " << e;
    }
  }
  RunArgs a;
  a.batch = {"1,,2"};
  EXPECT_EQ(error_of(a),
            "batch: entry 2 of '1,,2' is empty (a stray comma); accepted: a comma-separated list "
            "of integers >= 0 (no empty entries)");
}

// Every occurrence of a list flag adds its entries; a value listed twice is refused (it would
// run and report the same cases twice), across occurrences too.
TEST(RunOptions, RepeatedValuesAreRefusedAndOccurrencesAdd) {
  RunArgs a;
  a.batch = {"1,16", "64"};
  EXPECT_EQ(build_spec(a).axes.batch, (std::vector<std::int64_t>{1, 16, 64}));
  a.batch = {"1,16", "16"};
  EXPECT_EQ(error_of(a), "batch: 16 is listed twice (entries 2 and 3); accepted: each value once");
  a = {};
  a.impl = {"native,native"};
  EXPECT_EQ(error_of(a),
            "impl: 'native' is listed twice (entries 1 and 2); accepted: each value once");
  a = {};
  a.launch = {"eager,graph,eager"};
  EXPECT_EQ(error_of(a).rfind("launch: eager is listed twice", 0), 0u);
  a = {};
  a.pdl = {"on,off,on"};
  EXPECT_EQ(error_of(a).rfind("pdl: on is listed twice", 0), 0u);
}

TEST(RunOptions, ShapesWhoseBuffersCannotFitAreRefused) {
  RunArgs a;
  a.batch = {"9999999999999"};
  const std::string e = error_of(a);
  EXPECT_EQ(e.rfind("batch: the case cp_size=2 batch=9999999999999 ", 0), 0u) << e;
  EXPECT_NE(e.find("accepted: at most 1099511627776 bytes (1 TiB) per GPU"), std::string::npos)
      << e;
}

// Output files are checked before MPI starts, not when the report is written after the sweep.
TEST(RunOptions, OutputFilesAreCheckedWritableUpFront) {
  RunArgs a;
  const auto files = output_files(a);
  ASSERT_TRUE(files.has_value());
  EXPECT_EQ(files->json, kDefaultJsonOut);
  EXPECT_EQ(files->csv, kDefaultCsvOut);
  auto error = [](const RunArgs& x) {
    try {
      (void)output_files(x);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  a.json_out = "/no/such/dir/r.json";
  EXPECT_EQ(error(a),
            "json: cannot write '/no/such/dir/r.json': folder '/no/such/dir' does not exist or is "
            "not writable");
  a = {};
  a.csv_out = "/no/such/dir/r.csv";
  EXPECT_EQ(error(a).rfind("csv: cannot write '/no/such/dir/r.csv'", 0), 0u);
  a = {};
  const auto folder = std::filesystem::temp_directory_path() / "dcpbench_output_folder_test";
  std::filesystem::create_directories(folder);
  a.json_out = folder.string();
  EXPECT_EQ(error(a), "json: cannot write '" + folder.string() + "': it is a folder");
  std::filesystem::remove(folder);
  a = {};
  a.no_files = true;
  a.json_out = "/no/such/dir/r.json";  // --no-files writes nothing, so nothing is checked
  EXPECT_FALSE(output_files(a).has_value());
}

TEST(RunOptions, ConfigFilesWithARepeatedKeyAreRefused) {
  const auto path = std::filesystem::temp_directory_path() / "dcpbench_dup_keys_test.json";
  {
    std::ofstream f(path);
    f << R"({"batch": [1, 16], "iters": 10, "batch": [64]})";
  }
  RunArgs a;
  a.config = path.string();
  const std::string e = error_of(a);
  std::filesystem::remove(path);
  EXPECT_EQ(e, "config: '" + path.string() +
                   "': key \"batch\" appears twice in one object; refused (which one would "
                   "count is not defined)");
}

}  // namespace
}  // namespace dcp::cli
