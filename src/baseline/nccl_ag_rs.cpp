// nccl-ag-rs (baseline/nccl_ag_rs.hpp).
#include "baseline/nccl_ag_rs.hpp"

#include <cuda_runtime_api.h>
#include <fmt/format.h>

#include "baseline/ag_rs_kernels.hpp"
#include "baseline/ag_rs_math.hpp"
#include "baseline/impls.hpp"
#include "core/cuda_check.hpp"
#include "core/error.hpp"
#include "merge/case_shape.hpp"
#include "merge/merge_plan.hpp"

namespace dcp::baseline {

namespace {

std::byte* at(const DeviceMemory& m, std::size_t off) {
  return static_cast<std::byte*>(m.get()) + off;
}

ncclDataType_t o_type(bool fp16) {
  return fp16 ? ncclFloat16 : ncclBfloat16;
}

}  // namespace

std::string NcclAgRs::name() const {
  return std::string(kNcclAgRsName);
}

std::optional<std::string> NcclAgRs::unsupported_reason(const Case& c) const {
  if (auto why = NcclStrategy::unsupported_reason(c)) return why;
  // The same shapes as the merge routine (cp <= kMaxCp, D, E in range).
  if (const std::string p = merge::MergePlan::problem(merge::merge_shape_of(c)); !p.empty()) {
    return p;
  }
  return std::nullopt;
}

void NcclAgRs::setup(const ExchangeSetup& s) {
  NcclComm& comm = begin_setup(s);
  const Case& c = s.c;
  DCP_CHECK(c.op == Op::kReduce, "NcclAgRs runs --op reduce only");
  shape_ = merge::merge_shape_of(c);
  const auto pairs = static_cast<std::size_t>(shape_.entries * shape_.cp);
  // Staging: gathered LSEs [cp(src), E, cp(dst)] | scales [E, cp] | terms [cp(dst), E, D].
  const std::size_t gathered_bytes = pairs * static_cast<std::size_t>(shape_.cp) * sizeof(float);
  scale_off_ = staging_align(gathered_bytes);
  terms_off_ = scale_off_ + staging_align(pairs * sizeof(float));
  const std::size_t terms_bytes = pairs * static_cast<std::size_t>(shape_.head_dim) * 2;
  if (shape_.entries > 0) staging_ = DeviceMemory(terms_off_ + staging_align(terms_bytes));
  parts_ = {"gather_lse", "rescale", "reduce_scatter"};
  if (shape_.entries > 0) {
    // Staging only: the scales area gathered into the gathered area, the terms reduce-scattered
    // into the scales area's first E x D elements' worth of a scratch buffer.
    DeviceMemory scratch(static_cast<std::size_t>(shape_.out_elements()) * 2);
    warm_up([&](cudaStream_t st) {
      DCP_NCCL_COMM_CHECK(comm, ncclAllGather(at(staging_, scale_off_), staging_.get(), pairs,
                                              ncclFloat32, comm.get(), st));
      DCP_NCCL_COMM_CHECK(comm, ncclReduceScatter(at(staging_, terms_off_), scratch.get(),
                                                  static_cast<std::size_t>(shape_.out_elements()),
                                                  o_type(shape_.fp16), ncclSum, comm.get(), st));
    });
  }
  detail_ = fmt::format(
      "ncclAllGather of the LSEs [E,cp] fp32, a weights kernel (the merge routine's scales and "
      "lse_out) and a rescale kernel to [cp,E,D] {}, ncclReduceScatter(sum) in {}; not exact: "
      "within {} x cp ulps of the terms; NCCL {}",
      shape_.fp16 ? "fp16" : "bf16", shape_.fp16 ? "fp16" : "bf16", kAgRsUlpBound,
      loaded_nccl_version());
}

void NcclAgRs::enqueue_part(std::size_t slot, std::size_t part, cudaStream_t stream) {
  const RankBuffers& b = setup_state().ring[slot].ranks[0];
  NcclComm& comm = ctx().comm();
  const auto pairs = static_cast<std::size_t>(shape_.entries * shape_.cp);
  auto* scale = reinterpret_cast<float*>(at(staging_, scale_off_));
  switch (part) {
    case 0:
      DCP_NCCL_COMM_CHECK(
          comm, ncclAllGather(b.in_stats, staging_.get(), pairs, ncclFloat32, comm.get(), stream));
      return;
    case 1:
      launch_ag_rs_weights(shape_, ctx().rank(), staging_.as<const float>(), scale,
                           static_cast<float*>(b.out_stats), stream);
      launch_ag_rs_rescale(shape_, scale, b.in_o, at(staging_, terms_off_), stream);
      return;
    default:
      DCP_NCCL_COMM_CHECK(comm,
                          ncclReduceScatter(at(staging_, terms_off_), b.out_o,
                                            static_cast<std::size_t>(shape_.out_elements()),
                                            o_type(shape_.fp16), ncclSum, comm.get(), stream));
      return;
  }
}

}  // namespace dcp::baseline
