#pragma once
/// @file
/// The pack and unpack kernels of nccl-packed (layout and index math: baseline/packed_rows.hpp).
/// CUDA-free header.

#include <cstdint>

#include "baseline/packed_rows.hpp"
#include "core/impl.hpp"

namespace dcp::baseline {

/// Enqueues the pack of in_o [E, cp, D] and in_stats [E, cp, S] fp32 into send [cp, E, P]
/// (padding zeroed). E = 0 launches nothing. Throws CudaError when the launch fails.
void launch_pack_rows(const PackedLayout& layout, const void* in_o, const void* in_stats,
                      void* send, StreamHandle stream);

/// Enqueues the unpack of recv [cp, E, P] into out_o [E, cp, D] and out_stats [E, cp, S] (op
/// exchange). E = 0 launches nothing. Throws CudaError when the launch fails.
void launch_unpack_rows(const PackedLayout& layout, const void* recv, void* out_o, void* out_stats,
                        StreamHandle stream);

}  // namespace dcp::baseline
