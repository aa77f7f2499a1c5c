#pragma once
/// @file
/// The pack/unpack kernels of the host-API NCCL baselines (see baseline/transpose.hpp for the
/// index math): one fused launch moves both tensors. CUDA-free header.

#include <cstdint>

#include "core/impl.hpp"

namespace dcp::baseline {

/// Which permutation a launch applies to every tensor it is given.
enum class Transpose {
  kPack,    ///< [E, cp, X] -> [cp, E, X] (before the all-to-all)
  kUnpack,  ///< [cp(src), E, X] -> [E, cp(src), X] (after the all-to-all)
};

/// One tensor to permute: `rows` = E × cp rows of `row_bytes` bytes, from `src` to `dst` (device
/// memory, distinct, 256-byte aligned). A tensor with null pointers or no rows is skipped.
struct TransposeTensor {
  const void* src = nullptr;
  void* dst = nullptr;
  std::int64_t row_bytes = 0;
};

/// Enqueues one kernel on `stream` that applies `kind` to both tensors of an exchange with
/// `entries` = E >= 1 entries and `cp` ranks (partial_o and softmax_stats; `stats` may be empty).
/// Throws CudaError when the launch fails.
void launch_transpose(Transpose kind, std::int64_t entries, int cp, const TransposeTensor& o,
                      const TransposeTensor& stats, StreamHandle stream);

}  // namespace dcp::baseline
