#pragma once
/// @file
/// The LL128 line: 128 bytes = 16 words, its wire formats (LineLayout), and which lane of a warp
/// moves which words. Shared by the GPU kernel, the host reference packer, the CPU emulation, the
/// ordering model and probes (pass the layout to reach a non-shipped one). Included by
/// ll128_layout.hpp; C++20, host-compilable, no CUDA headers.
///
/// Wire format (LineLayout::kFlagLast, the only format the kernel uses). A line is 128 bytes = 16
/// little-endian u64 words: 15 payload words and one flag word, and the flag is ALWAYS word 15,
/// the line's highest-addressed 8 bytes. Why the last word: a 128-byte store may be split on its
/// way to another GPU, but its pieces arrive in ascending address order (dcp-a2a-spec.md §3.8),
/// so only a flag in the last 8 bytes proves that the rest of the line has arrived. On the GPU a
/// line is written by one warp store instruction, 8 lanes x 16 bytes: lane j of an 8-lane group
/// holds line words 2j and 2j+1, so the flag is the upper half of lane 7 on every line.
///
/// Which stream word goes where (payload_slot(), lane_first_word()). Stream line L carries
/// stream words [15L, 15L + 15); 15L has the parity of L.
///   even L: line word i = stream word 15L + i (i = 0..14): lanes 0-6 hold the pairs
///           (15L + 2j, 15L + 2j + 1), lane 7 holds 15L + 14 and the flag;
///   odd L:  lanes 0-6 hold the pairs (15L + 1 + 2j, 15L + 2 + 2j) in line words 2j, 2j + 1, and
///           lane 7 holds the odd first word 15L in line word 14, next to the flag.
/// So every pair a lane 0-6 moves starts at an EVEN stream word, hence (rows having an even
/// number of words) at a 16-byte aligned word of one partial_o row: one 16-byte load or store per
/// lane, and lane 7 moves one 8-byte word. The older format (flag in word 0 of odd lines,
/// LineLayout::kFlagFirstOnOdd) had the same alignment but let a reader accept an odd line whose
/// flag had arrived before its data; it stays reachable for the ordering emulation
/// (ll128_ordering.hpp) and probes only. kFlagLastUnaligned (payload word i in line word i on
/// every line: odd lines' pairs start at odd words, two 8-byte accesses) is a build option of the
/// kernel for measurements (DCP_NATIVE_LAYOUT=1, fused_alltoall.hpp).
///
/// What the format does NOT make safe on its own: a reader whose single load samples a line's
/// data sectors before its flag sector. The receiver therefore takes the payload from a load
/// issued after every flag of its burst matched (fused_alltoall.cuh, DCP_NATIVE_RELOAD).

#include <cstdint>

#include "core/host_device.hpp"

namespace dcp::kernels::ll128 {

// ---- line geometry ------------------------------------------------------------------------------

inline constexpr int kLineBytes = 128;           ///< bytes per LL128 line
inline constexpr int kWordBytes = 8;             ///< bytes per word (payload and flag)
inline constexpr int kWordsPerLine = 16;         ///< words per line
inline constexpr int kPayloadWordsPerLine = 15;  ///< payload words per line
inline constexpr int kLanesPerLine = 8;          ///< lanes writing/reading one line
inline constexpr int kWarpLanes = 32;            ///< lanes per warp
inline constexpr int kWordsPerLane = kWordsPerLine / kLanesPerLine;     ///< 2 (16 bytes)
inline constexpr int kLinesPerWarpAccess = kWarpLanes / kLanesPerLine;  ///< 4

static_assert(kWordsPerLine * kWordBytes == kLineBytes);
static_assert(kPayloadWordsPerLine == kWordsPerLine - 1);
static_assert(kLanesPerLine * kWordsPerLane * kWordBytes == kLineBytes);

/// Where a line's flag and its 15 payload words sit (see the file comment).
enum class LineLayout : std::uint8_t {
  /// Shipped: flag in word 15 of every line; odd lines move their first stream word into line
  /// word 14 so that lanes 0-6 move 16-byte aligned pairs.
  kFlagLast = 0,
  /// Flag in word 15 of every line; payload word i in line word i on every line (odd lines'
  /// pairs start at odd stream words). Kernel build option DCP_NATIVE_LAYOUT=1 (measurements).
  kFlagLastUnaligned = 1,
  /// The OLD format: flag in word 15 of even and word 0 of odd lines. UNSAFE over fabrics that
  /// split a line (spec §3.8): an odd line's flag arrives first. Emulation and probes only.
  kFlagFirstOnOdd = 2,
};

/// Whether `layout` puts the flag in the highest-addressed word of every line.
DCP_HOST_DEVICE constexpr bool flag_is_last(LineLayout layout) {
  return layout != LineLayout::kFlagFirstOnOdd;
}

/// Word of stream line `line` that holds its flag: 15 (flag-last layouts); 0 on odd lines of the
/// old kFlagFirstOnOdd layout.
DCP_HOST_DEVICE constexpr int flag_word(std::uint32_t line,
                                        LineLayout layout = LineLayout::kFlagLast) {
  return !flag_is_last(layout) && (line & 1u) != 0 ? 0 : kWordsPerLine - 1;
}

/// Line word of payload word i (0..14) of stream line `line`, i.e. of stream word 15*line + i.
DCP_HOST_DEVICE constexpr int payload_slot(std::uint32_t line, int i,
                                           LineLayout layout = LineLayout::kFlagLast) {
  const bool odd = (line & 1u) != 0;
  switch (layout) {
    case LineLayout::kFlagLast:
      return !odd ? i : (i == 0 ? kPayloadWordsPerLine - 1 : i - 1);
    case LineLayout::kFlagLastUnaligned:
      return i;
    case LineLayout::kFlagFirstOnOdd:
      return i + (odd ? 1 : 0);
  }
  return i;
}

/// Inverse of payload_slot(): the payload index (0..14) that line word `word` (0..15) of stream
/// line `line` carries, or -1 for the flag word.
DCP_HOST_DEVICE constexpr int payload_index(std::uint32_t line, int word,
                                            LineLayout layout = LineLayout::kFlagLast) {
  if (word == flag_word(line, layout)) return -1;
  const bool odd = (line & 1u) != 0;
  switch (layout) {
    case LineLayout::kFlagLast:
      return !odd ? word : (word == kPayloadWordsPerLine - 1 ? 0 : word + 1);
    case LineLayout::kFlagLastUnaligned:
      return word;
    case LineLayout::kFlagFirstOnOdd:
      return word - (odd ? 1 : 0);
  }
  return word;
}

/// The lane (0..7 of a line's 8 lanes) whose 16 bytes hold the flag: 7 (flag-last layouts); 0 on
/// odd lines of the old layout.
DCP_HOST_DEVICE constexpr int flag_lane(std::uint32_t line,
                                        LineLayout layout = LineLayout::kFlagLast) {
  return flag_word(line, layout) / kWordsPerLane;
}

/// Stream word held in the LOWER half of lane `part` (0..7) of stream line `line`. Outside the
/// flag lane the upper half holds the next stream word. In the flag lane of flag-last layouts the
/// lower half holds this single payload word and the upper half the flag; in the flag lane of an
/// odd line of the old layout the lower half is the flag and the value is one less than the upper
/// half's stream word. kFlagLast: always even outside lane 7, so a lane's pair of words is
/// 16-byte aligned within an even-length partial_o row.
DCP_HOST_DEVICE constexpr std::uint32_t lane_first_word(std::uint32_t line, int part,
                                                        LineLayout layout = LineLayout::kFlagLast) {
  const std::uint32_t base = line * kPayloadWordsPerLine;
  const std::uint32_t odd = line & 1u;
  const auto pair = static_cast<std::uint32_t>(part * kWordsPerLane);
  switch (layout) {
    case LineLayout::kFlagLast:
      if (odd == 0) return base + pair;
      return part < kLanesPerLine - 1 ? base + 1 + pair : base;
    case LineLayout::kFlagLastUnaligned:
      return base + pair;
    case LineLayout::kFlagFirstOnOdd:
      return base + pair - odd;
  }
  return base + pair;
}

/// Compile-time check of one layout over both line parities (the formulas depend only on the
/// parity): the flag sits where flag_word() says (word 15 for flag-last layouts), payload_slot()
/// is a bijection of the 15 payload indices onto the 15 other words and payload_index() its
/// inverse, and lane_first_word() names the stream word of each lane's lower half (and, outside
/// the flag lane, the upper half's word + 1).
constexpr bool layout_is_consistent(LineLayout layout) {
  for (std::uint32_t line = 4; line < 6; ++line) {
    const int fw = flag_word(line, layout);
    if (flag_is_last(layout) && fw != kWordsPerLine - 1) return false;
    bool used[kWordsPerLine] = {};
    used[fw] = true;
    for (int i = 0; i < kPayloadWordsPerLine; ++i) {
      const int w = payload_slot(line, i, layout);
      if (w < 0 || w >= kWordsPerLine || used[w]) return false;
      used[w] = true;
      if (payload_index(line, w, layout) != i) return false;
    }
    if (payload_index(line, fw, layout) != -1) return false;
    for (int part = 0; part < kLanesPerLine; ++part) {
      const std::uint32_t w0 = lane_first_word(line, part, layout);
      for (int half = 0; half < kWordsPerLane; ++half) {
        const int word = part * kWordsPerLane + half;
        if (word == fw) continue;
        const int i = payload_index(line, word, layout);
        const std::uint32_t expect = w0 + static_cast<std::uint32_t>(half);
        if (line * kPayloadWordsPerLine + static_cast<std::uint32_t>(i) != expect) return false;
      }
    }
  }
  return true;
}

static_assert(layout_is_consistent(LineLayout::kFlagLast));
static_assert(layout_is_consistent(LineLayout::kFlagLastUnaligned));
static_assert(layout_is_consistent(LineLayout::kFlagFirstOnOdd));
// The shipped format: flag in the last word of every line, aligned pairs outside lane 7.
static_assert(flag_word(0) == 15 && flag_word(1) == 15 && flag_lane(0) == 7 && flag_lane(1) == 7);
static_assert(lane_first_word(0, 0) == 0 && lane_first_word(0, 7) == 14);
static_assert(lane_first_word(1, 0) == 16 && lane_first_word(1, 6) == 28 &&
              lane_first_word(1, 7) == 15);
static_assert(payload_slot(1, 0) == 14 && payload_slot(1, 1) == 0 && payload_slot(1, 14) == 13);
// The old format, kept for the ordering emulation: flag in word 0 of odd lines.
static_assert(flag_word(1, LineLayout::kFlagFirstOnOdd) == 0 &&
              lane_first_word(1, 0, LineLayout::kFlagFirstOnOdd) == 14 &&
              lane_first_word(1, 1, LineLayout::kFlagFirstOnOdd) == 16);

// ---- lane moves ---------------------------------------------------------------------------------

/// What one lane moves of one line of a flag-last layout (the kernel's load_lane() and
/// store_lane() follow it; ll128_layout_test checks it against the reference packer).
struct LaneMove {
  std::uint32_t lower = 0;  ///< stream word in the lane's lower half (lane_first_word())
  bool upper = false;       ///< the upper half carries stream word lower + 1 (false: the flag)
  /// Both halves are partial_o words of one row at an even word: ONE aligned 16-byte access.
  /// (Rows and the partial_o part have an even number of words, so an even pair start inside
  /// partial_o never straddles a row; the row index and the word offset are even, so the
  /// address is 16-byte aligned.)
  bool o_pair = false;
};

/// The move of lane `part` (0..7) of stream line `line`; `o_words` = the partial_o words of the
/// pair stream. Flag-last layouts only (the lane holding the flag has it in its upper half).
DCP_HOST_DEVICE DCP_FORCEINLINE LaneMove lane_move(std::uint32_t o_words, std::uint32_t line,
                                                   int part,
                                                   LineLayout layout = LineLayout::kFlagLast) {
  LaneMove m;
  m.lower = lane_first_word(line, part, layout);
  m.upper = part != kLanesPerLine - 1;
  // kFlagLast: outside lane 7 the start is always even (no test needed).
  const bool even = layout == LineLayout::kFlagLast || (m.lower & 1u) == 0;
  m.o_pair = m.upper && even && m.lower < o_words;
  return m;
}

}  // namespace dcp::kernels::ll128
