#pragma once
/// @file
/// nccl-packed: ONE ncclAlltoAll of rows that carry their stats, as vLLM's and SGLang's `a2a`
/// DCP backends send partial outputs with their LSE (layout: baseline/packed_rows.hpp).
///   --op reduce:   parts "pack" (partial_o + LSE -> [cp, E, P]), "exchange" (one all-to-all of
///                  bytes), "merge" (the merge kernel reading the packed rows in place through
///                  MergeStrides). Bit-identical to the CPU reference.
///   --op exchange: parts "pack", "exchange", "unpack" ([cp, E, P] -> [E, cp, D] and
///                  [E, cp, S]). Bit-exact.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "baseline/nccl_strategy.hpp"
#include "baseline/packed_rows.hpp"
#include "merge/merge_plan.hpp"

namespace dcp::baseline {

class NcclPacked final : public NcclStrategy {
 public:
  explicit NcclPacked(std::shared_ptr<NcclContext> ctx) : NcclStrategy(std::move(ctx)) {}

  [[nodiscard]] std::string name() const override;
  [[nodiscard]] std::optional<std::string> unsupported_reason(const Case& c) const override;
  void setup(const ExchangeSetup& s) override;

 private:
  void enqueue_part(std::size_t slot, std::size_t part, cudaStream_t stream) override;
  void release_case() override;

  PackedLayout layout_;
  bool reduce_ = false;
  std::size_t recv_off_ = 0;
  std::optional<merge::MergePlan> plan_;
  std::vector<merge::MergeBuffers> merges_;  ///< per ring set (op reduce)
};

}  // namespace dcp::baseline
