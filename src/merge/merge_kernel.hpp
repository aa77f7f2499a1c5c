#pragma once
/// @file
/// The merge kernel: one launch merges every entry of a destination rank's delivered inputs
/// with the routine of merge/merge_routine.hpp, bit-identical to the CPU reference
/// (merge/reference.hpp). Host-compilable; the kernel is in merge_kernel.cu.
///
/// Per CTA (merge/merge_plan.hpp): phase 1, one warp per entry: lane s loads and sanitises the
/// LSEs of sources s and s + 32, a butterfly gives the maximum (order-independent), each lane
/// computes its weights, every lane sums all weights in source order through shuffles (the
/// same sum as the CPU's), the scales go to shared memory and lane 0 writes lse_out. Phase 2,
/// all threads: (entry, chunk) pairs, a chunk = 8 elements loaded with one 16-byte load per
/// live source (or 1 element when D % 8 != 0), accumulated by merge_lanes, stored with one
/// 16-byte store. Sources with weight 0 are never loaded.

#include <cuda_runtime_api.h>

#include "merge/merge_plan.hpp"

namespace dcp::merge {

/// Enqueues the merge of plan.shape() on `stream`. No validation here: the plan validated the
/// shape and the caller checked the buffers once with plan.require_buffers(). Checks the
/// launch (CudaError). E = 0 launches nothing.
void launch_merge(const MergePlan& plan, const MergeBuffers& buffers, cudaStream_t stream);

}  // namespace dcp::merge
