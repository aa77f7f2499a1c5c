#pragma once
/// @file
/// The ring of input/output sets a case runs on: one device block per (set, local rank) holding
/// that rank's four tensors at offsets identical on every rank (the AllToAllImpl allocation
/// contract in core/impl.hpp), allocated through the implementation's allocator or cudaMalloc.

#include <cstddef>
#include <vector>

#include "core/case.hpp"
#include "core/impl.hpp"
#include "core/shape.hpp"

namespace dcp::bench {

/// Bytes of one rank's four tensors (core/impl.hpp's RankBuffers contract for each op).
struct TensorBytes {
  std::size_t in_o = 0, in_stats = 0, out_o = 0, out_stats = 0;
  /// Op exchange: [E, cp, D] and [E, cp, S] in and out.
  static TensorBytes exchange(const ExchangeShape& s);
  /// Op reduce: partial_o [E, cp, D], lse [E, cp] fp32, out [E, D], lse_out [E] fp32.
  static TensorBytes reduce(const ExchangeShape& s);
  /// The tensors of case `c` for its op.
  static TensorBytes of(const Case& c);
};

/// Offsets of in_o, in_stats, out_o, out_stats inside one block (256-byte aligned).
struct BlockLayout {
  std::size_t in_o = 0, in_stats = 0, out_o = 0, out_stats = 0, total = 0;
  explicit BlockLayout(const TensorBytes& t);
  explicit BlockLayout(const ExchangeShape& s) : BlockLayout(TensorBytes::exchange(s)) {}
};

/// Plain cudaMalloc blocks, for implementations without an allocator of their own.
class CudaMallocAllocator final : public BufferAllocator {
 public:
  void* allocate(std::size_t bytes) override;
  void release(void* ptr) noexcept override;
};

class BufferRing {
 public:
  /// `sets` sets of `local_ranks` blocks each, allocated in set-major order (the same order on
  /// every rank, so collective allocators stay in step).
  BufferRing(const TensorBytes& tensors, int sets, int local_ranks, BufferAllocator& alloc);
  /// The exchange's tensors of `shape`.
  BufferRing(const ExchangeShape& shape, int sets, int local_ranks, BufferAllocator& alloc)
      : BufferRing(TensorBytes::exchange(shape), sets, local_ranks, alloc) {}
  ~BufferRing();
  BufferRing(const BufferRing&) = delete;
  BufferRing& operator=(const BufferRing&) = delete;

  [[nodiscard]] const std::vector<BufferSet>& sets() const { return sets_; }
  [[nodiscard]] const RankBuffers& at(std::size_t set, std::size_t local) const {
    return sets_[set].ranks[local];
  }

 private:
  BlockLayout layout_;
  BufferAllocator& alloc_;
  std::vector<std::byte*> blocks_;
  std::vector<BufferSet> sets_;
};

}  // namespace dcp::bench
