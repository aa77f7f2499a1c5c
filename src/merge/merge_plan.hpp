#pragma once
/// @file
/// MergePlan: the validated launch geometry of the merge kernel for one shape, computed once
/// (in a strategy's setup) so that a launch does no checking. CUDA-free: host-only builds test
/// it; the launch itself is merge/merge_kernel.hpp.
///
/// Geometry: CTAs of kThreads threads, each owning entries_per_cta() consecutive entries. Phase
/// 1: one warp per entry computes the weights (lane s holds sources s and s + 32), the sum in
/// source order, the scales into shared memory and lse_out. Phase 2: all threads of the CTA
/// merge (entry, chunk) pairs, a chunk being vector_width() consecutive elements (8 = one
/// 16-byte load per live source, when D % 8 == 0; else 1).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "merge/merge_shape.hpp"

namespace dcp::merge {

/// Device buffers of one merge launch (shapes in merge/merge_shape.hpp).
struct MergeBuffers {
  const std::uint16_t* recv_o = nullptr;  ///< [E, cp, D]; 16-byte aligned for vector_width 8
  const float* recv_lse = nullptr;        ///< LSE of (e, s) at [(e * cp + s) * lse_stride]
  std::int64_t lse_stride = 1;            ///< 1 for [E, cp]; S for element 0 of [E, cp, S]
  std::uint16_t* out = nullptr;           ///< [E, D]; 16-byte aligned for vector_width 8
  float* lse_out = nullptr;               ///< [E]
  /// Another layout of the delivered inputs (merge_shape.hpp); nullopt = the contiguous one
  /// above (recv_o [E, cp, D], LSE at (e * cp + s) * lse_stride), and lse_stride is then unused.
  std::optional<MergeStrides> strides;
};

class MergePlan {
 public:
  /// Threads per CTA (8 warps).
  static constexpr int kThreads = 256;
  /// Most entries one CTA owns.
  static constexpr int kMaxEntriesPerCta = 32;
  /// Largest D accepted.
  static constexpr int kMaxHeadDim = 1 << 16;

  /// Validates `shape` (ConfigError naming the field and the accepted values) and computes the
  /// geometry.
  explicit MergePlan(const MergeShape& shape);

  /// Why `shape` cannot be merged; empty when it can.
  static std::string problem(const MergeShape& shape);
  /// The strides `buffers` are read with: buffers.strides, or the contiguous layout.
  [[nodiscard]] MergeStrides strides(const MergeBuffers& buffers) const;
  /// Why `buffers` cannot be used with this plan (null pointers, LSE stride < 1, negative
  /// strides, misaligned vectors); empty when they can. Call once per buffer set, not per launch.
  [[nodiscard]] std::string buffers_problem(const MergeBuffers& buffers) const;
  /// Throws dcp::Error with buffers_problem() when it is not empty.
  void require_buffers(const MergeBuffers& buffers) const;

  [[nodiscard]] const MergeShape& shape() const { return shape_; }
  /// Elements per chunk: 8 (16-byte vectors) or 1.
  [[nodiscard]] int vector_width() const { return vector_width_; }
  [[nodiscard]] int entries_per_cta() const { return entries_per_cta_; }
  /// CTAs of the grid (0 when E = 0: nothing to launch).
  [[nodiscard]] std::int64_t ctas() const { return ctas_; }
  /// Dynamic shared memory per CTA: live masks (8 B) and scales (4 B x cp) per entry.
  [[nodiscard]] std::size_t shared_bytes() const;

 private:
  MergeShape shape_;
  int vector_width_ = 1;
  int entries_per_cta_ = 1;
  std::int64_t ctas_ = 0;
};

}  // namespace dcp::merge
