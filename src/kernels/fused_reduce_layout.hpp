#pragma once
/// @file
/// Index math of the fused LL128 exchange+merge kernel (native-fused, fused_reduce.cuh), shared
/// with its CPU model (fused_reduce_model.hpp) so that CI checks every index without a GPU.
/// Host-compilable (DCP_HOST_DEVICE), no CUDA headers.
///
/// Per CTA c of a rank (ownership: fused_plan.hpp): the entries [first, first + n) =
/// cta_entries(plan, c). The stream of (source s -> destination d, CTA c) is ll128_stream(plan,
/// c): stream word w < o_words is word (w mod R) of s's partial_o row (first + w / R, d), R =
/// D*2/8; stats word v = w - o_words holds the LSEs of entries 2v (lower 4 bytes) and 2v + 1
/// (upper; 0 when 2v + 1 = n) of s's lse [E, cp] column d. It travels through FIFO c of the pair
/// (s -> d) of the LL128 workspace (ll128_layout.hpp), one item of 4 lines per warp access; its
/// line L sits in stream slot L / slot_lines (sequence number base + that) at line L mod
/// slot_lines (slot_lines is a multiple of 4, so an item never straddles two slots).
///
/// The receiving CTA stages what it receives in shared memory, by SOURCE RANK (the merge's fixed
/// order): rows [cp][n][D] (u16), then the LSEs [cp][n] (fp32, 16-byte aligned), then the merge's
/// scales [n][cp] (fp32) and live masks [n] (u64, 8-byte aligned). After a CTA barrier it merges
/// entry i of its range from the staged rows with merge::merge_weights (sequential, exactly the
/// CPU reference's operations) and merge::merge_lanes<8>.

#include <cstdint>

#include "core/host_device.hpp"
#include "kernels/fused_plan.hpp"
#include "kernels/ll128_layout.hpp"
#include "merge/merge_routine.hpp"

namespace dcp::kernels::fused {

/// Elements one merge thread produces (one 16-byte load per live source, one 16-byte store).
inline constexpr int kMergeVector = 8;

/// Byte offsets of the staging areas of a CTA owning `n` entries (see the file comment).
struct StageLayout {
  std::uint32_t rows = 0;   ///< [cp][n][D] u16, at 0
  std::uint32_t lse = 0;    ///< [cp][n] fp32
  std::uint32_t scale = 0;  ///< [n][cp] fp32
  std::uint32_t live = 0;   ///< [n] u64
  std::uint32_t bytes = 0;  ///< total
};

DCP_HOST_DEVICE constexpr std::uint32_t align_to(std::uint32_t v, std::uint32_t a) {
  return (v + a - 1) / a * a;
}

/// The staging layout for `n` entries of `cp` sources with D = 4 x o_row_words elements.
DCP_HOST_DEVICE constexpr StageLayout stage_layout(int cp, std::uint32_t n,
                                                   std::uint32_t o_row_words) {
  const auto c = static_cast<std::uint32_t>(cp);
  StageLayout s;
  s.rows = 0;
  s.lse = align_to(c * n * o_row_words * 8u, 16);
  s.scale = align_to(s.lse + c * n * 4u, 16);
  s.live = align_to(s.scale + n * c * 4u, 16);
  s.bytes = align_to(s.live + n * 8u, 16);
  return s;
}

/// Index (in u64 words) of stream word w (< o_words) in the sender's partial_o [E, cp, D] for
/// destination `dst`: row (first + w / R, dst), word w mod R. `row` = w / R precomputed.
DCP_HOST_DEVICE constexpr std::uint32_t send_o_index(std::uint32_t first, std::uint32_t row,
                                                     std::uint32_t word, int cp, int dst,
                                                     std::uint32_t o_row_words) {
  return ((first + row) * static_cast<std::uint32_t>(cp) + static_cast<std::uint32_t>(dst)) *
             o_row_words +
         word;
}

/// fp32 index in the sender's lse [E, cp] of LSE value i (entry first + i) for `dst`.
DCP_HOST_DEVICE constexpr std::uint32_t send_lse_index(std::uint32_t first, std::uint32_t i, int cp,
                                                       int dst) {
  return (first + i) * static_cast<std::uint32_t>(cp) + static_cast<std::uint32_t>(dst);
}

/// Index (in u64 words) of stream word w (< o_words) in the staged rows for source `src`.
DCP_HOST_DEVICE constexpr std::uint32_t stage_o_index(std::uint32_t n, std::uint32_t row,
                                                      std::uint32_t word, int src,
                                                      std::uint32_t o_row_words) {
  return (static_cast<std::uint32_t>(src) * n + row) * o_row_words + word;
}

/// fp32 index in the staged LSEs of value i (entry first + i) from source `src`.
DCP_HOST_DEVICE constexpr std::uint32_t stage_lse_index(std::uint32_t n, std::uint32_t i, int src) {
  return static_cast<std::uint32_t>(src) * n + i;
}

/// Byte offset, in the receiver's segment, of line `line` of the stream of (sender -> this
/// rank, CTA c) whose first slot has sequence number `base`.
DCP_HOST_DEVICE constexpr std::int64_t stream_line_offset(const ll128::Geometry& g, int sender,
                                                          int cta, std::uint64_t base,
                                                          std::uint32_t line) {
  const auto slot_lines = static_cast<std::uint32_t>(g.slot_lines);
  const std::uint32_t slot = line / slot_lines;
  return g.line_offset(sender, cta, base + slot, static_cast<int>(line - slot * slot_lines));
}

/// Sequence numbers one call consumes per (pair, CTA) for a stream of `lines` lines.
DCP_HOST_DEVICE constexpr std::uint32_t stream_slots(std::uint32_t lines, int slot_lines) {
  return (lines + static_cast<std::uint32_t>(slot_lines) - 1) /
         static_cast<std::uint32_t>(slot_lines);
}

/// What a CTA's stream is, with the constants its index math needs (per CTA, per call).
struct StreamCtx {
  StreamShape st;                 ///< ll128_stream(plan, cta)
  std::uint32_t first = 0;        ///< first entry of the CTA
  std::uint32_t o_row_words = 0;  ///< R = D*2/8
  ll128::FastDivU32 o_div;        ///< division by R
  int cp = 1;
};

/// The sender's side of one lane move `m` (ll128::lane_move with st.o_words) of a stream to
/// `dst`: calls load_pair(u64 index) -> {lo, hi} for an aligned partial_o pair, else
/// load_o(u64 index) for a partial_o word and load_lse(fp32 index) for an LSE value; words past
/// the stream are 0. Writes the lane's lower and upper words (upper 0 in the flag lane).
template <class LoadPair, class LoadO, class LoadLse>
DCP_HOST_DEVICE DCP_FORCEINLINE void gather_lane(const StreamCtx& x, int dst,
                                                 const ll128::LaneMove& m, LoadPair&& load_pair,
                                                 LoadO&& load_o, LoadLse&& load_lse,
                                                 std::uint64_t& lo, std::uint64_t& hi) {
  auto word = [&](std::uint32_t w) -> std::uint64_t {
    if (w < x.st.o_words) {
      const std::uint32_t row = x.o_div.div(w);
      return load_o(send_o_index(x.first, row, w - row * x.o_row_words, x.cp, dst, x.o_row_words));
    }
    if (w >= x.st.words) return 0;
    const std::uint32_t i = 2 * (w - x.st.o_words);
    const std::uint64_t a = load_lse(send_lse_index(x.first, i, x.cp, dst));
    const std::uint64_t b = i + 1 < x.st.entries
                                ? std::uint64_t{load_lse(send_lse_index(x.first, i + 1, x.cp, dst))}
                                : 0u;
    return a | b << 32;
  };
  if (m.o_pair) {
    const std::uint32_t row = x.o_div.div(m.lower);
    load_pair(send_o_index(x.first, row, m.lower - row * x.o_row_words, x.cp, dst, x.o_row_words),
              lo, hi);
    return;
  }
  lo = word(m.lower);
  hi = m.upper ? word(m.lower + 1) : 0;
}

/// The receiver's side of one lane move `m` of the stream from `src`: calls store_pair(u64
/// index, lo, hi) for an aligned partial_o pair, else store_o(u64 index, v) and store_lse(fp32
/// index, u32) into the staging areas; nothing past the stream (the padding half of the last
/// LSE word included).
template <class StorePair, class StoreO, class StoreLse>
DCP_HOST_DEVICE DCP_FORCEINLINE void stage_lane(const StreamCtx& x, int src,
                                                const ll128::LaneMove& m, std::uint64_t lo,
                                                std::uint64_t hi, StorePair&& store_pair,
                                                StoreO&& store_o, StoreLse&& store_lse) {
  const std::uint32_t n = x.st.entries;
  auto word = [&](std::uint32_t w, std::uint64_t v) {
    if (w < x.st.o_words) {
      const std::uint32_t row = x.o_div.div(w);
      store_o(stage_o_index(n, row, w - row * x.o_row_words, src, x.o_row_words), v);
      return;
    }
    if (w >= x.st.words) return;
    const std::uint32_t i = 2 * (w - x.st.o_words);
    store_lse(stage_lse_index(n, i, src), static_cast<std::uint32_t>(v));
    if (i + 1 < n) store_lse(stage_lse_index(n, i + 1, src), static_cast<std::uint32_t>(v >> 32));
  };
  if (m.o_pair) {
    const std::uint32_t row = x.o_div.div(m.lower);
    store_pair(stage_o_index(n, row, m.lower - row * x.o_row_words, src, x.o_row_words), lo, hi);
    return;
  }
  word(m.lower, lo);
  if (m.upper) word(m.lower + 1, hi);
}

/// Element index (u16) of element k of staged row (source src, entry i) with D elements.
DCP_HOST_DEVICE constexpr std::uint32_t stage_element(std::uint32_t n, std::uint32_t i, int src,
                                                      std::uint32_t d, std::uint32_t k) {
  return (static_cast<std::uint32_t>(src) * n + i) * d + k;
}

/// Merge step 1 of staged entry i: the routine's weights over the staged LSEs (source s's at
/// lse[s * n + i]), in source order, written to scale[i * cp ..] and live[i]; returns lse_out.
DCP_HOST_DEVICE inline float staged_weights(const float* lse, std::uint32_t n, int cp,
                                            merge::LseBase base, std::uint32_t i, float* scale,
                                            std::uint64_t* live) {
  const merge::MergeWeights w =
      merge::merge_weights(lse + i, n, cp, base, scale + std::size_t{i} * std::size_t(cp));
  live[i] = w.live;
  return w.lse_out;
}

/// Merge step 2: elements [8 chunk, 8 chunk + 8) of staged entry i; `load16(element index,
/// u16 bits[8])` reads 8 staged elements (called for live sources only, in source order).
template <class Load16>
DCP_HOST_DEVICE DCP_FORCEINLINE void staged_chunk(const float* scale, const std::uint64_t* live,
                                                  std::uint32_t n, int cp, std::uint32_t d,
                                                  bool fp16, std::uint32_t i, std::uint32_t chunk,
                                                  Load16&& load16, std::uint16_t* out) {
  merge::merge_lanes<kMergeVector>(
      scale + std::size_t{i} * std::size_t(cp), live[i], fp16,
      [&](int s, std::uint16_t* bits) {
        load16(stage_element(n, i, s, d, chunk * kMergeVector), bits);
      },
      out);
}

}  // namespace dcp::kernels::fused
