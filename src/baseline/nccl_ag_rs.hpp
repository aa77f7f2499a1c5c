#pragma once
/// @file
/// nccl-ag-rs: vLLM's default DCP path (`cp_lse_ag_out_rs`), SGLang's default: ncclAllGather of
/// the LSEs [E, cp] of every rank, a local correction of this rank's partial outputs of every
/// destination by its weight in the merge, then ncclReduceScatter (sum) of the corrected rows in
/// the output dtype, so NCCL's reduction does the merge's sum. Arithmetic and error bound:
/// baseline/ag_rs_math.hpp.
///
/// NOT exact: NCCL rounds every partial sum to the output dtype, in an order of its own. The
/// registry row states traits.exact = false and ulp_bound = kAgRsUlpBound (2): every element
/// within 2 x cp output-type ulps at the magnitude of the merged terms
/// (Accuracy::cond_ulp_max). lse_out is computed locally with the merge routine and is
/// bit-identical to the reference.
/// Parts: "gather_lse" (ncclAllGather), "rescale" (the weights kernel, which also writes
/// lse_out, and the rescale kernel), "reduce_scatter" (ncclReduceScatter into out).

#include <memory>
#include <optional>
#include <string>

#include "baseline/nccl_strategy.hpp"
#include "merge/merge_shape.hpp"

namespace dcp::baseline {

class NcclAgRs final : public NcclStrategy {
 public:
  explicit NcclAgRs(std::shared_ptr<NcclContext> ctx) : NcclStrategy(std::move(ctx)) {}

  [[nodiscard]] std::string name() const override;
  [[nodiscard]] std::optional<std::string> unsupported_reason(const Case& c) const override;
  void setup(const ExchangeSetup& s) override;

 private:
  void enqueue_part(std::size_t slot, std::size_t part, cudaStream_t stream) override;

  merge::MergeShape shape_;
  std::size_t scale_off_ = 0, terms_off_ = 0;
};

}  // namespace dcp::baseline
