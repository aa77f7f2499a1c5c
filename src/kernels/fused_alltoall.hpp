#pragma once
/// @file
/// Launcher of the native fused LL128 exchange kernel (one launch = one rank's exchange of both
/// tensors with every peer). Host-compilable; the kernel itself is in fused_alltoall.cuh.
///
/// Grid: one warp per (peer, channel) that sends and then receives (single_warp), or one warp per
/// (peer, channel) per role: sender warps fill CTAs [0, n), receiver warps CTAs [n, 2n) with
/// n = ceil(cp * C / kWarpsPerCta), so that every CTA has one role (the PDL trigger acts per CTA).
/// No CTA-wide barrier is used; surplus warps return at once.

#include <cuda_runtime_api.h>

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/fused_alltoall_params.hpp"

namespace dcp::kernels {

#ifndef DCP_NATIVE_TRACE
#define DCP_NATIVE_TRACE 0
#endif

/// Build option (experiments): warps per CTA.
#ifndef DCP_NATIVE_WARPS_PER_CTA
#define DCP_NATIVE_WARPS_PER_CTA 4
#endif

/// Build option (measurements): the wire format. 0 (default) = ll128::LineLayout::kFlagLast
/// (flag in word 15, aligned 16-byte pairs); 1 = kFlagLastUnaligned (flag in word 15, payload
/// word i in line word i: odd lines move their pairs with two 8-byte accesses). Both put the flag
/// in the last word of every line, as spec §3.8 requires.
#ifndef DCP_NATIVE_LAYOUT
#define DCP_NATIVE_LAYOUT 0
#endif
static_assert(DCP_NATIVE_LAYOUT == 0 || DCP_NATIVE_LAYOUT == 1, "DCP_NATIVE_LAYOUT must be 0 or 1");

/// Build option (measurements): 1 (default) = the receiver stores the payload of a load issued
/// after every flag of its burst matched (spec §3.8); 0 = the payload of the polling load that
/// saw the flag (the previous kernel; NOT safe on a fabric that splits lines, kept only to
/// measure what the reload costs).
#ifndef DCP_NATIVE_RELOAD
#define DCP_NATIVE_RELOAD 1
#endif

/// The wire format this build's kernel writes and reads (the host reference packs the same).
inline constexpr ll128::LineLayout kNativeLayout =
    DCP_NATIVE_LAYOUT == 1 ? ll128::LineLayout::kFlagLastUnaligned : ll128::LineLayout::kFlagLast;
static_assert(ll128::flag_is_last(kNativeLayout), "the kernel ships flag-last formats only");
/// Whether this build's receiver reloads a burst after its flags matched (DCP_NATIVE_RELOAD).
inline constexpr bool kNativeReload = DCP_NATIVE_RELOAD != 0;

inline constexpr int kWarpsPerCta = DCP_NATIVE_WARPS_PER_CTA;
inline constexpr int kThreadsPerCta = kWarpsPerCta * ll128::kWarpLanes;

/// __launch_bounds__ minimum CTAs per SM of the instantiation keeping `rounds` x 4 lines per warp
/// in flight. It caps the registers (64 per thread for <= 3 rounds: 32 warps per SM; 80 for 5:
/// 24 warps; 96 for 8: 20 warps), chosen as the fewest registers that hold every round's 16 bytes
/// without spilling, so that sim mode can co-schedule many ranks' grids.
constexpr int fused_alltoall_min_ctas_per_sm(int rounds) {
  const int warps_per_sm = rounds <= 3 ? 32 : (rounds <= 5 ? 24 : 20);
  const int ctas = warps_per_sm / kWarpsPerCta;
  return ctas < 1 ? 1 : ctas;
}

/// CTAs of one rank's grid for `cp` ranks and `channels` channels; `single_warp`: one warp per
/// (peer, channel) instead of one per role.
constexpr int fused_alltoall_ctas(int cp, int channels, bool single_warp) {
  const int pairs = cp * channels;
  if (single_warp) return (pairs + kWarpsPerCta - 1) / kWarpsPerCta;
  return 2 * ((pairs + kWarpsPerCta - 1) / kWarpsPerCta);
}

/// Rounds of 4 lines each that a warp keeps in flight per burst, chosen from the lines of the
/// largest channel's stream (capped at a slot): 1, 2 or 3 for <= 4, 8, 12 lines, 5 for <= 20,
/// else 8 (32 lines per burst).
int fused_alltoall_rounds(std::uint32_t lines_per_warp);

/// How many CTAs of the instantiation with `rounds` rounds may be resident at once on the current
/// device: (its occupancy - 1) x SM count, leaving one CTA slot per SM for other kernels.
/// Spinning CTAs of all grids that wait on each other must fit in it at the same time.
int fused_alltoall_resident_ctas(int rounds);

/// The same for the heaviest instantiation (the smallest capacity of all).
int fused_alltoall_resident_ctas();

#if DCP_NATIVE_TRACE
/// Trace builds only (DCP_NATIVE_TRACE=1): the kernel records kTraceWords words per warp and
/// call in a device buffer of [kTraceCalls][kTraceRanks][kTraceWarps][kTraceWords] u64: marks 0-6
/// (%globaltimer ns), word 7 = polls | peer << 16 | channel << 32 | send << 48 | recv << 49,
/// words 8-9 = clock64() at marks 1 and 6 (see Trace in the .cuh).
inline constexpr int kTraceCalls = 64;
inline constexpr int kTraceRanks = 4;
inline constexpr int kTraceWarps = 512;
inline constexpr int kTraceWords = 10;
/// Copies the trace buffer to `out` (resized) and zeroes it.
void fused_alltoall_trace_copy(std::vector<std::uint64_t>& out);
#endif

/// Why `p` cannot be launched; empty when it can.
std::string fused_alltoall_problem(const FusedAllToAllParams& p);

/// One rank's exchange launch, validated and configured once per case (NativeAllToAll::setup),
/// so that a call is a plain launch: no validation, no planning, no allocation per call.
class FusedAllToAllLaunch {
 public:
  FusedAllToAllLaunch() = default;
  /// Validates `p` (ConfigError "native exchange: <problem>"), picks the instantiation from the
  /// largest channel's lines and fills the launch configuration (grid, block, stream, the
  /// programmatic-stream-serialisation attribute from `pdl`). Requires shape.entries > 0
  /// (E = 0 launches nothing).
  FusedAllToAllLaunch(const FusedAllToAllParams& p, cudaStream_t stream, bool pdl);

  /// Enqueues one exchange with `p`, which must be parameters the caller validated
  /// (fused_alltoall_problem) for this launch's shape, plan and geometry: only the tensors may
  /// differ between calls. Checks the launch (CudaError).
  void operator()(const FusedAllToAllParams& p) const;

 private:
  const void* kernel_ = nullptr;  ///< the instantiation, as cudaLaunchKernelExC takes it
  cudaLaunchConfig_t config_{};
  cudaLaunchAttribute attribute_{};
};

}  // namespace dcp::kernels
