// Report schema 1.2 (issue 15): reduce rows carry op, tokens, heads, model, lse base, an
// accuracy block, the parts' timings and a hang report, in JSON (round trip), CSV and the
// table; 1.1 reports still read; compare turns lost exactness into VERIFY_CHANGED and grown
// ulp errors into LESS_EXACT.
#include <gtest/gtest.h>

#include <limits>
#include <sstream>
#include <stdexcept>

#include "core/error.hpp"
#include "report/compare.hpp"
#include "report/csv_report.hpp"
#include "report/json_report.hpp"
#include "report/report_error.hpp"
#include "report/table_report.hpp"
#include "report_fixtures.hpp"

namespace dcp::report {
namespace {

using testing::make_base_report;

Accuracy exact_accuracy(std::uint64_t rows) {
  Accuracy a;
  a.rows_checked = rows;
  a.rows_identical = rows;
  a.elements_checked = rows * 128;
  a.ulp_max = 0.5;
  a.ulp_sum = 0.25 * static_cast<double>(a.elements_checked);
  a.lse_ulp_max = 1.0;
  a.lse_ulp_sum = 0.5 * static_cast<double>(rows);
  return a;
}

/// make_base_report() with native's batch=16 row turned into a reduce row (4 tokens x 4 heads,
/// base-2 LSE) carrying an exact accuracy block and two parts, and nccl-2x's into one with a
/// hang report.
RunReport make_reduce_report() {
  RunReport rep = make_base_report();
  for (CaseResult& r : rep.results) {
    if (r.c.batch != 16 || r.status != CaseStatus::kOk) continue;
    r.c.op = Op::kReduce;
    r.c.tokens = 4;
    r.c.heads = 4;
    r.c.stats_dim = 1;
    r.c.lse_base = LseBase::kTwo;
    r.accuracy = exact_accuracy(40 * 16 * 2);
    if (r.impl == "native") {
      CaseResult merge_part = r;
      testing::scale_timing(merge_part, 0.25);
      r.parts = {PartTiming{"exchange", *r.timing}, PartTiming{"merge", *merge_part.timing}};
    } else {
      HangReport h;
      h.errors = {"rank 1: timeout waiting for peer 0 channel 2 (native exchange)"};
      h.channels = {HangChannel{1, 0, 2, 10, 10, 4, 4, 7, true}};
      h.ranks = 2;
      h.peers = 2;
      h.channels_per_pair = 4;
      h.idle_channels = 15;
      r.hang = h;
    }
  }
  return rep;
}

std::string json_text(const RunReport& r) {
  std::ostringstream os;
  write_json(r, os);
  return os.str();
}

CaseResult& reduce_row(RunReport& rep, const std::string& impl) {
  for (CaseResult& r : rep.results) {
    if (r.impl == impl && r.c.op == Op::kReduce) return r;
  }
  throw std::logic_error("no reduce row");
}

TEST(ReduceReport, JsonRoundTripKeepsEveryNewField) {
  const RunReport rep = make_reduce_report();
  const std::string text = json_text(rep);
  EXPECT_NE(text.find("\"version\": \"1.2\""), std::string::npos);
  const RunReport back = parse_run_report(text, "mem");
  EXPECT_EQ(back, rep);
  // An infinite error (a NaN output) is null in JSON and reads back as +inf.
  RunReport nan = rep;
  reduce_row(nan, "native").accuracy->ulp_max = std::numeric_limits<double>::infinity();
  reduce_row(nan, "native").accuracy->rows_identical -= 1;
  reduce_row(nan, "native").accuracy->first = MergeDifference{1, 3, 17, -1, 0x7fc00000, 0x3f800000};
  EXPECT_EQ(parse_run_report(json_text(nan), "mem"), nan);
}

TEST(ReduceReport, ReaderChecksTheAccuracyBlock) {
  std::string text = json_text(make_reduce_report());
  const auto at = text.find("\"identical\": true");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 17, "\"identical\": false");
  try {
    (void)parse_run_report(text, "mem");
    FAIL() << "a contradictory accuracy block was read";
  } catch (const ReportError& e) {
    EXPECT_NE(std::string(e.what()).find("accuracy.identical"), std::string::npos) << e.what();
  }
}

// A report written by schema 1.1 (tests/golden/report_v1_1.json, kept as written then) reads:
// its rows are exchanges given as entries, without accuracy, parts or hang.
TEST(ReduceReport, SchemaOneOneReportsStillRead) {
  const RunReport old = read_run_report(std::string(DCP_GOLDEN_DIR) + "/report_v1_1.json");
  const RunReport now = make_base_report();
  ASSERT_EQ(old.results.size(), now.results.size());
  for (std::size_t i = 0; i < old.results.size(); ++i) {
    EXPECT_EQ(old.results[i], now.results[i]) << i;
    EXPECT_EQ(old.results[i].c.op, Op::kExchange);
    EXPECT_FALSE(old.results[i].accuracy.has_value());
  }
  EXPECT_EQ(old.spec, now.spec);
}

TEST(ReduceReport, CsvHasTheNewColumns) {
  std::ostringstream os;
  write_csv(make_reduce_report(), os);
  const std::string csv = os.str();
  EXPECT_NE(csv.find(",op,tokens,heads,model,lse_base,acc_identical,acc_rows_checked,"
                     "acc_rows_identical,acc_ulp_max,acc_ulp_mean,acc_lse_ulp_max,"
                     "acc_first_difference,parts_p50_s,hang\n"),
            std::string::npos);
  EXPECT_NE(csv.find(",reduce,4,4,,2,yes,1280,1280,0.5,0.25,1,,exchange="), std::string::npos)
      << csv;
  EXPECT_NE(csv.find(";merge="), std::string::npos);
  EXPECT_NE(csv.find(",exchange,,,,,,,,,,,,,\n"), std::string::npos) << csv;  // exchange rows
}

TEST(ReduceReport, TableShowsAccuracyPartsAndHang) {
  std::ostringstream os;
  write_table(make_reduce_report(), os);
  const std::string t = os.str();
  EXPECT_NE(t.find("## op=reduce cp=2 tokens=4 heads=4 head_dim=128 dtype=bf16 lse=2 "
                   "launch=graph"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("exact 1280 rows"), std::string::npos) << t;
  EXPECT_NE(t.find("# accuracy of the merged outputs"), std::string::npos);
  EXPECT_NE(t.find("# parts:"), std::string::npos);
  EXPECT_NE(t.find(" merge "), std::string::npos) << t;
  EXPECT_NE(t.find("# HANG: op=reduce"), std::string::npos) << t;
  EXPECT_NE(t.find("rank 1: timeout waiting for peer 0 channel 2"), std::string::npos) << t;
}

Comparison compare_with(const RunReport& cand, Thresholds th = {}) {
  return compare(make_reduce_report(), cand, th);
}

const RowComparison& find_reduce(const Comparison& c, const std::string& impl) {
  for (const auto& r : c.rows) {
    if (r.impl == impl && r.key.rfind("op=reduce", 0) == 0) return r;
  }
  throw std::logic_error("no reduce row");
}

TEST(CompareAccuracy, SameAccuracyIsSame) {
  const Comparison c = compare_with(make_reduce_report());
  EXPECT_EQ(find_reduce(c, "native").verdict, Verdict::kSame);
  EXPECT_EQ(c.exit_code(), ExitCode::kSuccess);
}

TEST(CompareAccuracy, LostExactnessIsVerifyChanged) {
  RunReport cand = make_reduce_report();
  Accuracy& a = *reduce_row(cand, "native").accuracy;
  a.rows_identical -= 3;
  a.values_differing = 3;
  a.first = MergeDifference{0, 1, 5, 7, 0x3f81, 0x3f80};
  const Comparison c = compare_with(cand);
  const RowComparison& row = find_reduce(c, "native");
  EXPECT_EQ(row.verdict, Verdict::kVerifyChanged);
  EXPECT_EQ(row.note.rfind("exactness lost: BASE bit-identical (1280 rows), NEW 1277/1280 rows "
                           "identical, max 0.5 ulp",
                           0),
            0u)
      << row.note;
  EXPECT_EQ(c.exit_code(), ExitCode::kCheckFailed);
  // The other way round is no regression, and says so.
  const Comparison back = compare(cand, make_reduce_report(), Thresholds{});
  EXPECT_EQ(find_reduce(back, "native").verdict, Verdict::kSame);
  EXPECT_NE(find_reduce(back, "native").note.find("now bit-identical"), std::string::npos);
}

TEST(CompareAccuracy, GrownUlpErrorIsLessExact) {
  RunReport cand = make_reduce_report();
  reduce_row(cand, "nccl-2x").accuracy->ulp_max = 1.75;  // +1.25 ulp, still "identical" rows
  Comparison c = compare_with(cand);
  const RowComparison& row = find_reduce(c, "nccl-2x");
  EXPECT_EQ(row.verdict, Verdict::kLessExact);
  EXPECT_EQ(row.note, "max error grew from 0.5 to 1.75 ulp (threshold +1 ulp)");
  EXPECT_EQ(to_string(row.verdict), "LESS_EXACT");
  EXPECT_TRUE(is_regression(Verdict::kLessExact));
  EXPECT_EQ(c.exit_code(), ExitCode::kCheckFailed);
  // Within a looser threshold: not a regression.
  Thresholds loose;
  loose.max_ulp_growth = 2.0;
  EXPECT_EQ(find_reduce(compare_with(cand, loose), "nccl-2x").verdict, Verdict::kSame);
  EXPECT_EQ(compare_with(cand, loose).exit_code(), ExitCode::kSuccess);
}

TEST(CompareAccuracy, MaxUlpGrowthIsAThreshold) {
  const Thresholds t = thresholds_from_json(nlohmann::json::parse(R"({"max_ulp_growth": 0})"), "t");
  EXPECT_EQ(t.max_ulp_growth, 0.0);
  EXPECT_EQ(thresholds_to_json(t)["max_ulp_growth"], 0.0);
  EXPECT_THROW((void)thresholds_from_json(nlohmann::json::parse(R"({"max_ulp_growth": -1})"), "t"),
               ReportError);
  EXPECT_THROW((void)thresholds_from_json(nlohmann::json::parse(R"({"max_ulp_growth": "1"})"), "t"),
               ReportError);
  EXPECT_EQ(threshold_from_ulps(3.0, "--max-ulp-growth"), 3.0);
  EXPECT_THROW((void)threshold_from_ulps(-0.5, "--max-ulp-growth"), ConfigError);
}

}  // namespace
}  // namespace dcp::report
