#pragma once
/// @file
/// Device-side data of verified `--op reduce` calls: a source rank's inputs from the reduce
/// pattern (merge/reduce_pattern.hpp, the same values as merge::fill_reduce_inputs_host) and
/// the poison of a destination's outputs. The check is merge::DeviceMergeChecker.

#include <cstdint>

#include "core/impl.hpp"
#include "merge/merge_shape.hpp"

namespace dcp::bench {

/// Writes rank `src`'s inputs for input set `call`: partial_o [E, cp, D] (16-bit patterns) and
/// lse [E, cp] fp32, bit-identical to merge::fill_reduce_inputs_host. Checks the launch.
void fill_reduce_inputs_device(const merge::MergeShape& shape, std::uint64_t seed,
                               std::uint32_t call, int src, void* partial_o, void* lse,
                               StreamHandle stream);

/// Sets every bit of out [E, D] and lse_out [E] (NaN patterns, never the merge of the pattern's
/// inputs: a live row's elements are finite and an all-empty row is +0 / -inf).
void poison_reduce_outputs_device(const merge::MergeShape& shape, void* out, void* lse_out,
                                  StreamHandle stream);

}  // namespace dcp::bench
