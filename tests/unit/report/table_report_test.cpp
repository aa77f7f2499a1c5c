// The human table: unit formatting and the golden rendering of a crafted report.
#include <gtest/gtest.h>

#include <limits>
#include <sstream>

#include "golden.hpp"
#include "report/table_report.hpp"
#include "report_fixtures.hpp"

namespace dcp::report {
namespace {

std::string table_of(const RunReport& r) {
  std::ostringstream os;
  write_table(r, os);
  return os.str();
}

TEST(TableReport, FormatsSeconds) {
  EXPECT_EQ(format_seconds(1.85e-6), "1.85 us");
  EXPECT_EQ(format_seconds(12.3e-6), "12.30 us");
  EXPECT_EQ(format_seconds(850e-9), "850 ns");
  EXPECT_EQ(format_seconds(1.5e-3), "1.500 ms");
  EXPECT_EQ(format_seconds(2.5), "2.500 s");
  EXPECT_EQ(format_seconds(0.0), "0 ns");
  EXPECT_EQ(format_seconds(std::numeric_limits<double>::quiet_NaN()), "n/a");
  EXPECT_EQ(format_seconds_in_unit_of(1.84e-6, 1.85e-6), "1.84");
  EXPECT_EQ(time_unit_of(1.5e-3), "ms");
  EXPECT_EQ(format_interval_s(Interval{1.84e-6, 1.86e-6}, 1.85e-6), "[1.84, 1.86] us");
  EXPECT_EQ(format_interval_s(std::nullopt, 1.85e-6), "n/a");
}

TEST(TableReport, FormatsBandwidthSizesRatios) {
  EXPECT_EQ(format_bandwidth(4.46e9), "4.46 GB/s");
  EXPECT_EQ(format_bandwidth(2.85e8), "0.285 GB/s");
  EXPECT_EQ(format_bytes(528), "528 B");
  EXPECT_EQ(format_bytes(8448), "8.25 KiB");
  EXPECT_EQ(format_bytes(2 * 1024 * 1024), "2.0 MiB");
  EXPECT_EQ(format_bytes(3ULL * 512 * 1024 * 1024), "1.50 GiB");
  EXPECT_EQ(format_ratio(6.654), "6.65x");
  EXPECT_EQ(format_percent(0.1234), "+12.3%");
  EXPECT_EQ(format_percent(-0.05), "-5.0%");
  EXPECT_EQ(format_percent(std::nullopt), "n/a");
}

TEST(TableReport, GoldenSmallReport) {
  testing::expect_golden("report_small.txt", table_of(testing::make_base_report()));
}

TEST(TableReport, FlagsDebugBuildsFailuresAndErrors) {
  RunReport r = testing::make_verify_report();
  r.context.build_type = "Debug";
  r.results[1].status = CaseStatus::kError;
  r.results[1].timing.reset();
  r.results[1].error = "timeout: no line from peer 1\nat channel 5";
  const std::string t = table_of(r);
  EXPECT_NE(t.find("WARNING: Debug build"), std::string::npos);
  EXPECT_NE(t.find("# VERIFICATION FAILED (1)"), std::string::npos) << t;
  EXPECT_NE(t.find("FAIL 3/160 rows"), std::string::npos) << t;
  EXPECT_NE(t.find("# ERRORS (1)"), std::string::npos) << t;
  EXPECT_NE(t.find("timeout: no line from peer 1 at channel 5"), std::string::npos) << t;
  EXPECT_NE(t.find("# skipped (2)"), std::string::npos) << t;
}

TEST(TableReport, EmptyReportDoesNotCrash) {
  const std::string t = table_of(RunReport{});
  EXPECT_NE(t.find("(no results)"), std::string::npos);
}

}  // namespace
}  // namespace dcp::report
