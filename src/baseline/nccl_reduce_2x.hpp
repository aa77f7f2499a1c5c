#pragma once
/// @file
/// nccl-2x for `--op reduce` (the seed's baseline carried to the reduction): one ncclAlltoAll of
/// partial_o and one of the LSE, then the merge kernel (merge/merge_kernel.hpp) reading the
/// received [cp(src), E, D] and [cp(src), E] buffers in place. Bit-identical to the CPU
/// reference: the merge is the routine, and NCCL only moves bytes.
/// Parts: "exchange" (the [E, cp, X] -> [cp, E, X] pack where a peer's rows are strided, and the
/// two all-to-alls) and "merge".
/// The registry row nccl-2x runs NcclHostAllToAll for --op exchange and this for --op reduce
/// (baseline/op_dispatch.hpp).

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "baseline/nccl_strategy.hpp"
#include "merge/merge_plan.hpp"

namespace dcp::baseline {

class NcclReduce2x final : public NcclStrategy {
 public:
  explicit NcclReduce2x(std::shared_ptr<NcclContext> ctx) : NcclStrategy(std::move(ctx)) {}

  [[nodiscard]] std::string name() const override;
  [[nodiscard]] std::optional<std::string> unsupported_reason(const Case& c) const override;
  void setup(const ExchangeSetup& s) override;

 private:
  void enqueue_part(std::size_t slot, std::size_t part, cudaStream_t stream) override;
  void release_case() override;

  std::optional<merge::MergePlan> plan_;
  std::vector<merge::MergeBuffers> merges_;  ///< per ring set
  bool transpose_ = false;
  std::size_t send_lse_off_ = 0, recv_o_off_ = 0, recv_lse_off_ = 0;
};

}  // namespace dcp::baseline
