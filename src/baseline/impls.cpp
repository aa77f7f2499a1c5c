#include "baseline/impls.hpp"

#include <array>
#include <functional>

#include "baseline/ag_rs_math.hpp"
#include "baseline/nccl_ag_rs.hpp"
#include "baseline/nccl_alltoall.hpp"
#include "baseline/nccl_baseline.hpp"
#include "baseline/nccl_context.hpp"
#include "baseline/nccl_device.hpp"
#include "baseline/nccl_packed.hpp"
#include "baseline/nccl_reduce_2x.hpp"
#include "baseline/op_dispatch.hpp"
#include "core/error.hpp"

namespace dcp::baseline {

namespace {

template <HostPath kPath>
std::unique_ptr<AllToAllImpl> make_host(ImplEnv& env) {
  return std::make_unique<NcclHostAllToAll>(nccl_context(env), kPath);
}

std::unique_ptr<AllToAllImpl> make_device(ImplEnv& env) {
  return std::make_unique<NcclDeviceAllToAll>(nccl_context(env));
}

/// nccl-2x: the two all-to-alls of the exchange, and of the reduction followed by the merge.
std::unique_ptr<AllToAllImpl> make_2x(ImplEnv& env) {
  auto ctx = nccl_context(env);
  return std::make_unique<OpDispatch>(
      std::make_unique<NcclHostAllToAll>(ctx, HostPath::kTwoAllToAll),
      std::make_unique<NcclReduce2x>(ctx));
}

std::unique_ptr<AllToAllImpl> make_packed(ImplEnv& env) {
  return std::make_unique<NcclPacked>(nccl_context(env));
}

std::unique_ptr<AllToAllImpl> make_ag_rs(ImplEnv& env) {
  return std::make_unique<NcclAgRs>(nccl_context(env));
}

/// A row of this layer: the exchange in every launch mode, exact, no sweep axis of its own, no
/// speedups of its own (native's are measured against these).
constexpr ImplInfo nccl_row(std::string_view name, std::string_view summary, bool moves_stats,
                            ImplNeeds needs, bool in_default_sweep, ImplFactory make,
                            OpSet ops = {Op::kExchange}) {
  return ImplInfo{.name = name,
                  .summary = summary,
                  .ops = ops,
                  .launches = kAllLaunches,
                  .traits = {.uses_pdl = false,
                             .uses_workspace = false,
                             .moves_stats = moves_stats,
                             .exact = true,
                             .ulp_bound = 0},
                  .needs = needs,
                  .speedups_against = "",
                  .in_default_sweep = in_default_sweep,
                  .make = make};
}

/// One process per GPU (NCCL has no simulated mode), NCCL at least `min_nccl`.
constexpr ImplNeeds nccl_needs(LibVersion min_nccl, bool peer_load_store) {
  return ImplNeeds{.one_gpu_per_rank = true,
                   .min_world = 1,
                   .min_nccl = min_nccl,
                   .peer_load_store = peer_load_store};
}

constexpr std::array kRows{
    nccl_row(kNccl2xName,
             "one ncclAlltoAll per tensor (grouped ncclSend/ncclRecv before NCCL 2.28), with "
             "pack/unpack kernels where a peer's rows are strided; --op reduce: then the merge "
             "kernel",
             true, nccl_needs(kHostApiMinNccl, false), true, &make_2x,
             {Op::kExchange, Op::kReduce}),
    nccl_row(kNcclFusedName, "ncclSend/ncclRecv to every peer for both tensors in one NCCL group",
             true, nccl_needs(kHostApiMinNccl, false), true, &make_host<HostPath::kFused>),
    nccl_row(kNcclDeviceName,
             "NCCL device API: one kernel pushes both tensors into the peers' symmetric windows "
             "through LSA pointers, between LSA barriers",
             true, nccl_needs(kDeviceApiMinNccl, true), true, &make_device),
    nccl_row(kNccl1xName,
             "one ncclAlltoAll of partial_o only, for cross-checks with nccl-tests "
             "(softmax_stats not moved)",
             false, nccl_needs(kHostApiMinNccl, false), false, &make_host<HostPath::kOneAllToAll>),
    nccl_row(kNcclPackedName,
             "one ncclAlltoAll of rows that carry their stats (vLLM/SGLang a2a): pack kernel, "
             "all-to-all, then the merge kernel reading the packed rows (--op reduce) or an "
             "unpack kernel (--op exchange)",
             // Not in the default sweep until configs/default.json names it (the op axis).
             true, nccl_needs(kHostApiMinNccl, false), true, &make_packed,
             {Op::kExchange, Op::kReduce}),
    // Not exact (baseline/ag_rs_math.hpp): NCCL sums the corrected rows in the output dtype in
    // its own order; every element within kAgRsUlpBound x cp output-type ulps of the terms'
    // magnitude, lse_out bit-identical (the merge routine, computed locally).
    ImplInfo{.name = kNcclAgRsName,
             .summary = "vLLM's default ag_rs: ncclAllGather of the LSEs, local rescale by the "
                        "merge weights, ncclReduceScatter(sum) in the output dtype (not exact)",
             .ops = {Op::kReduce},
             .launches = kAllLaunches,
             .traits = {.uses_pdl = false,
                        .uses_workspace = false,
                        .moves_stats = true,
                        .exact = false,
                        .ulp_bound = kAgRsUlpBound},
             .needs = nccl_needs(kHostApiMinNccl, false),
             .speedups_against = "",
             .in_default_sweep = true,  // expanded for --op reduce only (its row's ops)
             .make = &make_ag_rs},
};

}  // namespace

std::shared_ptr<NcclContext> nccl_context(ImplEnv& env) {
  return env.shared<NcclContext>(kNcclContextKey, [&env]() -> std::shared_ptr<NcclContext> {
    if (!env.world()) {
      throw EnvironmentError("the NCCL baselines need the MPI world (one rank per GPU)");
    }
    return make_nccl_context(*env.world());
  });
}

std::span<const ImplInfo> nccl_impls() {
  return kRows;
}

}  // namespace dcp::baseline
