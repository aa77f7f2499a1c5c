#pragma once
/// @file
/// The merge of partial attention outputs with their log-sum-exp (dcp-reduce-spec.md §2): the
/// one routine every exact reduce strategy, the merge kernel and the CPU reference compute.
///
/// For one destination entry with sources s = 0..cp-1, partial outputs o_s[D] (bf16 or fp16)
/// and LSEs l_s (fp32, base e or base 2):
///  1. sanitise: NaN or +inf counts as -inf (an empty shard); -0 becomes +0;
///  2. m = max_s l_s; if m = -inf (every shard empty) the output row is +0 and lse_out = -inf;
///  3. w_s = exp_b(l_s - m) (sub_rn, then exp2_rn or exp_rn), 0 for an empty shard;
///  4. W = sum of w_s in source order 0..cp-1 (add_rn, starting from +0); W >= 1 since the
///     largest source has w = exp_b(0) = 1 exactly;
///  5. scale_s = w_s / W (div_rn) for every source with w_s != 0 (the "live" sources);
///  6. out[k] = round_to_dtype(acc) with acc = -0, then for each live source in order
///     acc = add_rn(acc, mul_rn(scale_s, float(o_s[k]))); -0 is the identity of addition, so
///     the first live source's product passes through unchanged;
///  7. lse_out = add_rn(m, log_b(W)).
/// A source with w_s = 0 is never read: its payload may hold any bits (NaN included).
///
/// Everything is fp32 operations of rounded_ops.hpp, exp/log of exp_log.hpp and integer bit
/// manipulation in a fixed order, so the host and the device produce the same bits. The
/// weights (steps 1-5, 7) are split into per-source steps so that a kernel may compute them in
/// parallel: every step is a pure function of its inputs and the only order-dependent
/// operation, the sum W, is done in source order by every caller. The maximum of step 2 is
/// order-independent (no NaN and no -0 remain after sanitising).
///
/// What holds at cp = 1 with a live shard: out bits == input bits for every element that is not
/// NaN (scale = 1/1 = 1, acc = -0 + 1 x o = o, the conversion back is exact), and lse_out == lse
/// (log_b(1) = +0 exactly) except that -0 becomes +0.
///
/// Accuracy against fp64: every element within element_error_bound() and lse_out within
/// lse_error_bound() (merge/reference.hpp), asserted on random and pattern inputs by
/// tests/unit/merge. On the reduce pattern's inputs (cp 1..64, D 64..512, both types and
/// bases, 14.6M elements) the largest element error was 4.4 bf16 ulps / 2.7 fp16 ulps (where
/// sources of opposite signs cancel; the mean is 0.16 ulp) and the largest lse_out error 3.3
/// fp32 ulps of max(|lse|, 1).
///
/// C++17 and host-compilable: included by CUDA translation units.

#include <cstdint>

#include "core/types.hpp"
#include "merge/exp_log.hpp"
#include "merge/half_convert.hpp"
#include "merge/rounded_ops.hpp"

namespace dcp::merge {

/// Base of the LSE values (and of lse_out): core's enumeration (core/types.hpp).
using LseBase = dcp::LseBase;

/// Most sources the routine handles (the live-source mask is 64 bits).
inline constexpr int kMaxCp = 64;

/// The per-entry result of merge_weights.
struct MergeWeights {
  float lse_out = 0.0f;    ///< m + log_b(W); -inf when every source is empty
  std::uint64_t live = 0;  ///< bit s set: source s has w_s != 0 and its payload is read
};

/// Step 1: NaN and +inf become -inf (an empty shard), -0 becomes +0; other values unchanged.
DCP_HOST_DEVICE DCP_FORCEINLINE float sanitize_lse(float l) {
  const std::uint32_t u = float_bits(l);
  if ((u & 0x7FFFFFFFu) >= 0x7F800000u) return minus_inf();  // NaN or +-inf
  if (u == 0x80000000u) return 0.0f;
  return l;
}

/// Step 2, one comparison: the larger of two sanitised LSEs (commutative and associative on
/// sanitised values).
DCP_HOST_DEVICE DCP_FORCEINLINE float max_lse(float a, float b) {
  return b > a ? b : a;
}

/// Step 3: the weight exp_b(l - m) of a source with sanitised LSE l, m the maximum (> -inf).
DCP_HOST_DEVICE DCP_FORCEINLINE float source_weight(float l, float m, LseBase base) {
  if (l == minus_inf()) return 0.0f;
  const float d = sub_rn(l, m);  // <= 0; -inf if it overflows (l = -FLT_MAX, m = FLT_MAX)
  return base == LseBase::kTwo ? exp2_rn(d) : exp_rn(d);
}

/// Step 7: lse_out = m + log_b(W) for W >= 1.
DCP_HOST_DEVICE DCP_FORCEINLINE float merged_lse(float m, float w_sum, LseBase base) {
  return add_rn(m, base == LseBase::kTwo ? log2_rn(w_sum) : ln_rn(w_sum));
}

/// Steps 1-5 and 7 for one entry. `lse` points at source 0's LSE; source s's is at
/// lse[s * stride] (stride 1 for a [E, cp] tensor, S for element 0 of a [E, cp, S] stats row).
/// Writes scale[0..cp-1] (w_s / W for live sources, 0 otherwise); 1 <= cp <= kMaxCp.
DCP_HOST_DEVICE inline MergeWeights merge_weights(const float* lse, std::int64_t stride, int cp,
                                                  LseBase base, float* scale) {
  float m = minus_inf();
  for (int s = 0; s < cp; ++s) {
    scale[s] = sanitize_lse(lse[s * stride]);  // scale[] holds the sanitised LSEs for now
    m = max_lse(m, scale[s]);
  }
  MergeWeights result;
  if (m == minus_inf()) {
    for (int s = 0; s < cp; ++s)
      scale[s] = 0.0f;
    result.lse_out = minus_inf();
    return result;
  }
  float w_sum = 0.0f;
  for (int s = 0; s < cp; ++s) {
    scale[s] = source_weight(scale[s], m, base);  // now the weights
    w_sum = add_rn(w_sum, scale[s]);
  }
  for (int s = 0; s < cp; ++s) {
    if (scale[s] != 0.0f) {
      scale[s] = div_rn(scale[s], w_sum);
      result.live |= std::uint64_t{1} << s;
    }
  }
  result.lse_out = merged_lse(m, w_sum, base);
  return result;
}

/// Index of the lowest set bit of a non-zero mask.
DCP_HOST_DEVICE DCP_FORCEINLINE int lowest_bit(std::uint64_t mask) {
#if defined(__CUDA_ARCH__)
  return __ffsll(static_cast<long long>(mask)) - 1;
#else
  return __builtin_ctzll(mask);
#endif
}

/// Step 6 for V consecutive elements: `load(s, bits)` fills bits[0..V-1] with source s's V
/// elements (called only for live sources, in source order); writes the V output patterns.
/// Every merge of elements (host reference, kernel, fused kernels) goes through this template,
/// so the accumulation is the same code whatever the load width.
template <int V, class Load>
DCP_HOST_DEVICE DCP_FORCEINLINE void merge_lanes(const float* scale, std::uint64_t live, bool fp16,
                                                 Load&& load, std::uint16_t* out) {
  if (live == 0) {
    for (int j = 0; j < V; ++j)
      out[j] = 0;  // every shard empty: +0
    return;
  }
  float acc[V];
  for (int j = 0; j < V; ++j)
    acc[j] = -0.0f;
  std::uint16_t bits[V];
  for (std::uint64_t rest = live; rest != 0; rest &= rest - 1) {
    const int s = lowest_bit(rest);
    load(s, bits);
    for (int j = 0; j < V; ++j)
      acc[j] = add_rn(acc[j], mul_rn(scale[s], half_to_float(bits[j], fp16)));
  }
  for (int j = 0; j < V; ++j)
    out[j] = float_to_half(acc[j], fp16);
}

/// Step 6 for one element: `o` points at element k of source 0's row, source s's element is at
/// o[s * source_stride]. Returns the output pattern.
DCP_HOST_DEVICE inline std::uint16_t merge_element(const float* scale, std::uint64_t live,
                                                   const std::uint16_t* o,
                                                   std::int64_t source_stride, bool fp16) {
  std::uint16_t out = 0;
  merge_lanes<1>(
      scale, live, fp16, [&](int s, std::uint16_t* bits) { bits[0] = o[s * source_stride]; }, &out);
  return out;
}

/// Step 6 for a row of D elements: `o` points at source 0's row, source s's row starts at
/// o + s * source_stride (D for a [E, cp, D] tensor).
DCP_HOST_DEVICE inline void merge_row(const float* scale, std::uint64_t live,
                                      const std::uint16_t* o, std::int64_t source_stride, int d,
                                      bool fp16, std::uint16_t* out) {
  for (int k = 0; k < d; ++k)
    out[k] = merge_element(scale, live, o + k, source_stride, fp16);
}

/// The whole merge of one entry: o = [cp, D] rows with source stride `source_stride`, lse as in
/// merge_weights; writes out[0..D-1] and returns lse_out.
DCP_HOST_DEVICE inline float merge_entry(const std::uint16_t* o, std::int64_t source_stride,
                                         const float* lse, std::int64_t lse_stride, int cp, int d,
                                         bool fp16, LseBase base, std::uint16_t* out) {
  float scale[kMaxCp];
  const MergeWeights w = merge_weights(lse, lse_stride, cp, base, scale);
  merge_row(scale, w.live, o, source_stride, d, fp16, out);
  return w.lse_out;
}

}  // namespace dcp::merge
