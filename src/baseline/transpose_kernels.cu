#include "baseline/transpose_kernels.hpp"

#include <cuda_runtime.h>

#include <algorithm>

#include "baseline/copy_units.cuh"
#include "baseline/transpose.hpp"
#include "core/cuda_check.hpp"

namespace dcp::baseline {

namespace {

constexpr int kThreads = 256;
constexpr std::int64_t kMaxBlocks = 4096;

/// One tensor in copy units: `units_per_row` units per row, `units` in the whole tensor.
struct UnitTensor {
  const void* src;
  void* dst;
  std::int64_t units_per_row;
  std::int64_t units;
};

/// Copies destination unit `u` of `t` from where the permutation says it comes from.
template <typename U>
__device__ __forceinline__ void move_unit(Transpose kind, const UnitTensor& t, std::int64_t u,
                                          std::int64_t entries, int cp) {
  const std::int64_t dst_row = u / t.units_per_row;
  const std::int64_t k = u - dst_row * t.units_per_row;
  const std::int64_t src_row = kind == Transpose::kPack ? pack_source_row(dst_row, entries, cp)
                                                        : unpack_source_row(dst_row, entries, cp);
  static_cast<U*>(t.dst)[u] = static_cast<const U*>(t.src)[src_row * t.units_per_row + k];
}

/// Both tensors in one grid-stride loop: partial_o's units first, then softmax_stats'.
/// Written as a gather so the stores of a warp are contiguous.
template <typename UO, typename US>
__global__ void __launch_bounds__(kThreads)
    transpose_kernel(Transpose kind, std::int64_t entries, int cp, UnitTensor o, UnitTensor s) {
  const std::int64_t total = o.units + s.units;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t u = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; u < total;
       u += stride) {
    if (u < o.units) {
      move_unit<UO>(kind, o, u, entries, cp);
    } else {
      move_unit<US>(kind, s, u - o.units, entries, cp);
    }
  }
}

UnitTensor to_units(const TransposeTensor& t, std::int64_t rows, int unit_bytes) {
  if (!t.src || !t.dst || t.row_bytes <= 0) return UnitTensor{nullptr, nullptr, 1, 0};
  const std::int64_t per_row = t.row_bytes / unit_bytes;
  return UnitTensor{t.src, t.dst, per_row, per_row * rows};
}

}  // namespace

void launch_transpose(Transpose kind, std::int64_t entries, int cp, const TransposeTensor& o,
                      const TransposeTensor& stats, StreamHandle stream) {
  const std::int64_t rows = entries * cp;
  const int o_unit = copy_unit_bytes(o.row_bytes);
  const int s_unit = copy_unit_bytes(stats.row_bytes);
  const UnitTensor uo = to_units(o, rows, o_unit);
  const UnitTensor us = to_units(stats, rows, s_unit);
  const std::int64_t total = uo.units + us.units;
  if (total == 0) return;
  const auto blocks =
      static_cast<unsigned>(std::min<std::int64_t>((total + kThreads - 1) / kThreads, kMaxBlocks));
  detail::with_unit(o_unit, [&](auto o_tag) {
    detail::with_unit(s_unit, [&](auto s_tag) {
      using UO = typename decltype(o_tag)::type;
      using US = typename decltype(s_tag)::type;
      transpose_kernel<UO, US><<<blocks, kThreads, 0, stream>>>(kind, entries, cp, uo, us);
    });
  });
  DCP_CUDA_CHECK_LAUNCH();
}

}  // namespace dcp::baseline
