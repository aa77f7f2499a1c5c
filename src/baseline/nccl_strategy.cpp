// NcclStrategy (baseline/nccl_strategy.hpp).
#include "baseline/nccl_strategy.hpp"

#include <cuda_runtime_api.h>

#include <utility>

#include "core/cuda_check.hpp"
#include "core/error.hpp"
#include "core/fault.hpp"

namespace dcp::baseline {

NcclStrategy::NcclStrategy(std::shared_ptr<NcclContext> ctx) : ctx_(std::move(ctx)) {
  DCP_CHECK(ctx_ != nullptr, "an NCCL strategy needs an NcclContext");
}

std::optional<std::string> NcclStrategy::unsupported_reason(const Case& c) const {
  return nccl_rank_layout_reason(c, ctx_->size());
}

NcclComm& NcclStrategy::begin_setup(const ExchangeSetup& s) {
  DCP_CHECK(!nccl_rank_layout_reason(s.c, ctx_->size()), "NCCL strategy set up for a skipped case");
  DCP_CHECK(s.local_ranks == 1 && s.streams.size() == 1 && s.first_rank == ctx_->rank(),
            "NCCL strategies run one rank per process");
  DCP_CHECK(!s.ring.empty(), "empty ring");
  for (const BufferSet& set : s.ring)
    DCP_CHECK(set.ranks.size() == 1, "NCCL strategies expect one rank per buffer set");
  NcclComm& comm = ctx_->comm();  // collective on first use
  teardown();
  setup_ = s;
  use_alltoall_ = has_alltoall();
  skip_launch_ =
      s.inject && s.inject->kind == FaultKind::kSkipLaunch && s.inject->applies_to(ctx_->rank());
  return comm;
}

void NcclStrategy::warm_up(const std::function<void(cudaStream_t)>& collectives) {
  if (staging_.bytes() > 0) {
    DCP_CUDA_CHECK(cudaMemsetAsync(staging_.get(), 0, staging_.bytes(), stream()));
  }
  collectives(stream());
  wait_stream_bounded(stream(), *ctx_, ctx_->bootstrap().timeout_s(), name() + " warm-up");
  ctx_->comm().check_async(name() + " warm-up");
}

void NcclStrategy::alltoall(const void* send, void* recv, std::size_t count, ncclDataType_t type,
                            cudaStream_t stream) const {
  NcclComm& comm = ctx_->comm();
  if (use_alltoall_) {
    comm.alltoall(send, recv, count, type, stream);
    return;
  }
  std::size_t elem = 1;
  switch (type) {
    case ncclFloat32:
    case ncclInt32:
    case ncclUint32:
      elem = 4;
      break;
    case ncclFloat16:
    case ncclBfloat16:
      elem = 2;
      break;
    default:
      elem = 1;
  }
  const ncclComm_t h = comm.get();
  DCP_NCCL_CHECK(ncclGroupStart());
  // Inside a group the calls only record work; a failure still has to close the group.
  ncclResult_t failed = ncclSuccess;
  const char* failed_call = "";
  for (int peer = 0; peer < comm.size() && failed == ncclSuccess; ++peer) {
    const std::size_t off = static_cast<std::size_t>(peer) * count * elem;
    ncclResult_t r =
        ncclSend(static_cast<const std::byte*>(send) + off, count, type, peer, h, stream);
    if (r != ncclSuccess && r != ncclInProgress) {
      failed = r;
      failed_call = "ncclSend";
      break;
    }
    r = ncclRecv(static_cast<std::byte*>(recv) + off, count, type, peer, h, stream);
    if (r != ncclSuccess && r != ncclInProgress) {
      failed = r;
      failed_call = "ncclRecv";
    }
  }
  const ncclResult_t end = ncclGroupEnd();
  if (failed != ncclSuccess) throw_nccl_error(failed, failed_call, __FILE__, __LINE__, h);
  comm.complete(end, "ncclGroupEnd", __FILE__, __LINE__);
}

void NcclStrategy::run(std::size_t slot) {
  for (std::size_t p = 0; p < parts_.size(); ++p)
    run_part(slot, p);
}

void NcclStrategy::run_part(std::size_t slot, std::size_t part) {
  DCP_CHECK(setup_.has_value(), "NCCL strategy: run() before setup()");
  if (setup_->c.batch == 0 || skip_launch_) return;  // E = 0 moves and merges nothing
  DCP_CHECK(slot < setup_->ring.size() && part < parts_.size(), "NCCL strategy: bad slot or part");
  enqueue_part(slot, part, stream());
}

void NcclStrategy::check() {
  if (!ctx_->has_comm() && !ctx_->aborted()) return;
  ctx_->comm().check_async(name());
}

void NcclStrategy::teardown() {
  release_case();
  staging_.reset();
  setup_.reset();
  detail_.clear();
  parts_.clear();
}

void NcclStrategy::abort_inflight() noexcept {
  ctx_->abort();
}

}  // namespace dcp::baseline
