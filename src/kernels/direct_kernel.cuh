#pragma once
/// @file
/// Device code of the direct-store kernels (launchers and the protocol summary:
/// direct_kernel.hpp; layout, epochs and flags: direct_layout.hpp; the programs these loops
/// implement and their checker: direct_protocol.hpp). Included only by direct_kernel.cu.
///
/// Memory ordering, as the protocol needs it (direct_layout.hpp):
///  - sender: payload with plain st.global.v4 into the peer's region; __syncthreads() (every
///    thread's stores precede the barrier); thread k: fence.acq_rel.sys, then st.relaxed.sys of
///    the flag = a release at system scope that is cumulative over the CTA's stores (they are
///    ordered before it through the barrier);
///  - receiver: thread k: ld.acquire.sys of the flag until it holds this call's value; then
///    __syncthreads_or() (the barrier orders every thread's following loads after the acquire);
///    the payload with ld.global.cg (L2), so no load is served from a line that an earlier call
///    left in this SM's L1.
///  - staged: the write launch completes before the signal launch starts (stream order), whose
///    thread k fences (acq_rel.sys) and stores the pair flag.
/// Every wait is bounded by %globaltimer (timeout_ns); the first failure of a rank is recorded in
/// its error record (compare-and-swap) and the host's check() reports it; a rank whose record is
/// set (or whose awaited peer's is) stops (kAbort), and a launch on a failed rank touches nothing.
///
/// Warp convergence: __shfl_sync / __ballot_sync below are reached by all 32 lanes of a warp
/// (merge_entry_warp is called warp-uniformly); CTA barriers by every thread (early returns
/// happen only on values made uniform by __syncthreads_or or shared memory after a barrier).

#include <cuda_runtime.h>

#include <cstdint>
#include <cstring>

#include "kernels/direct_kernel.hpp"
#include "kernels/direct_layout.hpp"
#include "kernels/fused_plan.hpp"
#include "kernels/ptx_ops.cuh"
#include "merge/merge_routine.hpp"

namespace dcp::kernels::direct_detail {

using u32 = std::uint32_t;
using u64 = std::uint64_t;
namespace d = direct;

inline constexpr unsigned kFullMask = 0xFFFFFFFFu;

// ---- PTX helpers --------------------------------------------------------------------------------

using ptx::globaltimer_ns;
using ptx::ld_acquire_sys_u64;
using ptx::ld_volatile_u64;
using ptx::st_volatile_u64;
/// A release at system scope: the fence orders everything before it (including the CTA's stores
/// ordered before this thread by a barrier) before the relaxed store of the flag.
__device__ __forceinline__ void st_release_sys_u64(u64* p, u64 v) {
  asm volatile("fence.acq_rel.sys;" ::: "memory");
  asm volatile("st.relaxed.sys.global.u64 [%0], %1;" ::"l"(p), "l"(v) : "memory");
}
__device__ __forceinline__ u64 atom_add_acq_rel_gpu_u64(u64* p, u64 v) {
  u64 old;
  asm volatile("atom.acq_rel.gpu.global.add.u64 %0, [%1], %2;"
               : "=l"(old)
               : "l"(p), "l"(v)
               : "memory");
  return old;
}

// ---- segments and the error record --------------------------------------------------------------

__device__ __forceinline__ char* segment(const DirectParams& p, int rank) {
  return static_cast<char*>(p.segments[rank]);
}
__device__ __forceinline__ u64* header(const DirectParams& p, int rank) {
  return reinterpret_cast<u64*>(p.segments[rank]);
}
__device__ __forceinline__ bool rank_failed(const DirectParams& p, int rank) {
  return ld_volatile_u64(header(p, rank) + d::kErrorInfo) != 0;
}

/// First writer wins; the host reads the record after the streams were synchronised.
__device__ __noinline__ void record_error(const DirectParams& p, d::ErrorRole role, int peer,
                                          u64 block, u64 epoch, u64 observed) {
  u64* rec = header(p, p.rank);
  const u64 info = d::encode_error_info(role, p.rank, peer);
  auto* claim = reinterpret_cast<unsigned long long*>(rec + d::kErrorInfo);
  if (atomicCAS(claim, 0ull, static_cast<unsigned long long>(info)) == 0ull) {
    st_volatile_u64(rec + d::kErrorBlock, block);
    st_volatile_u64(rec + d::kErrorEpoch, epoch);
    st_volatile_u64(rec + d::kErrorObserved, observed);
  }
}

/// Thread 0 reads this rank's epoch word and error record; returned to every thread of the CTA
/// through shared memory. `failed`: the rank has recorded an error (touch nothing).
struct CallStart {
  u64 epoch_word = 0;
  bool failed = false;
};
__device__ __forceinline__ CallStart read_call_start(const DirectParams& p) {
  __shared__ u64 s_word;
  __shared__ int s_failed;
  if (threadIdx.x == 0) {
    s_failed = rank_failed(p, p.rank) ? 1 : 0;
    s_word = ld_volatile_u64(header(p, p.rank) + d::kEpochWord);
  }
  __syncthreads();
  CallStart c;
  c.epoch_word = s_word;
  c.failed = s_failed != 0;
  return c;
}

// ---- sending ------------------------------------------------------------------------------------

/// Rows (e, dst) and their stats of block `b`, for every destination, into the destinations'
/// regions (parity, this rank): all threads of the CTA, 16-byte loads and plain 16-byte stores,
/// peer-major so that consecutive threads write consecutive bytes of one region.
__device__ __forceinline__ void write_block(const DirectParams& p, u32 parity, u32 b) {
  const d::Layout& l = p.layout;
  const int cp = l.cp_size;
  const u32 first = l.block_first(b);
  const u32 n = l.block_size(b);
  const u32 chunks = l.row_bytes / 16u;  // 16-byte pieces per row
  const u32 per_peer = n * chunks;
  const auto* in_o = static_cast<const char*>(p.in_o);
  for (u32 i = threadIdx.x; i < static_cast<u32>(cp) * per_peer; i += blockDim.x) {
    const u32 k = i / per_peer;
    const u32 rest = i - k * per_peer;
    const u32 e = first + rest / chunks;
    const u32 j = rest - (rest / chunks) * chunks;
    const int dst = fused::send_peer(p.rank, static_cast<int>(k), cp);
    const uint4 v = __ldcs(reinterpret_cast<const uint4*>(
        in_o + (static_cast<std::int64_t>(e) * cp + dst) * l.row_bytes + std::int64_t{j} * 16));
    char* to = segment(p, dst) + p.geometry.region_offset(parity, p.rank) + l.row_offset(e) +
               std::int64_t{j} * 16;
    *reinterpret_cast<uint4*>(to) = v;
  }
  const u32 s = l.stats_bytes / 4u;  // fp32 per row
  const u32 per_peer_s = n * s;
  const auto* in_stats = static_cast<const u32*>(p.in_stats);
  for (u32 i = threadIdx.x; i < static_cast<u32>(cp) * per_peer_s; i += blockDim.x) {
    const u32 k = i / per_peer_s;
    const u32 rest = i - k * per_peer_s;
    const u32 e = first + rest / s;
    const u32 q = rest - (rest / s) * s;
    const int dst = fused::send_peer(p.rank, static_cast<int>(k), cp);
    const u32 v = __ldcs(in_stats + (static_cast<std::int64_t>(e) * cp + dst) * s + q);
    char* to = segment(p, dst) + p.geometry.region_offset(parity, p.rank) + l.stats_offset(e) +
               std::int64_t{q} * 4;
    *reinterpret_cast<u32*>(to) = v;
  }
}

/// Thread k < cp releases flag slot `slot` of this rank in send_peer(rank, k)'s segment. The
/// caller has passed a barrier after the stores the flag covers (or a kernel boundary).
__device__ __forceinline__ void release_flags(const DirectParams& p, u32 parity, u32 slot,
                                              u64 value) {
  const int cp = p.layout.cp_size;
  const int k = static_cast<int>(threadIdx.x);
  if (k < cp) {
    const int dst = fused::send_peer(p.rank, k, cp);
    auto* flag =
        reinterpret_cast<u64*>(segment(p, dst) + p.geometry.flag_offset(parity, slot, p.rank));
    st_release_sys_u64(flag, value);
  }
}

// ---- receiving ----------------------------------------------------------------------------------

/// Thread k < cp awaits flag slot `slot` from recv_peer(rank, k) (acquire, bounded); returns true
/// in every thread of the CTA when some thread gave up (error recorded). A CTA barrier.
__device__ __forceinline__ bool await_flags(const DirectParams& p, u32 parity, u32 slot,
                                            u64 epoch) {
  const int cp = p.layout.cp_size;
  const int k = static_cast<int>(threadIdx.x);
  int fail = 0;
  if (k < cp) {
    const int src = fused::recv_peer(p.rank, k, cp);
    const auto* flag = reinterpret_cast<const u64*>(segment(p, p.rank) +
                                                    p.geometry.flag_offset(parity, slot, src));
    const u64 start = globaltimer_ns();
    for (u32 polls = 1;; ++polls) {
      const u64 v = ld_acquire_sys_u64(flag);
      const d::FlagState state = d::flag_state(v, epoch);
      if (state == d::FlagState::kArrived) break;
      if (state == d::FlagState::kAhead) {
        record_error(p, d::ErrorRole::kAhead, src, slot, epoch, v);
        fail = 1;
        break;
      }
      if (globaltimer_ns() - start > p.timeout_ns) {
        record_error(p, d::ErrorRole::kRecv, src, slot, epoch, v);
        fail = 1;
        break;
      }
      if ((polls & 31u) == 0 && (rank_failed(p, p.rank) || rank_failed(p, src))) {
        record_error(p, d::ErrorRole::kAbort, src, slot, epoch, v);
        fail = 1;
        break;
      }
    }
  }
  return __syncthreads_or(fail) != 0;
}

/// Exchange: copies block `b` of every source from this rank's regions (parity) into out_o and
/// out_stats (rows (e, src)): all threads, 16-byte pieces.
__device__ __forceinline__ void copy_block(const DirectParams& p, u32 parity, u32 b) {
  const d::Layout& l = p.layout;
  const int cp = l.cp_size;
  const u32 first = l.block_first(b);
  const u32 n = l.block_size(b);
  const u32 chunks = l.row_bytes / 16u;
  const u32 per_entry = static_cast<u32>(cp) * chunks;
  const char* seg = segment(p, p.rank);
  auto* out_o = static_cast<char*>(p.out_o);
  for (u32 i = threadIdx.x; i < n * per_entry; i += blockDim.x) {
    const u32 ei = i / per_entry;
    const u32 rest = i - ei * per_entry;
    const u32 src = rest / chunks;
    const u32 j = rest - src * chunks;
    const u32 e = first + ei;
    const uint4 v = __ldcg(reinterpret_cast<const uint4*>(
        seg + p.geometry.region_offset(parity, static_cast<int>(src)) + l.row_offset(e) +
        std::int64_t{j} * 16));
    *reinterpret_cast<uint4*>(out_o + (static_cast<std::int64_t>(e) * cp + src) * l.row_bytes +
                              std::int64_t{j} * 16) = v;
  }
  const u32 s = l.stats_bytes / 4u;
  const u32 per_entry_s = static_cast<u32>(cp) * s;
  auto* out_stats = static_cast<u32*>(p.out_stats);
  for (u32 i = threadIdx.x; i < n * per_entry_s; i += blockDim.x) {
    const u32 ei = i / per_entry_s;
    const u32 rest = i - ei * per_entry_s;
    const u32 src = rest / s;
    const u32 q = rest - src * s;
    const u32 e = first + ei;
    out_stats[(static_cast<std::int64_t>(e) * cp + src) * s + q] = __ldcg(
        reinterpret_cast<const u32*>(seg + p.geometry.region_offset(parity, static_cast<int>(src)) +
                                     l.stats_offset(e) + std::int64_t{q} * 4));
  }
}

/// Reduce: the merge of entry e by one warp (all 32 lanes), reading the cp rows and LSEs from this
/// rank's regions (parity). Weights as the merge kernel computes them (merge/merge_kernel.cu:
/// lanes s and s + 32 sanitise and weigh sources s, s + 32; the maximum by a butterfly, which is
/// order-independent; the sum in source order through shuffles), then 8 elements per lane with
/// merge::merge_lanes, which loads live sources only, in source order. `scale`: this warp's
/// kMaxCp floats of shared memory.
__device__ __forceinline__ void merge_entry_warp(const DirectParams& p, u32 parity, u32 e,
                                                 float* scale, int lane) {
  const d::Layout& l = p.layout;
  const int cp = l.cp_size;
  const char* seg = segment(p, p.rank);
  auto lse_of = [&](int src) {
    return __ldcg(reinterpret_cast<const float*>(seg + p.geometry.region_offset(parity, src) +
                                                 l.stats_offset(e)));
  };
  const int s0 = lane;
  const int s1 = lane + 32;
  const float l0 = s0 < cp ? merge::sanitize_lse(lse_of(s0)) : merge::minus_inf();
  const float l1 = s1 < cp ? merge::sanitize_lse(lse_of(s1)) : merge::minus_inf();
  float m = merge::max_lse(l0, l1);
  for (int offset = 16; offset > 0; offset >>= 1)
    m = merge::max_lse(m, __shfl_xor_sync(kFullMask, m, offset));
  std::uint64_t live = 0;
  float lse_out = merge::minus_inf();
  if (m != merge::minus_inf()) {  // warp-uniform (the butterfly gives every lane the maximum)
    const float w0 = merge::source_weight(l0, m, p.base);  // 0 for empty shards, lanes past cp
    const float w1 = merge::source_weight(l1, m, p.base);
    float w_sum = 0.0f;
    for (int s = 0; s < cp; ++s)
      w_sum = merge::add_rn(w_sum, __shfl_sync(kFullMask, s < 32 ? w0 : w1, s & 31));
    if (s0 < cp) scale[s0] = w0 != 0.0f ? merge::div_rn(w0, w_sum) : 0.0f;
    if (s1 < cp) scale[s1] = w1 != 0.0f ? merge::div_rn(w1, w_sum) : 0.0f;
    live = static_cast<std::uint64_t>(__ballot_sync(kFullMask, w0 != 0.0f)) |
           (static_cast<std::uint64_t>(__ballot_sync(kFullMask, w1 != 0.0f)) << 32);
    lse_out = merge::merged_lse(m, w_sum, p.base);
  }
  __syncwarp();  // scale[] written by its lanes, read by all
  const u32 chunks = l.row_bytes / 16u;
  const bool fp16 = p.fp16 != 0;
  auto* out = static_cast<char*>(p.out_o) + static_cast<std::int64_t>(e) * l.row_bytes;
  for (u32 j = static_cast<u32>(lane); j < chunks; j += 32u) {
    std::uint16_t res[8];
    merge::merge_lanes<8>(
        scale, live, fp16,
        [&](int src, std::uint16_t* bits) {
          const uint4 v =
              __ldcg(reinterpret_cast<const uint4*>(seg + p.geometry.region_offset(parity, src) +
                                                    l.row_offset(e) + std::int64_t{j} * 16));
          memcpy(bits, &v, sizeof v);
        },
        res);
    uint4 v;
    memcpy(&v, res, sizeof v);
    *reinterpret_cast<uint4*>(out + std::int64_t{j} * 16) = v;
  }
  if (lane == 0) static_cast<float*>(p.out_stats)[e] = lse_out;
  __syncwarp();  // every lane is done with scale[] before the next entry rewrites it
}

/// Delivers block `b` (its flags from every source were acquired): copy or merge.
__device__ __forceinline__ void deliver_block(const DirectParams& p, u32 parity, u32 b,
                                              float (*scales)[merge::kMaxCp]) {
  if (!p.reduce) {
    copy_block(p, parity, b);
    return;
  }
  const int warp = static_cast<int>(threadIdx.x) >> 5;
  const int lane = static_cast<int>(threadIdx.x) & 31;
  const u32 first = p.layout.block_first(b);
  const u32 n = p.layout.block_size(b);
  for (u32 i = static_cast<u32>(warp); i < n; i += kDirectWarps)
    merge_entry_warp(p, parity, first + i, scales[warp], lane);
}

// ---- kernels ------------------------------------------------------------------------------------

/// native-direct: one launch per call (direct_protocol.hpp, fused_cta_program).
__global__ void __launch_bounds__(kDirectThreads)
    direct_fused_kernel(const __grid_constant__ DirectParams p) {
  __shared__ float scales[kDirectWarps][merge::kMaxCp];
  const CallStart start = read_call_start(p);
  if (start.failed) return;  // uniform (shared memory after a barrier)
  const u64 epoch = start.epoch_word;
  const u32 parity = d::parity_of(epoch);
  const u64 value = d::flag_for(epoch);
  const fused::Range blocks = fused::cta_blocks(p.plan, static_cast<int>(blockIdx.x));
  for (u32 b = blocks.first; b < blocks.end(); ++b) {
    write_block(p, parity, b);
    __syncthreads();
    release_flags(p, parity, b, value);
  }
  for (u32 b = blocks.first; b < blocks.end(); ++b) {
    if (await_flags(p, parity, b, epoch)) return;  // uniform (__syncthreads_or)
    deliver_block(p, parity, b, scales);
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    u64* hdr = header(p, p.rank);
    const u64 before = atom_add_acq_rel_gpu_u64(hdr + d::kArrivalWord, 1);
    if (d::last_arrival(before, static_cast<u32>(gridDim.x))) {
      // Every other CTA read the epoch before it arrived; the next launch (stream order) sees
      // both stores.
      st_volatile_u64(hdr + d::kArrivalWord, 0);
      st_volatile_u64(hdr + d::kEpochWord, epoch + 1);
    }
  }
}

/// direct-staged launch 1: epoch word := epoch + 1 (one thread).
__global__ void direct_advance_kernel(const __grid_constant__ DirectParams p) {
  if (threadIdx.x != 0 || rank_failed(p, p.rank)) return;
  u64* word = header(p, p.rank) + d::kEpochWord;
  st_volatile_u64(word, ld_volatile_u64(word) + 1);
}

/// direct-staged launch 2: this CTA's share of the blocks to every destination.
__global__ void __launch_bounds__(kDirectThreads)
    direct_write_kernel(const __grid_constant__ DirectParams p) {
  const CallStart start = read_call_start(p);
  if (start.failed) return;
  const u64 epoch = d::staged_call_epoch(d::StagedStep::kWrite, start.epoch_word);
  const fused::Range blocks = staged_blocks(p.layout, blockIdx.x, gridDim.x);
  for (u32 b = blocks.first; b < blocks.end(); ++b)
    write_block(p, d::parity_of(epoch), b);
}

/// direct-staged launch 3: one pair flag per destination (covers every block written by launch
/// 2, which completed before this launch started).
__global__ void direct_signal_kernel(const __grid_constant__ DirectParams p) {
  const CallStart start = read_call_start(p);
  if (start.failed) return;
  const u64 epoch = d::staged_call_epoch(d::StagedStep::kSignal, start.epoch_word);
  release_flags(p, d::parity_of(epoch), d::kPairFlagBlock, d::flag_for(epoch));
}

/// direct-staged launch 4: every CTA awaits every source's pair flag, then delivers its blocks.
__global__ void __launch_bounds__(kDirectThreads)
    direct_wait_kernel(const __grid_constant__ DirectParams p) {
  __shared__ float scales[kDirectWarps][merge::kMaxCp];
  const CallStart start = read_call_start(p);
  if (start.failed) return;
  const u64 epoch = d::staged_call_epoch(d::StagedStep::kWaitDeliver, start.epoch_word);
  const u32 parity = d::parity_of(epoch);
  if (await_flags(p, parity, d::kPairFlagBlock, epoch)) return;
  const fused::Range blocks = staged_blocks(p.layout, blockIdx.x, gridDim.x);
  for (u32 b = blocks.first; b < blocks.end(); ++b)
    deliver_block(p, parity, b, scales);
}

}  // namespace dcp::kernels::direct_detail
