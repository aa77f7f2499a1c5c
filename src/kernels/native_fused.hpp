#pragma once
/// @file
/// NativeFused: the `native-fused` registry row, --op reduce only. One launch per rank and call
/// (fused_reduce.hpp): the LL128 exchange of partial_o and the LSE and the merge of the entries
/// each CTA owns, bit-identical to the CPU reference.
///
/// The LL128 workspace, its initialisation and row-order checks, plan agreement across ranks,
/// the error records, check() with its FIFO forensics and the collective reset after a timeout
/// are NativeAllToAll's: setup() sets up an inner NativeAllToAll on the same case (which never
/// launches) and takes the workspace segments, geometry, ranks and timeout from its parameters.
/// The fused kernel keeps the same counter records per (peer, FIFO), with FIFO = CTA, so the
/// hang report reads them as channels.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/impl.hpp"
#include "core/world.hpp"
#include "kernels/fused_plan.hpp"
#include "kernels/fused_reduce.hpp"
#include "kernels/native_alltoall.hpp"

namespace dcp::kernels {

class NativeFused final : public AllToAllImpl {
 public:
  explicit NativeFused(const World* world, NativeOptions options = {});

  [[nodiscard]] std::string name() const override;
  [[nodiscard]] std::optional<std::string> unsupported_reason(const Case& c) const override;
  void setup(const ExchangeSetup& s) override;
  void run(std::size_t slot) override;
  /// NativeAllToAll::check() on this kernel's error records (same format, channel = CTA); after
  /// a timeout run() refuses until setup() performed the collective reset.
  void check() override;
  void teardown() override;
  void abort_inflight() noexcept override {
    failed_ = true;
    exchange_.abort_inflight();
  }
  /// ceil(2 x depth / s) calls, s the fewest slots a CTA's stream takes per call: every slot of
  /// every FIFO the kernel uses is rewritten at least twice with fresh data.
  [[nodiscard]] std::uint64_t min_fresh_calls() const override { return fresh_calls_; }
  [[nodiscard]] std::size_t workspace_bytes() const override { return exchange_.workspace_bytes(); }
  [[nodiscard]] std::string detail() const override;

  /// The fused plan of `c` run by `local_ranks` ranks of this process (queries the device), or
  /// the one-line reason it cannot run.
  [[nodiscard]] fused::PlanOutcome plan(const Case& c, int local_ranks) const;
  /// Parameters of local rank i for ring slot 0 of the current case (tests inspect them).
  [[nodiscard]] const FusedReduceParams& params(std::size_t i) const;

 private:
  NativeAllToAll exchange_;
  NativeOptions options_;
  bool ready_ = false;
  bool failed_ = false;  ///< a device-side wait expired: the workspace needs the reset
  fused::FusedPlan plan_{};
  std::size_t ring_size_ = 0;
  std::vector<FusedReduceParams> call_params_;  ///< at i * ring_size_ + k
  std::vector<FusedReduceLaunch> launches_;     ///< per local rank
  std::vector<bool> skip_;                      ///< fault injection: ranks that launch nothing
  std::uint64_t fresh_calls_ = 0;
};

}  // namespace dcp::kernels
