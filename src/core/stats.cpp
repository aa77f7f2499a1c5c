#include "core/stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.hpp"

namespace dcp {

double percentile_sorted(std::span<const double> sorted, double q) {
  DCP_CHECK(!sorted.empty(), "percentile of an empty sample");
  DCP_CHECK(q >= 0.0 && q <= 100.0, "percentile outside [0, 100]");
  const double pos = q / 100.0 * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

std::optional<Interval> median_ci95_sorted(std::span<const double> sorted) {
  const std::size_t n = sorted.size();
  if (n < kMinSamplesForCi) return std::nullopt;
  const double half_width = 1.96 * std::sqrt(static_cast<double>(n)) / 2.0;
  const double center = static_cast<double>(n) / 2.0;
  // 1-based ranks j (lower) and k (upper), clamped to the sample.
  const double j = std::max(1.0, std::floor(center - half_width));
  const double k = std::min(static_cast<double>(n), std::ceil(center + half_width + 1.0));
  return Interval{sorted[static_cast<std::size_t>(j) - 1], sorted[static_cast<std::size_t>(k) - 1]};
}

SampleStats summarize(std::span<const double> samples) {
  SampleStats s;
  s.count = samples.size();
  if (samples.empty()) return s;
  std::vector<double> sorted(samples.begin(), samples.end());
  std::sort(sorted.begin(), sorted.end());
  s.min = sorted.front();
  s.max = sorted.back();
  s.mean = std::accumulate(sorted.begin(), sorted.end(), 0.0) / static_cast<double>(s.count);
  if (s.count > 1) {
    double ss = 0;
    for (double v : sorted)
      ss += (v - s.mean) * (v - s.mean);
    s.stddev = std::sqrt(ss / static_cast<double>(s.count - 1));
  }
  s.p5 = percentile_sorted(sorted, 5);
  s.p50 = percentile_sorted(sorted, 50);
  s.p95 = percentile_sorted(sorted, 95);
  s.p99 = percentile_sorted(sorted, 99);
  s.median_ci95 = median_ci95_sorted(sorted);
  return s;
}

Ratio ratio_of_medians(const SampleStats& a, const SampleStats& b) {
  Ratio r;
  if (b.p50 > 0) r.value = a.p50 / b.p50;
  if (a.median_ci95 && b.median_ci95 && b.median_ci95->low > 0) {
    r.ci95 = Interval{a.median_ci95->low / b.median_ci95->high,
                      a.median_ci95->high / b.median_ci95->low};
  }
  return r;
}

}  // namespace dcp
