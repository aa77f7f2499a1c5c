#pragma once
/// @file
/// The CPU reference of the DCP reduction: inputs from merge/reduce_pattern.hpp, what the
/// exchange delivers to a destination rank, the merge routine over all entries, and the host
/// checker that compares an output bit for bit with the reference and against fp64.
///
/// Layouts (merge/merge_shape.hpp): a source rank's inputs partial_o [E, cp, D] (row (e, p) for
/// destination p) and lse [E, cp]; a destination's delivered inputs recv_o [E, cp, D] (row
/// (e, s) from source s) and recv_lse [E, cp] (or with an LSE stride); outputs out [E, D] and
/// lse_out [E]. Element patterns are uint16 (bf16 or fp16 by shape.fp16).

#include <cstdint>
#include <vector>

#include "core/accuracy.hpp"
#include "merge/merge_shape.hpp"

namespace dcp::merge {

/// Rank `src`'s inputs for input set `call`: partial_o [E, cp, D] and lse [E, cp].
void fill_reduce_inputs_host(const MergeShape& shape, std::uint64_t seed, std::uint32_t call,
                             int src, std::uint16_t* partial_o, float* lse);

/// What the exchange delivers to rank `dst` for input set `call`: recv_o [E, cp, D] with row
/// (e, s) = source s's row (e, dst), and recv_lse [E, cp].
void delivered_inputs_host(const MergeShape& shape, std::uint64_t seed, std::uint32_t call, int dst,
                           std::uint16_t* recv_o, float* recv_lse);

/// The merge routine over every entry: out [E, D] and lse_out [E] from recv_o [E, cp, D] and
/// the LSE of (e, s) at recv_lse[(e * cp + s) * lse_stride].
void merge_host(const MergeShape& shape, const std::uint16_t* recv_o, const float* recv_lse,
                std::int64_t lse_stride, std::uint16_t* out, float* lse_out);

/// The same over delivered inputs in any layout: source s's row of entry e at
/// recv_o + strides.o_row(e, s), its LSE at recv_lse[strides.lse(e, s)] (what the merge kernel
/// reads for a MergeBuffers with these strides).
void merge_host_strided(const MergeShape& shape, const std::uint16_t* recv_o, const float* recv_lse,
                        const MergeStrides& strides, std::uint16_t* out, float* lse_out);

/// Outputs of one destination rank.
struct MergeOutputs {
  std::vector<std::uint16_t> out;  ///< [E, D]
  std::vector<float> lse_out;      ///< [E]
};

/// The expected outputs of rank `dst` for input set `call` (the routine on the delivered
/// inputs).
MergeOutputs reference_merge(const MergeShape& shape, std::uint64_t seed, std::uint32_t call,
                             int dst);

/// Checks outputs of a merge of the given delivered inputs: bits against the routine's output
/// on the same inputs, errors against fp64 (merge/exact_merge.hpp). `dst` and `call` only label
/// the first difference.
Accuracy check_merge_inputs(const MergeShape& shape, const std::uint16_t* recv_o,
                            const float* recv_lse, std::int64_t lse_stride,
                            const std::uint16_t* out, const float* lse_out, int dst,
                            std::uint32_t call);

/// Checks rank `dst`'s outputs for input set `call` against the reference and fp64.
Accuracy check_merge_host(const MergeShape& shape, std::uint64_t seed, std::uint32_t call, int dst,
                          const std::uint16_t* out, const float* lse_out);

/// A-priori bound of |out - exact| for one output element (absolute, in the element's units):
///   0.5 ulp_out(exact) + (2 cp + 8 + max_gap) 2^-24 sum_s w_s |o_s| / W.
/// The first term is the final rounding to bf16/fp16 (round to nearest of a value within the
/// second term of the exact one). The second bounds the fp32 error of the accumulated value
/// relative to the condition of the sum, sum_s w_s |o_s| / W (fp64 weights): cp - 1 roundings of
/// the sum, one per product and one per scale division, cp - 1 of W, exp's 1.25 ulp (2.5 u)
/// per weight, and the rounding of l_s - m, a relative weight error of up to |l_s - m| u
/// (max_gap = the largest |l_s - m| over live shards, natural-log units); constants rounded up.
/// Without cancellation (all terms of one sign) the second term is far below an output ulp, so
/// the error is about half an ulp; with cancellation it may exceed an ulp of the small result.
double element_error_bound(double exact, double abs_weighted_sum, double max_gap, int cp,
                           bool fp16);

/// A-priori bound of |lse_out - exact| (absolute):
///   0.5 ulp32(exact) + (kLogUlpBound + 0.5) ulp32(log_b W) + (2 cp + 8) 2^-24 log_b(e):
/// the final addition m + log_b(W), the log's own error, and the relative error of W (its cp - 1
/// roundings and its weights' errors), which the log turns into an absolute one.
double lse_error_bound(double exact, double w_sum, int cp, LseBase base);

}  // namespace dcp::merge
