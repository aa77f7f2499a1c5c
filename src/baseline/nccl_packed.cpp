// nccl-packed (baseline/nccl_packed.hpp).
#include "baseline/nccl_packed.hpp"

#include <cuda_runtime_api.h>
#include <fmt/format.h>

#include "baseline/impls.hpp"
#include "baseline/packed_kernels.hpp"
#include "core/cuda_check.hpp"
#include "core/error.hpp"
#include "merge/case_shape.hpp"
#include "merge/merge_kernel.hpp"

namespace dcp::baseline {

namespace {

std::byte* at(const DeviceMemory& m, std::size_t off) {
  return static_cast<std::byte*>(m.get()) + off;
}

}  // namespace

std::string NcclPacked::name() const {
  return std::string(kNcclPackedName);
}

std::optional<std::string> NcclPacked::unsupported_reason(const Case& c) const {
  if (auto why = NcclStrategy::unsupported_reason(c)) return why;
  if (c.op == Op::kReduce) {
    if (const std::string p = merge::MergePlan::problem(merge::merge_shape_of(c)); !p.empty()) {
      return p;
    }
  }
  return std::nullopt;
}

void NcclPacked::setup(const ExchangeSetup& s) {
  begin_setup(s);
  const Case& c = s.c;
  reduce_ = c.op == Op::kReduce;
  layout_ = PackedLayout{c.batch, c.cp_size, c.head_dim, reduce_ ? 1 : c.stats_dim};
  const auto buffer_bytes = static_cast<std::size_t>(layout_.units()) * 2;
  // Staging: send [cp, E, P] | recv [cp, E, P].
  recv_off_ = staging_align(buffer_bytes);
  if (c.batch > 0) staging_ = DeviceMemory(recv_off_ + staging_align(buffer_bytes));
  parts_ = {"pack", "exchange", reduce_ ? "merge" : "unpack"};

  merges_.clear();
  if (reduce_) {
    plan_.emplace(merge::merge_shape_of(c));
    for (const BufferSet& set : s.ring) {
      const RankBuffers& b = set.ranks[0];
      merge::MergeBuffers m;
      const auto* recv = reinterpret_cast<const std::uint16_t*>(at(staging_, recv_off_));
      m.recv_o = recv;
      m.recv_lse = reinterpret_cast<const float*>(recv + layout_.stats_offset());
      m.out = static_cast<std::uint16_t*>(b.out_o);
      m.lse_out = static_cast<float*>(b.out_stats);
      m.strides = layout_.merge_strides();
      if (c.batch > 0) plan_->require_buffers(m);
      merges_.push_back(m);
    }
  }
  if (c.batch > 0) {
    // Zeros from the send half into the receive half of the staging area.
    warm_up([&](cudaStream_t st) {
      alltoall(staging_.get(), at(staging_, recv_off_),
               static_cast<std::size_t>(layout_.peer_units()) * 2, ncclUint8, st);
    });
  }
  detail_ = fmt::format(
      "one {} of packed rows ({} B: D={} elements, {} fp32 stats at element {}, padding to 16 B; "
      "{} B of payload), {}; NCCL {}",
      uses_alltoall() ? "ncclAlltoAll" : "grouped ncclSend/ncclRecv", layout_.row_bytes(),
      c.head_dim, layout_.stats_dim, layout_.stats_offset(), 2 * c.head_dim + 4 * layout_.stats_dim,
      reduce_ ? "then the merge kernel reading the packed rows in place"
              : "then an unpack kernel to [E,cp,D] and [E,cp,S]",
      loaded_nccl_version());
}

void NcclPacked::enqueue_part(std::size_t slot, std::size_t part, cudaStream_t stream) {
  const RankBuffers& b = setup_state().ring[slot].ranks[0];
  switch (part) {
    case 0:
      launch_pack_rows(layout_, b.in_o, b.in_stats, staging_.get(), stream);
      return;
    case 1:
      alltoall(staging_.get(), at(staging_, recv_off_),
               static_cast<std::size_t>(layout_.peer_units()) * 2, ncclUint8, stream);
      return;
    default:
      if (reduce_) {
        merge::launch_merge(*plan_, merges_[slot], stream);
      } else {
        launch_unpack_rows(layout_, at(staging_, recv_off_), b.out_o, b.out_stats, stream);
      }
      return;
  }
}

void NcclPacked::release_case() {
  plan_.reset();
  merges_.clear();
}

}  // namespace dcp::baseline
