// The CSV report: fixed columns, RFC 4180 quoting, exact values, golden output.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "golden.hpp"
#include "report/csv_report.hpp"
#include "report_fixtures.hpp"

namespace dcp::report {
namespace {

/// A strict RFC 4180 reader for the test: records of fields; quoted fields may hold anything.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  bool quoted = false;
  bool field_started = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (quoted) {
      if (ch == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        field += ch;
      }
      continue;
    }
    if (ch == '"') {
      EXPECT_FALSE(field_started) << "quote inside an unquoted field at byte " << i;
      quoted = true;
      field_started = true;
    } else if (ch == ',') {
      record.push_back(field);
      field.clear();
      field_started = false;
    } else if (ch == '\n') {
      record.push_back(field);
      records.push_back(record);
      record.clear();
      field.clear();
      field_started = false;
    } else {
      EXPECT_NE(ch, '\r') << "bare CR outside quotes";
      field += ch;
      field_started = true;
    }
  }
  EXPECT_FALSE(quoted) << "unterminated quoted field";
  EXPECT_TRUE(field.empty() && record.empty()) << "last record does not end with a newline";
  return records;
}

std::string csv_of(const RunReport& r) {
  std::ostringstream os;
  write_csv(r, os);
  return os.str();
}

TEST(CsvReport, EscapesPerRfc4180) {
  EXPECT_EQ(csv_escape("plain text"), "plain text");
  EXPECT_EQ(csv_escape(""), "");
  EXPECT_EQ(csv_escape("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_escape("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_escape("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(csv_escape("cr\rhere"), "\"cr\rhere\"");
  EXPECT_EQ(csv_escape("\""), "\"\"\"\"");
}

TEST(CsvReport, HeaderIsTheDocumentedColumnOrder) {
  const std::string text = csv_of(testing::make_base_report());
  const std::string header = text.substr(0, text.find('\n'));
  EXPECT_EQ(header,
            "key,exchange_key,impl,cp,batch,head_dim,stats_dim,dtype,launch,pdl,workspace,status,"
            "count,min_s,p5_s,p50_s,p95_s,p99_s,mean_s,stddev_s,ci_low_s,ci_high_s,alg_bw_Bps,"
            "bus_bw_Bps,bytes_per_rank,workspace_bytes,bad_rows,rows_checked,skip_reason_or_error,"
            "max_s,calls_checked,mismatched_elements,first_mismatch,detail,op,tokens,heads,model,"
            "lse_base,acc_identical,acc_rows_checked,acc_rows_identical,acc_ulp_max,acc_ulp_mean,"
            "acc_lse_ulp_max,acc_first_difference,parts_p50_s,hang");
}

TEST(CsvReport, OneRowPerResultWithEveryColumn) {
  RunReport r = testing::make_base_report();
  r.results[1].status = CaseStatus::kError;
  r.results[1].error = "timeout: no line from peer 1, awaited \"seq 17\"\r\nat channel 5";
  const auto records = parse_csv(csv_of(r));
  ASSERT_EQ(records.size(), r.results.size() + 1);
  const std::size_t ncol = csv_columns().size();
  for (const auto& rec : records)
    EXPECT_EQ(rec.size(), ncol);
  auto col = [&](const char* name) {
    const auto& c = csv_columns();
    return static_cast<std::size_t>(std::find(c.begin(), c.end(), name) - c.begin());
  };
  // The reasons come back exactly, commas, quotes and newlines included.
  EXPECT_EQ(records[3][col("skip_reason_or_error")], r.results[2].skip_reason);
  EXPECT_EQ(records[6][col("skip_reason_or_error")], r.results[5].skip_reason);
  EXPECT_EQ(records[2][col("skip_reason_or_error")], r.results[1].error);
  EXPECT_EQ(records[2][col("status")], "error");
  // Values are in SI units and read back exactly.
  const SampleStats& s = r.results[0].timing->stats;
  EXPECT_EQ(std::stod(records[1][col("p50_s")]), s.p50);
  EXPECT_EQ(std::stod(records[1][col("ci_low_s")]), s.median_ci95->low);
  EXPECT_EQ(std::stod(records[1][col("bus_bw_Bps")]), r.results[0].timing->bus_bw_Bps);
  EXPECT_EQ(records[1][col("key")], r.results[0].c.key());
  EXPECT_EQ(records[1][col("pdl")], "on");
  EXPECT_EQ(records[2][col("pdl")], "n/a");
  EXPECT_EQ(records[1][col("workspace")], "ipc");
  EXPECT_EQ(records[1][col("count")], "33");
  // A row without timing has empty timing cells.
  EXPECT_EQ(records[3][col("p50_s")], "");
  EXPECT_EQ(records[3][col("status")], "skipped");
}

TEST(CsvReport, FirstMismatchIsLocated) {
  const RunReport r = testing::make_verify_report();
  const auto records = parse_csv(csv_of(r));
  const auto& c = csv_columns();
  const auto col =
      static_cast<std::size_t>(std::find(c.begin(), c.end(), "first_mismatch") - c.begin());
  EXPECT_EQ(
      records[1][col],
      "rank 1 partial_o[entry 0, from rank 0, element 5] call 2: expected 0x3f80, got 0x3f81");
}

TEST(CsvReport, GoldenFile) {
  testing::expect_golden("report_small.csv", csv_of(testing::make_base_report()));
}

}  // namespace
}  // namespace dcp::report
