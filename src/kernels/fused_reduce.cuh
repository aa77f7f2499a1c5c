#pragma once
/// @file
/// The fused LL128 exchange+merge kernel (native-fused). Included only by fused_reduce.cu.
///
/// One launch per rank and call; CTA c (of plan.ctas) owns the entries cta_entries(plan, c) on
/// every rank (fused_plan.hpp) and uses FIFO c of every pair of the LL128 workspace. Its 2 x cp
/// streams (cp sends, cp receives of ll128_stream(plan, c)) are cut into items of 4 lines; warp w
/// does items w, w + W, ... in order, all its sends before its receives (fused::ll128_item),
/// kFusedRounds items at a time (all their loads in flight together, one poll loop for all).
///  - SEND item: the lanes load their 16 bytes of the 4 lines from partial_o / lse (gather_lane),
///    the warp loads the (peer, c) counters, waits for credit only if the slot is still held by
///    an earlier call (bounded, wait_credit), and writes each line with ONE warp store
///    instruction, flag seq + 1 in word 15 (the exchange kernel's wire format and ordering
///    contract, fused_alltoall.cuh).
///  - RECEIVE item: poll the 4 lines with warp-wide 16-byte volatile loads until every flag
///    matches (bounded by timeout_ns, stopping when this rank or the peer recorded an error),
///    reload the lines (the payload of a load issued after the flags matched, spec §3.8), and
///    stage the payload in shared memory by source rank (stage_lane).
///  - Then one CTA barrier; thread t < cp advances head (to send_peer t) and tail (from
///    recv_peer t) by the call's slots and publishes credit = new tail to that source (every
///    load of the call's FIFO lines has returned: their values are in shared memory); then the
///    merge of the CTA's entries from shared memory: warp-parallel weights (the operations of
///    merge::merge_weights, the sum in source order), a barrier, and merge::merge_lanes<8> per
///    16-byte chunk into out, lse_out by lane 0 of the entry's warp.
/// A sender never waits for anything of its own call: a stream fits its FIFO (the plan refuses
/// it otherwise), so the credit it needs was published by the peer's previous call (proof:
/// ll128::single_warp_allowed). Every CTA of every rank's grid must be resident at once (the plan
/// counts them). On a rank whose error record is set, every CTA stops before its first FIFO store
/// and touches no counter (the record is loaded with the counters) until the host's reset.
///
/// Exactness: the fp32 arithmetic is only merge/merge_routine.hpp's (compiled with -ftz=false
/// --fmad=false, src/kernels/CMakeLists.txt); the weights' order-dependent step (the sum) runs in
/// source order on every lane, as in the merge kernel (merge/merge_kernel.cu), so the outputs are
/// bit-identical to the CPU reference.

#include <cstdint>
#include <cstring>

#include "kernels/fused_alltoall.cuh"
#include "kernels/fused_reduce.hpp"
#include "kernels/fused_reduce_layout.hpp"
#include "merge/merge_routine.hpp"

namespace dcp::kernels::detail {

namespace f = dcp::kernels::fused;

/// What a CTA works on (per call).
struct CtaCtx {
  f::StreamCtx sc;
  char* my_seg = nullptr;
  int cta = 0;
  int cp = 1;
  int rank = 0;
};

/// Items a warp keeps in flight at once: its items base + u x kWarps for u < kFusedRounds are
/// moved together (all their loads, then all their stores; all their polls in one loop), so a
/// warp with many items pays one round trip per kFusedRounds items, not per item.
inline constexpr int kFusedRounds = 4;

/// The send items among rounds base + u x kWarps (u < kFusedRounds, < items): each lane loads
/// its 16 bytes of every round's line, the warp loads the rounds' counters, waits for credit
/// only where a slot is still held by an earlier call (bounded), and stores each line with ONE
/// warp instruction. false when a credit wait gave up (error recorded).
template <int kWarps>
__device__ __forceinline__ bool fused_send_rounds(const FusedReduceParams& p, const CtaCtx& c,
                                                  u32 base, u32 items, int lane,
                                                  const LaneRole& r) {
  const FusedAllToAllParams& x = p.x;
  const l::Geometry& geo = x.geometry;
  const auto* in_o = static_cast<const unsigned long long*>(x.in_o);
  const auto* in_lse = static_cast<const unsigned int*>(x.in_stats);
  u64 lo[kFusedRounds];
  u64 hi[kFusedRounds];
  u32 sends = 0;  // warp-uniform: rounds that are send items
#pragma unroll
  for (int u = 0; u < kFusedRounds; ++u) {
    lo[u] = 0;
    hi[u] = 0;
    const u32 item = base + static_cast<u32>(u * kWarps);
    if (item >= items) continue;
    const f::Ll128Item it = f::ll128_item(p.plan, c.sc.st, item);
    if (!it.send) continue;
    sends |= 1u << u;
    const u32 line = it.first_line + static_cast<u32>(r.group);
    if (line < it.first_line + it.lines) {
      f::gather_lane(
          c.sc, f::send_peer(c.rank, it.k, c.cp), l::lane_move(c.sc.st.o_words, line, r.part),
          [&](u32 idx, u64& a, u64& b) {
            const ulonglong2 v = __ldcg(reinterpret_cast<const ulonglong2*>(in_o + idx));
            a = v.x;
            b = v.y;
          },
          [&](u32 idx) -> u64 { return __ldcg(in_o + idx); },
          [&](u32 idx) -> u32 { return __ldcg(in_lse + idx); }, lo[u], hi[u]);
    }
  }
  if (sends == 0) return true;
  // The counters of every round's (peer, CTA), all loads in flight at once (every lane loads
  // them itself: one instruction per round).
  __syncwarp();
  // This rank's error record, in flight together with the counters: a failed rank's counters
  // are inconsistent, so it stores nothing until the host's reset (decided by a vote below).
  const u64 err = ld_volatile_u64(error_record(x, c.rank) + l::kErrorInfo);
  u64 head[kFusedRounds];
  u64 credit[kFusedRounds];
#pragma unroll
  for (int u = 0; u < kFusedRounds; ++u) {
    head[u] = 0;
    credit[u] = 0;
    if ((sends & (1u << u)) == 0) continue;
    const f::Ll128Item it = f::ll128_item(p.plan, c.sc.st, base + static_cast<u32>(u * kWarps));
    const int peer = f::send_peer(c.rank, it.k, c.cp);
    const u64* rec = reinterpret_cast<const u64*>(c.my_seg + geo.counter_offset(peer, c.cta));
    head[u] = ld_volatile_u64(rec + l::kHeadWord);
    credit[u] = read_credit(rec + l::kCreditWord);
  }
  if (__any_sync(kFullMask, err != 0)) return false;
#pragma unroll
  for (int u = 0; u < kFusedRounds; ++u) {
    if ((sends & (1u << u)) == 0) continue;
    const f::Ll128Item it = f::ll128_item(p.plan, c.sc.st, base + static_cast<u32>(u * kWarps));
    const int peer = f::send_peer(c.rank, it.k, c.cp);
    const u64 seq = head[u] + it.first_line / static_cast<u32>(geo.slot_lines);
    // Per lane, but only a vote decides (the lanes' credit loads may differ); wait_credit()
    // returns a broadcast value.
    if (__any_sync(kFullMask, credit[u] + static_cast<u64>(geo.depth) <= seq)) {
      u64* credit_ptr =
          reinterpret_cast<u64*>(c.my_seg + geo.counter_offset(peer, c.cta)) + l::kCreditWord;
      const u64 got = wait_credit(x, credit_ptr, peer, c.cta, seq, lane);
      if (got + static_cast<u64>(geo.depth) <= seq) return false;  // uniform: broadcast
    }
    const u32 line = it.first_line + static_cast<u32>(r.group);
    const bool present = line < it.first_line + it.lines;
    u64 h = hi[u];
    if (r.flag_lane) h = l::flag_for(seq);  // word 15 of the line
    char* dst = static_cast<char*>(x.segments[peer]) +
                f::stream_line_offset(geo, c.rank, c.cta, head[u], present ? line : it.first_line) +
                r.part * (l::kWordsPerLane * l::kWordBytes);
    // Reconverge: the 8 lanes of a line store it with ONE warp instruction.
    __syncwarp();
    if (present) st_line_part(dst, lo[u], h);
  }
  return true;
}

/// The receive items among rounds base + u x kWarps: polls every round's line with warp-wide
/// 16-byte volatile loads until every flag matches (bounded by timeout_ns; stops when this rank
/// or the first round's source recorded an error), reloads the lines (the payload of a load
/// issued after the flags matched, spec §3.8) and stages their payload in shared memory by
/// source rank. false when the wait gave up (error recorded).
template <int kWarps>
__device__ __forceinline__ bool fused_recv_rounds(const FusedReduceParams& p, const CtaCtx& c,
                                                  u32 base, u32 items, int lane, const LaneRole& r,
                                                  u64* stage_words, u32* stage_lse) {
  const FusedAllToAllParams& x = p.x;
  const l::Geometry& geo = x.geometry;
  const u32 slot_lines = static_cast<u32>(geo.slot_lines);
  u64 lo[kFusedRounds];
  u64 hi[kFusedRounds];
  u64 flag[kFusedRounds];
  const char* ptr[kFusedRounds];
  u32 recvs = 0;     // warp-uniform: rounds that are receive items
  u32 pending = 0;   // the same for the 8 lanes of a line group: rounds whose line is awaited
  int watched = -1;  // the first round's source (for the failure check)
  // This rank's error record, in flight together with the tails (see fused_send_rounds).
  const u64 err = ld_volatile_u64(error_record(x, c.rank) + l::kErrorInfo);
#pragma unroll
  for (int u = 0; u < kFusedRounds; ++u) {
    lo[u] = 0;
    hi[u] = 0;
    flag[u] = 0;
    ptr[u] = c.my_seg;
    const u32 item = base + static_cast<u32>(u * kWarps);
    if (item >= items) continue;
    const f::Ll128Item it = f::ll128_item(p.plan, c.sc.st, item);
    if (it.send) continue;
    recvs |= 1u << u;
    const int src = f::recv_peer(c.rank, it.k, c.cp);
    if (watched < 0) watched = src;
    const u64* rec = reinterpret_cast<const u64*>(c.my_seg + geo.counter_offset(src, c.cta));
    const u64 tail = ld_volatile_u64(rec + l::kTailWord);
    flag[u] = l::flag_for(tail + it.first_line / slot_lines);
    const u32 line = it.first_line + static_cast<u32>(r.group);
    const bool present = line < it.first_line + it.lines;
    if (present) pending |= 1u << u;
    ptr[u] = c.my_seg +
             f::stream_line_offset(geo, src, c.cta, tail, present ? line : it.first_line) +
             r.part * (l::kWordsPerLane * l::kWordBytes);
  }
  if (recvs == 0) return true;
  if (__any_sync(kFullMask, err != 0)) return false;
  const u32 present = pending;
  // Reads every pending line, converged, so that the 8 lanes of a line read it with ONE warp
  // instruction.
  auto read_pending = [&] {
    __syncwarp();
#pragma unroll
    for (int u = 0; u < kFusedRounds; ++u) {
      if (pending & (1u << u)) ld_line_part(ptr[u], lo[u], hi[u]);
    }
  };
  u64 start = 0;
  if (lane == 0) start = globaltimer_ns();
  u32 polls = 0;
  read_pending();
  for (;;) {
#pragma unroll
    for (int u = 0; u < kFusedRounds; ++u) {
      // The flag is the upper half of lane 7 of every line (word 15).
      const bool mine = (pending & (1u << u)) != 0 && r.flag_lane && hi[u] == flag[u];
      if ((__ballot_sync(kFullMask, mine) >> r.flag_src) & 1u) pending &= ~(1u << u);
    }
    if (!__any_sync(kFullMask, pending != 0)) break;
    read_pending();
    int stop = 0;
    if (lane == 0) {
      ++polls;
      if (globaltimer_ns() - start > x.timeout_ns) {
        stop = 1;
      } else if ((polls & 31u) == 0 && someone_failed(x, watched)) {
        stop = 2;
      }
    }
    stop = __shfl_sync(kFullMask, stop, 0);
    if (stop != 0) {
      // The first missing (round, line group) of the warp and the flag its line carried.
      u32 code = 0xFFFFFFFFu;
      u64 seen = 0;
#pragma unroll
      for (int u = kFusedRounds - 1; u >= 0; --u) {
        if (pending & (1u << u)) {
          code = static_cast<u32>(u) * l::kLinesPerWarpAccess + static_cast<u32>(r.group);
          seen = hi[u];
        }
      }
      const u32 first = __reduce_min_sync(kFullMask, code);
      const int holder = static_cast<int>(first % l::kLinesPerWarpAccess) * l::kLanesPerLine +
                         (l::kLanesPerLine - 1);
      seen = __shfl_sync(kFullMask, seen, holder);
      if (lane == 0) {
        const u32 u = first / l::kLinesPerWarpAccess;
        const f::Ll128Item it = f::ll128_item(p.plan, c.sc.st, base + u * kWarps);
        const int src = f::recv_peer(c.rank, it.k, c.cp);
        const u64* rec = reinterpret_cast<const u64*>(c.my_seg + geo.counter_offset(src, c.cta));
        const u32 line = it.first_line + first % l::kLinesPerWarpAccess;
        record_error(x, stop == 1 ? l::ErrorRole::kRecv : l::ErrorRole::kAbort, src, c.cta,
                     ld_volatile_u64(rec + l::kTailWord) + line / slot_lines, line, seen);
      }
      return false;
    }
  }
  // Every flag matched: take the payload from a load issued now (spec §3.8, as the exchange).
  pending = present;
  read_pending();
#pragma unroll
  for (int u = 0; u < kFusedRounds; ++u) {
    if ((present & (1u << u)) == 0) continue;
    const f::Ll128Item it = f::ll128_item(p.plan, c.sc.st, base + static_cast<u32>(u * kWarps));
    const int src = f::recv_peer(c.rank, it.k, c.cp);
    const u32 line = it.first_line + static_cast<u32>(r.group);
    f::stage_lane(
        c.sc, src, l::lane_move(c.sc.st.o_words, line, r.part), lo[u], hi[u],
        [&](u32 idx, u64 a, u64 b) {
          *reinterpret_cast<ulonglong2*>(stage_words + idx) = make_ulonglong2(a, b);
        },
        [&](u32 idx, u64 v) { stage_words[idx] = v; }, [&](u32 idx, u32 v) { stage_lse[idx] = v; });
  }
  return true;
}

/// The weights of staged entry i by one warp (lane s: sources s and s + 32): the operations of
/// merge::merge_weights, the maximum by a butterfly (order-independent on sanitised values), the
/// sum in source order on every lane. Writes scale[i * cp + s], live[i] and lse_out.
__device__ __forceinline__ void fused_weights(const FusedReduceParams& p, const CtaCtx& c, u32 i,
                                              const float* stage_lse, float* scale, u64* live,
                                              int lane) {
  const u32 n = c.sc.st.entries;
  const int s0 = lane;
  const int s1 = lane + 32;
  const float l0 =
      s0 < c.cp ? merge::sanitize_lse(stage_lse[f::stage_lse_index(n, i, s0)]) : merge::minus_inf();
  const float l1 =
      s1 < c.cp ? merge::sanitize_lse(stage_lse[f::stage_lse_index(n, i, s1)]) : merge::minus_inf();
  float m = merge::max_lse(l0, l1);
  for (int offset = 16; offset > 0; offset >>= 1)
    m = merge::max_lse(m, __shfl_xor_sync(kFullMask, m, offset));
  float* sc = scale + std::size_t{i} * static_cast<std::size_t>(c.cp);
  float* lse_out = static_cast<float*>(p.x.out_stats) + (c.sc.first + i);
  if (m == merge::minus_inf()) {  // every shard empty: no source is read, the row is +0
    if (s0 < c.cp) sc[s0] = 0.0f;
    if (s1 < c.cp) sc[s1] = 0.0f;
    if (lane == 0) {
      live[i] = 0;
      *lse_out = merge::minus_inf();
    }
    return;
  }
  const float w0 = merge::source_weight(l0, m, p.base);  // 0 for empty shards and lanes past cp
  const float w1 = merge::source_weight(l1, m, p.base);
  float w_sum = 0.0f;
  for (int s = 0; s < c.cp; ++s)
    w_sum = merge::add_rn(w_sum, __shfl_sync(kFullMask, s < 32 ? w0 : w1, s & 31));
  if (s0 < c.cp) sc[s0] = w0 != 0.0f ? merge::div_rn(w0, w_sum) : 0.0f;
  if (s1 < c.cp) sc[s1] = w1 != 0.0f ? merge::div_rn(w1, w_sum) : 0.0f;
  const u64 mask = static_cast<u64>(__ballot_sync(kFullMask, w0 != 0.0f)) |
                   (static_cast<u64>(__ballot_sync(kFullMask, w1 != 0.0f)) << 32);
  if (lane == 0) {
    live[i] = mask;
    *lse_out = merge::merged_lse(m, w_sum, p.base);
  }
}

template <int kWarps>
__global__ void __launch_bounds__(kWarps * 32, kFusedReduceMaxCtasPerSm)
    fused_reduce_kernel(const __grid_constant__ FusedReduceParams p) {
  extern __shared__ __align__(16) unsigned char smem[];
  __shared__ int abort_flag;
  const FusedAllToAllParams& x = p.x;
  const int lane = static_cast<int>(threadIdx.x) % l::kWarpLanes;
  const int warp = static_cast<int>(threadIdx.x) / l::kWarpLanes;
  CtaCtx c;
  c.cta = static_cast<int>(blockIdx.x);
  c.cp = x.shape.cp_size;
  c.rank = x.rank;
  c.my_seg = static_cast<char*>(x.segments[x.rank]);
  c.sc.st = f::ll128_stream(p.plan, c.cta);
  c.sc.first = f::cta_entries(p.plan, c.cta).first;
  c.sc.o_row_words = p.plan.o_row_words;
  c.sc.o_div = p.o_div;
  c.sc.cp = c.cp;
  const u32 n = c.sc.st.entries;
  const f::StageLayout sl = f::stage_layout(c.cp, n, p.plan.o_row_words);
  auto* stage_words = reinterpret_cast<u64*>(smem + sl.rows);
  auto* stage_lse = reinterpret_cast<u32*>(smem + sl.lse);
  auto* scale = reinterpret_cast<float*>(smem + sl.scale);
  auto* live = reinterpret_cast<u64*>(smem + sl.live);
  const LaneRole r = lane_role(lane);
  const u32 items = f::ll128_items(p.plan, c.sc.st);
  if (threadIdx.x == 0) abort_flag = 0;

  // Nothing (inputs, counters, FIFOs) is touched before the previous grid has completed.
  pdl_wait();
  pdl_trigger();
  __syncthreads();  // abort_flag is initialised

  // A failed rank (error record set) stores nothing and touches no counter until the host's
  // reset: every round checks the record together with its counters and stops the CTA.
  bool failed = false;
  // The warp's items w, w + W, ... in chunks of kFusedRounds: every send before every receive
  // (items [0, cp x U) are the sends).
  for (u32 base = static_cast<u32>(warp); !failed && base < items; base += kFusedRounds * kWarps) {
    failed = !fused_send_rounds<kWarps>(p, c, base, items, lane, r) ||
             !fused_recv_rounds<kWarps>(p, c, base, items, lane, r, stage_words, stage_lse);
  }
  if (failed && lane == 0) abort_flag = 1;
  __syncthreads();  // every item done: the staged rows are complete, every FIFO load returned
  if (abort_flag != 0) return;  // uniform over the CTA

  const l::Geometry& geo = x.geometry;
  if (static_cast<int>(threadIdx.x) < c.cp) {
    const int t = static_cast<int>(threadIdx.x);
    const u64 slots = f::stream_slots(c.sc.st.lines, geo.slot_lines);
    const int to = f::send_peer(c.rank, t, c.cp);
    const int from = f::recv_peer(c.rank, t, c.cp);
    u64* rec_to = reinterpret_cast<u64*>(c.my_seg + geo.counter_offset(to, c.cta));
    u64* rec_from = reinterpret_cast<u64*>(c.my_seg + geo.counter_offset(from, c.cta));
    const u64 head = ld_volatile_u64(rec_to + l::kHeadWord);
    const u64 tail = ld_volatile_u64(rec_from + l::kTailWord);
    st_volatile_u64(rec_to + l::kHeadWord, head + slots);
    st_volatile_u64(rec_from + l::kTailWord, tail + slots);
    auto* remote_credit = reinterpret_cast<u64*>(static_cast<char*>(x.segments[from]) +
                                                 geo.counter_offset(c.rank, c.cta)) +
                          l::kCreditWord;
    publish_credit(remote_credit, tail + slots);
  }

  // The merge of the CTA's entries from shared memory.
  for (u32 i = static_cast<u32>(warp); i < n; i += kWarps)
    fused_weights(p, c, i, reinterpret_cast<const float*>(stage_lse), scale, live, lane);
  __syncthreads();
  const u32 d = p.plan.o_row_words * 4;
  const u32 chunks = d / f::kMergeVector;
  const bool fp16 = x.shape.fp16;
  const auto* stage_rows = reinterpret_cast<const std::uint16_t*>(stage_words);
  auto* out = static_cast<std::uint16_t*>(x.out_o);
  for (u32 idx = threadIdx.x; idx < n * chunks; idx += kWarps * 32) {
    const u32 i = idx / chunks;
    const u32 chunk = idx - i * chunks;
    std::uint16_t v[f::kMergeVector];
    f::staged_chunk(
        scale, live, n, c.cp, d, fp16, i, chunk,
        [&](u32 el, std::uint16_t* bits) {
          const uint4 w = *reinterpret_cast<const uint4*>(stage_rows + el);
          memcpy(bits, &w, sizeof w);
        },
        v);
    uint4 w;
    memcpy(&w, v, sizeof w);
    *reinterpret_cast<uint4*>(out + (std::size_t{c.sc.first} + i) * d + chunk * f::kMergeVector) =
        w;
  }
}

}  // namespace dcp::kernels::detail
