#include "baseline/impls.hpp"

#include <array>
#include <functional>

#include "baseline/nccl_alltoall.hpp"
#include "baseline/nccl_baseline.hpp"
#include "baseline/nccl_context.hpp"
#include "baseline/nccl_device.hpp"
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

/// A row of this layer: the exchange in every launch mode, exact, no sweep axis of its own, no
/// speedups of its own (native's are measured against these).
constexpr ImplInfo nccl_row(std::string_view name, std::string_view summary, bool moves_stats,
                            ImplNeeds needs, bool in_default_sweep, ImplFactory make) {
  return ImplInfo{.name = name,
                  .summary = summary,
                  .ops = {Op::kExchange},
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
             "pack/unpack kernels where a peer's rows are strided",
             true, nccl_needs(kHostApiMinNccl, false), true, &make_host<HostPath::kTwoAllToAll>),
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
