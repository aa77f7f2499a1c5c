#pragma once
/// @file
/// The host-API NCCL baselines: nccl-2x, nccl-fused and nccl-1x. They share the communicator of
/// an NcclContext, the staging buffers and the pack/unpack kernels (baseline/transpose.hpp), and
/// differ only in the NCCL calls between pack and unpack.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include <vector>

#include "baseline/nccl_context.hpp"
#include "baseline/transpose_kernels.hpp"
#include "core/cuda_raii.hpp"
#include "core/impl.hpp"

namespace dcp::baseline {

/// Which NCCL calls move the data.
enum class HostPath {
  kTwoAllToAll,  ///< nccl-2x: one ncclAlltoAll per tensor (two NCCL kernels)
  kFused,        ///< nccl-fused: ncclSend/ncclRecv per peer, both tensors, one NCCL group
  kOneAllToAll,  ///< nccl-1x: one ncclAlltoAll of partial_o only (stats untouched)
};

/// Testing aids; the factory uses the defaults.
struct HostPathOptions {
  /// Use grouped ncclSend/ncclRecv even where the library has ncclAlltoAll (the path taken with
  /// libraries older than 2.28).
  bool force_send_recv = false;
  /// Pack and unpack even where the rows for each peer are already contiguous (E == 1 or
  /// cp == 1), so a one-rank test runs the transposes too.
  bool force_transpose = false;
};

class NcclHostAllToAll final : public AllToAllImpl {
 public:
  NcclHostAllToAll(std::shared_ptr<NcclContext> ctx, HostPath path, HostPathOptions options = {});

  [[nodiscard]] std::string name() const override;
  [[nodiscard]] std::optional<std::string> unsupported_reason(const Case& c) const override;
  void setup(const ExchangeSetup& s) override;
  void run(std::size_t slot) override;
  void check() override;
  void teardown() override;
  void abort_inflight() noexcept override;
  [[nodiscard]] std::size_t workspace_bytes() const override;
  [[nodiscard]] std::string detail() const override;

 private:
  /// Device pointers of one tensor's data path: what NCCL sends from and receives into.
  struct Tensor {
    const void* send = nullptr;
    void* recv = nullptr;
    std::size_t peer_count = 0;  ///< elements per peer (E × row elements)
    std::size_t peer_bytes = 0;  ///< bytes per peer
    ncclDataType_t type = ncclUint8;
  };
  /// One call on one ring set, computed in setup(): what run() enqueues, nothing else.
  struct Call {
    Tensor o, stats;                         ///< what NCCL sends from and receives into
    TransposeTensor pack_o, pack_stats;      ///< input rows -> staging (when transposing)
    TransposeTensor unpack_o, unpack_stats;  ///< staging -> output rows (when transposing)
  };
  /// Enqueues the NCCL calls moving `o` (and `stats` unless nccl-1x) on `stream`.
  void exchange(const Tensor& o, const Tensor& stats, cudaStream_t stream) const;
  /// Grouped ncclSend/ncclRecv of the given tensors, one send and one receive per peer each.
  void send_recv_group(const Tensor* const* tensors, int count, cudaStream_t stream) const;
  [[nodiscard]] bool moves_stats() const { return path_ != HostPath::kOneAllToAll; }

  std::shared_ptr<NcclContext> ctx_;
  HostPath path_;
  HostPathOptions options_;

  // Per case (setup .. teardown).
  std::optional<ExchangeSetup> setup_;
  std::vector<Call> calls_;  ///< per ring set; empty for E = 0
  bool transpose_ = false;
  bool use_alltoall_ = false;
  bool skip_launch_ = false;  ///< fault injection: this rank never launches
  DeviceMemory staging_;      ///< send_o | send_stats | recv_o | recv_stats when transposing
  std::size_t send_stats_off_ = 0, recv_o_off_ = 0, recv_stats_off_ = 0;
  std::string detail_;
};

}  // namespace dcp::baseline
