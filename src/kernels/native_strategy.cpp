#include "kernels/native_strategy.hpp"

#include <cuda_runtime_api.h>

#include <cassert>
#include <cstdint>

#include <fmt/format.h>

#include "core/cuda_check.hpp"
#include "core/error.hpp"
#include "kernels/impls.hpp"
#include "merge/merge_kernel.hpp"

namespace dcp::kernels {

namespace {

constexpr std::size_t kAlign = 256;

std::size_t align_up(std::size_t v) {
  return (v + kAlign - 1) / kAlign * kAlign;
}

/// Why a reduce case cannot run natively (empty when it can): the LSE travels as stats of width
/// 1, and the merge needs a base.
std::string reduce_problem(const Case& c) {
  if (c.stats_dim != 1) {
    return fmt::format("native: op reduce moves one LSE per row (stats_dim 1), got stats_dim={}",
                       c.stats_dim);
  }
  if (!c.lse_base) return "native: op reduce needs an LSE base (accepted: e|2)";
  return {};
}

merge::MergeShape merge_shape(const Case& c) {
  merge::MergeShape m;
  m.cp = c.cp_size;
  m.entries = c.batch;
  m.head_dim = c.head_dim;
  m.fp16 = c.dtype == DType::kFp16;
  m.base = c.lse_base.value_or(LseBase::kE);
  return m;
}

}  // namespace

NativeStrategy::NativeStrategy(const World* world, NativeOptions options)
    : exchange_(world, options) {}

NativeStrategy::~NativeStrategy() {
  // The receive buffers must outlive any merge still in flight (after a host-side timeout).
  if (!recv_.empty()) DCP_CUDA_CHECK_NOEXCEPT(cudaDeviceSynchronize());
}

std::string NativeStrategy::name() const {
  return std::string(kNativeName);
}

std::optional<std::string> NativeStrategy::unsupported_reason(const Case& c) const {
  if (c.op == Op::kReduce) {
    if (std::string p = reduce_problem(c); !p.empty()) return p;
    if (std::string p = merge::MergePlan::problem(merge_shape(c)); !p.empty()) return p;
  }
  return exchange_.unsupported_reason(c);
}

void NativeStrategy::setup(const ExchangeSetup& s) {
  teardown();
  reduce_ = s.c.op == Op::kReduce;
  if (!reduce_) {
    exchange_.setup(s);
    return;
  }
  if (std::string p = reduce_problem(s.c); !p.empty()) throw ConfigError(p);
  merge_plan_.emplace(merge_shape(s.c));  // validates (ConfigError)
  const auto local = static_cast<std::size_t>(s.local_ranks);
  DCP_CHECK(s.streams.size() == local, "native: one stream per local rank");
  const ExchangeShape shape = s.c.shape();
  const auto o_bytes = static_cast<std::size_t>(shape.o_bytes());
  const auto lse_bytes = static_cast<std::size_t>(shape.stats_bytes());
  // Rounded so that E = 0 still gets distinct non-null pointers.
  recv_bytes_ = align_up(o_bytes + 1) + align_up(lse_bytes + 1);
  for (std::size_t i = 0; i < local; ++i)
    recv_.emplace_back(recv_bytes_);

  // The exchange delivers into the receive buffers; the merge reads them and writes the outputs.
  ExchangeSetup x = s;
  ring_size_ = s.ring.size();
  for (std::size_t k = 0; k < ring_size_; ++k) {
    DCP_CHECK(s.ring[k].ranks.size() == local, "native: every ring set has one entry per rank");
    for (std::size_t i = 0; i < local; ++i) {
      auto* base = static_cast<std::byte*>(recv_[i].get());
      x.ring[k].ranks[i].out_o = base;
      x.ring[k].ranks[i].out_stats = base + align_up(o_bytes + 1);
    }
  }
  merge_buffers_.clear();
  for (std::size_t i = 0; i < local; ++i) {
    for (std::size_t k = 0; k < ring_size_; ++k) {
      merge::MergeBuffers b;
      b.recv_o = static_cast<const std::uint16_t*>(x.ring[k].ranks[i].out_o);
      b.recv_lse = static_cast<const float*>(x.ring[k].ranks[i].out_stats);
      b.lse_stride = 1;
      b.out = static_cast<std::uint16_t*>(s.ring[k].ranks[i].out_o);
      b.lse_out = static_cast<float*>(s.ring[k].ranks[i].out_stats);
      merge_plan_->require_buffers(b);  // once per buffer set, never per call
      merge_buffers_.push_back(b);
    }
  }
  streams_ = s.streams;
  exchange_.setup(x);
}

void NativeStrategy::enqueue_merge(std::size_t slot) {
  assert(slot < ring_size_);
  for (std::size_t i = 0; i < streams_.size(); ++i) {
    merge::launch_merge(*merge_plan_, merge_buffers_[i * ring_size_ + slot], streams_[i]);
  }
}

void NativeStrategy::run(std::size_t slot) {
  enqueue_exchange(slot);
  if (reduce_) enqueue_merge(slot);
}

std::vector<std::string> NativeStrategy::parts() const {
  if (!reduce_) return {};
  return {"exchange", "merge"};
}

void NativeStrategy::run_part(std::size_t slot, std::size_t part) {
  if (!reduce_) {
    run(slot);
    return;
  }
  DCP_CHECK(part < 2, "native: part index out of range");
  if (part == 0) {
    enqueue_exchange(slot);
  } else {
    enqueue_merge(slot);
  }
}

void NativeStrategy::teardown() {
  exchange_.teardown();
  if (!recv_.empty()) DCP_CUDA_CHECK(cudaDeviceSynchronize());
  recv_.clear();
  merge_buffers_.clear();
  merge_plan_.reset();
  streams_.clear();
  recv_bytes_ = 0;
  ring_size_ = 0;
  reduce_ = false;
}

std::size_t NativeStrategy::workspace_bytes() const {
  return exchange_.workspace_bytes() + (reduce_ ? recv_bytes_ : 0);
}

std::string NativeStrategy::detail() const {
  if (!reduce_) return exchange_.detail();
  return fmt::format("{}; then merge ctas={} recv_buffer={}", exchange_.detail(),
                     merge_plan_->ctas(), recv_bytes_);
}

}  // namespace dcp::kernels
