// `dcpbench compare` end to end on the crafted reports in tests/golden/: exit codes, output
// files, option parsing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/compare_command.hpp"
#include "core/error.hpp"
#include "golden.hpp"

namespace dcp::cli {
namespace {

namespace fs = std::filesystem;
using testing::golden_path;

struct Outcome {
  int exit_code = -1;
  std::string output;  ///< the table, or the error message
};

Outcome run(CompareArgs args) {
  std::ostringstream out;
  try {
    const int code = run_compare(args, out);
    return {code, out.str()};
  } catch (const dcp::Error& e) {
    return {static_cast<int>(e.exit_code()), e.what()};
  }
}

Outcome run_pair(const std::string& cand) {
  CompareArgs a;
  a.base = golden_path("compare_base.json");
  a.cand = golden_path(cand);
  return run(a);
}

class CompareCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("dcp_compare_cmd_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const char* name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

TEST_F(CompareCommand, Identical) {
  const Outcome o = run_pair("compare_base.json");
  EXPECT_EQ(o.exit_code, 0) << o.output;
  EXPECT_NE(o.output.find("# summary: 6 rows: 4 SAME, 2 SKIPPED"), std::string::npos) << o.output;
  EXPECT_NE(o.output.find("OK (exit 0)"), std::string::npos);
}

TEST_F(CompareCommand, VerdictsAndExitCodes) {
  struct Expect {
    const char* file;
    int exit_code;
    const char* text;
  };
  for (const auto& e : {Expect{"compare_slower_new.json", 1, "1 SLOWER"},
                        Expect{"compare_faster_new.json", 0, "1 FASTER"},
                        Expect{"compare_noisy_new.json", 0, "1 NOISY"},
                        Expect{"compare_missing_new.json", 1, "1 MISSING"},
                        Expect{"compare_verify_new.json", 1, "1 VERIFY_CHANGED"},
                        Expect{"compare_env_new.json", 0, "WARNING ENV_CHANGED"}}) {
    const Outcome o = run_pair(e.file);
    EXPECT_EQ(o.exit_code, e.exit_code) << e.file << "\n" << o.output;
    EXPECT_NE(o.output.find(e.text), std::string::npos) << e.file << "\n" << o.output;
  }
}

TEST_F(CompareCommand, UnusableInputIsExitTwo) {
  for (const char* file : {"compare_schema_v2.json", "compare_truncated.json",
                           "compare_unrelated_new.json", "no_such_report.json"}) {
    const Outcome o = run_pair(file);
    EXPECT_EQ(o.exit_code, 2) << file << ": " << o.output;
    EXPECT_NE(o.output.find(file), std::string::npos) << o.output;
    EXPECT_EQ(o.output.find('\n'), std::string::npos) << "not one line: " << o.output;
  }
  EXPECT_NE(run_pair("compare_schema_v2.json").output.find("schema.version"), std::string::npos);
  EXPECT_NE(run_pair("compare_unrelated_new.json").output.find("in common"), std::string::npos);
}

TEST_F(CompareCommand, WritesTheRequestedFiles) {
  CompareArgs a;
  a.base = golden_path("compare_base.json");
  a.cand = golden_path("compare_slower_new.json");
  a.json_out = path("cmp.json");
  a.csv_out = path("cmp.csv");
  a.markdown_out = path("cmp.md");
  const Outcome o = run(a);
  EXPECT_EQ(o.exit_code, 1);
  std::ifstream j(a.json_out);
  const auto parsed = nlohmann::json::parse(j);
  EXPECT_EQ(parsed["exit_code"], 1);
  EXPECT_EQ(parsed["base"]["label"], a.base);
  EXPECT_EQ(parsed["summary"]["SLOWER"], 1);
  EXPECT_GT(fs::file_size(a.csv_out), 100u);
  std::ifstream md(a.markdown_out);
  std::string first;
  std::getline(md, first);
  EXPECT_EQ(first, "# dcpbench regression report: REGRESSION");
}

TEST_F(CompareCommand, Thresholds) {
  CompareArgs a;
  a.base = golden_path("compare_base.json");
  a.cand = golden_path("compare_slower_new.json");
  {
    std::ofstream t(path("loose.json"));
    t << R"({"p50_latency_pct": 30, "p95_latency_pct": 30, "bus_bw_pct": 30})";
  }
  a.thresholds_file = path("loose.json");
  EXPECT_EQ(run(a).exit_code, 0);
  a.threshold_pct = 10.0;  // --threshold overrides the file's p50 threshold
  EXPECT_EQ(run(a).exit_code, 1);
  a.threshold_pct = -3.0;
  const Outcome bad = run(a);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("--threshold"), std::string::npos);
  a.threshold_pct.reset();
  {
    std::ofstream t(path("bad.json"));
    t << R"({"p50_latency": 30})";
  }
  a.thresholds_file = path("bad.json");
  const Outcome o = run(a);
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_NE(o.output.find("p50_latency"), std::string::npos) << o.output;
  EXPECT_NE(o.output.find("bad.json"), std::string::npos) << o.output;
}

TEST_F(CompareCommand, RefusesToOverwriteAnInput) {
  const std::string base_copy = path("base.json");
  fs::copy_file(golden_path("compare_base.json"), base_copy);
  CompareArgs a;
  a.base = base_copy;
  a.cand = golden_path("compare_slower_new.json");
  a.markdown_out = (dir_ / "." / "base.json").string();
  const Outcome o = run(a);
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_NE(o.output.find("also an input"), std::string::npos) << o.output;
  EXPECT_EQ(fs::file_size(base_copy), fs::file_size(golden_path("compare_base.json")));
}

TEST_F(CompareCommand, ParsesItsOptions) {
  CLI::App app;
  CompareArgs a;
  CLI::App* cmd = add_compare_subcommand(app, a);
  ASSERT_NE(cmd, nullptr);
  EXPECT_EQ(cmd->get_name(), "compare");
  app.parse(std::vector<std::string>{"out.md", "--markdown", "5", "--threshold", "t.json",
                                     "--thresholds", "new.json", "base.json", "compare"});
  EXPECT_EQ(a.base, "base.json");
  EXPECT_EQ(a.cand, "new.json");
  EXPECT_EQ(a.thresholds_file, "t.json");
  ASSERT_TRUE(a.threshold_pct);
  EXPECT_EQ(*a.threshold_pct, 5.0);
  EXPECT_EQ(a.markdown_out, "out.md");

  CLI::App app2;
  CompareArgs b;
  add_compare_subcommand(app2, b);
  EXPECT_THROW(
      app2.parse(std::vector<std::string>{"abc", "--threshold", "n.json", "b.json", "compare"}),
      CLI::ParseError);
  CLI::App app3;
  CompareArgs c;
  add_compare_subcommand(app3, c);
  EXPECT_THROW(app3.parse(std::vector<std::string>{"b.json", "compare"}), CLI::ParseError);
}

}  // namespace
}  // namespace dcp::cli
