#pragma once
/// @file
/// Test helper (GPU): the reduce pattern's inputs of one source rank written on the device
/// (merge/reduce_pattern.hpp, the same functions as merge::fill_reduce_inputs_host), and poison
/// for the reduce outputs, so that sim tests can feed fresh inputs to every call without host
/// copies. Host-compilable declarations; the kernels are in direct_reduce_fill.cu.

#include <cuda_runtime_api.h>

#include <cstdint>

#include "merge/merge_shape.hpp"

namespace dcp::testing {

/// Rank `src`'s partial_o [E, cp, D] and lse [E, cp] for input set `call`.
void fill_reduce_inputs_device(const merge::MergeShape& shape, std::uint64_t seed,
                               std::uint32_t call, int src, void* partial_o, void* lse,
                               cudaStream_t stream);

/// Poison (all bits set) into out [E, D] and lse_out [E].
void poison_reduce_outputs_device(const merge::MergeShape& shape, void* out, void* lse_out,
                                  cudaStream_t stream);

}  // namespace dcp::testing
