#pragma once
/// @file
/// NativeStrategy: the `native` registry row for both operations.
///
///  - op exchange: exactly NativeAllToAll (the LL128 exchange kernel), one launch per rank.
///  - op reduce: two launches per rank and call, the parts {"exchange", "merge"}:
///      1. the LL128 exchange of partial_o [E, cp, D] with the LSE as stats of width S = 1
///         (packed two per stream word, ll128_layout.hpp) into an internal receive buffer per
///         local rank: recv_o [E, cp, D] (row (e, s) from source s) and recv_lse [E, cp];
///      2. the merge kernel (merge/merge_kernel.hpp) from the receive buffer into out [E, D] and
///         lse_out [E], with the one merge routine, so the outputs are bit-identical to the CPU
///         reference (merge/reference.hpp).
///    One receive buffer per local rank serves every ring slot: a rank's calls are ordered on its
///    stream (the merge is launched without PDL, so it starts after the exchange grid completed,
///    and the next exchange's griddepcontrol.wait returns only after the merge completed), and
///    only that rank's own kernels touch its receive buffer.
///
/// Everything else (workspace, plan agreement, timeouts and their forensics, min_fresh_calls)
/// is NativeAllToAll's.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "core/cuda_raii.hpp"
#include "core/impl.hpp"
#include "core/world.hpp"
#include "kernels/native_alltoall.hpp"
#include "merge/merge_plan.hpp"

namespace dcp::kernels {

class NativeStrategy final : public AllToAllImpl {
 public:
  explicit NativeStrategy(const World* world, NativeOptions options = {});
  ~NativeStrategy() override;

  [[nodiscard]] std::string name() const override;
  [[nodiscard]] std::optional<std::string> unsupported_reason(const Case& c) const override;
  void setup(const ExchangeSetup& s) override;
  void run(std::size_t slot) override;
  /// {"exchange", "merge"} for op reduce; empty (one part) for op exchange.
  [[nodiscard]] std::vector<std::string> parts() const override;
  void run_part(std::size_t slot, std::size_t part) override;
  void check() override { exchange_.check(); }
  void teardown() override;
  void abort_inflight() noexcept override { exchange_.abort_inflight(); }
  [[nodiscard]] std::uint64_t min_fresh_calls() const override {
    return exchange_.min_fresh_calls();
  }
  /// The LL128 workspace plus, for op reduce, the receive buffer (E x cp x (2 D + 4) bytes).
  [[nodiscard]] std::size_t workspace_bytes() const override;
  [[nodiscard]] std::string detail() const override;

  /// The exchange underneath (tests inspect its parameters).
  [[nodiscard]] const NativeAllToAll& exchange() const { return exchange_; }

 private:
  void enqueue_exchange(std::size_t slot) { exchange_.run(slot); }
  void enqueue_merge(std::size_t slot);

  NativeAllToAll exchange_;
  bool reduce_ = false;
  std::optional<merge::MergePlan> merge_plan_;
  std::vector<StreamHandle> streams_;
  std::vector<DeviceMemory> recv_;  ///< per local rank: recv_o, then recv_lse (256-B aligned)
  std::size_t recv_bytes_ = 0;      ///< bytes of one rank's receive buffer
  /// Merge buffers per (local rank i, ring slot k) at i * ring_size_ + k.
  std::vector<merge::MergeBuffers> merge_buffers_;
  std::size_t ring_size_ = 0;
};

}  // namespace dcp::kernels
