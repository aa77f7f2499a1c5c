#pragma once
/// @file
/// The native fused LL128 exchange kernel. Included by fused_alltoall.cu (the kernel) and
/// fused_reduce.cu (which reuses its PTX helpers, error record and credit wait).
///
/// Why one file of ~750 lines: both sides of the protocol (sender and receiver), their PTX
/// helpers and the kernel template are one unit that must inline into each instantiation; the
/// index math and the wire format already live in host-compilable headers (ll128_layout.hpp,
/// ll128_line.hpp) that the CPU tests exercise.
///
/// Protocol (geometry and index math: ll128_layout.hpp; CPU twin: ll128_reference.cpp):
///  - SEND, per (peer, channel): read the channel's range of stream lines from the input tensors
///    (one 16-byte load per lane for partial_o pairs), build 128-byte lines (15 payload words + the
///    flag seq + 1 in word 15, the last word, of every line: ll128::LineLayout::kFlagLast) and
///    write each line with ONE warp store instruction, 8 lanes x 16 bytes
///    (st.volatile.global.v2.u64), into the FIFO that lives in the peer's segment. Before writing
///    sequence number seq, wait until the credit the receiver published exceeds seq - depth (flow
///    control).
///  - RECEIVE, per (peer, channel): poll the local FIFO with warp-wide 16-byte volatile loads
///    (ld.volatile.global.v2.u64, 8 lanes per line, 4 lines per instruction, every line of a
///    burst in flight at once), accept a line only when its own flag matches, re-read the lines
///    that do not match yet; once every line of the burst has matched, load the burst AGAIN and
///    scatter the payload of that second load into the output rows (16-byte stores for partial_o
///    pairs); after a whole slot publish credit = seq + 1 into the sender's segment
///    (st.relaxed.sys; why not a release store: publish_credit()).
///  - Who does it (NativeAllToAll::plan, WarpMode): a sender warp and a receiver warp per (peer,
///    channel), in separate CTAs, or ONE warp that sends its whole stream and then receives the
///    peer's. The latter is deadlock-free only while a call uses at most `depth` sequence numbers
///    per (pair, channel) (proof: ll128::single_warp_allowed).
///  - head/tail/credit are 64-bit counters in device memory that persist across calls (and graph
///    replays): both sides advance them by the same number of slots per call, so no call ever
///    re-initialises anything and no flag value is reused.
///
/// Terms: a "burst" is the up to 4 x kRounds lines of one slot that a warp keeps in flight at
/// once (kRounds warp instructions of 4 lines); "batch" means the user's batch (entries) only.
///
/// The ordering contract this relies on (dcp-a2a-spec.md §3.8; NCCL's LL128 relies on the same):
/// a 128-byte line written by one warp store instruction may be SPLIT on its way to another GPU
/// (GPU memory system, NVLink, NVSwitch), but its pieces arrive in ascending address order. No
/// 128-byte atomicity is assumed. Hence (1) the flag is in the highest-addressed 8 bytes of every
/// line, so a matching flag proves that bytes 0-119 of the line have arrived; and (2) a polling
/// load may sample a line's data sectors BEFORE its flag sector (the 8 lanes' 16-byte pieces of
/// one load are not one atomic read), so the payload is taken from a load issued after the flag
/// matched (DCP_NATIVE_RELOAD=1, the default): the reload is control-dependent on the ballot of
/// the flags (GPUs do not issue loads speculatively), and the sender cannot overwrite the slot
/// before this warp publishes its credit, so the reload sees exactly the line the flag vouched
/// for. The contract holds only on validated paths (intra-node NVLink); a single GPU (sim mode)
/// shares one L2 and cannot show a violation, and the CPU ordering emulation
/// (ll128_ordering.hpp) shows why both rules are needed, not that the hardware keeps them.
///
/// Why volatile 16-byte stores and loads (.v2.u64, the same single 16-byte access as .v4.u32:
/// LDG.E.128 / STG.E.128 in SASS): `.volatile` keeps ptxas from splitting, merging or
/// reordering the 16-byte accesses and makes them morally strong (relaxed, system scope) in the
/// PTX memory model, so the reader's polls are not data races. FIFO lines are never read with
/// TMA / cp.async.bulk, whose re-fetch was measured to accept torn lines (spec §3.7).
///
/// Warp convergence: every __shfl_sync / __ballot_sync / __any_sync / __reduce_*_sync below names
/// the full warp and is reached by all 32 lanes on the same path: every early return and every
/// branch around one of them is warp-uniform (it depends on the warp index, on a value broadcast
/// by a shuffle, or on a warp vote). Values a lane loads itself that another agent may change
/// meanwhile (credit, the error record) are never branched on per lane: decisions on them go
/// through a vote (load_counters(), send_stream()).

/// Cost model that shaped the code (measured: docs/perf/native-speed.md): at decode sizes the
/// exchange is a chain of dependent memory round trips (inputs + counters, FIFO store to poll,
/// output store) between two kernel launches, so everything that is not a round trip is kept off
/// that chain: all per-warp index and address math uses host-precomputed constants
/// (ll128::KernelPlan, no division) and runs before griddepcontrol.wait, every lane loads the
/// counters itself (no broadcast shuffles), every line of a burst is in flight at once (up to 32
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
#include "kernels/ptx_ops.cuh"

#ifndef DCP_NATIVE_TRACE
#define DCP_NATIVE_TRACE 0
#endif

/// Build option: where the dependent launch is triggered (griddepcontrol.launch_dependents).
///  1 (default): every warp right after griddepcontrol.wait;
///  2: the same, except receive-only warps (separate roles), which trigger once their counters
///     arrived, just before they poll;
///  0: every receiving warp (also a single warp) when it starts its last burst; send-only CTAs
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

using ptx::globaltimer_ns;
using ptx::ld_acquire_sys_u64;
using ptx::ld_volatile_u64;
using ptx::st_volatile_u64;

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
/// only after every value the warp USES from the slot has returned: the flags were consumed by
/// the ballots and the payload (of the reload, or of the polls without DCP_NATIVE_RELOAD) by the
/// output stores, all issued before the warp barrier that precedes this store; and GPUs do not
/// issue stores speculatively. So no load whose value is used can be satisfied by the sender's
/// next write. (A reload whose value nobody uses - the flag half of lane 7, words past the end of
/// the stream - may still be in flight; what it returns is discarded.) NCCL's LL128 posts its
/// head counter the same way. The sender reads the credit with a volatile load (read_credit()).
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
// static: also included by fused_reduce.cu (one definition per translation unit).
static __device__ __noinline__ void record_error(const FusedAllToAllParams& p, l::ErrorRole role,
                                                 int peer, int channel, u64 seq, u64 line,
                                                 u64 observed) {
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

/// The wire format of this build (fused_alltoall.hpp: DCP_NATIVE_LAYOUT): a flag-last layout, so
/// the flag is the upper half of lane 7 on every line.
inline constexpr l::LineLayout kLayout = kNativeLayout;
static_assert(l::flag_word(0, kLayout) == l::kWordsPerLine - 1 &&
                  l::flag_word(1, kLayout) == l::kWordsPerLine - 1,
              "the kernel puts the flag in the last word of every line");
static_assert(l::flag_lane(0, kLayout) == l::kLanesPerLine - 1 &&
              l::flag_lane(1, kLayout) == l::kLanesPerLine - 1);
/// kFlagLast: outside lane 7 every lane's pair starts at an even stream word on both parities.
static_assert(kLayout != l::LineLayout::kFlagLast || (l::lane_first_word(0, 0, kLayout) % 2 == 0 &&
                                                      l::lane_first_word(1, 0, kLayout) % 2 == 0 &&
                                                      l::lane_first_word(0, 6, kLayout) % 2 == 0 &&
                                                      l::lane_first_word(1, 6, kLayout) % 2 == 0));

/// Which 16 bytes of which line of a warp access a lane moves; the same on every line.
struct LaneRole {
  int part = 0;            ///< 0..7: which 16 bytes of the line (lane % 8)
  int group = 0;           ///< 0..3: which line of a warp access (lane / 8)
  bool flag_lane = false;  ///< part 7: lower half one payload word, upper half the flag
  int flag_src = 0;        ///< the warp lane holding the flag of this lane's line
};

__device__ __forceinline__ LaneRole lane_role(int lane) {
  LaneRole r;
  r.part = lane % l::kLanesPerLine;
  r.group = lane / l::kLanesPerLine;
  r.flag_lane = r.part == l::kLanesPerLine - 1;
  r.flag_src = r.group * l::kLanesPerLine + (l::kLanesPerLine - 1);
  return r;
}

/// Stats word `w` (o_words <= w) of the window from the sender's inputs (0 past the end of the
/// stream). S = 1 (plan.lse_values != 0, a uniform branch): two fp32 LSE values of rows
/// (i, peer) and (i + 1, peer), i = 2 (w - o_words), packed lower/upper (ll128_layout.hpp).
__device__ __forceinline__ u64 load_stats_word(const FusedAllToAllParams& p,
                                               const l::StreamWindow& win, u32 w) {
  if (w >= win.words) return 0;
  if (p.plan.lse_values == 0) {
    return __ldcg(static_cast<const unsigned long long*>(p.in_stats) +
                  l::stats_word_index(p.plan, win, w));
  }
  const auto* lse = static_cast<const unsigned int*>(p.in_stats);
  const u32 i = 2 * (w - win.o_words);
  const u64 lo = __ldcg(lse + l::lse_value_index(p.plan, win, i));
  const u64 hi =
      i + 1 < p.plan.lse_values ? __ldcg(lse + l::lse_value_index(p.plan, win, i + 1)) : 0;
  return lo | hi << 32;
}

/// Stats word `w` (o_words <= w) of the window into the receiver's outputs (nothing past the end;
/// S = 1: the two values, the upper one only when it is an entry).
__device__ __forceinline__ void store_stats_word(const FusedAllToAllParams& p,
                                                 const l::StreamWindow& win, u32 w, u64 v) {
  if (w >= win.words) return;
  if (p.plan.lse_values == 0) {
    static_cast<u64*>(p.out_stats)[l::stats_word_index(p.plan, win, w)] = v;
    return;
  }
  auto* lse = static_cast<u32*>(p.out_stats);
  const u32 i = 2 * (w - win.o_words);
  lse[l::lse_value_index(p.plan, win, i)] = static_cast<u32>(v);
  if (i + 1 < p.plan.lse_values)
    lse[l::lse_value_index(p.plan, win, i + 1)] = static_cast<u32>(v >> 32);
}

/// Stream word `w` of the window from the sender's inputs (0 past the end of the stream).
__device__ __forceinline__ u64 load_word(const FusedAllToAllParams& p, const l::StreamWindow& win,
                                         u32 w) {
  if (w < win.o_words) {
    return __ldcg(static_cast<const unsigned long long*>(p.in_o) + l::o_word_index(p.plan, win, w));
  }
  return load_stats_word(p, win, w);
}

/// Stream word `w` of the window into the receiver's outputs (nothing past the end).
__device__ __forceinline__ void store_word(const FusedAllToAllParams& p, const l::StreamWindow& win,
                                           u32 w, u64 v) {
  if (w < win.o_words) {
    static_cast<u64*>(p.out_o)[l::o_word_index(p.plan, win, w)] = v;
  } else {
    store_stats_word(p, win, w, v);
  }
}

/// Reads this lane's payload of stream line `line` (ll128::lane_move): lo = its lower stream word,
/// hi = the next one (0 in the flag lane, whose upper half becomes the flag); words past the end
/// of the stream are 0. An aligned partial_o pair is ONE 16-byte load (.cg: each word is read
/// once); everything else (lane 7's single word, stats words) 8-byte loads.
__device__ __forceinline__ void load_lane(const FusedAllToAllParams& p, const l::StreamWindow& win,
                                          u32 line, int part, u64& lo, u64& hi) {
  const l::LaneMove m = l::lane_move(win.o_words, line, part, kLayout);
  if (m.o_pair) {
    const ulonglong2 v = __ldcg(reinterpret_cast<const ulonglong2*>(
        static_cast<const u64*>(p.in_o) + l::o_word_index(p.plan, win, m.lower)));
    lo = v.x;
    hi = v.y;
    return;
  }
  if constexpr (kLayout == l::LineLayout::kFlagLast) {
    // Left: lane 7's single word (partial_o or stats), or a lane 0-6 pair at lower >= o_words,
    // whose both words are stats words or past the end (lower is even and o_words even).
    if (!m.upper && m.lower < win.o_words) {
      lo = __ldcg(static_cast<const unsigned long long*>(p.in_o) +
                  l::o_word_index(p.plan, win, m.lower));
      hi = 0;
      return;
    }
    lo = load_stats_word(p, win, m.lower);
    hi = m.upper ? load_stats_word(p, win, m.lower + 1) : 0;
  } else {
    lo = load_word(p, win, m.lower);
    hi = m.upper ? load_word(p, win, m.lower + 1) : 0;
  }
}

/// Writes this lane's payload of stream line `line` into the outputs (inverse of load_lane): one
/// 16-byte store per aligned partial_o pair, 8-byte stores otherwise; never the flag.
__device__ __forceinline__ void store_lane(const FusedAllToAllParams& p, const l::StreamWindow& win,
                                           u32 line, int part, u64 lo, u64 hi) {
  const l::LaneMove m = l::lane_move(win.o_words, line, part, kLayout);
  if (m.o_pair) {
    *reinterpret_cast<ulonglong2*>(static_cast<u64*>(p.out_o) +
                                   l::o_word_index(p.plan, win, m.lower)) = make_ulonglong2(lo, hi);
    return;
  }
  if constexpr (kLayout == l::LineLayout::kFlagLast) {
    // The cases of load_lane.
    if (!m.upper && m.lower < win.o_words) {
      static_cast<u64*>(p.out_o)[l::o_word_index(p.plan, win, m.lower)] = lo;
      return;
    }
    store_stats_word(p, win, m.lower, lo);
    if (m.upper) store_stats_word(p, win, m.lower + 1, hi);
  } else {
    store_word(p, win, m.lower, lo);
    if (m.upper) store_word(p, win, m.lower + 1, hi);
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
///
/// Which values are warp-uniform, and why. head and tail are written only by this (peer,
/// channel)'s own warps in EARLIER grids, which completed before griddepcontrol.wait returned (or
/// before the launch, without PDL): every lane reads the same value. credit (written remotely by
/// the peer's receiver while this grid runs) and the error record (written by any warp of this
/// rank) may change between two lanes' loads if the warp issues them apart, so the warp
/// reconverges first (one load instruction for all 32 lanes) and nothing branches on them per
/// lane: `failed` is a warp vote here, and send_stream() votes on the credit.
struct Counters {
  u64 head = 0;         ///< sender: first sequence number of this call
  u64 credit = 0;       ///< sender: credit published by the peer's receiver (per lane, see above)
  u64 tail = 0;         ///< receiver: first sequence number of this call
  bool failed = false;  ///< warp-uniform: this rank has recorded an error
};

__device__ __forceinline__ Counters load_counters(const FusedAllToAllParams& p, const u64* rec,
                                                  bool send, bool recv) {
  // The sender's first-burst loads before this are divergent (load_lane): reconverge, so that
  // the counter loads are one warp instruction each and the votes below see all 32 lanes.
  __syncwarp();
  Counters c;
  const u64 err = ld_volatile_u64(error_record(p, p.rank) + l::kErrorInfo);
  if (send) {
    c.head = ld_volatile_u64(rec + l::kHeadWord);
    c.credit = read_credit(rec + l::kCreditWord);
  }
  if (recv) c.tail = ld_volatile_u64(rec + l::kTailWord);
  // A failed rank's counters are inconsistent. A vote: the caller returns on it, and a lane that
  // returned alone would leave the others' full-mask shuffles waiting for it.
  c.failed = __any_sync(kFullMask, err != 0);
  return c;
}

// ---- sender -------------------------------------------------------------------------------------

/// Lane 0 spins until credit + depth > seq and returns the credit it saw (broadcast); a credit
/// with credit + depth <= seq means it gave up (error recorded).
static __device__ __noinline__ u64 wait_credit(const FusedAllToAllParams& p, const u64* credit_ptr,
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
  // Every lane reaches this shuffle (the caller's branch is a warp vote); the others wait here
  // while lane 0 spins.
  c = __shfl_sync(kFullMask, c, 0);
  // Orders every lane's following FIFO stores after lane 0's read of the credit.
  __syncwarp();
  return c;
}

/// Loads the payload of one burst: lines [b, b + 4*kRounds) of the slot starting at stream line
/// `line0` (n lines in the slot), round u = lines b + 4u .. b + 4u + 3, one per line group.
template <int kRounds>
__device__ __forceinline__ void load_burst(const FusedAllToAllParams& p, const l::StreamWindow& win,
                                           const LaneRole& r, u32 line0, u32 b, u32 n,
                                           u64 (&lo)[kRounds], u64 (&hi)[kRounds]) {
#pragma unroll
  for (int u = 0; u < kRounds; ++u) {
    const u32 line = b + static_cast<u32>(u * l::kLinesPerWarpAccess + r.group);
    lo[u] = 0;
    hi[u] = 0;
    if (line < n) load_lane(p, win, line0 + line, r.part, lo[u], hi[u]);
  }
}

/// Sends this call's stream to `peer` on `channel`; false when a wait gave up (error recorded).
/// The first burst's input loads are issued before the counters are read (one round trip, not
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
  constexpr u32 kBurstLines = l::kLinesPerWarpAccess * kRounds;
  const LaneRole r = lane_role(lane);
  // Per lane: the lanes' loads of the credit may have returned different values (load_counters);
  // only the vote below decides, and wait_credit() returns a broadcast (uniform) value.
  u64 credit = c.credit;
  u64 seq = c.head;
  for (u32 first_line = 0; first_line < win.lines; first_line += slot_lines, ++seq) {
    if (__any_sync(kFullMask, credit + static_cast<u64>(geo.depth) <= seq)) {
      credit = wait_credit(p, rec + l::kCreditWord, peer, channel, seq, lane);
      if (credit + static_cast<u64>(geo.depth) <= seq) return false;  // uniform: broadcast
    }
    const u64 flag = l::flag_for(seq);
    const u32 n = win.lines - first_line < slot_lines ? win.lines - first_line : slot_lines;
    const u32 line0 = win.first_line + first_line;  // stream line of the slot's line 0
    char* base = fifo + std::int64_t{geo.physical_slot(seq)} * geo.slot_bytes();
    for (u32 b = 0; b < n; b += kBurstLines) {
      // All loads of a burst first, so that kRounds x 16 bytes per lane are in flight.
      if (first_line != 0 || b != 0) load_burst<kRounds>(p, win, r, line0, b, n, lo, hi);
      char* burst = base + std::size_t{b} * l::kLineBytes;
      // Reconverge after the divergent address math: the 8 lanes of a line must issue their
      // 16-byte stores as ONE warp instruction (the pieces then arrive in address order, the
      // flag last: see the file comment).
      __syncwarp();
#pragma unroll
      for (int u = 0; u < kRounds; ++u) {
        const u32 line = b + static_cast<u32>(u * l::kLinesPerWarpAccess + r.group);
        if (line < n) {
          if (r.flag_lane) hi[u] = flag;  // word 15 of the line
          // Fault injection: stream line 0 of channel 0 carries a valid flag and a wrong byte
          // (lane 0's lower half of an even line = stream word 0).
          if (corrupt && line0 + line == 0 && r.part == 0) lo[u] ^= 0x01;
          st_line_part(burst + u * l::kLinesPerWarpAccess * l::kLineBytes, lo[u], hi[u]);
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
  constexpr u32 kBurstLines = l::kLinesPerWarpAccess * kRounds;
  const LaneRole r = lane_role(lane);

  u64 seq = tail;
  for (u32 first_line = 0; first_line < win.lines; first_line += slot_lines, ++seq) {
    const u64 flag = l::flag_for(seq);
    const u32 n = win.lines - first_line < slot_lines ? win.lines - first_line : slot_lines;
    const u32 line0 = win.first_line + first_line;  // stream line of the slot's line 0
    const char* base = fifo + std::int64_t{geo.physical_slot(seq)} * geo.slot_bytes();
    for (u32 b = 0; b < n; b += kBurstLines) {
#if DCP_NATIVE_TRIGGER == 0
      // Trigger the dependent launch when starting the last burst of the call.
      if (first_line + slot_lines >= win.lines && b + kBurstLines >= n) pdl_trigger();
#endif
      // Per lane, but the same for the 8 lanes of a line group: the rounds whose line is still
      // awaited. Updated only from ballots, so every lane of a group agrees.
      u32 pending = 0;
#pragma unroll
      for (int u = 0; u < kRounds; ++u) {
        if (b + static_cast<u32>(u * l::kLinesPerWarpAccess + r.group) < n) pending |= 1u << u;
      }
      const u32 present = pending;  // rounds whose line exists
      const char* burst = base + std::size_t{b} * l::kLineBytes;
      u64 start = 0;
      if (lane == 0) start = globaltimer_ns();
      u32 polls = 0;
      // Lines stay in registers once their flag matched; only the others are read again. The
      // payload is written out after the whole burst arrived, so that the output address math
      // stays out of the poll loop (hoisted, it would hold kRounds addresses in registers).
      u64 lo[kRounds];
      u64 hi[kRounds];
      // Reads every pending line of the burst, converged, so that the 8 lanes of a line read
      // it with ONE warp instruction.
      auto read_pending = [&] {
        __syncwarp();
#pragma unroll
        for (int u = 0; u < kRounds; ++u) {
          if (pending & (1u << u)) {
            ld_line_part(burst + u * l::kLinesPerWarpAccess * l::kLineBytes, lo[u], hi[u]);
          }
        }
      };
      read_pending();
      for (;;) {
#pragma unroll
        for (int u = 0; u < kRounds; ++u) {
          // The flag is the upper half of lane 7 of every line (word 15).
          const bool mine = (pending & (1u << u)) != 0 && r.flag_lane && hi[u] == flag;
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
              seen = hi[u];
            }
          }
          const u32 missing = __reduce_min_sync(kFullMask, first_missing);
          // The flag lane of the line group that owns line `missing`.
          const int holder =
              static_cast<int>((missing - b) % l::kLinesPerWarpAccess) * l::kLanesPerLine +
              (l::kLanesPerLine - 1);
          seen = __shfl_sync(kFullMask, seen, holder);
          if (lane == 0) {
            record_error(p, stop == 1 ? l::ErrorRole::kRecv : l::ErrorRole::kAbort, peer, channel,
                         seq, first_line + missing, seen);
          }
          return false;
        }
      }
#if DCP_NATIVE_RELOAD
      // Every flag of the burst has matched. Take the payload from a load issued NOW (spec §3.8):
      // a polling load may have sampled a line's data sectors before its flag sector. This
      // reload is issued after the ballot that saw the last flag (a control dependency: no
      // speculative loads), so under the ascending-arrival contract it returns the whole line
      // the flag vouched for; the slot cannot change before this warp publishes its credit.
      // Cost: one more round trip to the local FIFO per burst (docs/perf/native-speed.md).
      pending = present;
      read_pending();
#endif
#pragma unroll
      for (int u = 0; u < kRounds; ++u) {
        if (present & (1u << u)) {
          const u32 line = b + static_cast<u32>(u * l::kLinesPerWarpAccess + r.group);
          store_lane(p, win, line0 + line, r.part, lo[u], hi[u]);
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
  const LaneRole role = lane_role(lane);

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
    // The first burst's input loads do not depend on the counters: issue them first, so that
    // they are in flight together with the counter loads (one memory latency, not two).
    load_burst<kRounds>(p, win, role, win.first_line, 0, first_n, lo, hi);
  }
  const Counters c = load_counters(p, rec, send, recv);
  if (c.failed) return;  // warp-uniform (a vote)
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
