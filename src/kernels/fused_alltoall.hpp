#pragma once
/// @file
/// Launcher of the native fused LL128 exchange kernel (one launch = one rank's exchange of both
/// tensors with every peer). Host-compilable; the kernel itself is in fused_alltoall.cuh.
///
/// Grid: one warp per (peer, channel) per role. Sender warps fill CTAs [0, n), receiver warps
/// CTAs [n, 2n) with n = ceil(cp * C / kWarpsPerCta), so that every CTA has one role (the PDL
/// trigger acts per CTA). No CTA-wide barrier is used; surplus warps return at once.

#include <cuda_runtime_api.h>

#include <cstdint>
#include <string>

#include "kernels/fused_alltoall_params.hpp"

namespace dcp::kernels {

inline constexpr int kWarpsPerCta = 4;
inline constexpr int kThreadsPerCta = kWarpsPerCta * ll128::kWarpLanes;
/// __launch_bounds__ minimum CTAs per SM: caps registers at 64 per thread, so that 8 CTAs (32
/// warps) stay resident per SM and sim mode can co-schedule many ranks' grids.
inline constexpr int kMinCtasPerSm = 8;

/// CTAs of one rank's grid for `cp` ranks and `channels` channels.
constexpr int fused_alltoall_ctas(int cp, int channels) {
  return 2 * ((cp * channels + kWarpsPerCta - 1) / kWarpsPerCta);
}

/// Rounds of 4 lines each that a warp keeps in flight per batch, chosen from the lines of the
/// largest channel's stream (capped at a slot): 1 for <= 4 lines, 2 for <= 8, else 4.
int fused_alltoall_rounds(std::uint32_t lines_per_warp);

/// How many CTAs of the exchange kernel may be resident at once on the current device: (occupancy
/// of the heaviest instantiation - 1) x SM count, leaving one CTA slot per SM for other kernels.
/// Spinning CTAs of all grids that wait on each other must fit in it at the same time.
int fused_alltoall_resident_ctas();

/// Why `p` cannot be launched; empty when it can.
std::string fused_alltoall_problem(const FusedAllToAllParams& p);

/// Validates `p` (ConfigError naming the problem), picks the instantiation and enqueues one
/// exchange on `stream` with cudaLaunchKernelEx; `pdl` sets programmatic stream serialisation.
/// Checks the launch (CudaError). Requires shape.entries > 0 (E = 0 launches nothing).
void launch_fused_alltoall(const FusedAllToAllParams& p, cudaStream_t stream, bool pdl);

}  // namespace dcp::kernels
