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

constexpr ImplTraits kExact{
    .uses_pdl = false, .uses_workspace = false, .moves_stats = true, .exact = true, .ulp_bound = 0};

constexpr ImplNeeds kHostNeeds{.one_gpu_per_rank = true,
                               .min_world = 1,
                               .min_nccl = kHostApiMinNccl,
                               .peer_load_store = false};

constexpr std::array kRows{
    ImplInfo{.name = kNccl2xName,
             .summary = "one ncclAlltoAll per tensor (grouped ncclSend/ncclRecv before NCCL "
                        "2.28), with pack/unpack kernels where a peer's rows are strided",
             .ops = {Op::kExchange},
             .launches = kAllLaunches,
             .traits = kExact,
             .needs = kHostNeeds,
             .speedups_against = "",
             .in_default_sweep = true,
             .make = &make_host<HostPath::kTwoAllToAll>},
    ImplInfo{.name = kNcclFusedName,
             .summary = "ncclSend/ncclRecv to every peer for both tensors in one NCCL group",
             .ops = {Op::kExchange},
             .launches = kAllLaunches,
             .traits = kExact,
             .needs = kHostNeeds,
             .speedups_against = "",
             .in_default_sweep = true,
             .make = &make_host<HostPath::kFused>},
    ImplInfo{.name = kNcclDeviceName,
             .summary = "NCCL device API: one kernel pushes both tensors into the peers' "
                        "symmetric windows through LSA pointers, between LSA barriers",
             .ops = {Op::kExchange},
             .launches = kAllLaunches,
             .traits = kExact,
             .needs = {.one_gpu_per_rank = true,
                       .min_world = 1,
                       .min_nccl = kDeviceApiMinNccl,
                       .peer_load_store = true},
             .speedups_against = "",
             .in_default_sweep = true,
             .make = &make_device},
    ImplInfo{.name = kNccl1xName,
             .summary = "one ncclAlltoAll of partial_o only, for cross-checks with nccl-tests "
                        "(softmax_stats not moved)",
             .ops = {Op::kExchange},
             .launches = kAllLaunches,
             .traits = {.uses_pdl = false,
                        .uses_workspace = false,
                        .moves_stats = false,
                        .exact = true,
                        .ulp_bound = 0},
             .needs = kHostNeeds,
             .speedups_against = "",
             .in_default_sweep = false,
             .make = &make_host<HostPath::kOneAllToAll>},
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
