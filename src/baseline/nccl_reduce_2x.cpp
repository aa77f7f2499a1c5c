// nccl-2x for --op reduce (baseline/nccl_reduce_2x.hpp).
#include "baseline/nccl_reduce_2x.hpp"

#include <cuda_runtime_api.h>
#include <fmt/format.h>

#include "baseline/impls.hpp"
#include "baseline/transpose.hpp"
#include "baseline/transpose_kernels.hpp"
#include "core/cuda_check.hpp"
#include "core/error.hpp"
#include "merge/case_shape.hpp"
#include "merge/merge_kernel.hpp"

namespace dcp::baseline {

namespace {

ncclDataType_t o_type(DType d) {
  return d == DType::kFp16 ? ncclFloat16 : ncclBfloat16;
}

std::byte* at(const DeviceMemory& m, std::size_t off) {
  return static_cast<std::byte*>(m.get()) + off;
}

}  // namespace

std::string NcclReduce2x::name() const {
  return std::string(kNccl2xName);
}

std::optional<std::string> NcclReduce2x::unsupported_reason(const Case& c) const {
  if (auto why = NcclStrategy::unsupported_reason(c)) return why;
  if (const std::string p = merge::MergePlan::problem(merge::merge_shape_of(c)); !p.empty()) {
    return p;
  }
  return std::nullopt;
}

void NcclReduce2x::setup(const ExchangeSetup& s) {
  begin_setup(s);
  const Case& c = s.c;
  DCP_CHECK(c.op == Op::kReduce, "NcclReduce2x runs --op reduce only");
  const std::int64_t entries = c.batch;
  const int cp = c.cp_size;
  const auto e = static_cast<std::size_t>(entries);
  const std::size_t o_bytes = e * static_cast<std::size_t>(cp) * c.o_row_bytes();
  const std::size_t lse_bytes = e * static_cast<std::size_t>(cp) * sizeof(float);
  transpose_ = needs_transpose(entries, cp);
  // Staging: [send_o | send_lse] when transposing, then recv_o [cp, E, D] | recv_lse [cp, E].
  const std::size_t send_bytes = transpose_ ? staging_align(o_bytes) + staging_align(lse_bytes) : 0;
  send_lse_off_ = staging_align(o_bytes);
  recv_o_off_ = send_bytes;
  recv_lse_off_ = recv_o_off_ + staging_align(o_bytes);
  if (entries > 0) staging_ = DeviceMemory(recv_lse_off_ + staging_align(lse_bytes));

  const merge::MergeShape shape = merge::merge_shape_of(c);
  plan_.emplace(shape);
  parts_ = {"exchange", "merge"};
  merges_.clear();
  for (const BufferSet& set : s.ring) {
    const RankBuffers& b = set.ranks[0];
    merge::MergeBuffers m;
    m.recv_o = reinterpret_cast<const std::uint16_t*>(at(staging_, recv_o_off_));
    m.recv_lse = reinterpret_cast<const float*>(at(staging_, recv_lse_off_));
    m.out = static_cast<std::uint16_t*>(b.out_o);
    m.lse_out = static_cast<float*>(b.out_stats);
    m.strides = merge::MergeStrides{c.head_dim, entries * c.head_dim, 1, entries};
    if (entries > 0) plan_->require_buffers(m);
    merges_.push_back(m);
  }
  if (entries > 0) {
    const std::size_t o_count = e * static_cast<std::size_t>(c.head_dim);
    // Zeros from a scratch buffer into the staging area (never the runner's outputs).
    DeviceMemory scratch(staging_align(o_bytes) + staging_align(lse_bytes));
    warm_up([&](cudaStream_t st) {
      DCP_CUDA_CHECK(cudaMemsetAsync(scratch.get(), 0, scratch.bytes(), st));
      alltoall(scratch.get(), at(staging_, recv_o_off_), o_count, o_type(c.dtype), st);
      alltoall(at(scratch, staging_align(o_bytes)), at(staging_, recv_lse_off_), e, ncclFloat32,
               st);
    });
  }
  detail_ = fmt::format(
      "{} of partial_o then the LSE{}, then the merge kernel reading [cp,E,D] and [cp,E] in "
      "place; NCCL {}",
      uses_alltoall() ? "ncclAlltoAll" : "grouped ncclSend/ncclRecv",
      transpose_ ? " (one kernel packs [E,cp,X] -> [cp,E,X] first: a peer's rows are strided)" : "",
      loaded_nccl_version());
}

void NcclReduce2x::enqueue_part(std::size_t slot, std::size_t part, cudaStream_t stream) {
  const Case& c = setup_state().c;
  const RankBuffers& b = setup_state().ring[slot].ranks[0];
  const auto e = static_cast<std::size_t>(c.batch);
  if (part == 0) {
    const void* send_o = b.in_o;
    const void* send_lse = b.in_stats;
    if (transpose_) {
      void* so = at(staging_, 0);
      void* sl = at(staging_, send_lse_off_);
      launch_transpose(Transpose::kPack, c.batch, c.cp_size,
                       TransposeTensor{b.in_o, so, static_cast<std::int64_t>(c.o_row_bytes())},
                       TransposeTensor{b.in_stats, sl, static_cast<std::int64_t>(sizeof(float))},
                       stream);
      send_o = so;
      send_lse = sl;
    }
    alltoall(send_o, at(staging_, recv_o_off_), e * static_cast<std::size_t>(c.head_dim),
             o_type(c.dtype), stream);
    alltoall(send_lse, at(staging_, recv_lse_off_), e, ncclFloat32, stream);
  } else {
    merge::launch_merge(*plan_, merges_[slot], stream);
  }
}

void NcclReduce2x::release_case() {
  plan_.reset();
  merges_.clear();
}

}  // namespace dcp::baseline
