#pragma once
/// @file
/// Pure sample statistics. Inputs and outputs are in the caller's unit (dcpbench uses seconds).

#include <cstddef>
#include <optional>
#include <span>
#include <vector>

namespace dcp {

/// Fewest samples for which a confidence interval of the median is reported.
inline constexpr std::size_t kMinSamplesForCi = 8;

/// A closed interval [low, high].
struct Interval {
  double low = 0;
  double high = 0;
  friend bool operator==(const Interval&, const Interval&) = default;
};

/// Summary of a sample set.
struct SampleStats {
  std::size_t count = 0;
  double min = 0, max = 0, mean = 0;
  double stddev = 0;  ///< Bessel-corrected; 0 for fewer than 2 samples
  double p5 = 0, p50 = 0, p95 = 0, p99 = 0;
  /// 95 % confidence interval of the median from order statistics (distribution-free);
  /// nullopt below kMinSamplesForCi samples.
  std::optional<Interval> median_ci95;

  friend bool operator==(const SampleStats&, const SampleStats&) = default;
};

/// Percentile q in [0, 100] of *sorted* data, linear interpolation between closest ranks
/// (numpy's default). Requires non-empty data.
double percentile_sorted(std::span<const double> sorted, double q);

/// 95 % CI of the median of *sorted* data: the order statistics at ranks
/// n/2 ∓ 1.96·√n/2 (normal approximation to the binomial). nullopt below kMinSamplesForCi.
std::optional<Interval> median_ci95_sorted(std::span<const double> sorted);

/// All statistics of `samples` (any order). Empty input gives count 0 and zeros.
SampleStats summarize(std::span<const double> samples);

/// Ratio a/b of two medians with a conservative interval from their CIs:
/// [a.low / b.high, a.high / b.low]. nullopt interval when either CI is missing.
struct Ratio {
  double value = 0;
  std::optional<Interval> ci95;
  friend bool operator==(const Ratio&, const Ratio&) = default;
};
Ratio ratio_of_medians(const SampleStats& a, const SampleStats& b);

}  // namespace dcp
