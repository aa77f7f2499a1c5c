#pragma once
/// @file
/// The arithmetic of nccl-ag-rs (vLLM's default `ag_rs` DCP path, SGLang's default): every rank
/// all-gathers the LSEs, rescales its own partial outputs by its weight in the merge, and a
/// ncclReduceScatter sums the rescaled rows in the output dtype.
///
/// On rank r, for every entry e and destination p (gathered LSEs of (e, p) from every source s at
/// gathered[(s * E + e) * cp + p], a stride of E cp):
///   scale = w_r / W from merge::merge_weights (the routine's fp32 scales, bit-identical to the
///           reference's), 0 when source r's shard is empty or its weight underflows;
///   term  = round_to_dtype(mul_rn(scale, o_r[k])), or +0 when scale = 0 (the payload is then
///           never read: it may be garbage);
///   lse_out[e] (p = r only) = the routine's lse_out: bit-identical to the reference.
/// NCCL then sums the cp terms of each element in the output dtype, in an order of its choosing
/// (ring, tree or NVLS; it may differ between elements and runs).
///
/// Error bound (what ImplTraits::ulp_bound = 2 states, in ulps per source): let A = sum_s w_s
/// |o_s[k]| / W (fp64 weights) be the magnitude of the terms and U the output type's ulp at A
/// (Accuracy::cond_ulp_max's unit). Every term and every partial sum has magnitude below 2A (the
/// roundings add at most a few 2^-8 relative), so each of the cp roundings of a term to the
/// output type and each of the cp - 1 roundings of a partial sum, whatever the order and whether
/// NCCL adds in fp32 first (a double rounding: at most 0.5 output ulp plus 0.5 fp32 ulp), is at
/// most U. The fp32 scales' error relative to fp64 (merge/reference.hpp's element_error_bound:
/// (2 cp + 8 + gap) 2^-24 A) is below 0.04 U for cp <= 64 and gaps <= 120. Hence
///   |out - exact| <= (2 cp - 1 + 0.04) U < 2 cp U,
/// independent of the summation order and of cancellation between sources (an error in ulps at
/// the exact value cannot be bounded: with cancellation the exact value may be near 0). The CPU
/// emulation in tests/unit/baseline_ag_rs_test.cpp sums the terms in every order (cp <= 4) and
/// in sampled and pairwise-tree orders (cp up to 16) and checks the bound.
///
/// C++17 and host-compilable: the kernels (ag_rs_kernels.cu) and CPU tests use these functions.

#include <cstdint>

#include "core/host_device.hpp"
#include "merge/half_convert.hpp"
#include "merge/merge_routine.hpp"
#include "merge/rounded_ops.hpp"

namespace dcp::baseline {

/// Largest element error of nccl-ag-rs, in output-type ulps of the terms' magnitude per source
/// (the row's ImplTraits::ulp_bound; the check is error <= kAgRsUlpBound x cp).
inline constexpr int kAgRsUlpBound = 2;

/// The scale of rank `rank`'s partial output for one (e, p): LSEs of source s at
/// lse[s * stride]. Writes the merged LSE to *lse_out when lse_out is not null.
DCP_HOST_DEVICE inline float ag_rs_scale(const float* lse, std::int64_t stride, int cp, int rank,
                                         merge::LseBase base, float* lse_out) {
  float scale[merge::kMaxCp];
  const merge::MergeWeights w = merge::merge_weights(lse, stride, cp, base, scale);
  if (lse_out) *lse_out = w.lse_out;
  return (w.live >> rank) & 1u ? scale[rank] : 0.0f;
}

/// One rescaled element in the output type: +0 for scale 0 (o_bits not read).
DCP_HOST_DEVICE DCP_FORCEINLINE std::uint16_t ag_rs_term(float scale, const std::uint16_t* o_bits,
                                                         bool fp16) {
  if (scale == 0.0f) return 0;
  return merge::float_to_half(merge::mul_rn(scale, merge::half_to_float(*o_bits, fp16)), fp16);
}

/// One addition of a reduction in the output type, as NCCL's reduce kernels do it: both values
/// widened to fp32, added (rounded to fp32), rounded to the output type.
DCP_HOST_DEVICE DCP_FORCEINLINE std::uint16_t add_in_dtype(std::uint16_t a, std::uint16_t b,
                                                           bool fp16) {
  return merge::float_to_half(
      merge::add_rn(merge::half_to_float(a, fp16), merge::half_to_float(b, fp16)), fp16);
}

}  // namespace dcp::baseline
