#pragma once
/// @file
/// Launcher of the fused LL128 exchange+merge kernel (native-fused): one launch per rank and
/// call exchanges partial_o and the LSE with every peer through the LL128 FIFOs and merges the
/// entries each CTA owns straight from shared memory into out/lse_out. Host-compilable; the
/// kernel is fused_reduce.cuh, the index math fused_reduce_layout.hpp (CPU-tested through
/// fused_reduce_model.hpp), the ownership plan fused_plan.hpp.

#include <cuda_runtime_api.h>

#include <cstdint>
#include <string>
#include <type_traits>

#include "core/types.hpp"
#include "kernels/fused_alltoall_params.hpp"
#include "kernels/fused_plan.hpp"
#include "kernels/ll128_layout.hpp"

namespace dcp::kernels {

/// Warps per CTA of the fused reduce kernel (the plan's warps_per_cta).
inline constexpr int kFusedReduceWarps = fused::kDefaultWarpsPerCta;
inline constexpr int kFusedReduceThreads = kFusedReduceWarps * 32;
/// Dynamic shared memory a CTA may use (staging + the merge's scales); the occupancy that the
/// co-residency plan counts is measured at this size.
inline constexpr int kFusedReduceSmemBudget = 72 * 1024;
/// Of which the staged rows and LSEs may use (the plan's smem_limit_bytes): the rest is for the
/// merge's scales and live masks (at most 4 + 8/cp bytes per entry and source, < 1/4 of the
/// staging of a row of D >= 8).
inline constexpr int kFusedReduceStageLimit = 56 * 1024;
/// CTAs per SM the plan counts at most, so that spinning CTAs leave registers and threads for the
/// other kernels of the streams (fills, checks) that a peer may be waiting behind.
inline constexpr int kFusedReduceMaxCtasPerSm = 3;

/// Everything one rank's launch needs, passed by value (__grid_constant__).
struct FusedReduceParams {
  /// The LL128 side, as for the exchange kernel: in_o = partial_o [E, cp, D], in_stats = lse
  /// [E, cp] fp32, out_o = out [E, D], out_stats = lse_out [E] fp32; segments, geometry, rank,
  /// timeout_ns; shape with S = 1. (x.plan and x.channels are not used.)
  FusedAllToAllParams x;
  fused::FusedPlan plan;         ///< CTA c owns cta_entries(plan, c) and uses FIFO c of every pair
  ll128::FastDivU32 o_div;       ///< division by plan.o_row_words
  std::uint32_t smem_bytes = 0;  ///< dynamic shared memory per CTA (CTA 0's staging)
  LseBase base = LseBase::kE;
};

static_assert(std::is_trivially_copyable_v<FusedReduceParams>);
static_assert(sizeof(FusedReduceParams) < 4096, "must fit the 4 KiB kernel parameter space");

/// Why `p` cannot be launched; empty when it can.
std::string fused_reduce_problem(const FusedReduceParams& p);

/// Resident CTAs of the kernel per SM at kFusedReduceSmemBudget bytes, capped at
/// kFusedReduceMaxCtasPerSm (current device), and the SM count.
struct FusedReduceCapacity {
  int sm_count = 0;
  int ctas_per_sm = 0;
};
FusedReduceCapacity fused_reduce_capacity();

/// One rank's launch, configured once per case.
class FusedReduceLaunch {
 public:
  FusedReduceLaunch() = default;
  /// Validates `p` (ConfigError "native-fused: <problem>") and fills the launch configuration.
  FusedReduceLaunch(const FusedReduceParams& p, cudaStream_t stream, bool pdl);
  /// Enqueues one call with `p` (validated parameters of this launch's case). Checks the launch.
  void operator()(const FusedReduceParams& p) const;

 private:
  cudaLaunchConfig_t config_{};
  cudaLaunchAttribute attribute_{};
};

}  // namespace dcp::kernels
