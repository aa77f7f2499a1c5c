#pragma once
/// @file
/// Accuracy: what a check of merged outputs found, against the bit-exact reference (the merge
/// routine on the expected inputs) and against an fp64 computation of the same merge. Plain
/// CUDA-free data in core, so that a run's results carry it: filled by the host checker
/// (merge/reference.hpp) and the device checker (merge/merge_checker.hpp), printed by report/.
///
/// Units (merge/ulp.hpp defines them precisely):
///  - an output element's error is |got - exact| in units of the output type's ulp at the exact
///    value (bf16: 2^(floor(log2|x|) - 7), fp16: 2^(floor(log2|x|) - 10), clamped below at the
///    subnormal spacing 2^-133 resp. 2^-24, so 0 and subnormal values use the subnormal spacing);
///  - lse_out's error is |got - exact| in fp32 ulps at max(|exact|, 1): absolute below 1, since
///    an LSE is a logarithm and its absolute error is the relative error of exp(lse).
/// Equal values count 0 (an lse_out of -inf where every shard is empty included); a NaN, or an
/// infinity where the exact value is finite, counts +inf.

#include <cstdint>
#include <optional>
#include <string>

namespace dcp {

/// The first output value (in entry order, then element order, lse_out after the elements of
/// its row) whose bits differ from the reference.
struct MergeDifference {
  int dst_rank = 0;            ///< rank whose output differs
  std::uint32_t call = 0;      ///< input-set index checked against
  std::int64_t entry = 0;      ///< e = token x heads + head
  int element = 0;             ///< index in the row; -1 = lse_out
  std::uint32_t got_bits = 0;  ///< 16-bit element or 32-bit lse_out pattern found
  std::uint32_t expected_bits = 0;

  friend bool operator==(const MergeDifference&, const MergeDifference&) = default;
};

/// Counts and error statistics of one or more checked merges.
struct Accuracy {
  std::uint64_t rows_checked = 0;      ///< output rows (D elements + lse_out) compared
  std::uint64_t rows_identical = 0;    ///< rows bit-identical to the reference
  std::uint64_t elements_checked = 0;  ///< output elements compared (D per row)
  std::uint64_t values_differing = 0;  ///< elements and lse_outs whose bits differ
  std::uint64_t lse_differing = 0;     ///< lse_outs whose bits differ (within values_differing)
  double ulp_max = 0.0;                ///< largest element error vs fp64, output-type ulps
  double ulp_sum = 0.0;                ///< sum of element errors (mean = / elements_checked)
  double lse_ulp_max = 0.0;            ///< largest lse_out error vs fp64, fp32 ulps (above)
  double lse_ulp_sum = 0.0;            ///< sum of lse_out errors (mean = / rows_checked)
  /// Largest element error vs fp64 in output-type ulps at the magnitude of the merged terms,
  /// A = sum_s w_s |o_s[k]| / W (fp64 weights), instead of at the exact value: A >= |exact|, so
  /// this is at most ulp_max, and it stays meaningful where sources of opposite signs cancel.
  /// The unit of a non-exact strategy's bound (ImplTraits::ulp_bound).
  double cond_ulp_max = 0.0;
  std::optional<MergeDifference> first;  ///< first differing value, if any

  /// True when every checked row equals the reference bit for bit.
  [[nodiscard]] bool identical() const { return rows_identical == rows_checked; }
  /// Mean element error in output-type ulps (0 when nothing was checked).
  [[nodiscard]] double ulp_mean() const;
  /// Mean lse_out error in fp32 ulps (0 when nothing was checked).
  [[nodiscard]] double lse_ulp_mean() const;
  /// Adds `other`'s counts and sums, takes the larger maxima; keeps this record's `first` if it
  /// has one, else `other`'s.
  void merge(const Accuracy& other);
  /// One line for humans: "rows 1024/1024 identical, max 0.73 ulp (mean 0.21), lse max ..."
  /// or the first difference located.
  [[nodiscard]] std::string summary() const;

  friend bool operator==(const Accuracy&, const Accuracy&) = default;
};

}  // namespace dcp
