#include "baseline/nccl_alltoall.hpp"

#include <cuda_runtime_api.h>

#include <cassert>
#include <utility>

#include <fmt/format.h>

#include "baseline/impls.hpp"
#include "baseline/transpose.hpp"
#include "core/cuda_check.hpp"
#include "core/error.hpp"
#include "core/fault.hpp"
#include "core/shape.hpp"

namespace dcp::baseline {

namespace {

constexpr std::size_t kAlign = 256;

std::size_t align_up(std::size_t v) {
  return (v + kAlign - 1) / kAlign * kAlign;
}

ncclDataType_t o_type(DType d) {
  return d == DType::kFp16 ? ncclFloat16 : ncclBfloat16;
}

const std::byte* offset(const void* p, std::size_t bytes) {
  return static_cast<const std::byte*>(p) + bytes;
}
std::byte* offset(void* p, std::size_t bytes) {
  return static_cast<std::byte*>(p) + bytes;
}

}  // namespace

NcclHostAllToAll::NcclHostAllToAll(std::shared_ptr<NcclContext> ctx, HostPath path,
                                   HostPathOptions options)
    : ctx_(std::move(ctx)), path_(path), options_(options) {
  DCP_CHECK(ctx_ != nullptr, "NcclHostAllToAll needs an NcclContext");
}

std::string NcclHostAllToAll::name() const {
  switch (path_) {
    case HostPath::kTwoAllToAll:
      return std::string(kNccl2xName);
    case HostPath::kFused:
      return std::string(kNcclFusedName);
    case HostPath::kOneAllToAll:
      return std::string(kNccl1xName);
  }
  return "nccl-?";
}

std::optional<std::string> NcclHostAllToAll::unsupported_reason(const Case& c) const {
  return nccl_rank_layout_reason(c, ctx_->size());
}

void NcclHostAllToAll::setup(const ExchangeSetup& s) {
  const Case& c = s.c;
  DCP_CHECK(!nccl_rank_layout_reason(c, ctx_->size()), "NCCL baseline set up for a skipped case");
  DCP_CHECK(s.local_ranks == 1 && s.streams.size() == 1 && s.first_rank == ctx_->rank(),
            "NCCL baselines run one rank per process");
  DCP_CHECK(!s.ring.empty(), "empty ring");
  for (const BufferSet& set : s.ring)
    DCP_CHECK(set.ranks.size() == 1, "NCCL baselines expect one rank per buffer set");

  NcclComm& comm = ctx_->comm();  // collective on first use
  teardown();
  setup_ = s;

  const std::int64_t entries = c.batch;
  const int cp = c.cp_size;
  transpose_ = entries > 0 && (needs_transpose(entries, cp) || options_.force_transpose);
  use_alltoall_ = path_ != HostPath::kFused && has_alltoall() && !options_.force_send_recv;
  skip_launch_ =
      s.inject && s.inject->kind == FaultKind::kSkipLaunch && s.inject->applies_to(ctx_->rank());

  const ExchangeShape shape{cp, entries, c.head_dim, c.stats_dim, c.dtype == DType::kFp16};
  const auto o_bytes = static_cast<std::size_t>(shape.o_bytes());
  const auto stats_bytes = moves_stats() ? static_cast<std::size_t>(shape.stats_bytes()) : 0;
  send_stats_off_ = align_up(o_bytes);
  recv_o_off_ = send_stats_off_ + align_up(stats_bytes);
  recv_stats_off_ = recv_o_off_ + align_up(o_bytes);
  const std::size_t staging_bytes = recv_stats_off_ + align_up(stats_bytes);

  // Warm-up on scratch buffers (never on the runner's poisoned outputs): NCCL connects peers on
  // first use, and doing that here keeps it out of the first timed call and out of any CUDA
  // graph capture. The scratch is the staging area when transposing, a temporary one otherwise.
  if (entries > 0) {
    DeviceMemory scratch(staging_bytes);
    const Tensor o{scratch.get(), offset(scratch.get(), recv_o_off_),
                   static_cast<std::size_t>(entries) * static_cast<std::size_t>(c.head_dim),
                   static_cast<std::size_t>(entries * shape.o_row_bytes()), o_type(c.dtype)};
    const Tensor st{offset(scratch.get(), send_stats_off_), offset(scratch.get(), recv_stats_off_),
                    static_cast<std::size_t>(entries) * static_cast<std::size_t>(c.stats_dim),
                    static_cast<std::size_t>(entries * shape.stats_row_bytes()), ncclFloat32};
    DCP_CUDA_CHECK(cudaMemsetAsync(scratch.get(), 0, staging_bytes, s.streams[0]));
    exchange(o, st, s.streams[0]);
    wait_stream_bounded(s.streams[0], *ctx_, ctx_->bootstrap().timeout_s(),
                        name() + " warm-up exchange");
    comm.check_async(name() + " warm-up exchange");
    if (transpose_) staging_ = std::move(scratch);
  }

  std::string how;
  switch (path_) {
    case HostPath::kTwoAllToAll:
      how = use_alltoall_ ? "2x ncclAlltoAll (partial_o, then softmax_stats)"
                          : "2x grouped ncclSend/ncclRecv to every peer (partial_o, then "
                            "softmax_stats)";
      break;
    case HostPath::kFused:
      how = "ncclSend/ncclRecv to every peer for both tensors in one ncclGroupStart/End";
      break;
    case HostPath::kOneAllToAll:
      how = use_alltoall_ ? "1x ncclAlltoAll of partial_o only (softmax_stats not moved)"
                          : "grouped ncclSend/ncclRecv of partial_o only (softmax_stats not moved)";
      break;
  }
  if (path_ != HostPath::kFused && !use_alltoall_ && !has_alltoall()) {
    how += fmt::format(" [NCCL {} has no ncclAlltoAll]", loaded_nccl_version());
  }
  std::string layout;
  if (entries == 0) {
    layout = "E=0: nothing to move";
  } else if (transpose_) {
    layout = fmt::format(
        "E={}: rows for one peer are strided, so one fused kernel packs [E,cp,X]->[cp,E,X] before "
        "and one unpacks [cp,E,X]->[E,cp,X] after",
        entries);
    if (!needs_transpose(entries, cp)) layout += " (forced)";
  } else {
    layout = fmt::format(
        "{}: each peer's rows are contiguous, NCCL moves the tensors in place, no transposes",
        cp == 1 ? "cp=1" : "E=1");
  }
  detail_ = fmt::format("{}; {}; NCCL {}", how, layout, loaded_nccl_version());
  if (skip_launch_) detail_ += "; fault injection: this rank skips the launch";

  // Every call's arguments, once: run() only enqueues.
  calls_.clear();
  if (entries > 0) {
    const auto o_row = static_cast<std::int64_t>(c.o_row_bytes());
    const auto stats_row = static_cast<std::int64_t>(c.stats_row_bytes());
    for (const BufferSet& set : s.ring) {
      const RankBuffers& b = set.ranks[0];
      Call k;
      k.o = Tensor{b.in_o, b.out_o,
                   static_cast<std::size_t>(entries) * static_cast<std::size_t>(c.head_dim),
                   static_cast<std::size_t>(entries * o_row), o_type(c.dtype)};
      k.stats = Tensor{b.in_stats, b.out_stats,
                       static_cast<std::size_t>(entries) * static_cast<std::size_t>(c.stats_dim),
                       static_cast<std::size_t>(entries * stats_row), ncclFloat32};
      if (transpose_) {
        k.o.send = staging_.get();
        k.o.recv = offset(staging_.get(), recv_o_off_);
        k.stats.send = offset(staging_.get(), send_stats_off_);
        k.stats.recv = offset(staging_.get(), recv_stats_off_);
        k.pack_o = TransposeTensor{b.in_o, const_cast<void*>(k.o.send), o_row};
        k.unpack_o = TransposeTensor{k.o.recv, b.out_o, o_row};
        if (moves_stats()) {
          k.pack_stats = TransposeTensor{b.in_stats, const_cast<void*>(k.stats.send), stats_row};
          k.unpack_stats = TransposeTensor{k.stats.recv, b.out_stats, stats_row};
        }
      }
      calls_.push_back(k);
    }
  }
}

void NcclHostAllToAll::run(std::size_t slot) {
  // Everything was computed and checked in setup(); E = 0 moves nothing.
  DCP_CHECK(setup_.has_value(), "NCCL baseline: run() before setup()");
  if (calls_.empty() || skip_launch_) return;
  assert(slot < calls_.size());
  const Call& k = calls_[slot];
  const cudaStream_t stream = setup_->streams[0];
  const std::int64_t entries = setup_->c.batch;
  const int cp = setup_->c.cp_size;
  if (transpose_) launch_transpose(Transpose::kPack, entries, cp, k.pack_o, k.pack_stats, stream);
  exchange(k.o, k.stats, stream);
  if (transpose_) {
    launch_transpose(Transpose::kUnpack, entries, cp, k.unpack_o, k.unpack_stats, stream);
  }
}

void NcclHostAllToAll::exchange(const Tensor& o, const Tensor& stats, cudaStream_t stream) const {
  NcclComm& comm = ctx_->comm();
  switch (path_) {
    case HostPath::kTwoAllToAll:
      if (use_alltoall_) {
        comm.alltoall(o.send, o.recv, o.peer_count, o.type, stream);
        comm.alltoall(stats.send, stats.recv, stats.peer_count, stats.type, stream);
      } else {
        const Tensor* first[] = {&o};
        const Tensor* second[] = {&stats};
        send_recv_group(first, 1, stream);
        send_recv_group(second, 1, stream);
      }
      return;
    case HostPath::kFused: {
      const Tensor* both[] = {&o, &stats};
      send_recv_group(both, 2, stream);
      return;
    }
    case HostPath::kOneAllToAll:
      if (use_alltoall_) {
        comm.alltoall(o.send, o.recv, o.peer_count, o.type, stream);
      } else {
        const Tensor* only[] = {&o};
        send_recv_group(only, 1, stream);
      }
      return;
  }
}

void NcclHostAllToAll::send_recv_group(const Tensor* const* tensors, int count,
                                       cudaStream_t stream) const {
  NcclComm& comm = ctx_->comm();
  const ncclComm_t h = comm.get();
  DCP_NCCL_CHECK(ncclGroupStart());
  // Inside a group the calls only record work; a failure still has to close the group.
  ncclResult_t failed = ncclSuccess;
  const char* failed_call = "";
  for (int peer = 0; peer < comm.size() && failed == ncclSuccess; ++peer) {
    const auto first = static_cast<std::size_t>(peer);
    for (int t = 0; t < count && failed == ncclSuccess; ++t) {
      const Tensor& x = *tensors[t];
      ncclResult_t r =
          ncclSend(offset(x.send, first * x.peer_bytes), x.peer_count, x.type, peer, h, stream);
      if (r != ncclSuccess && r != ncclInProgress) {
        failed = r;
        failed_call = "ncclSend";
        break;
      }
      r = ncclRecv(offset(x.recv, first * x.peer_bytes), x.peer_count, x.type, peer, h, stream);
      if (r != ncclSuccess && r != ncclInProgress) {
        failed = r;
        failed_call = "ncclRecv";
      }
    }
  }
  const ncclResult_t end = ncclGroupEnd();
  if (failed != ncclSuccess) throw_nccl_error(failed, failed_call, __FILE__, __LINE__, h);
  comm.complete(end, "ncclGroupEnd", __FILE__, __LINE__);
}

void NcclHostAllToAll::check() {
  if (!ctx_->has_comm() && !ctx_->aborted()) return;
  ctx_->comm().check_async(name());
}

void NcclHostAllToAll::teardown() {
  calls_.clear();
  staging_.reset();
  setup_.reset();
  detail_.clear();
}

void NcclHostAllToAll::abort_inflight() noexcept {
  ctx_->abort();
}

std::size_t NcclHostAllToAll::workspace_bytes() const {
  return staging_.bytes();
}

std::string NcclHostAllToAll::detail() const {
  return detail_;
}

}  // namespace dcp::baseline
