#pragma once
/// @file
/// CPU model of one call of the fused LL128 exchange+merge kernel (native-fused): the kernel's
/// data path, run sequentially on the host with the kernel's own index functions
/// (fused_reduce_layout.hpp) and the merge routine, so that CI checks it without a GPU.
///
/// For one destination rank: every source's stream of every CTA is assembled lane by lane
/// (gather_lane), checked against the reference packer's line (ll128::pack_line of the stream's
/// payload computed independently from the tensors), written into an emulated FIFO at
/// stream_line_offset (which must stay inside the pair's FIFO of that CTA and never hit a line
/// twice), read back with its flag checked, staged lane by lane (stage_lane) and merged
/// (staged_weights, staged_chunk). What it cannot show: concurrency (the kernel's waits, flow
/// control, the ordering of stores and loads); the GPU test does.

#include <cstdint>

#include "kernels/fused_plan.hpp"
#include "kernels/ll128_layout.hpp"
#include "merge/reference.hpp"

namespace dcp::kernels::fused {

/// Rank `dst`'s outputs of one native-fused call with input set `call` of the reduce pattern
/// (merge/reduce_pattern.hpp), sequence numbers starting at `base_seq` on every (pair, CTA).
/// Throws dcp::Error naming the CTA, source and line when a line differs from the reference
/// packer's, carries the wrong flag, or lands outside its FIFO or on a line used twice.
merge::MergeOutputs model_fused_reduce(const FusedPlan& plan, const merge::MergeShape& shape,
                                       const ll128::Geometry& geometry, std::uint64_t seed,
                                       std::uint32_t call, int dst, std::uint64_t base_seq);

}  // namespace dcp::kernels::fused
