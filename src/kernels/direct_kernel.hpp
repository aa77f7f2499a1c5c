#pragma once
/// @file
/// Launchers of the direct-store kernels (direct_layout.hpp): the fused exchange+merge kernel of
/// `native-direct` (one launch per call) and the four launches of `direct-staged` (vLLM's direct
/// path as a baseline). Host-compilable and fmt-free (included by the .cu files); the device code
/// is in direct_kernel.cuh.
///
/// Both schemes execute the programs of direct_protocol.hpp with loops over the layout functions:
///  - fused: CTA c of plan.ctas owns the blocks fused::cta_blocks(plan, c). Per block, every
///    thread stores its share of the rows (e, d) of every destination d (16-byte plain stores into
///    d's receive region of this call's parity), then stats (4-byte stores); __syncthreads();
///    thread k < cp publishes the block's flag to send_peer(rank, k) (fence.acq_rel.sys +
///    st.relaxed.sys: a release). Then per block, thread k < cp polls the flag of
///    recv_peer(rank, k) with ld.acquire.sys (bounded); __syncthreads_or() of the failures; the
///    CTA delivers the block (exchange: copies every source's rows to out_o/out_stats; reduce:
///    one warp per entry computes the weights as the merge kernel does and merges 8 elements per
///    lane with merge::merge_lanes, reading live sources only). Last, thread 0 arrives on the
///    rank's arrival counter and the last CTA advances the epoch.
///  - staged: advance (1 thread), write (blocks split evenly over the CTAs), signal (thread k < cp
///    releases the pair flag, slot kPairFlagBlock, to send_peer(rank, k)), wait+deliver (every CTA
///    awaits the pair flags of every source, then delivers its share of the blocks).
/// Region payload is read with ld.global.cg (L2, never a line a previous call left in L1).

#include <cuda_runtime_api.h>

#include <cstdint>
#include <string>
#include <type_traits>

#include "core/types.hpp"
#include "kernels/direct_layout.hpp"
#include "kernels/direct_split.hpp"
#include "kernels/fused_plan.hpp"

namespace dcp::kernels {

/// Threads per CTA of the write, wait+deliver and fused kernels (8 warps).
inline constexpr int kDirectThreads = 256;
inline constexpr int kDirectWarps = kDirectThreads / 32;

/// Everything one rank's direct launch needs, passed by value.
struct DirectParams {
  /// This rank's tensors (16-byte aligned). Exchange: in/out [E, cp, D] and [E, cp, S].
  /// Reduce: in_o [E, cp, D], in_stats = lse [E, cp] (S = 1), out_o [E, D], out_stats [E].
  const void* in_o = nullptr;
  const void* in_stats = nullptr;
  void* out_o = nullptr;
  void* out_stats = nullptr;
  /// Every rank's segment as mapped in this process (index = rank).
  void* segments[direct::kMaxCp] = {};
  direct::Geometry geometry;  ///< the workspace's layout (identical on every rank)
  direct::Layout layout;      ///< this case's block split (identical on every rank)
  fused::FusedPlan plan;      ///< fused only: CTAs and the blocks each owns
  int rank = 0;
  int reduce = 0;  ///< 0: exchange (copy), 1: reduce (merge; S must be 1)
  int fp16 = 0;    ///< element type: fp16 (1) or bf16 (0)
  LseBase base = LseBase::kE;
  int staged_ctas = 1;           ///< staged: CTAs of the write and wait+deliver launches
  std::uint64_t timeout_ns = 0;  ///< every flag wait gives up after this (> 0)
};
static_assert(std::is_trivially_copyable_v<DirectParams>);
static_assert(sizeof(DirectParams) < 4096, "kernel parameter space");

/// Why `p` cannot be launched (empty when it can): geometry, layout, pointers, alignment, plan.
std::string direct_params_problem(const DirectParams& p, bool staged);

/// Resident CTAs of the fused (staged = false) or the wait+deliver kernel on the current device,
/// leaving one CTA slot per SM for other kernels (as the LL128 exchange does): (per SM - 1) x SMs.
/// `ctas_per_sm` receives the per-SM figure used (the plan's ctas_per_sm), `sms` the SM count.
int direct_resident_ctas(bool staged, int* ctas_per_sm = nullptr, int* sms = nullptr);

/// Enqueues one fused call (plan.ctas CTAs). No validation (done once in setup); checks the launch.
void launch_direct_fused(const DirectParams& p, cudaStream_t stream);

/// Enqueues one staged launch. No validation; checks the launch.
void launch_direct_staged(direct::StagedStep step, const DirectParams& p, cudaStream_t stream);

/// Registers and spills of the direct kernels (cudaFuncGetAttributes), one line for reports.
std::string direct_kernel_resources();

}  // namespace dcp::kernels
