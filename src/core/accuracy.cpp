// Accuracy's arithmetic and its one-line summary (core/accuracy.hpp).
#include "core/accuracy.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace dcp {

double Accuracy::ulp_mean() const {
  return elements_checked == 0 ? 0.0 : ulp_sum / static_cast<double>(elements_checked);
}

double Accuracy::lse_ulp_mean() const {
  return rows_checked == 0 ? 0.0 : lse_ulp_sum / static_cast<double>(rows_checked);
}

void Accuracy::merge(const Accuracy& other) {
  rows_checked += other.rows_checked;
  rows_identical += other.rows_identical;
  elements_checked += other.elements_checked;
  values_differing += other.values_differing;
  lse_differing += other.lse_differing;
  ulp_max = std::max(ulp_max, other.ulp_max);
  ulp_sum += other.ulp_sum;
  lse_ulp_max = std::max(lse_ulp_max, other.lse_ulp_max);
  lse_ulp_sum += other.lse_ulp_sum;
  cond_ulp_max = std::max(cond_ulp_max, other.cond_ulp_max);
  if (!first && other.first) first = other.first;
}

std::string Accuracy::summary() const {
  std::string s = fmt::format(
      "rows {}/{} identical to the reference; vs fp64: max {:.3g} ulp (mean {:.3g}; max {:.3g} "
      "ulp of the terms), lse_out max {:.3g} ulp (mean {:.3g})",
      rows_identical, rows_checked, ulp_max, ulp_mean(), cond_ulp_max, lse_ulp_max, lse_ulp_mean());
  if (first) {
    const MergeDifference& f = *first;
    s += fmt::format("; first difference: rank {} call {} entry {} {} got {:#x} expected {:#x}",
                     f.dst_rank, f.call, f.entry,
                     f.element < 0 ? std::string("lse_out") : fmt::format("element {}", f.element),
                     f.got_bits, f.expected_bits);
  }
  return s;
}

}  // namespace dcp
