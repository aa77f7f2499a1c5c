#pragma once
/// @file
/// The local kernels of nccl-ag-rs (arithmetic: baseline/ag_rs_math.hpp). CUDA-free header.

#include <cstdint>

#include "core/impl.hpp"
#include "merge/merge_shape.hpp"

namespace dcp::baseline {

/// Enqueues the weights of rank `rank`: for every (e, p) of `shape` (E entries, cp ranks),
/// scale[e * cp + p] = ag_rs_scale(gathered + e * cp + p, stride E cp, ...) from the all-gathered
/// LSEs gathered [cp(src), E, cp(dst)], and lse_out[e] = the merged LSE of (e, rank).
/// E = 0 launches nothing. Throws CudaError when the launch fails.
void launch_ag_rs_weights(const merge::MergeShape& shape, int rank, const float* gathered,
                          float* scale, float* lse_out, StreamHandle stream);

/// Enqueues the rescale of partial_o [E, cp, D] into terms [cp, E, D] (the reduce-scatter's send
/// buffer: chunk p for rank p): terms[p, e, k] = ag_rs_term(scale[e * cp + p], partial_o[e, p, k]).
/// E = 0 launches nothing. Throws CudaError when the launch fails.
void launch_ag_rs_rescale(const merge::MergeShape& shape, const float* scale, const void* partial_o,
                          void* terms, StreamHandle stream);

}  // namespace dcp::baseline
