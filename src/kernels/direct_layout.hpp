#pragma once
/// @file
/// The direct-store protocol of the DCP exchange: the layout of one rank's workspace segment, the
/// block split of a call, the epoch and flag rules, and the error record. Shared by the GPU
/// kernels (fused exchange+merge, and the four launches of the `direct-staged` baseline), the
/// protocol programs (direct_protocol.hpp) and the CPU emulation (direct_reference.hpp).
///
/// The protocol. On every call each rank (source s) writes, for every destination d, its input
/// rows (e, d) of partial_o and of the stats (LSE) with plain 16-byte stores straight into d's
/// receive area; then, per block of entries, publishes one 64-bit flag in d's segment with
/// release semantics. The receiver waits for the flags of a block from every source with acquire
/// loads (bounded), then reads the block's rows from its own memory and delivers them (exchange:
/// copies them into out_o/out_stats; reduce: merges them into out/lse_out). Nothing is ever
/// cleared: receive areas are double-buffered by the parity of the call's epoch, and a flag
/// carries epoch + 1, a 64-bit value that only grows, so a stale flag never matches.
///
/// What it relies on (and what it does not). Only the memory model: payload stores, then (CTA
/// barrier and) a release store of the flag at system scope; an acquire load of the flag at
/// system scope, then (CTA barrier and) the payload loads. Unlike LL128 it does not rely on how a
/// 128-byte line travels (dcp-a2a-spec.md §3.8): a flag is a separate word stored after all the
/// payload it covers. On the GPU: payload `st.global.v4` to peer memory, `__syncthreads()`, one
/// thread `fence.acq_rel.sys` + flag store (or `st.release.sys`); receiver `ld.acquire.sys` of
/// the flag, `__syncthreads()`, payload loads. Those payload loads must not be served from a
/// line that an earlier call left in L1: the acquire orders them (PTX), which the GPU test with
/// fresh inputs on every call has to confirm (the emulation cannot).
///
/// Segment layout of rank x (byte offsets; Geometry):
///   [0, 256)          header: error record of x (ErrorWord, written by x only), x's epoch word
///                     and CTA arrival counter (local), row-order signature (as in ll128)
///   [256, ...)        flags: one u64 per (parity, block, source), written remotely by the source
///                     with release, polled by x with acquire. The cp flags of one block are
///                     contiguous, so one warp polls all sources of a block with one load.
///   recv (4 KiB aln)  receive regions: one per (parity, source), `region_bytes` each (multiple of
///                     128): the rows source s sent to x in calls of that parity. Inside a region
///                     (Layout): rows (e, x) for e = 0..E-1, D*2 bytes each (16-byte aligned),
///                     then the stats: S fp32 per entry. A block is a contiguous range of entries:
///                     a contiguous range of rows plus a contiguous range of stats.
///
/// Where the flag area is fixed (by the workspace, not the case) and only ever holds flags: when
/// the sweep moves to another case, the new case's flags land on words that held flags of
/// earlier calls (values <= epoch - 1), never on payload bytes that could equal epoch + 1.
///
/// C++20 and host-compilable (included by .cu files); no CUDA headers.

#include <cstdint>
#include <type_traits>

#include "core/host_device.hpp"
#include "core/shape.hpp"

namespace dcp::kernels::direct {

// ---- constants ----------------------------------------------------------------------------------

inline constexpr int kMaxCp = 64;                             ///< largest cp the protocol addresses
inline constexpr std::int64_t kHeaderBytes = 256;             ///< header at the start of a segment
inline constexpr std::int64_t kFlagBytes = 8;                 ///< one flag (u64)
inline constexpr std::int64_t kRowAlignBytes = 16;            ///< rows start at 16-byte boundaries
inline constexpr std::int64_t kRegionAlignBytes = 128;        ///< every (parity, source) region
inline constexpr std::int64_t kRecvAlignBytes = 4096;         ///< start of the receive area
inline constexpr std::int64_t kMaxSegmentBytes = 0x7FFFFFFF;  ///< offsets fit a signed 32-bit int
/// Largest element index (exclusive) of a [E, cp, D] or [E, cp, S] tensor: the kernels index
/// tensors in 32 bits, so E * cp * max(D, S) must stay below this.
inline constexpr std::int64_t kMaxTensorElements = 0x7FFFFFFF;

/// Words of the header. The error record is read by peers (to stop waiting for a failed rank);
/// the epoch word and the arrival counter are touched by their own rank only.
enum HeaderWord : int {
  kErrorInfo = 0,      ///< 0 = no error; else encode_error_info(); claimed by compare-and-swap
  kErrorBlock = 1,     ///< the flag slot (block) awaited
  kErrorEpoch = 2,     ///< the awaited call's epoch (the awaited flag is epoch + 1)
  kErrorObserved = 3,  ///< the flag value seen instead
  kErrorWords = 4,
  kEpochWord = 8,    ///< this rank's epoch: of the next call (fused) / of the call begun (staged)
  kArrivalWord = 9,  ///< fused kernel: CTAs of the current call that have finished
};
/// Row-order signature {magic ^ nonce, rank} as in ll128 (kernels/ll128_layout.hpp), written by
/// the segment's owner at setup and checked by every rank through its peer table.
inline constexpr std::int64_t kSignatureOffset = 128;
static_assert(kArrivalWord * 8 < kSignatureOffset && kSignatureOffset + 16 <= kHeaderBytes);

/// Rounds `v` up to a multiple of `a` (a > 0).
DCP_HOST_DEVICE constexpr std::int64_t align_up(std::int64_t v, std::int64_t a) {
  return (v + a - 1) / a * a;
}

// ---- epochs, parity and flags -------------------------------------------------------------------

/// Receive buffer (and flag set) a call uses: the parity of its epoch.
///
/// Why two buffers are enough. Assumptions: (A1) every rank makes every call, in the same order,
/// and calls of one rank run one after the other (stream order; with PDL every access to the
/// workspace comes after griddepcontrol.wait); (A2) in every call each rank receives from every
/// peer, i.e. waits for at least one flag of every source (E = 0 launches nothing on any rank and
/// advances no epoch); (A3) the epoch advances by one per call on every rank, so all ranks agree
/// on call n's epoch and parity. Claim: when source s writes call n+2 into receiver r's region
/// (parity of n), r has finished reading call n from it. Proof: s writes call n+2 only after its
/// call n+1 finished (A1), which waited for r's flags of call n+1 (A2); r released those flags
/// in its call n+1, which started after its call n finished (A1), i.e. after r read call n. The
/// chain r-reads(n) -> r-release(n+1) -> s-acquire(n+1) -> s-writes(n+2) is a happens-before
/// chain (program/stream order and release/acquire), so the reads cannot see call n+2's bytes.
/// Call n+1 itself lands in the other parity, so it never disturbs call n. Flags: a flag of
/// parity p holds epoch + 1 of the last call of that parity, so while r waits in call n it reads
/// either n - 1 (call n - 2: not yet) or n + 1 (arrived); it can never see n + 3, since s cannot
/// be in call n + 2 yet (same chain) - a larger value means the ranks' epochs disagree (a rank
/// skipped a call or was reset alone), reported at once (FlagState::kAhead). The CPU emulation
/// runs this rule with several calls in flight at once, and a single-buffered variant that it
/// catches (direct_emulation_test).
DCP_HOST_DEVICE constexpr std::uint32_t parity_of(std::uint64_t epoch) {
  return static_cast<std::uint32_t>(epoch & 1u);
}
/// The flag value of every flag of the call with epoch `epoch`. A zeroed workspace holds 0, which
/// no call's flag equals.
DCP_HOST_DEVICE constexpr std::uint64_t flag_for(std::uint64_t epoch) {
  return epoch + 1;
}

/// What a receiver makes of a flag it polled.
enum class FlagState : std::uint8_t {
  kPending = 0,  ///< an earlier call's value (or 0): keep waiting
  kArrived = 1,  ///< this call's value: the rows it covers are visible (acquire)
  kAhead = 2,    ///< a later call's value: the ranks' epochs disagree (error)
};
DCP_HOST_DEVICE constexpr FlagState flag_state(std::uint64_t observed, std::uint64_t epoch) {
  const std::uint64_t want = flag_for(epoch);
  return observed == want ? FlagState::kArrived
                          : (observed > want ? FlagState::kAhead : FlagState::kPending);
}

/// Fused kernel: how the epoch advances inside one launch. Every CTA reads the epoch word once at
/// its start; when a CTA is done it adds 1 to the arrival counter (atomic, acq_rel); the CTA that
/// sees `arrivals_before + 1 == ctas` is the last one: every other CTA has read the epoch before
/// arriving, so it resets the counter to 0 and stores epoch + 1. The next launch (stream order)
/// sees both. Graph replays advance it the same way: the epoch lives in device memory.
DCP_HOST_DEVICE constexpr bool last_arrival(std::uint64_t arrivals_before, std::uint32_t ctas) {
  return arrivals_before + 1 == ctas;
}

/// The four launches of the staged scheme (vLLM's direct path, as a baseline): advance the epoch;
/// write rows to peers; signal with release; wait with acquire and deliver.
enum class StagedStep : std::uint8_t { kAdvance = 0, kWrite = 1, kSignal = 2, kWaitDeliver = 3 };
inline constexpr int kStagedSteps = 4;

/// The epoch of the call that a staged launch works on, from the epoch word it reads at its
/// start: the advance launch reads n and stores n + 1; the three launches after it read n + 1.
DCP_HOST_DEVICE constexpr std::uint64_t staged_call_epoch(StagedStep step,
                                                          std::uint64_t epoch_word) {
  return step == StagedStep::kAdvance ? epoch_word : epoch_word - 1;
}
/// The staged scheme signals once per (source, destination), as vLLM does, in the flag slot of
/// block 0; its flag covers every block of the pair (written by the preceding launch).
inline constexpr std::uint32_t kPairFlagBlock = 0;

// ---- workspace geometry -------------------------------------------------------------------------

/// Layout of one rank's segment; identical on every rank; sized once for the sweep's largest
/// case (geometry_for, covering).
struct Geometry {
  int cp_size = 1;                ///< ranks
  std::int64_t max_blocks = 1;    ///< flag slots per (parity, source): the most blocks a call has
  std::int64_t region_bytes = 0;  ///< bytes per (parity, source) receive region (multiple of 128)

  /// Bytes of the flag area: 2 parities x max_blocks x cp flags.
  DCP_HOST_DEVICE constexpr std::int64_t flags_bytes() const {
    return 2 * max_blocks * cp_size * kFlagBytes;
  }
  /// Offset of the flag that `source` publishes in this segment for (parity, block).
  DCP_HOST_DEVICE constexpr std::int64_t flag_offset(std::uint32_t parity, std::int64_t block,
                                                     int source) const {
    return kHeaderBytes +
           ((std::int64_t{parity} * max_blocks + block) * cp_size + source) * kFlagBytes;
  }
  /// Offset of the receive area.
  DCP_HOST_DEVICE constexpr std::int64_t recv_offset() const {
    return align_up(kHeaderBytes + flags_bytes(), kRecvAlignBytes);
  }
  /// Offset of the region holding what `source` sends in calls of parity `parity`.
  DCP_HOST_DEVICE constexpr std::int64_t region_offset(std::uint32_t parity, int source) const {
    return recv_offset() + (std::int64_t{parity} * cp_size + source) * region_bytes;
  }
  /// Bytes of one segment.
  DCP_HOST_DEVICE constexpr std::int64_t segment_bytes() const {
    return recv_offset() + 2 * std::int64_t{cp_size} * region_bytes;
  }
};

/// Why `g` cannot be used (nullptr when it can).
constexpr const char* geometry_problem(const Geometry& g) {
  if (g.cp_size < 1 || g.cp_size > kMaxCp) return "cp_size must be in [1, 64]";
  if (g.max_blocks < 1 || g.max_blocks > kMaxSegmentBytes / (2 * kMaxCp * kFlagBytes)) {
    return "max_blocks must be in [1, 2^21)";
  }
  if (g.region_bytes < 0 || g.region_bytes % kRegionAlignBytes != 0) {
    return "region_bytes must be a non-negative multiple of 128";
  }
  if (g.region_bytes > kMaxSegmentBytes / (2 * g.cp_size) || g.segment_bytes() > kMaxSegmentBytes) {
    return "the segment must stay below 2 GiB (32-bit offsets)";
  }
  return nullptr;
}

// ---- one call: the block split ------------------------------------------------------------------

/// Bytes of one entry in a region: its row (D*2) and its stats (S*4).
DCP_HOST_DEVICE constexpr std::int64_t entry_bytes(const ExchangeShape& s) {
  return std::int64_t{s.head_dim} * 2 + std::int64_t{s.stats_dim} * 4;
}

/// The merge of one block reads cp times the block's bytes; the split aims at about this much.
inline constexpr std::int64_t kMergeBytesPerBlock = 128 * 1024;
/// Bounds of one block's bytes per source: small enough for a receiving CTA to start merging
/// while later blocks are still in flight, large enough that one 8-byte flag covers >= 16 KiB.
inline constexpr std::int64_t kMinBlockBytes = 16 * 1024;
inline constexpr std::int64_t kMaxBlockBytes = 64 * 1024;
/// Small calls are cut by count instead: at most ceil(E / kMinBlocks) entries per block, so that
/// a call has at least min(E, 17) blocks to spread over receiving CTAs (E / ceil(E / 32) > 16).
inline constexpr std::int64_t kMinBlocks = 32;

/// Bytes per block and source the split aims at for `cp` ranks:
/// clamp(128 KiB / cp, 16 KiB, 64 KiB).
DCP_HOST_DEVICE constexpr std::int64_t target_block_bytes(int cp) {
  const std::int64_t b = kMergeBytesPerBlock / (cp > 0 ? cp : 1);
  return b < kMinBlockBytes ? kMinBlockBytes : (b > kMaxBlockBytes ? kMaxBlockBytes : b);
}
/// Entries per block by bytes alone: floor(target_block_bytes(cp) / entry_bytes), at least 1.
DCP_HOST_DEVICE constexpr std::int64_t block_entries_by_bytes(int cp, std::int64_t entry_bytes) {
  const std::int64_t n = target_block_bytes(cp) / (entry_bytes > 0 ? entry_bytes : 1);
  return n < 1 ? 1 : n;
}
/// Entries per block of a call of `entries` entries: min(by bytes, ceil(E / kMinBlocks)), at
/// least 1. Every block but the last has exactly this many entries.
DCP_HOST_DEVICE constexpr std::int64_t block_entries_for(int cp, std::int64_t entries,
                                                         std::int64_t entry_bytes) {
  const std::int64_t by_count = (entries + kMinBlocks - 1) / kMinBlocks;
  const std::int64_t by_bytes = block_entries_by_bytes(cp, entry_bytes);
  const std::int64_t n = by_count < by_bytes ? by_count : by_bytes;
  return n < 1 ? 1 : n;
}

/// One call's layout inside the regions: which entries form which block, and where a row and
/// its stats live in a region. Identical on every rank; all values fit 32 bits once
/// layout_problem() accepted it.
struct Layout {
  int cp_size = 1;
  std::uint32_t entries = 0;        ///< E
  std::uint32_t row_bytes = 0;      ///< D * 2 (a multiple of 16)
  std::uint32_t stats_bytes = 0;    ///< S * 4 per entry
  std::uint32_t block_entries = 1;  ///< entries per block (the last block may have fewer)
  std::uint32_t blocks = 0;         ///< ceil(E / block_entries); 0 for E = 0

  /// First entry of block b.
  DCP_HOST_DEVICE constexpr std::uint32_t block_first(std::uint32_t b) const {
    return b * block_entries;
  }
  /// Entries of block b (b < blocks).
  DCP_HOST_DEVICE constexpr std::uint32_t block_size(std::uint32_t b) const {
    const std::uint32_t rest = entries - block_first(b);
    return rest < block_entries ? rest : block_entries;
  }
  /// Offset of row e inside a region.
  DCP_HOST_DEVICE constexpr std::int64_t row_offset(std::uint32_t e) const {
    return std::int64_t{e} * row_bytes;
  }
  /// Offset of the stats of entry e inside a region (after all E rows).
  DCP_HOST_DEVICE constexpr std::int64_t stats_offset(std::uint32_t e) const {
    return std::int64_t{entries} * row_bytes + std::int64_t{e} * stats_bytes;
  }
  /// Bytes of a region this call uses (rows, stats, rounded up to 128).
  DCP_HOST_DEVICE constexpr std::int64_t region_bytes() const {
    return align_up(stats_offset(entries), kRegionAlignBytes);
  }
};

/// Why `s` cannot use the direct protocol (nullptr when it can).
constexpr const char* shape_problem(const ExchangeShape& s) {
  if (s.cp_size < 1 || s.cp_size > kMaxCp) return "cp_size must be in [1, 64]";
  if (s.entries < 0) return "entries must be >= 0";
  if (s.head_dim <= 0 || (s.head_dim * 2) % kRowAlignBytes != 0) {
    return "head_dim * 2 bytes must be a positive multiple of 16 (head_dim a multiple of 8)";
  }
  if (s.stats_dim < 1) return "stats_dim must be >= 1";
  const std::int64_t widest = s.head_dim > s.stats_dim ? s.head_dim : s.stats_dim;
  if (s.entries > kMaxTensorElements / s.cp_size / widest) {
    return "entries x cp x max(head_dim, stats_dim) must stay below 2^31 (32-bit indices)";
  }
  return nullptr;
}

/// The layout of a call of shape `s` (checked by shape_problem) with `block_entries` entries
/// per block (0: block_entries_for).
constexpr Layout make_layout(const ExchangeShape& s, std::int64_t block_entries = 0) {
  Layout l;
  l.cp_size = s.cp_size;
  l.entries = static_cast<std::uint32_t>(s.entries);
  l.row_bytes = static_cast<std::uint32_t>(s.head_dim * 2);
  l.stats_bytes = static_cast<std::uint32_t>(s.stats_dim * 4);
  const std::int64_t n =
      block_entries > 0 ? block_entries : block_entries_for(s.cp_size, s.entries, entry_bytes(s));
  l.block_entries = static_cast<std::uint32_t>(n);
  l.blocks = static_cast<std::uint32_t>((s.entries + n - 1) / n);
  return l;
}

/// Why layout `l` does not fit workspace `g` (nullptr when it does).
constexpr const char* layout_problem(const Geometry& g, const Layout& l) {
  if (l.cp_size != g.cp_size) return "the workspace was laid out for another cp";
  if (l.blocks > g.max_blocks) return "the call has more blocks than the workspace has flags";
  if (l.region_bytes() > g.region_bytes) return "the call's rows exceed a receive region";
  return nullptr;
}

/// The smallest geometry that holds every call of `cp` ranks with 0 <= E <= max_entries rows of
/// head_dim D and stats_dim S, each split by block_entries_for. Closed form, because both needs
/// grow with E: the region needs E * (D*2 + S*4) bytes rounded up to 128, and a call has at most
/// min(E_max, max(kMinBlocks, ceil(E_max / block_entries_by_bytes))) blocks (with
/// n = block_entries_for(E): if n = ceil(E / kMinBlocks), ceil(E / n) <= kMinBlocks; otherwise
/// n = by_bytes and ceil(E / n) <= ceil(E_max / by_bytes)). Tested against every E.
constexpr Geometry geometry_for(int cp, std::int64_t max_entries, int head_dim, int stats_dim) {
  Geometry g;
  g.cp_size = cp;
  const ExchangeShape s{cp, max_entries, head_dim, stats_dim, false};
  const std::int64_t by_bytes = block_entries_by_bytes(cp, entry_bytes(s));
  std::int64_t blocks = (max_entries + by_bytes - 1) / by_bytes;
  if (blocks < kMinBlocks) blocks = kMinBlocks;
  if (blocks > max_entries) blocks = max_entries;
  g.max_blocks = blocks < 1 ? 1 : blocks;
  g.region_bytes = align_up(max_entries * entry_bytes(s), kRegionAlignBytes);
  return g;
}

/// The smallest geometry holding both `a` and `b` (same cp): for a sweep, fold geometry_for over
/// its (cp, largest E per head_dim and stats_dim).
constexpr Geometry covering(const Geometry& a, const Geometry& b) {
  Geometry g = a;
  if (b.max_blocks > g.max_blocks) g.max_blocks = b.max_blocks;
  if (b.region_bytes > g.region_bytes) g.region_bytes = b.region_bytes;
  return g;
}

/// Bytes per rank of a direct workspace for `cp` ranks and calls up to `max_entries` entries.
constexpr std::int64_t workspace_bytes(int cp, std::int64_t max_entries, int head_dim,
                                       int stats_dim) {
  return geometry_for(cp, max_entries, head_dim, stats_dim).segment_bytes();
}

// Kernel parameters carry these by value.
static_assert(std::is_trivially_copyable_v<Geometry> && std::is_trivially_copyable_v<Layout>);

// Worked sizes (D = 512 bf16 rows and one fp32 LSE per row: 1028 bytes per entry).
static_assert(target_block_bytes(2) == 64 * 1024 && target_block_bytes(8) == 16 * 1024);
static_assert(block_entries_for(8, 16, 1028) == 1);     // 16 blocks of 1 entry
static_assert(block_entries_for(8, 4096, 1028) == 15);  // 16 KiB / 1028 B
static_assert(block_entries_for(2, 4096, 1028) == 63);  // 64 KiB / 1028 B
static_assert(make_layout(ExchangeShape{8, 4096, 512, 1, false}).blocks == 274);
static_assert(geometry_for(8, 4096, 512, 1).max_blocks == 274);
static_assert(geometry_for(8, 4096, 512, 1).recv_offset() == 36864);  // 256 + 35,072 rounded up
static_assert(workspace_bytes(8, 4096, 512, 1) == 36864 + 2 * 8 * 4210688);  // 64.3 MiB

// ---- error record -------------------------------------------------------------------------------

/// Why a CTA gave up.
enum class ErrorRole : std::uint32_t {
  kRecv = 0,   ///< no flag from the peer within the timeout
  kAhead = 1,  ///< the peer's flag carries a later call's epoch: the ranks disagree on the epoch
  kAbort = 2,  ///< stopped because its own rank or the awaited peer had failed already
};

/// Packs who failed into the error record's info word (never 0: bit 63 is set).
DCP_HOST_DEVICE constexpr std::uint64_t encode_error_info(ErrorRole role, int rank, int peer) {
  return (std::uint64_t{1} << 63) | (std::uint64_t{static_cast<std::uint32_t>(role)} << 48) |
         (std::uint64_t{static_cast<std::uint16_t>(rank)} << 32) |
         (std::uint64_t{static_cast<std::uint16_t>(peer)} << 16);
}

/// One rank's error record, decoded.
struct ErrorInfo {
  bool valid = false;
  ErrorRole role = ErrorRole::kRecv;
  int rank = 0;                ///< the rank that gave up
  int peer = 0;                ///< the source it waited for
  std::uint64_t block = 0;     ///< the flag slot it waited for
  std::uint64_t epoch = 0;     ///< the awaited call's epoch (flag epoch + 1)
  std::uint64_t observed = 0;  ///< the flag value it saw last
};

/// Decodes the kErrorWords words of an error record.
DCP_HOST_DEVICE constexpr ErrorInfo decode_error(const std::uint64_t* words) {
  ErrorInfo e;
  const std::uint64_t info = words[kErrorInfo];
  if (info == 0) return e;
  e.valid = true;
  e.role = static_cast<ErrorRole>((info >> 48) & 0x7FFFu);
  e.rank = static_cast<int>((info >> 32) & 0xFFFFu);
  e.peer = static_cast<int>((info >> 16) & 0xFFFFu);
  e.block = words[kErrorBlock];
  e.epoch = words[kErrorEpoch];
  e.observed = words[kErrorObserved];
  return e;
}

}  // namespace dcp::kernels::direct
