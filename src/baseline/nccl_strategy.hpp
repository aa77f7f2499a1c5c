#pragma once
/// @file
/// NcclStrategy: what the NCCL strategies of `--op reduce` (nccl-2x's reduce, nccl-packed,
/// nccl-ag-rs) share: the job's communicator, one rank per process, a staging area of their own,
/// the parts they are made of (run() = every part in order), the bounded warm-up, the checks
/// and the abort. Each strategy's own file says what its parts enqueue.

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "baseline/nccl_context.hpp"
#include "core/cuda_raii.hpp"
#include "core/impl.hpp"

namespace dcp::baseline {

class NcclStrategy : public AllToAllImpl {
 public:
  explicit NcclStrategy(std::shared_ptr<NcclContext> ctx);

  /// NCCL's rank layout (one GPU per rank, cp = job size).
  [[nodiscard]] std::optional<std::string> unsupported_reason(const Case& c) const override;
  /// The parts the strategy named in setup() (never empty for these strategies).
  [[nodiscard]] std::vector<std::string> parts() const override { return parts_; }
  /// Every part in order.
  void run(std::size_t slot) override;
  void run_part(std::size_t slot, std::size_t part) final;
  void check() override;
  void teardown() override;
  void abort_inflight() noexcept override;
  [[nodiscard]] std::size_t workspace_bytes() const override { return staging_.bytes(); }
  [[nodiscard]] std::string detail() const override { return detail_; }

 protected:
  /// Checks the setup (one local rank, ring non-empty, NCCL's layout), tears the previous case
  /// down, keeps `s`, creates the communicator on first use (collective) and reads the fault
  /// injection. Returns the communicator.
  NcclComm& begin_setup(const ExchangeSetup& s);
  /// Runs `collectives` (NCCL calls on the staging area only, never on the runner's outputs) on
  /// this rank's stream and waits for it, bounded: NCCL connects peers on first use, and this
  /// keeps that out of the first timed call and out of any graph capture.
  void warm_up(const std::function<void(cudaStream_t)>& collectives);
  /// `count` elements of `type` to and from every peer: send/recv [cp, count] (chunk p for rank
  /// p). ncclAlltoAll where the library has it, else grouped ncclSend/ncclRecv.
  void alltoall(const void* send, void* recv, std::size_t count, ncclDataType_t type,
                cudaStream_t stream) const;
  /// Enqueues part `part` of a call on ring set `slot` (E > 0, not skipped).
  virtual void enqueue_part(std::size_t slot, std::size_t part, cudaStream_t stream) = 0;
  /// Releases what the strategy made in setup() besides the staging area.
  virtual void release_case() {}

  [[nodiscard]] const ExchangeSetup& setup_state() const { return *setup_; }
  [[nodiscard]] cudaStream_t stream() const { return setup_->streams[0]; }
  [[nodiscard]] NcclContext& ctx() const { return *ctx_; }
  [[nodiscard]] bool uses_alltoall() const { return use_alltoall_; }

  DeviceMemory staging_;  ///< the strategy's own buffers (workspace_bytes)
  std::string detail_;
  std::vector<std::string> parts_;  ///< set by the strategy's setup()

 private:
  std::shared_ptr<NcclContext> ctx_;
  std::optional<ExchangeSetup> setup_;
  bool use_alltoall_ = false;
  bool skip_launch_ = false;  ///< fault injection: this rank never launches
};

/// Rounds `bytes` up to 256 (the offsets of staging tensors).
constexpr std::size_t staging_align(std::size_t bytes) {
  return (bytes + 255) / 256 * 256;
}

}  // namespace dcp::baseline
