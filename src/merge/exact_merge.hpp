#pragma once
/// @file
/// The merge of dcp-reduce-spec.md §2 computed in fp64 (the "exact" value errors are measured
/// against): same sanitising (NaN and +inf LSE = empty shard), then in double
/// m = max l_s, w_s = exp_b(l_s - m) with the libm (host) or CUDA (device) double functions,
/// W = sum w_s, out[k] = sum_s w_s o_s[k] / W, lse_out = m + log_b(W). Empty shards are never
/// read. Every live shard counts, including those whose fp32 weight underflows to 0 (their fp64
/// weight is tiny but not zero).
///
/// Host and device may differ in the last bits of a double (libm vs CUDA exp/log, and FMA
/// contraction of fp64 code on the device); errors computed against either agree to about
/// 1e-12 relative. This file is not part of the exact path: it may use any double arithmetic.
///
/// C++17 and host-compilable: included by CUDA translation units.

#include <math.h>

#include <cstdint>

#include "core/host_device.hpp"
#include "merge/half_convert.hpp"
#include "merge/merge_routine.hpp"

namespace dcp::merge {

/// The fp64 weights of one entry.
struct ExactWeights {
  double max_lse = 0.0;  ///< m (sanitised maximum); -inf when every shard is empty
  double w_sum = 0.0;    ///< W = sum of the fp64 weights; 0 when every shard is empty
  double lse_out = 0.0;  ///< m + log_b(W); -inf when every shard is empty
};

/// Computes the fp64 weights w[0..cp-1] (0 for empty shards) of one entry whose LSEs are at
/// lse[s * stride]; 1 <= cp <= kMaxCp.
DCP_HOST_DEVICE inline ExactWeights exact_weights(const float* lse, std::int64_t stride, int cp,
                                                  LseBase base, double* w) {
  ExactWeights r;
  bool any = false;
  for (int s = 0; s < cp; ++s) {
    const float l = sanitize_lse(lse[s * stride]);
    if (l == minus_inf()) continue;
    const double ld = static_cast<double>(l);
    if (!any || ld > r.max_lse) r.max_lse = ld;
    any = true;
  }
  if (!any) {
    for (int s = 0; s < cp; ++s)
      w[s] = 0.0;
    r.max_lse = static_cast<double>(minus_inf());
    r.lse_out = r.max_lse;
    return r;
  }
  for (int s = 0; s < cp; ++s) {
    const float l = sanitize_lse(lse[s * stride]);
    if (l == minus_inf()) {
      w[s] = 0.0;
      continue;
    }
    const double d = static_cast<double>(l) - r.max_lse;
    w[s] = base == LseBase::kTwo ? ::exp2(d) : ::exp(d);
    r.w_sum += w[s];
  }
  r.lse_out = r.max_lse + (base == LseBase::kTwo ? ::log2(r.w_sum) : ::log(r.w_sum));
  return r;
}

/// The fp64 value of one output element; `o_bits(s)` returns source s's element pattern and is
/// called only for sources with w[s] != 0. 0 when W == 0.
template <class Load>
DCP_HOST_DEVICE inline double exact_element(const double* w, double w_sum, int cp, bool fp16,
                                            Load&& o_bits) {
  if (w_sum == 0.0) return 0.0;
  double acc = 0.0;
  for (int s = 0; s < cp; ++s) {
    if (w[s] != 0.0) acc += w[s] * static_cast<double>(half_to_float(o_bits(s), fp16));
  }
  return acc / w_sum;
}

/// The fp64 value of one output element and the magnitude of its terms.
struct ExactElement {
  double value = 0.0;      ///< sum_s w_s o_s / W (0 when W == 0)
  double magnitude = 0.0;  ///< sum_s w_s |o_s| / W (0 when W == 0): the unit of cond_ulp_max
};

/// exact_element() and the magnitude of its terms in one pass over the sources.
template <class Load>
DCP_HOST_DEVICE inline ExactElement exact_element_terms(const double* w, double w_sum, int cp,
                                                        bool fp16, Load&& o_bits) {
  ExactElement r;
  if (w_sum == 0.0) return r;
  for (int s = 0; s < cp; ++s) {
    if (w[s] == 0.0) continue;
    const double t = w[s] * static_cast<double>(half_to_float(o_bits(s), fp16));
    r.value += t;
    r.magnitude += t < 0 ? -t : t;
  }
  r.value /= w_sum;
  r.magnitude /= w_sum;
  return r;
}

/// The same with source s's element at o[s * source_stride].
DCP_HOST_DEVICE inline double exact_element(const double* w, double w_sum, int cp,
                                            const std::uint16_t* o, std::int64_t source_stride,
                                            bool fp16) {
  return exact_element(w, w_sum, cp, fp16, [&](int s) { return o[s * source_stride]; });
}

}  // namespace dcp::merge
