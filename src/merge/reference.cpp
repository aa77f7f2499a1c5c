// The CPU reference of the DCP reduction and its host checker (merge/reference.hpp).
#include "merge/reference.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "core/pattern.hpp"
#include "merge/exact_merge.hpp"
#include "merge/merge_routine.hpp"
#include "merge/reduce_pattern.hpp"
#include "merge/ulp.hpp"

namespace dcp::merge {

namespace {

std::size_t index(std::int64_t i) {
  return static_cast<std::size_t>(i);
}

}  // namespace

void fill_reduce_inputs_host(const MergeShape& shape, std::uint64_t seed, std::uint32_t call,
                             int src, std::uint16_t* partial_o, float* lse) {
  for (std::int64_t e = 0; e < shape.entries; ++e) {
    for (int p = 0; p < shape.cp; ++p) {
      pattern::Coord c{seed,
                       call,
                       static_cast<std::uint32_t>(src),
                       static_cast<std::uint32_t>(p),
                       static_cast<std::uint64_t>(e),
                       0};
      const std::int64_t row = e * shape.cp + p;
      lse[row] = reduce_lse(c, shape.base);
      for (int k = 0; k < shape.head_dim; ++k) {
        c.element = static_cast<std::uint32_t>(k);
        partial_o[index(row * shape.head_dim + k)] = reduce_o_bits(c, shape.fp16);
      }
    }
  }
}

void delivered_inputs_host(const MergeShape& shape, std::uint64_t seed, std::uint32_t call, int dst,
                           std::uint16_t* recv_o, float* recv_lse) {
  for (std::int64_t e = 0; e < shape.entries; ++e) {
    for (int s = 0; s < shape.cp; ++s) {
      pattern::Coord c{seed,
                       call,
                       static_cast<std::uint32_t>(s),
                       static_cast<std::uint32_t>(dst),
                       static_cast<std::uint64_t>(e),
                       0};
      const std::int64_t row = e * shape.cp + s;
      recv_lse[row] = reduce_lse(c, shape.base);
      for (int k = 0; k < shape.head_dim; ++k) {
        c.element = static_cast<std::uint32_t>(k);
        recv_o[index(row * shape.head_dim + k)] = reduce_o_bits(c, shape.fp16);
      }
    }
  }
}

void merge_host(const MergeShape& shape, const std::uint16_t* recv_o, const float* recv_lse,
                std::int64_t lse_stride, std::uint16_t* out, float* lse_out) {
  const std::int64_t d = shape.head_dim;
  for (std::int64_t e = 0; e < shape.entries; ++e) {
    lse_out[e] =
        merge_entry(recv_o + e * shape.cp * d, d, recv_lse + e * shape.cp * lse_stride, lse_stride,
                    shape.cp, shape.head_dim, shape.fp16, shape.base, out + e * d);
  }
}

void merge_host_strided(const MergeShape& shape, const std::uint16_t* recv_o, const float* recv_lse,
                        const MergeStrides& strides, std::uint16_t* out, float* lse_out) {
  const std::int64_t d = shape.head_dim;
  for (std::int64_t e = 0; e < shape.entries; ++e) {
    lse_out[e] = merge_entry(recv_o + strides.o_row(e, 0), strides.o_source,
                             recv_lse + strides.lse(e, 0), strides.lse_source, shape.cp,
                             shape.head_dim, shape.fp16, shape.base, out + e * d);
  }
}

MergeOutputs reference_merge(const MergeShape& shape, std::uint64_t seed, std::uint32_t call,
                             int dst) {
  std::vector<std::uint16_t> recv_o(index(shape.recv_o_elements()));
  std::vector<float> recv_lse(index(shape.entries * shape.cp));
  delivered_inputs_host(shape, seed, call, dst, recv_o.data(), recv_lse.data());
  MergeOutputs r;
  r.out.resize(index(shape.out_elements()));
  r.lse_out.resize(index(shape.entries));
  merge_host(shape, recv_o.data(), recv_lse.data(), 1, r.out.data(), r.lse_out.data());
  return r;
}

Accuracy check_merge_inputs(const MergeShape& shape, const std::uint16_t* recv_o,
                            const float* recv_lse, std::int64_t lse_stride,
                            const std::uint16_t* out, const float* lse_out, int dst,
                            std::uint32_t call) {
  const int cp = shape.cp;
  const int d = shape.head_dim;
  Accuracy acc;
  std::vector<std::uint16_t> expected(index(d));
  std::vector<double> w(index(cp));
  for (std::int64_t e = 0; e < shape.entries; ++e) {
    const std::uint16_t* o = recv_o + e * cp * d;
    const float* lse = recv_lse + e * cp * lse_stride;
    const float want_lse =
        merge_entry(o, d, lse, lse_stride, cp, d, shape.fp16, shape.base, expected.data());
    const ExactWeights exact = exact_weights(lse, lse_stride, cp, shape.base, w.data());
    bool row_identical = true;
    for (int k = 0; k < d; ++k) {
      const std::uint16_t got = out[e * d + k];
      if (got != expected[index(k)]) {
        row_identical = false;
        ++acc.values_differing;
        if (!acc.first) acc.first = MergeDifference{dst, call, e, k, got, expected[index(k)]};
      }
      const ExactElement x = exact_element_terms(w.data(), exact.w_sum, cp, shape.fp16,
                                                 [&](int s) { return o[s * d + k]; });
      const double err = element_error_ulps(got, x.value, shape.fp16);
      acc.ulp_max = std::max(acc.ulp_max, err);
      acc.ulp_sum += err;
      acc.cond_ulp_max =
          std::max(acc.cond_ulp_max, element_error_ulps_at(got, x.value, x.magnitude, shape.fp16));
    }
    const float got_lse = lse_out[e];
    if (float_bits(got_lse) != float_bits(want_lse)) {
      row_identical = false;
      ++acc.values_differing;
      ++acc.lse_differing;
      if (!acc.first) {
        acc.first = MergeDifference{dst, call, e, -1, float_bits(got_lse), float_bits(want_lse)};
      }
    }
    const double lse_err = lse_error_ulps(got_lse, exact.lse_out);
    acc.lse_ulp_max = std::max(acc.lse_ulp_max, lse_err);
    acc.lse_ulp_sum += lse_err;
    acc.elements_checked += static_cast<std::uint64_t>(d);
    ++acc.rows_checked;
    if (row_identical) ++acc.rows_identical;
  }
  return acc;
}

Accuracy check_merge_host(const MergeShape& shape, std::uint64_t seed, std::uint32_t call, int dst,
                          const std::uint16_t* out, const float* lse_out) {
  std::vector<std::uint16_t> recv_o(index(shape.recv_o_elements()));
  std::vector<float> recv_lse(index(shape.entries * shape.cp));
  delivered_inputs_host(shape, seed, call, dst, recv_o.data(), recv_lse.data());
  return check_merge_inputs(shape, recv_o.data(), recv_lse.data(), 1, out, lse_out, dst, call);
}

double element_error_bound(double exact, double abs_weighted_sum, double max_gap, int cp,
                           bool fp16) {
  const double u = 0x1p-24;
  return 0.5 * ulp_at(exact, fp16 ? kFp16Format : kBf16Format) +
         (2.0 * cp + 8.0 + max_gap) * u * abs_weighted_sum;
}

double lse_error_bound(double exact, double w_sum, int cp, LseBase base) {
  const double u = 0x1p-24;
  const double log_w = base == LseBase::kTwo ? std::log2(w_sum) : std::log(w_sum);
  const double log_b_e = base == LseBase::kTwo ? 1.4426950408889634 : 1.0;
  return 0.5 * ulp_at(exact, kFp32Format) + (kLogUlpBound + 0.5) * ulp_at(log_w, kFp32Format) +
         (2.0 * cp + 8.0) * u * log_b_e;
}

}  // namespace dcp::merge
