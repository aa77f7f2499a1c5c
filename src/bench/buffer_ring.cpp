#include "bench/buffer_ring.hpp"

#include <cuda_runtime_api.h>

#include <algorithm>

#include "core/cuda_check.hpp"

namespace dcp::bench {

namespace {
constexpr std::size_t kAlign = 256;
std::size_t align_up(std::size_t v) {
  return (v + kAlign - 1) / kAlign * kAlign;
}
}  // namespace

TensorBytes TensorBytes::exchange(const ExchangeShape& s) {
  const auto o = static_cast<std::size_t>(s.o_bytes());
  const auto st = static_cast<std::size_t>(s.stats_bytes());
  return TensorBytes{o, st, o, st};
}

TensorBytes TensorBytes::reduce(const ExchangeShape& s) {
  const auto entries = static_cast<std::size_t>(s.entries);
  const auto rows = static_cast<std::size_t>(s.rows());
  const auto row = static_cast<std::size_t>(s.o_row_bytes());
  return TensorBytes{rows * row, rows * sizeof(float), entries * row, entries * sizeof(float)};
}

TensorBytes TensorBytes::of(const Case& c) {
  return c.op == Op::kReduce ? reduce(c.shape()) : exchange(c.shape());
}

BlockLayout::BlockLayout(const TensorBytes& t) {
  in_o = 0;
  in_stats = align_up(t.in_o);
  out_o = in_stats + align_up(t.in_stats);
  out_stats = out_o + align_up(t.out_o);
  total = std::max(kAlign, out_stats + align_up(t.out_stats));
}

void* CudaMallocAllocator::allocate(std::size_t bytes) {
  void* p = nullptr;
  DCP_CUDA_CHECK(cudaMalloc(&p, bytes));
  return p;
}

void CudaMallocAllocator::release(void* ptr) noexcept {
  DCP_CUDA_CHECK_NOEXCEPT(cudaFree(ptr));
}

BufferRing::BufferRing(const TensorBytes& tensors, int sets, int local_ranks,
                       BufferAllocator& alloc)
    : layout_(tensors), alloc_(alloc) {
  sets_.resize(static_cast<std::size_t>(sets));
  for (auto& set : sets_) {
    for (int l = 0; l < local_ranks; ++l) {
      auto* base = static_cast<std::byte*>(alloc_.allocate(layout_.total));
      blocks_.push_back(base);
      set.ranks.push_back(RankBuffers{base + layout_.in_o, base + layout_.in_stats,
                                      base + layout_.out_o, base + layout_.out_stats});
    }
  }
}

BufferRing::~BufferRing() {
  for (auto it = blocks_.rbegin(); it != blocks_.rend(); ++it)
    alloc_.release(*it);
}

}  // namespace dcp::bench
