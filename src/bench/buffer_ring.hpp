#pragma once
/// @file
/// The ring of input/output sets a case runs on: one device block per (set, local rank) holding
/// that rank's four tensors at offsets identical on every rank (the AllToAllImpl allocation
/// contract in core/impl.hpp), allocated through the implementation's allocator or cudaMalloc.

#include <cstddef>
#include <vector>

#include "core/impl.hpp"
#include "core/shape.hpp"

namespace dcp::bench {

/// Offsets of in_o, in_stats, out_o, out_stats inside one block (256-byte aligned).
struct BlockLayout {
  std::size_t in_o = 0, in_stats = 0, out_o = 0, out_stats = 0, total = 0;
  explicit BlockLayout(const ExchangeShape& s);
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
  BufferRing(const ExchangeShape& shape, int sets, int local_ranks, BufferAllocator& alloc);
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
