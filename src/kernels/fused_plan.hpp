#pragma once
/// @file
/// The ownership plan of the fused exchange+merge kernels, on LL128 and on the direct protocol:
/// a pure function from the shape and the device's resident-CTA capacity to how many CTAs each
/// rank launches, which entries each CTA owns, which warps move which stream, and how long each
/// stream is. Host-compilable (the device functions are DCP_HOST_DEVICE); computed once per case
/// on the host (make_fused_plan), identical on every rank, passed to the kernel by value.
///
/// Ownership. CTA c of every rank owns the same contiguous range of entries (cta_entries): it
/// sends rows (e, d) of its range to every destination d, receives rows (e, me) of its range from
/// every source, and merges (reduce) or copies (exchange) exactly those entries. So the merge of
/// an entry needs nothing from another CTA: receive, __syncthreads(), merge. Entries are owned in
/// units: one entry (LL128) or one flag block of the direct layout (direct_layout.hpp).
///
/// LL128 streams. For the fused kernel a channel carries WHOLE entries (unlike the exchange-only
/// kernel's line split): the stream of (source s -> destination d, CTA c) is the rows (e, d) of
/// s's partial_o for e in c's range (D*2/8 words each), then their stats packed as fp32 values
/// (ceil(n*S*4 / 8) words, the last one padded with zero), cut into lines of 15 payload words
/// (ll128_stream). CTA c uses FIFO c of every pair, so the CTA count is bounded by the LL128
/// geometry's channel count. A call's stream must fit its FIFO (lines <= depth x slot_lines):
/// then a sender never waits for anything of the same call (only for credit from the receivers
/// of earlier calls; proof: ll128::single_warp_allowed), so any warp may do sends and receives
/// in any split, provided it does all its sends first. The plan refuses a case otherwise.
///
/// Warps (LL128). A CTA moves 2 x cp streams (cp sends, cp receives), each cut into items of up
/// to 4 lines (one warp access). Items [0, cp*U) are the sends (peer index k = item / U), items
/// [cp*U, 2*cp*U) the receives; warp w does items w, w + W, w + 2W, ... in order, so every warp
/// does all its sends before its receives. Send index k goes to send_peer(rank, k), receive
/// index k comes from recv_peer(rank, k): the sender's k for a destination equals that
/// destination's k for the sender, so the two ends of a stream work on it at the same position
/// of their lists.
///
/// Warps (direct). Per block of the CTA's range: the cp x n row stores (direct_row_item) are
/// spread over all warps; __syncthreads(); thread t < cp releases the block's flag to
/// send_peer(rank, t). Then per block: lane t < cp acquires the flag of recv_peer(rank, t);
/// __syncthreads(); warp w merges entries w, w + W, ... of the block.
///
/// Co-residency. Every CTA may spin on CTAs of other grids (other ranks), so all CTAs of all
/// grids that share a device must be resident at once (in sim mode cp grids share one device;
/// with PDL the next call's grid may be resident too). The plan stays within
/// sm_count x ctas_per_sm / local_grids CTAs per grid and says so when even one CTA per grid
/// does not fit.
///
/// Bounds: cp <= 64 (both protocols' layouts), warps per CTA <= 32, the 32-bit index bounds of
/// direct::shape_problem.

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>

#include "core/host_device.hpp"
#include "core/shape.hpp"
#include "kernels/direct_layout.hpp"
#include "kernels/ll128_layout.hpp"

namespace dcp::kernels::fused {

/// How rows travel.
enum class Transport : std::uint8_t { kLl128 = 0, kDirect = 1 };

/// Name for messages: "ll128" or "direct".
constexpr const char* transport_name(Transport t) {
  return t == Transport::kLl128 ? "ll128" : "direct";
}

inline constexpr int kMaxCp = 64;
static_assert(kMaxCp == ll128::kMaxCp && kMaxCp == direct::kMaxCp);
inline constexpr int kMaxWarpsPerCta = 32;
inline constexpr int kDefaultWarpsPerCta = 8;
/// Lines of one LL128 item: one warp store or load instruction covers 4 lines.
inline constexpr std::uint32_t kLinesPerItem = ll128::kLinesPerWarpAccess;

/// What a plan is asked for; every value must be identical on every rank (resolved once).
struct PlanRequest {
  Transport transport = Transport::kLl128;
  ExchangeShape shape;  ///< cp, E, D, S (S fp32 per row: 1 for the reduce LSE), dtype
  int sm_count = 0;     ///< SMs of the device (the smallest over the ranks' devices)
  /// Resident CTAs of the kernel per SM at warps_per_cta threads and smem_limit_bytes of shared
  /// memory (occupancy API): an upper bound of what the plan's CTAs need, so the plan's
  /// co-residency holds whatever smem it ends up using.
  int ctas_per_sm = 0;
  int local_grids = 1;  ///< grids resident at once on one device: ranks per device (x2 with PDL)
  int warps_per_cta = kDefaultWarpsPerCta;  ///< 1..32
  bool stage_rows = false;  ///< the CTA copies received rows into shared memory before merging
  std::int64_t smem_limit_bytes = 0;  ///< shared memory a CTA may use when stage_rows
  // LL128 only.
  int max_channels = 0;  ///< FIFOs per pair of the LL128 geometry: the most CTAs per grid
  int fifo_lines = 0;    ///< depth x slot_lines of a FIFO: the most lines a stream may have
  int target_lines_per_warp = ll128::kTargetLinesPerWarp;  ///< lines per warp the split aims at
  // Direct only.
  std::int64_t block_entries = 0;  ///< entries per flag block; 0: direct::block_entries_for
};

/// A range of indices [first, first + count).
struct Range {
  std::uint32_t first = 0;
  std::uint32_t count = 0;
  DCP_HOST_DEVICE constexpr std::uint32_t end() const { return first + count; }
};

/// A fused kernel's plan for one case. Trivially copyable; identical on every rank.
struct FusedPlan {
  Transport transport = Transport::kLl128;
  int cp_size = 1;
  std::uint32_t entries = 0;           ///< E
  int ctas = 0;                        ///< CTAs per rank's grid; 0 for E = 0 (nothing launched)
  int warps_per_cta = 1;               ///< W
  std::uint32_t unit_entries = 1;      ///< entries per ownership unit: 1 (LL128), a block (direct)
  std::uint32_t units = 0;             ///< ceil(E / unit_entries)
  std::uint32_t units_per_cta = 0;     ///< q = units / ctas
  std::uint32_t extra_units = 0;       ///< r = units % ctas: CTAs [0, r) own q + 1 units
  std::uint32_t o_row_words = 0;       ///< D*2/8 words per row
  std::uint32_t stats_dim = 0;         ///< S fp32 per row
  std::uint32_t max_stream_lines = 0;  ///< LL128: lines of the longest stream (CTA 0's)
  std::int64_t smem_bytes = 0;         ///< shared memory per CTA (0 without staging)
  int resident_needed = 0;             ///< ctas x local_grids
  int resident_capacity = 0;           ///< sm_count x ctas_per_sm
};

static_assert(std::is_trivially_copyable_v<FusedPlan>, "passed to the kernels by value");

/// Units owned by CTA `cta`: with q = units / C and r = units % C, CTAs [0, r) own q + 1 and the
/// others q, contiguous and in order (CTA 0 owns a largest range).
DCP_HOST_DEVICE constexpr Range cta_units(const FusedPlan& p, int cta) {
  const auto c = static_cast<std::uint32_t>(cta);
  Range r;
  r.first = p.units_per_cta * c + (c < p.extra_units ? c : p.extra_units);
  r.count = p.units_per_cta + (c < p.extra_units ? 1u : 0u);
  return r;
}

/// Entries owned by CTA `cta` (the entries of its units; the last unit may be short).
DCP_HOST_DEVICE constexpr Range cta_entries(const FusedPlan& p, int cta) {
  const Range u = cta_units(p, cta);
  const std::uint32_t first = u.first * p.unit_entries;
  std::uint32_t end = u.end() * p.unit_entries;
  if (end > p.entries) end = p.entries;
  return Range{first, end > first ? end - first : 0u};
}

/// Destination of send index k (0..cp-1) of `rank`: rank + 1 + k (mod cp); k = cp - 1 is itself.
DCP_HOST_DEVICE constexpr int send_peer(int rank, int k, int cp) {
  return (rank + 1 + k) % cp;
}
/// Source of receive index k of `rank`: rank - 1 - k (mod cp), so that
/// send_peer(recv_peer(r, k), k) == r.
DCP_HOST_DEVICE constexpr int recv_peer(int rank, int k, int cp) {
  return ((rank - 1 - k) % cp + cp) % cp;
}

// ---- LL128 streams ------------------------------------------------------------------------------

/// One (source -> destination, CTA) stream of the fused LL128 kernel.
struct StreamShape {
  std::uint32_t entries = 0;    ///< whole entries carried
  std::uint32_t o_words = 0;    ///< entries x D*2/8: the rows, first
  std::uint32_t lse_words = 0;  ///< ceil(entries x S x 4 / 8): the stats, packed, last
  std::uint32_t words = 0;      ///< o_words + lse_words
  std::uint32_t lines = 0;      ///< ceil(words / 15)
  std::uint32_t items = 0;      ///< ceil(lines / 4): warp accesses
};

/// The stream of `entries` whole entries (the same on the sending and the receiving side).
DCP_HOST_DEVICE constexpr StreamShape ll128_stream(std::uint32_t o_row_words,
                                                   std::uint32_t stats_dim, std::uint32_t entries) {
  StreamShape s;
  s.entries = entries;
  s.o_words = entries * o_row_words;
  s.lse_words = (entries * stats_dim + 1) / 2;  // two fp32 per 8-byte word
  s.words = s.o_words + s.lse_words;
  s.lines = (s.words + ll128::kPayloadWordsPerLine - 1) / ll128::kPayloadWordsPerLine;
  s.items = (s.lines + kLinesPerItem - 1) / kLinesPerItem;
  return s;
}
/// The stream of CTA `cta`'s entries.
DCP_HOST_DEVICE constexpr StreamShape ll128_stream(const FusedPlan& p, int cta) {
  return ll128_stream(p.o_row_words, p.stats_dim, cta_entries(p, cta).count);
}

/// Where stream word w lives, relative to the CTA's first entry: a row word (row, word) or a
/// stats word holding fp32 values 2v and 2v + 1 of the CTA's [n, S] stats (v = w - o_words;
/// value index i is entry i / S, element i % S; an index >= n x S is padding, sent as 0).
struct StreamWord {
  bool lse = false;
  std::uint32_t entry = 0;  ///< row words: the entry (relative to the CTA's first)
  std::uint32_t word = 0;   ///< row words: the word within the row; stats words: v
};
DCP_HOST_DEVICE constexpr StreamWord locate_stream_word(const StreamShape& s,
                                                        std::uint32_t o_row_words,
                                                        std::uint32_t w) {
  StreamWord out;
  if (w < s.o_words) {
    out.entry = w / o_row_words;
    out.word = w - out.entry * o_row_words;
  } else {
    out.lse = true;
    out.word = w - s.o_words;
  }
  return out;
}

/// One item of a CTA's LL128 work list.
struct Ll128Item {
  bool send = true;              ///< send (to send_peer(rank, k)) or receive (from recv_peer)
  int k = 0;                     ///< peer index
  std::uint32_t first_line = 0;  ///< stream lines [first_line, first_line + lines)
  std::uint32_t lines = 0;
};
/// Items of a CTA with stream `s`: 2 x cp x s.items.
DCP_HOST_DEVICE constexpr std::uint32_t ll128_items(const FusedPlan& p, const StreamShape& s) {
  return 2u * static_cast<std::uint32_t>(p.cp_size) * s.items;
}
/// Item `item` (< ll128_items) of a CTA with stream `s`. Warp w takes items w, w + W, ...
DCP_HOST_DEVICE constexpr Ll128Item ll128_item(const FusedPlan& p, const StreamShape& s,
                                               std::uint32_t item) {
  Ll128Item it;
  const std::uint32_t per_dir = static_cast<std::uint32_t>(p.cp_size) * s.items;
  it.send = item < per_dir;
  const std::uint32_t i = it.send ? item : item - per_dir;
  it.k = static_cast<int>(i / s.items);
  it.first_line = (i - static_cast<std::uint32_t>(it.k) * s.items) * kLinesPerItem;
  const std::uint32_t rest = s.lines - it.first_line;
  it.lines = rest < kLinesPerItem ? rest : kLinesPerItem;
  return it;
}

// ---- direct -------------------------------------------------------------------------------------

/// Flag blocks owned by CTA `cta` of a direct plan (a unit is a block).
DCP_HOST_DEVICE constexpr Range cta_blocks(const FusedPlan& p, int cta) {
  return cta_units(p, cta);
}

/// One row store of a direct block: row (entry, send_peer(rank, k)) of the input.
struct RowItem {
  int k = 0;
  std::uint32_t entry = 0;
};
/// Row store `item` (< cp x block.count) of the block with entries `block`: peer-major, so a
/// warp's consecutive items write consecutive rows of one destination's region.
DCP_HOST_DEVICE constexpr RowItem direct_row_item(const Range& block, std::uint32_t item) {
  RowItem r;
  r.k = static_cast<int>(item / block.count);
  r.entry = block.first + (item - static_cast<std::uint32_t>(r.k) * block.count);
  return r;
}

// ---- planning (host) ----------------------------------------------------------------------------

/// A plan, or why the case cannot run fused (one line naming the limit).
struct PlanOutcome {
  std::optional<FusedPlan> plan;
  std::string problem;  ///< empty when plan is set
};

/// Plans a case. LL128: C = ceil(E / n) CTAs where n is the most entries per CTA that keeps
/// 2 x cp x lines(n) <= target_lines_per_warp x W (at least 1), capped by E, max_channels and
/// the co-residency budget; refused when the resulting stream exceeds fifo_lines. Direct: one
/// CTA per block up to the co-residency budget, blocks split evenly. Both: refused when staged
/// rows exceed smem_limit_bytes or nothing fits co-resident.
PlanOutcome make_fused_plan(const PlanRequest& request);

/// Re-checks a plan against the capacity measured for its actual resources (occupancy at its
/// smem_bytes): a one-line message when ctas x local_grids CTAs cannot be resident at once.
std::optional<std::string> co_residency_problem(const FusedPlan& plan, int resident_capacity,
                                                int local_grids);

}  // namespace dcp::kernels::fused
