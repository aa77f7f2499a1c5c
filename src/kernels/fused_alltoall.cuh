#pragma once
/// @file
/// The native fused LL128 exchange kernel. Included only by fused_alltoall.cu.
///
/// Protocol (geometry and index math: ll128_layout.hpp; CPU twin: ll128_reference.cpp):
///  - SEND, per (peer, channel): read the channel's range of stream lines from the input tensors
///    (one 16-byte load per lane for partial_o words), build 128-byte lines (15 payload words +
///    the flag seq + 1 in word 15 of even / word 0 of odd stream lines) and write each line with
///    ONE warp store instruction, 8 lanes x 16 bytes (st.volatile.global.v2.u64), into the FIFO
///    that lives in the peer's segment. Before writing sequence number seq, wait until the credit
///    the receiver published exceeds seq - depth (flow control).
///  - RECEIVE, per (peer, channel): poll the local FIFO with warp-wide 16-byte volatile loads
///    (ld.volatile.global.v2.u64, 8 lanes per line, 4 lines per instruction, every line of a
///    batch in flight at once), accept a line only when its own flag matches, re-read the lines
///    that do not match yet, scatter accepted payload into the output rows (16-byte stores for
///    partial_o), and after a whole slot publish credit = seq + 1 into the sender's segment
///    (st.relaxed.sys; why not a release store: publish_credit()).
///  - Who does it (NativeAllToAll::plan, WarpMode): a sender warp and a receiver warp per (peer,
///    channel), in separate CTAs, or ONE warp that sends its whole stream and then receives the
///    peer's. The latter is deadlock-free only while a call uses at most `depth` sequence numbers
///    per (pair, channel) (proof: ll128::single_warp_allowed).
///  - head/tail/credit are 64-bit counters in device memory that persist across calls (and graph
///    replays): both sides advance them by the same number of slots per call, so no call ever
///    re-initialises anything and no flag value is reused.
///
/// Why volatile 16-byte stores and loads (.v2.u64, the same single 16-byte access as .v4.u32:
/// LDG.E.128 / STG.E.128 in SASS): `.volatile` keeps ptxas from splitting, merging or
/// reordering the 16-byte accesses and makes them morally strong (relaxed, system scope) in the
/// PTX memory model, so the reader's polls are not data races. The 128-byte atomicity of a line
/// written by one warp instruction and read by one warp instruction is the hardware property
/// NCCL's LL128 relies on as well (spec §3.6/§9.2); FIFO lines are never read with TMA /
/// cp.async.bulk, whose re-fetch was measured to accept torn lines (spec §3.7).
///
/// Cost model that shaped the code (measured: docs/perf/native-speed.md): at decode sizes the
/// exchange is a chain of dependent memory round trips (inputs + counters, FIFO store to poll,
/// output store) between two kernel launches, so everything that is not a round trip is kept off
/// that chain: all per-warp index and address math uses host-precomputed constants
/// (ll128::KernelPlan, no division) and runs before griddepcontrol.wait, every lane loads the
/// counters itself (no broadcast shuffles), every line of a batch is in flight at once (up to 32
/// lines), a missing line is read again before any bookkeeping, and the channel split spreads a
/// pair's lines over many warps (few lines per warp).
///
/// Every spin is bounded by %globaltimer (params.timeout_ns). A warp that gives up records who it
/// waited for in its rank's error record (first writer wins, atomicCAS) and returns; warps
/// spinning elsewhere notice their own rank's or the awaited peer's record and stop as well
/// (role kAbort), and a later launch on a failed rank returns without touching any counter.

#include <cstdint>
#include <type_traits>

#include "kernels/fused_alltoall.hpp"
#include "kernels/fused_alltoall_params.hpp"
#include "kernels/ll128_layout.hpp"

#ifndef DCP_NATIVE_TRACE
#define DCP_NATIVE_TRACE 0
#endif

/// Build option: where the dependent launch is triggered (griddepcontrol.launch_dependents).
///  1 (default): every warp right after griddepcontrol.wait;
///  2: the same, except receive-only warps (separate roles), which trigger once their counters
///     arrived, just before they poll;
///  0: every receiving warp (also a single warp) when it starts its last batch; send-only CTAs
///     right after griddepcontrol.wait (the first version's placement).
/// Measured on an H200 (sim, graph, docs/perf/native-speed.md): 1 is the fastest at 7 of the 9
/// anchor shapes (cp=2, B=1: 1.76 us against 1.83 for 2 and 1.82 for 0), within 0.04 us at
/// the other two. Co-residency allows it: at most two grids per stream are resident (the next
/// one triggers only after its own griddepcontrol.wait), and the plan counts both.
#ifndef DCP_NATIVE_TRIGGER
#define DCP_NATIVE_TRIGGER 1
#endif

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
/// Build option: 1 = the sender reads credit with ld.acquire.sys; 0 (default) = ld.volatile.
/// See read_credit().
#ifndef DCP_NATIVE_CREDIT_ACQUIRE
#define DCP_NATIVE_CREDIT_ACQUIRE 0
#endif

/// The sender reads the credit its receiver published.
///
/// A volatile (relaxed, system-scope) load suffices, for the mirror image of publish_credit()'s
/// reason: the credit orders nothing but the sender's next FIFO stores after the receiver's last
/// reads of the slot. Those stores are issued only after this load returned a value that passes
/// the credit check (a control dependency: GPUs do not issue stores speculatively), and the
/// receiver published the credit only after its reads had returned. The acquire form adds an L1
/// invalidation (CCTL.IVALL) to the chain before the first FIFO store: measured on an H200 (sim,
/// graph, one warp per (peer, channel)) at 140 ns of the 600 ns from griddepcontrol.wait to the
/// counters, and 0.12 us per exchange at cp=4, B=128.
__device__ __forceinline__ u64 read_credit(const u64* p) {
#if DCP_NATIVE_CREDIT_ACQUIRE
  return ld_acquire_sys_u64(p);
#else
  return ld_volatile_u64(p);
#endif
}

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
  asm volatile("ld.volatile.global.v2.u64 {%0, %1}, [%2];"
               : "=l"(lo), "=l"(hi)
               : "l"(p)
               : "memory");
}

__device__ __forceinline__ void st_line_part(void* p, u64 lo, u64 hi) {
  asm volatile("st.volatile.global.v2.u64 [%0], {%1, %2};" ::"l"(p), "l"(lo), "l"(hi) : "memory");
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

/// The lane layout of one 8-lane line group for one slot: which lane holds the flag and in which
/// half (ll128::flag_word). Constant over a slot, because a batch starts at an even line.
struct LaneRole {
  int part = 0;            ///< 0..7: which 16 bytes of the line
  int group = 0;           ///< 0..3: which line of a warp access
  bool odd = false;        ///< this lane's lines are odd stream lines (flag in word 0)
  bool flag_lane = false;  ///< this lane's 16 bytes hold the flag
  int flag_src = 0;        ///< the warp lane holding the flag of this lane's line
};

__device__ __forceinline__ LaneRole lane_role(int lane, u32 first_line) {
  LaneRole r;
  r.part = lane % l::kLanesPerLine;
  r.group = lane / l::kLanesPerLine;
  r.odd = ((first_line + static_cast<u32>(r.group)) & 1u) != 0;
  const int fl = r.odd ? 0 : l::kLanesPerLine - 1;
  r.flag_lane = r.part == fl;
  r.flag_src = r.group * l::kLanesPerLine + fl;
  return r;
}

/// Reads the payload of this lane's 16 bytes of stream line `line` (the flag half is don't-care;
/// words past the end of the stream are 0). partial_o: ONE 16-byte load (.cg: each word is read
/// once) - a lane's pair of words starts at an even stream word, and rows have an even number of
/// words, so the pair lies in one row whenever its first word is a partial_o word (for the flag
/// lane that is one word more than it needs, from the same row). Stats words take 8-byte loads.
__device__ __forceinline__ void load_lane(const FusedAllToAllParams& p, const l::StreamWindow& win,
                                          const LaneRole& r, u32 line, u64& lo, u64& hi) {
  const u32 w0 = l::lane_first_word(line, r.part);
  if (w0 < win.o_words) {
    const ulonglong2 v = __ldcg(reinterpret_cast<const ulonglong2*>(
        static_cast<const u64*>(p.in_o) + l::o_word_index(p.plan, win, w0)));
    lo = v.x;
    hi = v.y;
    return;
  }
  const auto* in_stats = static_cast<const unsigned long long*>(p.in_stats);
  lo = 0;
  hi = 0;
  if (w0 < win.words) lo = __ldcg(in_stats + l::stats_word_index(p.plan, win, w0));
  if (w0 + 1 < win.words) hi = __ldcg(in_stats + l::stats_word_index(p.plan, win, w0 + 1));
}

/// Writes this lane's payload of stream line `line` into the outputs (inverse of load_lane):
/// one 16-byte store per partial_o pair, one 8-byte store for the flag lane's single word.
__device__ __forceinline__ void store_lane(const FusedAllToAllParams& p, const l::StreamWindow& win,
                                           const LaneRole& r, u32 line, u64 lo, u64 hi) {
  const u32 w0 = l::lane_first_word(line, r.part);
  if (w0 < win.o_words) {
    u64* dst = static_cast<u64*>(p.out_o) + l::o_word_index(p.plan, win, w0);
    if (!r.flag_lane) {
      *reinterpret_cast<ulonglong2*>(dst) = make_ulonglong2(lo, hi);
    } else if (r.odd) {
      dst[1] = hi;
    } else {
      dst[0] = lo;
    }
    return;
  }
  auto* out_stats = static_cast<u64*>(p.out_stats);
  if (!(r.flag_lane && r.odd) && w0 < win.words) {
    out_stats[l::stats_word_index(p.plan, win, w0)] = lo;
  }
  if (!(r.flag_lane && !r.odd) && w0 + 1 < win.words) {
    out_stats[l::stats_word_index(p.plan, win, w0 + 1)] = hi;
  }
}

// ---- tracing (measurement builds only) ----------------------------------------------------------

/// Timestamps of one warp's call for the trace build (DCP_NATIVE_TRACE=1, native_sim_bench's
/// --trace): entry, griddepcontrol.wait returned, counters loaded, last FIFO store issued, first
/// poll issued, last poll matched, end; plus the number of poll rounds. Empty otherwise.
struct Trace {
#if DCP_NATIVE_TRACE
  u64 t[7] = {};
  u64 clk[2] = {};  ///< clock64() at marks 1 and 6 (the SM clock rate)
  u32 polls = 0;
  __device__ __forceinline__ void mark(int i) {
    t[i] = globaltimer_ns();
    if (i == 1) clk[0] = static_cast<u64>(clock64());
    if (i == 6) clk[1] = static_cast<u64>(clock64());
  }
  __device__ __forceinline__ void poll() {
    ++polls;
  }
#else
  __device__ __forceinline__ void mark(int) {}
  __device__ __forceinline__ void poll() {}
#endif
};

#if DCP_NATIVE_TRACE
/// [call % kTraceCalls][rank][warp slot][kTraceWords] (see fused_alltoall_trace_copy()).
__device__ u64 g_native_trace[kTraceCalls * kTraceRanks * kTraceWarps * kTraceWords];

__device__ __forceinline__ void write_trace(const Trace& tr, int rank, int slot, u64 seq, int peer,
                                            int channel, bool send, bool recv) {
  if (rank >= kTraceRanks || slot >= kTraceWarps) return;
  u64* rec =
      g_native_trace +
      ((static_cast<std::size_t>(seq % kTraceCalls) * kTraceRanks + rank) * kTraceWarps + slot) *
          kTraceWords;
  for (int i = 0; i < 7; ++i)
    rec[i] = tr.t[i];
  rec[8] = tr.clk[0];
  rec[9] = tr.clk[1];
  rec[7] = u64{tr.polls} | (u64{static_cast<u32>(peer)} << 16) |
           (u64{static_cast<u32>(channel)} << 32) | (u64{send ? 1u : 0u} << 48) |
           (u64{recv ? 1u : 0u} << 49);
}
#endif

// ---- counters -----------------------------------------------------------------------------------

/// The counters of one (peer, channel), loaded in one round trip. Every lane loads the same words
/// itself (one request per warp instruction): a broadcast through lane 0 would add shuffles to
/// the chain between the counters' arrival and the first FIFO store.
struct Counters {
  u64 head = 0;    ///< sender: first sequence number of this call
  u64 credit = 0;  ///< sender: credit published by the peer's receiver
  u64 tail = 0;    ///< receiver: first sequence number of this call
  bool failed = false;
};

__device__ __forceinline__ Counters load_counters(const FusedAllToAllParams& p, const u64* rec,
                                                  bool send, bool recv) {
  Counters c;
  const u64 err = ld_volatile_u64(error_record(p, p.rank) + l::kErrorInfo);
  if (send) {
    c.head = ld_volatile_u64(rec + l::kHeadWord);
    c.credit = read_credit(rec + l::kCreditWord);
  }
  if (recv) c.tail = ld_volatile_u64(rec + l::kTailWord);
  c.failed = err != 0;  // a failed rank's counters are inconsistent
  return c;
}

// ---- sender -------------------------------------------------------------------------------------

/// Lane 0 spins until credit + depth > seq and returns the credit it saw (broadcast); a credit
/// with credit + depth <= seq means it gave up (error recorded).
__device__ __noinline__ u64 wait_credit(const FusedAllToAllParams& p, const u64* credit_ptr,
                                        int peer, int channel, u64 seq, int lane) {
  u64 c = 0;
  if (lane == 0) {
    const u64 depth = static_cast<u64>(p.geometry.depth);
    const u64 start = globaltimer_ns();
    for (u32 polls = 1;; ++polls) {
      c = read_credit(credit_ptr);
      if (c + depth > seq) break;
      if (globaltimer_ns() - start > p.timeout_ns) {
        record_error(p, l::ErrorRole::kSend, peer, channel, seq, 0, c);
        break;
      }
      if ((polls & 31u) == 0 && someone_failed(p, peer)) {
        record_error(p, l::ErrorRole::kAbort, peer, channel, seq, 0, c);
        break;
      }
    }
  }
  c = __shfl_sync(kFullMask, c, 0);
  // Orders every lane's following FIFO stores after lane 0's acquire of the credit.
  __syncwarp();
  return c;
}

/// Loads the payload of one batch: lines [b, b + 4*kRounds) of the slot starting at stream line
/// `line0` (n lines in the slot), round u = lines b + 4u .. b + 4u + 3, one per line group.
template <int kRounds>
__device__ __forceinline__ void load_batch(const FusedAllToAllParams& p, const l::StreamWindow& win,
                                           const LaneRole& r, u32 line0, u32 b, u32 n,
                                           u64 (&lo)[kRounds], u64 (&hi)[kRounds]) {
#pragma unroll
  for (int u = 0; u < kRounds; ++u) {
    const u32 line = b + static_cast<u32>(u * l::kLinesPerWarpAccess + r.group);
    lo[u] = 0;
    hi[u] = 0;
    if (line < n) load_lane(p, win, r, line0 + line, lo[u], hi[u]);
  }
}

/// Sends this call's stream to `peer` on `channel`; false when a wait gave up (error recorded).
/// The first batch's input loads are issued before the counters are read (one round trip, not
/// two); `c` is loaded by the caller in between.
/// `fifo` is this lane's address in line 0 of physical slot 0 of the FIFO (in the peer's segment).
template <int kRounds>
__device__ __forceinline__ bool send_stream(const FusedAllToAllParams& p,
                                            const l::StreamWindow& win, int peer, int channel,
                                            int lane, u64* rec, char* fifo, u64 (&lo)[kRounds],
                                            u64 (&hi)[kRounds], const Counters& c, Trace& tr) {
  const l::Geometry& geo = p.geometry;
  const bool corrupt = p.corrupt_peer == peer && channel == 0;
  const u32 slot_lines = static_cast<u32>(geo.slot_lines);
  constexpr u32 kBatchLines = l::kLinesPerWarpAccess * kRounds;
  u64 credit = c.credit;
  u64 seq = c.head;
  for (u32 first_line = 0; first_line < win.lines; first_line += slot_lines, ++seq) {
    if (credit + static_cast<u64>(geo.depth) <= seq) {
      credit = wait_credit(p, rec + l::kCreditWord, peer, channel, seq, lane);
      if (credit + static_cast<u64>(geo.depth) <= seq) return false;
    }
    const u64 flag = l::flag_for(seq);
    const u32 n = win.lines - first_line < slot_lines ? win.lines - first_line : slot_lines;
    const u32 line0 = win.first_line + first_line;  // stream line of the slot's line 0
    const LaneRole r = lane_role(lane, line0);
    char* base = fifo + std::int64_t{geo.physical_slot(seq)} * geo.slot_bytes();
    for (u32 b = 0; b < n; b += kBatchLines) {
      // All loads of a batch first, so that kRounds x 16 bytes per lane are in flight.
      if (first_line != 0 || b != 0) load_batch<kRounds>(p, win, r, line0, b, n, lo, hi);
      char* batch = base + std::size_t{b} * l::kLineBytes;
      // Reconverge after the divergent address math: the 8 lanes of a line must issue their
      // 16-byte stores as ONE warp instruction for the line to land whole.
      __syncwarp();
#pragma unroll
      for (int u = 0; u < kRounds; ++u) {
        const u32 line = b + static_cast<u32>(u * l::kLinesPerWarpAccess + r.group);
        if (line < n) {
          if (r.flag_lane) {
            if (r.odd) {
              lo[u] = flag;
            } else {
              hi[u] = flag;
            }
          }
          // Fault injection: stream line 0 of channel 0 carries a valid flag and a wrong byte.
          if (corrupt && line0 + line == 0 && r.part == 0) lo[u] ^= 0x01;
          st_line_part(batch + u * l::kLinesPerWarpAccess * l::kLineBytes, lo[u], hi[u]);
        }
      }
    }
  }
  tr.mark(3);
  __syncwarp();
  if (lane == 0) st_volatile_u64(rec + l::kHeadWord, seq);
  return true;
}

// ---- receiver -----------------------------------------------------------------------------------

/// Receives this call's stream from `peer` on `channel` starting at sequence number `tail`;
/// false when a wait gave up (error recorded).
/// `fifo` is this lane's address in line 0 of physical slot 0 of the FIFO (in this rank's
/// segment); `remote_credit` the credit word in the sender's segment.
template <int kRounds>
__device__ __forceinline__ bool recv_stream(const FusedAllToAllParams& p,
                                            const l::StreamWindow& win, int peer, int channel,
                                            int lane, u64* rec, const char* fifo,
                                            u64* remote_credit, u64 tail, Trace& tr) {
  const l::Geometry& geo = p.geometry;
  tr.mark(4);
  const u32 slot_lines = static_cast<u32>(geo.slot_lines);
  constexpr u32 kBatchLines = l::kLinesPerWarpAccess * kRounds;

  u64 seq = tail;
  for (u32 first_line = 0; first_line < win.lines; first_line += slot_lines, ++seq) {
    const u64 flag = l::flag_for(seq);
    const u32 n = win.lines - first_line < slot_lines ? win.lines - first_line : slot_lines;
    const u32 line0 = win.first_line + first_line;  // stream line of the slot's line 0
    const LaneRole r = lane_role(lane, line0);
    const char* base = fifo + std::int64_t{geo.physical_slot(seq)} * geo.slot_bytes();
    for (u32 b = 0; b < n; b += kBatchLines) {
#if DCP_NATIVE_TRIGGER == 0
      // Trigger the dependent launch when starting the last batch of the call.
      if (first_line + slot_lines >= win.lines && b + kBatchLines >= n) pdl_trigger();
#endif
      u32 pending = 0;
#pragma unroll
      for (int u = 0; u < kRounds; ++u) {
        if (b + static_cast<u32>(u * l::kLinesPerWarpAccess + r.group) < n) pending |= 1u << u;
      }
      const u32 present = pending;  // rounds whose line exists
      const char* batch = base + std::size_t{b} * l::kLineBytes;
      u64 start = 0;
      if (lane == 0) start = globaltimer_ns();
      u32 polls = 0;
      // Lines stay in registers once their flag matched; only the others are read again. The
      // payload is written out after the whole batch arrived, so that the output address math
      // stays out of the poll loop (hoisted, it would hold kRounds addresses in registers).
      u64 lo[kRounds];
      u64 hi[kRounds];
      // Reads every pending line of the batch, converged, so that the 8 lanes of a line read
      // it with ONE warp instruction.
      auto read_pending = [&] {
        __syncwarp();
#pragma unroll
        for (int u = 0; u < kRounds; ++u) {
          if (pending & (1u << u)) {
            ld_line_part(batch + u * l::kLinesPerWarpAccess * l::kLineBytes, lo[u], hi[u]);
          }
        }
      };
      read_pending();
      for (;;) {
#pragma unroll
        for (int u = 0; u < kRounds; ++u) {
          const bool mine =
              (pending & (1u << u)) != 0 && r.flag_lane && (r.odd ? lo[u] : hi[u]) == flag;
          if ((__ballot_sync(kFullMask, mine) >> r.flag_src) & 1u) pending &= ~(1u << u);
        }
        tr.poll();
        if (!__any_sync(kFullMask, pending != 0)) break;
        // Read the missing lines again at once: the bookkeeping below overlaps the round trip
        // (measured: 3.31 against 3.65 us at cp=2, B=128, D=512 on 64 channels).
        read_pending();

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
              first_missing = b + static_cast<u32>(u * l::kLinesPerWarpAccess + r.group);
              seen = r.odd ? lo[u] : hi[u];
            }
          }
          const u32 missing = __reduce_min_sync(kFullMask, first_missing);
          const int holder = __shfl_sync(
              kFullMask, r.flag_src,
              static_cast<int>((missing - b) % l::kLinesPerWarpAccess) * l::kLanesPerLine);
          seen = __shfl_sync(kFullMask, seen, holder);
          if (lane == 0) {
            record_error(p, stop == 1 ? l::ErrorRole::kRecv : l::ErrorRole::kAbort, peer, channel,
                         seq, first_line + missing, seen);
          }
          return false;
        }
      }
#pragma unroll
      for (int u = 0; u < kRounds; ++u) {
        if (present & (1u << u)) {
          const u32 line = b + static_cast<u32>(u * l::kLinesPerWarpAccess + r.group);
          store_lane(p, win, r, line0 + line, lo[u], hi[u]);
        }
      }
    }
    tr.mark(5);
    // The whole slot is consumed (every lane's loads returned, joined by the warp barrier):
    // hand it back to the sender.
    __syncwarp();
    if (lane == 0) publish_credit(remote_credit, seq + 1);
  }
  if (lane == 0) st_volatile_u64(rec + l::kTailWord, seq);
  return true;
}

// ---- kernel -------------------------------------------------------------------------------------

/// One launch = one rank's whole exchange. Warp w of the grid serves (peer, channel) number
/// idx = w (single_warp) or, with separate roles, sender warps fill CTAs [0, n) and receiver
/// warps CTAs [n, 2n), n = ceil(cp * C / kWarpsPerCta), so that every CTA has one role.
template <int kRounds>
__global__ void __launch_bounds__(kThreadsPerCta, fused_alltoall_min_ctas_per_sm(kRounds))
    fused_alltoall_kernel(const __grid_constant__ FusedAllToAllParams p) {
  const int lane = static_cast<int>(threadIdx.x) % l::kWarpLanes;
  const int warp = static_cast<int>(threadIdx.x) / l::kWarpLanes;
  const int cp = p.shape.cp_size;
  const int pairs = cp * p.channels;
  const int block = static_cast<int>(blockIdx.x);
  bool send = true;
  bool recv = true;
  int idx = block * kWarpsPerCta + warp;
  if (!p.single_warp) {
    const int role_ctas = (pairs + kWarpsPerCta - 1) / kWarpsPerCta;
    send = block < role_ctas;
    recv = !send;
    if (recv) idx -= role_ctas * kWarpsPerCta;
  }
  if (idx >= pairs) return;
  const int channel = static_cast<int>(p.plan.cp_div.div(static_cast<u32>(idx)));
  // Rotate peers so that the ranks' first warps talk to different peers.
  int peer = p.rank + 1 + (idx - channel * cp);
  if (peer >= cp) peer -= cp;
  const l::StreamWindow win = l::stream_window(p.plan, channel, peer);
  // Every address that does not depend on the counters, before griddepcontrol.wait.
  const l::Geometry& geo = p.geometry;
  char* my_seg = static_cast<char*>(p.segments[p.rank]);
  char* peer_seg = static_cast<char*>(p.segments[peer]);
  auto* rec = reinterpret_cast<u64*>(my_seg + geo.counter_offset(peer, channel));
  const int lane_bytes = (lane / l::kLanesPerLine) * l::kLineBytes +
                         (lane % l::kLanesPerLine) * (l::kWordsPerLane * l::kWordBytes);
  char* send_fifo = peer_seg + geo.fifo_offset(p.rank, channel) + lane_bytes;
  const char* recv_fifo = my_seg + geo.fifo_offset(peer, channel) + lane_bytes;
  auto* remote_credit =
      reinterpret_cast<u64*>(peer_seg + geo.counter_offset(p.rank, channel)) + l::kCreditWord;
  const u32 slot_lines = static_cast<u32>(geo.slot_lines);
  const u32 first_n = win.lines < slot_lines ? win.lines : slot_lines;
  const LaneRole first_role = lane_role(lane, win.first_line);

  Trace tr;
  // Nothing (inputs, counters, FIFOs) is touched before the previous grid has completed.
  pdl_wait();
  tr.mark(1);
  // Where the dependent launch is triggered: DCP_NATIVE_TRIGGER.
  if (DCP_NATIVE_TRIGGER == 1 || !recv || (DCP_NATIVE_TRIGGER == 2 && send)) pdl_trigger();
  if (win.lines == 0) return;  // an empty channel consumes no sequence numbers

  u64 lo[kRounds];
  u64 hi[kRounds];
  if (send) {
    // The first batch's input loads do not depend on the counters: issue them first, so that
    // they are in flight together with the counter loads (one memory latency, not two).
    load_batch<kRounds>(p, win, first_role, win.first_line, 0, first_n, lo, hi);
  }
  const Counters c = load_counters(p, rec, send, recv);
  if (c.failed) return;
  tr.mark(2);
  if (DCP_NATIVE_TRIGGER == 2 && !send) pdl_trigger();
#if DCP_NATIVE_TRACE
  if (send) {  // when the inputs arrived (waits for them: trace builds only)
    u64 dep;
    asm volatile("mov.b64 %0, %1;" : "=l"(dep) : "l"(lo[0] ^ hi[kRounds - 1]));
    tr.mark(0);
    tr.t[0] += dep & 0;
  }
#endif
  if (send && !send_stream<kRounds>(p, win, peer, channel, lane, rec, send_fifo, lo, hi, c, tr)) {
    return;
  }
  if (recv && !recv_stream<kRounds>(p, win, peer, channel, lane, rec, recv_fifo, remote_credit,
                                    c.tail, tr)) {
    return;
  }
#if DCP_NATIVE_TRACE
  tr.mark(6);
  if (lane == 0) {
    const int slot = p.single_warp ? idx : (send ? idx : kTraceWarps / 2 + idx);
    write_trace(tr, p.rank, slot, recv ? c.tail : c.head, peer, channel, send, recv);
  }
#endif
}

}  // namespace dcp::kernels::detail
