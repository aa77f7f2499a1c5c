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

#include "merge/accuracy.hpp"
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

/// A-priori bound of |out - exact| for one output element (absolute, in the element's units),
/// derived in docs of merge_routine.hpp: half an output ulp at the exact value for the final
/// rounding, plus the fp32 accumulation and weight errors,
///   (2 cp + 8 + max_gap) 2^-24 sum_s w_s |o_s| / W,
/// where max_gap is the largest |l_s - m| over live shards in natural-log units and the sum is
/// the fp64 weighted sum of magnitudes (the condition of the sum).
double element_error_bound(double exact, double abs_weighted_sum, double max_gap, int cp,
                           bool fp16);

/// A-priori bound of |lse_out - exact| (absolute): half an fp32 ulp of the result, the log's
/// own bound (kLogUlpBound ulps of log_b W, plus the rounding of log_b W), and the relative
/// error of W, (2 cp + 8) 2^-24, times log_b(e).
double lse_error_bound(double exact, double w_sum, int cp, LseBase base);

}  // namespace dcp::merge
