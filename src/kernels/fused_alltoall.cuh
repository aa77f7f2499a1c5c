#pragma once
/// @file
/// The native fused LL128 exchange kernel. Included only by fused_alltoall.cu.
///
/// Protocol (geometry and index math: ll128_layout.hpp; CPU twin: ll128_reference.cpp):
///  - one SENDER warp per (peer, channel): reads its stream's words from the input tensors, builds
///    128-byte lines (words 0..14 payload, word 15 = flag = seq + 1) and writes each line with ONE
///    warp store instruction, 8 lanes x 16 bytes (st.volatile.global.v4.u32), into the FIFO that
///    lives in the peer's segment. Before writing sequence number seq it waits until the credit
///    the receiver published exceeds seq - depth (flow control).
///  - one RECEIVER warp per (peer, channel): polls its local FIFO with warp-wide 16-byte volatile
///    loads (ld.volatile.global.v4.u32, 8 lanes per line, 4 lines per instruction), accepts a line
///    only when its own flag matches, re-reads the lines that do not match yet, scatters accepted
///    payload into the output rows, and after a whole slot publishes credit = seq + 1 into the
///    sender's segment (st.relaxed.sys; why not a release store: publish_credit()).
///  - head/tail/credit are 64-bit counters in device memory that persist across calls (and graph
///    replays): both sides advance them by the same number of slots per call, so no call ever
///    re-initialises anything and no flag value is reused.
///
/// Why volatile v4 stores and loads: `.volatile` keeps ptxas from splitting, merging or
/// reordering the 16-byte accesses and makes them morally strong (relaxed, system scope) in the
/// PTX memory model, so the reader's polls are not data races. The 128-byte atomicity of a line
/// written by one warp instruction and read by one warp instruction is the hardware property
/// NCCL's LL128 relies on as well (spec §3.6/§9.2); FIFO lines are never read with TMA /
/// cp.async.bulk, whose re-fetch was measured to accept torn lines (spec §3.7).
///
/// Every spin is bounded by %globaltimer (params.timeout_ns). A warp that gives up records who it
/// waited for in its rank's error record (first writer wins, atomicCAS) and returns; warps
/// spinning elsewhere notice their own rank's or the awaited peer's record and stop as well
/// (role kAbort), and a later launch on a failed rank returns without touching any counter.

#include <cstdint>

#include "kernels/fused_alltoall.hpp"
#include "kernels/fused_alltoall_params.hpp"
#include "kernels/ll128_layout.hpp"

namespace dcp::kernels::detail {

using u32 = std::uint32_t;
using u64 = std::uint64_t;
namespace l = ll128;

inline constexpr unsigned kFullMask = 0xFFFFFFFFu;

// ---- PTX helpers --------------------------------------------------------------------------------

/// griddepcontrol.wait: returns once the preceding grid in the stream (possibly the previous
/// exchange, still updating the same counters) has completed and its memory is visible. A no-op
/// when the kernel was launched without programmatic stream serialisation.
__device__ __forceinline__ void pdl_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

/// griddepcontrol.launch_dependents: lets the next kernel of the stream be scheduled once every
/// CTA of this grid has issued it or exited (the first issue per CTA counts).
__device__ __forceinline__ void pdl_trigger() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

__device__ __forceinline__ u64 globaltimer_ns() {
  u64 t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

__device__ __forceinline__ u64 ld_volatile_u64(const u64* p) {
  u64 v;
  asm volatile("ld.volatile.global.u64 %0, [%1];" : "=l"(v) : "l"(p) : "memory");
  return v;
}

__device__ __forceinline__ void st_volatile_u64(u64* p, u64 v) {
  asm volatile("st.volatile.global.u64 [%0], %1;" ::"l"(p), "l"(v) : "memory");
}

__device__ __forceinline__ u64 ld_acquire_sys_u64(const u64* p) {
  u64 v;
  asm volatile("ld.acquire.sys.global.u64 %0, [%1];" : "=l"(v) : "l"(p) : "memory");
  return v;
}

__device__ __forceinline__ void st_release_sys_u64(u64* p, u64 v) {
  asm volatile("st.release.sys.global.u64 [%0], %1;" ::"l"(p), "l"(v) : "memory");
}

__device__ __forceinline__ void st_relaxed_sys_u64(u64* p, u64 v) {
  asm volatile("st.relaxed.sys.global.u64 [%0], %1;" ::"l"(p), "l"(v) : "memory");
}

/// Build option: 1 = publish credit with st.release.sys (formal release/acquire pairing),
/// 0 (default) = st.relaxed.sys. See publish_credit().
#ifndef DCP_NATIVE_CREDIT_RELEASE
#define DCP_NATIVE_CREDIT_RELEASE 0
#endif

/// The receiver hands a consumed slot back to the sender.
///
/// The credit orders only a write-after-read hazard: the sender must not overwrite slot lines the
/// receiver has not read yet. It publishes no data (the sender never reads anything the receiver
/// wrote before it), so release semantics would buy nothing but their fence: st.release.sys
/// compiles to MEMBAR.ALL.SYS, measured at +1.9 us per exchange on an H100 (sim, graph, cp=2,
/// B=1: 4.2 vs 2.4 us; st.release.gpu: 2.7 us). The relaxed store is safe because it is issued
/// only after the warp left the poll loop, i.e. after every lane's 16-byte loads of the slot have
/// returned their values (their registers were consumed by the flag check and the output stores),
/// and GPUs do not issue stores speculatively: no load of the slot can still be satisfied by the
/// sender's next write. NCCL's LL128 posts its head counter the same way. The sender's side keeps
/// an acquire load of the credit (ld.acquire.sys, no fence: an L1 invalidate).
__device__ __forceinline__ void publish_credit(u64* p, u64 v) {
#if DCP_NATIVE_CREDIT_RELEASE
  st_release_sys_u64(p, v);
#else
  st_relaxed_sys_u64(p, v);
#endif
}

/// One lane's 16 bytes of a FIFO line (words 2j, 2j+1 of the line).
__device__ __forceinline__ void ld_line_part(const void* p, u64& lo, u64& hi) {
  u32 a, b, c, d;
  asm volatile("ld.volatile.global.v4.u32 {%0, %1, %2, %3}, [%4];"
               : "=r"(a), "=r"(b), "=r"(c), "=r"(d)
               : "l"(p)
               : "memory");
  lo = (u64{b} << 32) | a;
  hi = (u64{d} << 32) | c;
}

__device__ __forceinline__ void st_line_part(void* p, u64 lo, u64 hi) {
  asm volatile("st.volatile.global.v4.u32 [%0], {%1, %2, %3, %4};" ::"l"(p),
               "r"(static_cast<u32>(lo)), "r"(static_cast<u32>(lo >> 32)),
               "r"(static_cast<u32>(hi)), "r"(static_cast<u32>(hi >> 32))
               : "memory");
}

/// Input loads bypass L1 (.cg): each word is read once, and nothing can be stale in L1.
__device__ __forceinline__ u64 ld_input_u64(const u64* p) {
  u64 v;
  asm volatile("ld.global.cg.u64 %0, [%1];" : "=l"(v) : "l"(p));
  return v;
}

__device__ __forceinline__ void ld_input_v2(const u64* p, u64& lo, u64& hi) {
  asm volatile("ld.global.cg.v2.u64 {%0, %1}, [%2];" : "=l"(lo), "=l"(hi) : "l"(p));
}

// ---- error record -------------------------------------------------------------------------------

__device__ __forceinline__ u64* error_record(const FusedAllToAllParams& p, int rank) {
  return static_cast<u64*>(p.segments[rank]);
}

/// True when this rank or `peer` has recorded an error (checked every few dozen polls).
__device__ __forceinline__ bool someone_failed(const FusedAllToAllParams& p, int peer) {
  return ld_volatile_u64(error_record(p, p.rank) + l::kErrorInfo) != 0 ||
         ld_volatile_u64(error_record(p, peer) + l::kErrorInfo) != 0;
}

/// First writer wins; the host reads the record after the streams were synchronised.
__device__ __noinline__ void record_error(const FusedAllToAllParams& p, l::ErrorRole role, int peer,
                                          int channel, u64 seq, u64 line, u64 observed) {
  u64* rec = error_record(p, p.rank);
  const u64 info = l::encode_error_info(role, p.rank, peer, channel);
  auto* claim = reinterpret_cast<unsigned long long*>(rec + l::kErrorInfo);
  if (atomicCAS(claim, 0ull, static_cast<unsigned long long>(info)) == 0ull) {
    st_volatile_u64(rec + l::kErrorSequence, seq);
    st_volatile_u64(rec + l::kErrorLine, line);
    st_volatile_u64(rec + l::kErrorObserved, observed);
  }
}

// ---- payload words ------------------------------------------------------------------------------

/// Reads stream words w0 and (when `second`) w0 + 1 from the sender's inputs; words past the end
/// of the stream are 0. One division per lane (the second word is usually the next one of the
/// same row); one 16-byte load when both words are adjacent and 16-byte aligned.
__device__ __forceinline__ void load_words(const FusedAllToAllParams& p,
                                           const l::StreamGeometry& sg, int peer, u32 w0,
                                           bool second, u64& lo, u64& hi) {
  lo = 0;
  hi = 0;
  if (w0 >= sg.words) return;
  const auto* in_o = static_cast<const u64*>(p.in_o);
  const auto* in_stats = static_cast<const u64*>(p.in_stats);
  const l::WordLoc a = l::locate_word(sg, p.divisors, p.shape.cp_size, peer, w0);
  const u64* pa = (a.stats ? in_stats : in_o) + a.index;
  if (!second || w0 + 1 >= sg.words) {
    lo = ld_input_u64(pa);
  } else if (a.next_in_row) {
    if ((a.index & 1) == 0) {
      ld_input_v2(pa, lo, hi);
    } else {
      lo = ld_input_u64(pa);
      hi = ld_input_u64(pa + 1);
    }
  } else {  // w0 ends a row: w0 + 1 starts the next row (or the stats part)
    const l::WordLoc b = l::locate_word(sg, p.divisors, p.shape.cp_size, peer, w0 + 1);
    lo = ld_input_u64(pa);
    hi = ld_input_u64((b.stats ? in_stats : in_o) + b.index);
  }
}

/// Writes stream words w0 and (when `second`) w0 + 1 into the receiver's outputs.
__device__ __forceinline__ void store_words(const FusedAllToAllParams& p,
                                            const l::StreamGeometry& sg, int peer, u32 w0,
                                            bool second, u64 lo, u64 hi) {
  if (w0 >= sg.words) return;
  auto* out_o = static_cast<u64*>(p.out_o);
  auto* out_stats = static_cast<u64*>(p.out_stats);
  const l::WordLoc a = l::locate_word(sg, p.divisors, p.shape.cp_size, peer, w0);
  u64* pa = (a.stats ? out_stats : out_o) + a.index;
  if (!second || w0 + 1 >= sg.words) {
    *pa = lo;
  } else if (a.next_in_row) {
    if ((a.index & 1) == 0) {
      *reinterpret_cast<ulonglong2*>(pa) = make_ulonglong2(lo, hi);
    } else {
      pa[0] = lo;
      pa[1] = hi;
    }
  } else {
    const l::WordLoc b = l::locate_word(sg, p.divisors, p.shape.cp_size, peer, w0 + 1);
    *pa = lo;
    *((b.stats ? out_stats : out_o) + b.index) = hi;
  }
}

// ---- sender -------------------------------------------------------------------------------------

/// Lane 0 spins until credit + depth > seq; false when it gave up (error recorded).
__device__ __noinline__ bool wait_credit(const FusedAllToAllParams& p, const u64* credit_ptr,
                                         int peer, int channel, u64 seq, int lane, u64& credit) {
  int stop = 0;
  u64 c = credit;
  if (lane == 0) {
    const u64 depth = static_cast<u64>(p.geometry.depth);
    const u64 start = globaltimer_ns();
    for (u32 polls = 1;; ++polls) {
      c = ld_acquire_sys_u64(credit_ptr);
      if (c + depth > seq) break;
      if (globaltimer_ns() - start > p.timeout_ns) {
        stop = 1;
        break;
      }
      if ((polls & 31u) == 0 && someone_failed(p, peer)) {
        stop = 2;
        break;
      }
    }
    if (stop != 0) {
      record_error(p, stop == 1 ? l::ErrorRole::kSend : l::ErrorRole::kAbort, peer, channel, seq, 0,
                   c);
    }
  }
  credit = __shfl_sync(kFullMask, c, 0);
  stop = __shfl_sync(kFullMask, stop, 0);
  // Orders every lane's following FIFO stores after lane 0's acquire of the credit.
  __syncwarp();
  return stop == 0;
}

/// Loads the input words of one batch (lines [b, b + 4*kRounds) of stream slot k) into lo/hi.
template <int kRounds>
__device__ __forceinline__ void load_batch(const FusedAllToAllParams& p,
                                           const l::StreamGeometry& sg, int peer, u32 first_line,
                                           u32 b, u32 n, int group, int part, u64 (&lo)[kRounds],
                                           u64 (&hi)[kRounds]) {
#pragma unroll
  for (int u = 0; u < kRounds; ++u) {
    const u32 line = b + static_cast<u32>(u * l::kLinesPerWarpAccess + group);
    lo[u] = 0;
    hi[u] = 0;
    if (line < n) {
      const u32 w0 =
          (first_line + line) * l::kPayloadWordsPerLine + static_cast<u32>(part * l::kWordsPerLane);
      load_words(p, sg, peer, w0, part != l::kFlagLane, lo[u], hi[u]);
    }
  }
}

template <int kRounds>
__device__ __forceinline__ void run_sender(const FusedAllToAllParams& p, int peer, int channel,
                                           int lane) {
  const l::Geometry& geo = p.geometry;
  const l::StreamGeometry sg = l::stream_geometry(p.shape, p.channels, channel, geo.slot_lines);
  if (sg.lines == 0) return;                  // an empty channel consumes no sequence numbers
  const int group = lane / l::kLanesPerLine;  // which of the 4 lines of one warp access
  const int part = lane % l::kLanesPerLine;   // which 16 bytes of the line
  const bool flag_lane = part == l::kFlagLane;
  const bool corrupt = p.corrupt_peer == peer && channel == 0;
  const u32 slot_lines = static_cast<u32>(geo.slot_lines);
  constexpr u32 kBatchLines = l::kLinesPerWarpAccess * kRounds;

  // The first batch's input loads do not depend on the counters: issue them first, so that
  // they are in flight together with the counter loads (one memory latency, not two).
  u64 lo[kRounds];
  u64 hi[kRounds];
  load_batch<kRounds>(p, sg, peer, 0, 0, sg.lines_in_slot(0, slot_lines), group, part, lo, hi);

  auto* rec = reinterpret_cast<u64*>(static_cast<char*>(p.segments[p.rank]) +
                                     geo.counter_offset(peer, channel));
  char* fifo_seg = static_cast<char*>(p.segments[peer]);
  u64 head = 0;
  u64 credit = 0;
  u64 err = 0;
  if (lane == 0) {
    err = ld_volatile_u64(error_record(p, p.rank) + l::kErrorInfo);
    head = ld_volatile_u64(rec + l::kHeadWord);
    credit = ld_acquire_sys_u64(rec + l::kCreditWord);
  }
  err = __shfl_sync(kFullMask, err, 0);
  if (err != 0) return;  // this rank failed earlier: its counters are inconsistent
  head = __shfl_sync(kFullMask, head, 0);
  credit = __shfl_sync(kFullMask, credit, 0);

  for (u32 k = 0; k < sg.slots; ++k) {
    const u64 seq = head + k;
    if (credit + static_cast<u64>(geo.depth) <= seq &&
        !wait_credit(p, rec + l::kCreditWord, peer, channel, seq, lane, credit)) {
      return;
    }
    const u64 flag = l::flag_for(seq);
    char* slot = fifo_seg + geo.line_offset(p.rank, channel, seq, 0);
    const u32 n = sg.lines_in_slot(k, slot_lines);
    const u32 first_line = k * slot_lines;
    for (u32 b = 0; b < n; b += kBatchLines) {
      // All loads of a batch first, so that kRounds x 16 bytes per lane are in flight.
      if (k != 0 || b != 0) load_batch<kRounds>(p, sg, peer, first_line, b, n, group, part, lo, hi);
      // Reconverge after the divergent address math: the 8 lanes of a line must issue their
      // 16-byte stores as ONE warp instruction for the line to land whole.
      __syncwarp();
#pragma unroll
      for (int u = 0; u < kRounds; ++u) {
        const u32 line = b + static_cast<u32>(u * l::kLinesPerWarpAccess + group);
        if (line < n) {
          if (flag_lane) hi[u] = flag;
          // Fault injection: stream line 0 of channel 0 carries a valid flag and a wrong byte.
          if (corrupt && k == 0 && line == 0 && part == 0) lo[u] ^= 0x01;
          st_line_part(slot + std::size_t{line} * l::kLineBytes +
                           static_cast<std::size_t>(part) * (l::kWordsPerLane * l::kWordBytes),
                       lo[u], hi[u]);
        }
      }
    }
  }
  __syncwarp();
  if (lane == 0) st_volatile_u64(rec + l::kHeadWord, head + sg.slots);
}

// ---- receiver -----------------------------------------------------------------------------------

template <int kRounds>
__device__ __forceinline__ void run_receiver(const FusedAllToAllParams& p, int peer, int channel,
                                             int lane) {
  const l::Geometry& geo = p.geometry;
  const l::StreamGeometry sg = l::stream_geometry(p.shape, p.channels, channel, geo.slot_lines);
  if (sg.lines == 0) return;
  char* my_seg = static_cast<char*>(p.segments[p.rank]);
  auto* rec = reinterpret_cast<u64*>(my_seg + geo.counter_offset(peer, channel));
  auto* remote_credit = reinterpret_cast<u64*>(static_cast<char*>(p.segments[peer]) +
                                               geo.counter_offset(p.rank, channel)) +
                        l::kCreditWord;
  u64 tail = 0;
  u64 err = 0;
  if (lane == 0) {
    err = ld_volatile_u64(error_record(p, p.rank) + l::kErrorInfo);
    tail = ld_volatile_u64(rec + l::kTailWord);
  }
  err = __shfl_sync(kFullMask, err, 0);
  if (err != 0) return;  // this rank failed earlier: its counters are inconsistent
  tail = __shfl_sync(kFullMask, tail, 0);

  const int group = lane / l::kLanesPerLine;
  const int part = lane % l::kLanesPerLine;
  const bool flag_lane = part == l::kFlagLane;
  const int flag_src = lane | (l::kLanesPerLine - 1);  // lane 7 of my group holds the flag
  const u32 slot_lines = static_cast<u32>(geo.slot_lines);
  constexpr u32 kBatchLines = l::kLinesPerWarpAccess * kRounds;

  for (u32 k = 0; k < sg.slots; ++k) {
    const u64 seq = tail + k;
    const u64 flag = l::flag_for(seq);
    const char* slot = my_seg + geo.line_offset(peer, channel, seq, 0);
    const u32 n = sg.lines_in_slot(k, slot_lines);
    const u32 first_line = k * slot_lines;
    for (u32 b = 0; b < n; b += kBatchLines) {
      // Trigger the dependent launch when starting the last batch of the call.
      if (k + 1 == sg.slots && b + kBatchLines >= n) pdl_trigger();
      u32 pending = 0;
#pragma unroll
      for (int u = 0; u < kRounds; ++u) {
        if (b + static_cast<u32>(u * l::kLinesPerWarpAccess + group) < n) pending |= 1u << u;
      }
      u64 start = 0;
      if (lane == 0) start = globaltimer_ns();
      u32 polls = 0;
      for (;;) {
        // Converged, so that the 8 lanes of a line read it with ONE warp instruction.
        __syncwarp();
        u64 lo[kRounds];
        u64 hi[kRounds];
#pragma unroll
        for (int u = 0; u < kRounds; ++u) {
          lo[u] = 0;
          hi[u] = 0;
          if (pending & (1u << u)) {
            const u32 line = b + static_cast<u32>(u * l::kLinesPerWarpAccess + group);
            ld_line_part(slot + std::size_t{line} * l::kLineBytes +
                             static_cast<std::size_t>(part) * (l::kWordsPerLane * l::kWordBytes),
                         lo[u], hi[u]);
          }
        }
#pragma unroll
        for (int u = 0; u < kRounds; ++u) {
          const bool mine = (pending & (1u << u)) != 0 && flag_lane && hi[u] == flag;
          const bool ok = __shfl_sync(kFullMask, mine, flag_src);
          if (ok && (pending & (1u << u))) {
            const u32 line = b + static_cast<u32>(u * l::kLinesPerWarpAccess + group);
            const u32 w0 = (first_line + line) * l::kPayloadWordsPerLine +
                           static_cast<u32>(part * l::kWordsPerLane);
            store_words(p, sg, peer, w0, !flag_lane, lo[u], hi[u]);
            pending &= ~(1u << u);
          }
        }
        if (!__any_sync(kFullMask, pending != 0)) break;

        // Not everything arrived yet: bounded wait.
        int stop = 0;
        if (lane == 0) {
          ++polls;
          if (globaltimer_ns() - start > p.timeout_ns) {
            stop = 1;
          } else if ((polls & 31u) == 0 && someone_failed(p, peer)) {
            stop = 2;
          }
        }
        stop = __shfl_sync(kFullMask, stop, 0);
        if (stop != 0) {
          // Report the first line still missing and the flag it carried.
          u32 first_missing = 0xFFFFFFFFu;
          u64 seen = 0;
#pragma unroll
          for (int u = kRounds - 1; u >= 0; --u) {
            if (pending & (1u << u)) {
              first_missing = b + static_cast<u32>(u * l::kLinesPerWarpAccess + group);
              seen = hi[u];
            }
          }
          const u32 missing = __reduce_min_sync(kFullMask, first_missing);
          const int holder =
              static_cast<int>((missing - b) % l::kLinesPerWarpAccess) * l::kLanesPerLine +
              l::kFlagLane;
          seen = __shfl_sync(kFullMask, seen, holder);
          if (lane == 0) {
            record_error(p, stop == 1 ? l::ErrorRole::kRecv : l::ErrorRole::kAbort, peer, channel,
                         seq, first_line + missing, seen);
          }
          return;
        }
      }
    }
    // The whole slot is consumed (every lane's loads returned, joined by the warp barrier):
    // hand it back to the sender.
    __syncwarp();
    if (lane == 0) publish_credit(remote_credit, seq + 1);
  }
  if (lane == 0) st_volatile_u64(rec + l::kTailWord, tail + sg.slots);
}

// ---- kernel -------------------------------------------------------------------------------------

template <int kRounds>
__global__ void __launch_bounds__(kThreadsPerCta, kMinCtasPerSm)
    fused_alltoall_kernel(const __grid_constant__ FusedAllToAllParams p) {
  const int lane = static_cast<int>(threadIdx.x) % l::kWarpLanes;
  const int warp = static_cast<int>(threadIdx.x) / l::kWarpLanes;
  const int cp = p.shape.cp_size;
  const int pairs = cp * p.channels;
  const int role_ctas = (pairs + kWarpsPerCta - 1) / kWarpsPerCta;
  const int block = static_cast<int>(blockIdx.x);
  const bool sender = block < role_ctas;
  const int idx = (sender ? block : block - role_ctas) * kWarpsPerCta + warp;
  if (idx >= pairs) return;
  const int channel = idx / cp;
  // Rotate peers so that the ranks' first warps talk to different peers.
  const int peer = (p.rank + 1 + idx % cp) % cp;

  // Nothing (inputs, counters, FIFOs) is touched before the previous grid has completed.
  pdl_wait();
  if (sender) {
    pdl_trigger();
    run_sender<kRounds>(p, peer, channel, lane);
  } else {
    run_receiver<kRounds>(p, peer, channel, lane);
  }
}

}  // namespace dcp::kernels::detail
