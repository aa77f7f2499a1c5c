// compare: verdicts on crafted reports, thresholds, environment changes, and the printers'
// golden outputs. The crafted reports are also kept as files in tests/golden/ (checked here
// to match the fixtures) for the command-line and script tests.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "golden.hpp"
#include "report/compare.hpp"
#include "report/compare_report.hpp"
#include "report/json_report.hpp"
#include "report/report_error.hpp"
#include "report_fixtures.hpp"

namespace dcp::report {
namespace {

using testing::make_base_report;
using testing::row;

std::string json_text(const RunReport& r) {
  std::ostringstream os;
  write_json(r, os);
  return os.str();
}

const RowComparison& find(const Comparison& c, std::int64_t batch, const std::string& impl) {
  for (const auto& r : c.rows) {
    if (r.impl == impl && r.exchange_key.find(fmt::format("batch={} ", batch)) != std::string::npos)
      return r;
  }
  throw std::logic_error("row not found");
}

/// Verdicts of all rows except `batch`/`impl`, which must be `verdict`.
void expect_only(const Comparison& c, std::int64_t batch, const std::string& impl,
                 Verdict verdict) {
  for (const auto& r : c.rows) {
    const bool target =
        r.impl == impl && r.exchange_key.find(fmt::format("batch={} ", batch)) != std::string::npos;
    const Verdict want = target                    ? verdict
                         : r.impl == "nccl-device" ? Verdict::kSkipped
                                                   : Verdict::kSame;
    EXPECT_EQ(r.verdict, want) << r.key << " " << r.impl << ": " << to_string(r.verdict) << " ("
                               << r.note << ")";
  }
}

Comparison labelled(Comparison c) {
  c.base.label = "base.json";
  c.cand.label = "new.json";
  return c;
}

// --- the crafted inputs, as files -------------------------------------------------------------

TEST(CompareGoldenInputs, FilesMatchTheFixtures) {
  testing::expect_golden("compare_base.json", json_text(make_base_report()));
  testing::expect_golden("compare_slower_new.json", json_text(testing::make_slower_report()));
  testing::expect_golden("compare_faster_new.json", json_text(testing::make_faster_report()));
  testing::expect_golden("compare_noisy_new.json", json_text(testing::make_noisy_report()));
  testing::expect_golden("compare_missing_new.json", json_text(testing::make_missing_report()));
  testing::expect_golden("compare_verify_new.json", json_text(testing::make_verify_report()));
  testing::expect_golden("compare_env_new.json", json_text(testing::make_env_report()));
  testing::expect_golden("compare_unrelated_new.json", json_text(testing::make_unrelated_report()));
  std::string v2 = json_text(make_base_report());
  const std::string current =
      "\"" + std::to_string(kReportSchemaMajor) + "." + std::to_string(kReportSchemaMinor) + "\"";
  ASSERT_NE(v2.find(current), std::string::npos);
  v2.replace(v2.find(current), current.size(), "\"2.0\"");
  testing::expect_golden("compare_schema_v2.json", v2);
  const std::string base = json_text(make_base_report());
  testing::expect_golden("compare_truncated.json", base.substr(0, base.size() / 2));
}

// --- verdicts ---------------------------------------------------------------------------------

TEST(Compare, IdenticalIsAllSame) {
  const Comparison c = compare(make_base_report(), make_base_report(), Thresholds{});
  ASSERT_EQ(c.rows.size(), 6u);
  expect_only(c, -1, "", Verdict::kSame);
  EXPECT_EQ(c.count(Verdict::kSame), 4u);
  EXPECT_EQ(c.count(Verdict::kSkipped), 2u);
  EXPECT_TRUE(c.env_changes.empty());
  EXPECT_EQ(c.exit_code(), ExitCode::kSuccess);
  EXPECT_EQ(find(c, 1, "native").p50_delta_rel, 0.0);
  EXPECT_TRUE(find(c, 1, "native").ci_overlap);
}

TEST(Compare, InjectedSlowdownIsSlower) {
  const Comparison c = compare(make_base_report(), testing::make_slower_report(), Thresholds{});
  expect_only(c, 16, "native", Verdict::kSlower);
  const RowComparison& r = find(c, 16, "native");
  EXPECT_NEAR(*r.p50_delta_rel, 0.25, 1e-9);
  EXPECT_NEAR(*r.bus_bw_delta_rel, 1.0 / 1.25 - 1.0, 1e-9);
  EXPECT_FALSE(r.ci_overlap);
  EXPECT_NE(r.note.find("p50 +25.0%"), std::string::npos) << r.note;
  EXPECT_EQ(c.exit_code(), ExitCode::kCheckFailed);
}

TEST(Compare, SpeedupIsFaster) {
  const Comparison c = compare(make_base_report(), testing::make_faster_report(), Thresholds{});
  expect_only(c, 16, "native", Verdict::kFaster);
  EXPECT_EQ(c.exit_code(), ExitCode::kSuccess);
}

TEST(Compare, NoiseLevelChangeIsNoisy) {
  const Comparison c = compare(make_base_report(), testing::make_noisy_report(), Thresholds{});
  expect_only(c, 1, "nccl-2x", Verdict::kNoisy);
  const RowComparison& r = find(c, 1, "nccl-2x");
  EXPECT_TRUE(r.ci_overlap);
  EXPECT_GT(*r.p50_delta_rel, 0.05);
  EXPECT_NE(r.note.find("CIs overlap"), std::string::npos) << r.note;
  EXPECT_EQ(c.exit_code(), ExitCode::kSuccess);
}

TEST(Compare, NoiseFromStddevWithoutCi) {
  // Fewer than kMinSamplesForCi samples: no CI, so the stddev decides.
  RunReport base = make_base_report();
  RunReport cand = make_base_report();
  CaseResult& b = row(base, 1, "native");
  CaseResult& c = row(cand, 1, "native");
  b.timing = testing::make_timing(testing::make_samples(10e-6, 2.0, 5, 1), b.bytes_per_rank, 2);
  c.timing = testing::make_timing(testing::make_samples(10.8e-6, 2.0, 5, 1), c.bytes_per_rank, 2);
  ASSERT_FALSE(b.timing->stats.median_ci95);
  Comparison cmp = compare(base, cand, Thresholds{});
  EXPECT_EQ(find(cmp, 1, "native").verdict, Verdict::kNoisy) << find(cmp, 1, "native").note;
  EXPECT_NE(find(cmp, 1, "native").note.find("stddev"), std::string::npos);
  // A tight distribution with the same shift is SLOWER.
  b.timing = testing::make_timing(testing::make_samples(10e-6, 0.01, 5, 1), b.bytes_per_rank, 2);
  c.timing = testing::make_timing(testing::make_samples(10.8e-6, 0.01, 5, 1), c.bytes_per_rank, 2);
  cmp = compare(base, cand, Thresholds{});
  EXPECT_EQ(find(cmp, 1, "native").verdict, Verdict::kSlower);
}

TEST(Compare, MissingCaseIsMissing) {
  const Comparison c = compare(make_base_report(), testing::make_missing_report(), Thresholds{});
  expect_only(c, 16, "native", Verdict::kMissing);
  EXPECT_FALSE(find(c, 16, "native").cand_status);
  EXPECT_EQ(c.exit_code(), ExitCode::kCheckFailed);
}

TEST(Compare, FailedVerificationIsVerifyChanged) {
  const Comparison c = compare(make_base_report(), testing::make_verify_report(), Thresholds{});
  expect_only(c, 1, "native", Verdict::kVerifyChanged);
  EXPECT_NE(find(c, 1, "native").note.find("3 bad rows"), std::string::npos);
  EXPECT_EQ(c.exit_code(), ExitCode::kCheckFailed);
}

TEST(Compare, EnvironmentChangeIsWarnedNotFailed) {
  const Comparison c = compare(make_base_report(), testing::make_env_report(), Thresholds{});
  expect_only(c, -1, "", Verdict::kSame);
  std::vector<std::string> fields;
  for (const auto& e : c.env_changes)
    fields.push_back(e.field);
  EXPECT_EQ(fields, (std::vector<std::string>{"gpu", "driver", "hosts", "topology"}));
  EXPECT_EQ(c.env_changes[0].base, "2 x NVIDIA H200");
  EXPECT_EQ(c.env_changes[0].cand, "2 x NVIDIA H100 80GB HBM3");
  EXPECT_EQ(c.exit_code(), ExitCode::kSuccess);
}

TEST(Compare, NothingInCommonIsAnError) {
  try {
    (void)compare(make_base_report(), testing::make_unrelated_report(), Thresholds{});
    FAIL() << "no error";
  } catch (const ReportError& e) {
    EXPECT_NE(std::string(e.what()).find("no row (case key, impl) in common"), std::string::npos);
    EXPECT_EQ(e.exit_code(), ExitCode::kUsage);
  }
  EXPECT_THROW((void)compare(RunReport{}, RunReport{}, Thresholds{}), ReportError);
}

TEST(Compare, DuplicateRowsAreAnError) {
  RunReport cand = make_base_report();
  cand.results.push_back(cand.results[0]);
  EXPECT_THROW((void)compare(make_base_report(), cand, Thresholds{}), ReportError);
}

TEST(Compare, StatusTransitions) {
  RunReport base = make_base_report();
  RunReport cand = make_base_report();
  // ok -> skipped: the measurement disappeared.
  row(cand, 1, "native").status = CaseStatus::kSkipped;
  row(cand, 1, "native").skip_reason = "no peer access";
  row(cand, 1, "native").timing.reset();
  // skipped -> ok: a new measurement.
  CaseResult& dev = row(cand, 1, "nccl-device");
  dev = row(cand, 1, "nccl-2x");
  dev.impl = "nccl-device";
  // ok -> error.
  row(cand, 16, "nccl-2x").status = CaseStatus::kError;
  row(cand, 16, "nccl-2x").error = "timeout";
  row(cand, 16, "nccl-2x").timing.reset();
  // A row only NEW has.
  CaseResult extra = row(cand, 16, "native");
  extra.c.pdl = false;
  cand.results.push_back(extra);
  const Comparison c = compare(base, cand, Thresholds{});
  EXPECT_EQ(find(c, 1, "native").verdict, Verdict::kMissing);
  EXPECT_EQ(find(c, 1, "nccl-device").verdict, Verdict::kNew);
  EXPECT_EQ(find(c, 16, "nccl-2x").verdict, Verdict::kVerifyChanged);
  EXPECT_EQ(find(c, 16, "nccl-device").verdict, Verdict::kSkipped);
  EXPECT_EQ(c.rows.back().verdict, Verdict::kNew);
  EXPECT_NE(c.rows.back().key.find("pdl=off"), std::string::npos);
  EXPECT_FALSE(c.rows.back().base_status);
  EXPECT_EQ(c.exit_code(), ExitCode::kCheckFailed);
}

TEST(Compare, ThresholdsDecide) {
  Thresholds loose;
  loose.p50_rel = 0.30;
  loose.p95_rel = 0.30;
  loose.bus_bw_rel = 0.30;
  EXPECT_EQ(compare(make_base_report(), testing::make_slower_report(), loose).exit_code(),
            ExitCode::kSuccess);
  Thresholds only_p50 = Thresholds{};
  only_p50.p50_rel = 0.30;  // --threshold 30: p95 (+25 % > 10 %) still catches it
  EXPECT_EQ(find(compare(make_base_report(), testing::make_slower_report(), only_p50), 16, "native")
                .verdict,
            Verdict::kSlower);
  Thresholds big_floor;
  big_floor.min_abs_delta_s = 1e-6;  // the slowdown is 0.46 us
  EXPECT_EQ(
      find(compare(make_base_report(), testing::make_slower_report(), big_floor), 16, "native")
          .verdict,
      Verdict::kSame);
}

// --- thresholds files -------------------------------------------------------------------------

TEST(Thresholds, ShippedFileEqualsTheBuiltInDefaults) {
  EXPECT_EQ(read_thresholds(std::string(DCP_SOURCE_DIR) + "/configs/thresholds.json"),
            Thresholds{});
}

TEST(Thresholds, StrictParsing) {
  using nlohmann::json;
  const Thresholds t =
      thresholds_from_json(json{{"p50_latency_pct", 3}, {"min_abs_delta_s", 0}}, "t.json");
  EXPECT_DOUBLE_EQ(t.p50_rel, 0.03);
  EXPECT_EQ(t.min_abs_delta_s, 0.0);
  EXPECT_EQ(t.p95_rel, Thresholds{}.p95_rel);
  auto error = [](const json& j) {
    try {
      (void)thresholds_from_json(j, "t.json");
    } catch (const ReportError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error(json{{"p50_pct", 3}}).find("'p50_pct': unknown key"), std::string::npos);
  EXPECT_NE(error(json{{"p95_latency_pct", "5"}}).find("'p95_latency_pct': expected a number"),
            std::string::npos);
  EXPECT_NE(error(json{{"bus_bw_pct", 0}}).find("'bus_bw_pct': 0 is out of range"),
            std::string::npos);
  EXPECT_NE(error(json{{"min_abs_delta_s", -1}}).find("'min_abs_delta_s'"), std::string::npos);
  EXPECT_NE(error(json::array()).find("thresholds 't.json'"), std::string::npos);
  EXPECT_DOUBLE_EQ(threshold_from_percent(7.5, "--threshold"), 0.075);
  EXPECT_THROW((void)threshold_from_percent(-1, "--threshold"), ConfigError);
  EXPECT_THROW((void)threshold_from_percent(std::nan(""), "--threshold"), ConfigError);
}

// --- printers ---------------------------------------------------------------------------------

template <typename Printer>
std::string print(const Comparison& c, Printer p) {
  std::ostringstream os;
  p(c, os);
  return os.str();
}

TEST(ComparePrinters, GoldenSlower) {
  const Comparison c =
      labelled(compare(make_base_report(), testing::make_slower_report(), Thresholds{}));
  testing::expect_golden("compare_slower.txt", print(c, write_comparison_table));
  testing::expect_golden("compare_slower.json", print(c, write_comparison_json));
  testing::expect_golden("compare_slower.csv", print(c, write_comparison_csv));
  testing::expect_golden("compare_slower.md", print(c, write_comparison_markdown));
}

TEST(ComparePrinters, GoldenEnvChangedAndIdentical) {
  const Comparison env =
      labelled(compare(make_base_report(), testing::make_env_report(), Thresholds{}));
  testing::expect_golden("compare_env.txt", print(env, write_comparison_table));
  testing::expect_golden("compare_env.md", print(env, write_comparison_markdown));
  const Comparison same = labelled(compare(make_base_report(), make_base_report(), Thresholds{}));
  testing::expect_golden("compare_identical.md", print(same, write_comparison_markdown));
}

TEST(ComparePrinters, JsonCarriesVerdictsAndExitCode) {
  const Comparison c = compare(make_base_report(), testing::make_verify_report(), Thresholds{});
  const auto j = nlohmann::json::parse(print(c, write_comparison_json));
  EXPECT_EQ(j["schema"]["name"], "dcpbench-compare");
  EXPECT_EQ(j["schema"]["version"], "1.0");
  EXPECT_EQ(j["exit_code"], 1);
  EXPECT_EQ(j["summary"]["VERIFY_CHANGED"], 1);
  EXPECT_EQ(j["summary"]["total"], 6);
  EXPECT_EQ(j["rows"][0]["verdict"], "VERIFY_CHANGED");
  EXPECT_EQ(j["rows"][0]["new_status"], "verify_failed");
  EXPECT_EQ(j["thresholds"]["p50_latency_pct"], 5.0);
}

TEST(ComparePrinters, MarkdownListsRegressionsFirstAndEscapes) {
  RunReport cand = testing::make_missing_report();
  row(cand, 1, "nccl-2x").status = CaseStatus::kError;
  row(cand, 1, "nccl-2x").error = "a | pipe <b>\nnewline";
  const Comparison c = compare(make_base_report(), cand, Thresholds{});
  const std::string md = print(c, write_comparison_markdown);
  EXPECT_LT(md.find("## Regressions (2)"), md.find("## Environment changes"));
  EXPECT_LT(md.find("| VERIFY_CHANGED |"), md.find("| MISSING |", md.find("## Regressions")));
  EXPECT_NE(md.find("a \\| pipe &lt;b&gt; newline"), std::string::npos) << md;
  EXPECT_NE(md.find("REGRESSION"), std::string::npos);
}

}  // namespace
}  // namespace dcp::report
