// Statistics and the bandwidth model.
#include <gtest/gtest.h>

#include <array>

#include "metadata_catalog.hpp"

#include <cmath>
#include <numeric>
#include <vector>

#include "core/bandwidth.hpp"
#include "core/result.hpp"
#include "core/stats.hpp"

namespace dcp {
namespace {

TEST(Stats, PercentilesInterpolateLikeNumpy) {
  const std::vector<double> v{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  EXPECT_DOUBLE_EQ(percentile_sorted(v, 0), 1);
  EXPECT_DOUBLE_EQ(percentile_sorted(v, 100), 10);
  EXPECT_DOUBLE_EQ(percentile_sorted(v, 50), 5.5);
  EXPECT_NEAR(percentile_sorted(v, 95), 9.55, 1e-12);  // numpy.percentile(range(1,11), 95)
  EXPECT_NEAR(percentile_sorted(v, 5), 1.45, 1e-12);
}

TEST(Stats, SummarizeUnsortedInput) {
  const std::vector<double> v{5, 1, 4, 2, 3};
  const SampleStats s = summarize(v);
  EXPECT_EQ(s.count, 5u);
  EXPECT_DOUBLE_EQ(s.min, 1);
  EXPECT_DOUBLE_EQ(s.max, 5);
  EXPECT_DOUBLE_EQ(s.mean, 3);
  EXPECT_DOUBLE_EQ(s.p50, 3);
  EXPECT_NEAR(s.stddev, std::sqrt(2.5), 1e-12);  // Bessel-corrected
  EXPECT_FALSE(s.median_ci95.has_value());       // below kMinSamplesForCi
}

TEST(Stats, EmptyAndSingle) {
  EXPECT_EQ(summarize(std::vector<double>{}).count, 0u);
  const SampleStats one = summarize(std::vector<double>{2.5});
  EXPECT_DOUBLE_EQ(one.p50, 2.5);
  EXPECT_DOUBLE_EQ(one.stddev, 0);
}

TEST(Stats, MedianCiFromOrderStatistics) {
  std::vector<double> v(100);
  std::iota(v.begin(), v.end(), 1.0);  // 1..100
  const auto ci = median_ci95_sorted(v);
  ASSERT_TRUE(ci.has_value());
  // n=100: ranks floor(50 - 9.8) = 40 and ceil(51 + 9.8) = 61.
  EXPECT_DOUBLE_EQ(ci->low, 40);
  EXPECT_DOUBLE_EQ(ci->high, 61);
  EXPECT_LE(ci->low, percentile_sorted(v, 50));
  EXPECT_GE(ci->high, percentile_sorted(v, 50));
}

TEST(Stats, CiNarrowsWithMoreSamples) {
  auto width = [](int n) {
    std::vector<double> v(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i)
      v[static_cast<std::size_t>(i)] = static_cast<double>(i) / n;
    const auto ci = median_ci95_sorted(v);
    return ci->high - ci->low;
  };
  EXPECT_LT(width(10000), width(100));
}

TEST(Stats, RatioOfMediansCarriesAConservativeInterval) {
  SampleStats a, b;
  a.p50 = 10;
  a.median_ci95 = Interval{9, 11};
  b.p50 = 2;
  b.median_ci95 = Interval{1.9, 2.1};
  const Ratio r = ratio_of_medians(a, b);
  EXPECT_DOUBLE_EQ(r.value, 5);
  ASSERT_TRUE(r.ci95.has_value());
  EXPECT_NEAR(r.ci95->low, 9 / 2.1, 1e-12);
  EXPECT_NEAR(r.ci95->high, 11 / 1.9, 1e-12);
  b.median_ci95.reset();
  EXPECT_FALSE(ratio_of_medians(a, b).ci95.has_value());
}

TEST(Bandwidth, AlltoallFormulas) {
  // 1 MB in 1 ms = 1 GB/s; 8 ranks keep 1/8 locally.
  EXPECT_DOUBLE_EQ(alg_bw_Bps(1e6, 1e-3), 1e9);
  EXPECT_DOUBLE_EQ(bus_bw_alltoall_Bps(1e9, 8), 1e9 * 7 / 8);
  EXPECT_DOUBLE_EQ(bus_bw_alltoall_Bps(1e9, 1), 0);
  EXPECT_DOUBLE_EQ(alg_bw_Bps(1e6, 0), 0);
}

TEST(Speedups, PairNativeWithEveryBaselineOfTheSameExchange) {
  auto row = [](const std::string& impl, double p50, std::optional<bool> pdl) {
    CaseResult r;
    r.impl = impl;
    r.c.pdl = pdl;
    r.timing = Timing{};
    r.timing->stats.p50 = p50;
    return r;
  };
  std::vector<CaseResult> rows{row("native", 2, true), row("nccl-2x", 20, std::nullopt),
                               row("nccl-fused", 10, std::nullopt)};
  CaseResult other = row("nccl-2x", 99, std::nullopt);
  other.c.batch = 64;  // a different exchange: not paired
  rows.push_back(other);
  CaseResult skipped = row("nccl-device", 1, std::nullopt);
  skipped.status = CaseStatus::kSkipped;
  rows.push_back(skipped);
  const auto s = compute_speedups(rows, testing::metadata_catalog());
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].impl, "native");
  EXPECT_EQ(s[0].impl_key, rows[0].c.key());
  EXPECT_EQ(s[0].baseline_impl, "nccl-2x");
  EXPECT_DOUBLE_EQ(s[0].speedup.value, 10);
  EXPECT_EQ(s[1].baseline_impl, "nccl-fused");
  EXPECT_DOUBLE_EQ(s[1].speedup.value, 5);
}

// Which rows pair up is the registry row's word, not a name written in core.
TEST(Speedups, PairingFollowsTheRowsSpeedupsAgainst) {
  auto row = [](const std::string& impl, double p50) {
    CaseResult r;
    r.impl = impl;
    r.timing = Timing{};
    r.timing->stats.p50 = p50;
    return r;
  };
  const std::vector<CaseResult> rows{row("fast", 1), row("slow", 4), row("other", 8)};
  std::array infos{testing::plain_row("fast"), testing::plain_row("slow"),
                   testing::plain_row("other")};
  infos[0].speedups_against = "other";
  infos[1].speedups_against = "fast,other";
  const ImplCatalog catalog{std::span<const ImplInfo>(infos)};
  const auto s = compute_speedups(rows, catalog);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].impl, "fast");
  EXPECT_EQ(s[0].baseline_impl, "other");
  EXPECT_DOUBLE_EQ(s[0].speedup.value, 8);
  EXPECT_EQ(s[1].impl, "slow");
  EXPECT_EQ(s[1].baseline_impl, "fast");
  EXPECT_DOUBLE_EQ(s[1].speedup.value, 0.25);
  EXPECT_EQ(s[2].baseline_impl, "other");
  // Rows of implementations the catalog does not know pair with nothing.
  EXPECT_TRUE(compute_speedups(rows, ImplCatalog{}).empty());
}

}  // namespace
}  // namespace dcp
