#pragma once
/// @file
/// The line format of the `ll128_order` probe, shared by its GPU kernels (ll128_probe.cu) and
/// the CPU tests: self-contained on purpose (it does not use kernels/ll128_layout.hpp, whose
/// wire format is the thing being validated and may change).
///
/// A line is 128 bytes = 16 words of 8 bytes = 8 lanes x 16 bytes; one warp store instruction
/// writes 4 lines (32 lanes x 16 B). The probe writes lines g = 0..N-1 into a ring of R lines:
/// line g goes to slot g % R in round g / R + 1. Every word of line g carries a value derived
/// from (epoch, round, slot, word), and the flag word carries (epoch, round). So a reader that
/// sees the flag of round r can tell, without knowing any timing, whether every other word of
/// the line is round r's: a *tear* is a line whose flag matches round r while some word still
/// holds another round's (or another run's) value. Two layouts: the flag in word 0 (the first 8
/// bytes, the old odd-line layout) or in word 15 (the last 8 bytes, the shipped layout: stores
/// may be split but arrive in ascending address order, dcp-a2a-spec.md §3.8).
///
/// No fmt, no CUDA headers: included by .cu files.

#include <cstdint>

#include "core/host_device.hpp"

namespace dcp::diag::ll128probe {

inline constexpr int kLineBytes = 128;
inline constexpr int kLineWords = 16;    ///< 8-byte words per line
inline constexpr int kLanesPerLine = 8;  ///< 16-byte lane chunks per line
inline constexpr int kWordsPerLane = 2;
inline constexpr int kLinesPerWarpStore = 4;  ///< 32 lanes x 16 B = 4 lines

/// Where the flag sits in every line.
enum class FlagLayout : int {
  kFlagFirst = 0,  ///< word 0 (lane 0's low 8 bytes)
  kFlagLast = 1,   ///< word 15 (lane 7's high 8 bytes): the shipped layout
};

DCP_HOST_DEVICE constexpr int flag_word(FlagLayout l) {
  return l == FlagLayout::kFlagFirst ? 0 : kLineWords - 1;
}

/// The payload word a deliberately torn line (self-test) gets from another round.
DCP_HOST_DEVICE constexpr int torn_word(FlagLayout l) {
  return l == FlagLayout::kFlagFirst ? 1 : 0;
}

DCP_HOST_DEVICE constexpr std::uint32_t slot_of(std::uint64_t g, std::uint32_t ring_lines) {
  return static_cast<std::uint32_t>(g % ring_lines);
}
DCP_HOST_DEVICE constexpr std::uint64_t round_of(std::uint64_t g, std::uint32_t ring_lines) {
  return g / ring_lines + 1;
}

/// The flag of `round` in run `epoch` (the low 24 bits of the epoch, rounds below 2^40; epochs
/// of different runs differ, so a flag left in the ring by another run never matches).
DCP_HOST_DEVICE constexpr std::uint64_t flag_value(std::uint32_t epoch, std::uint64_t round) {
  return (static_cast<std::uint64_t>(epoch & 0xFFFFFFu) << 40) | (round & ((1ULL << 40) - 1));
}

/// Payload word `word` of slot `slot` in `round` of run `epoch` (a splitmix64 finaliser over all
/// four: distinct rounds give distinct values with probability 1 - 2^-64).
DCP_HOST_DEVICE inline std::uint64_t payload_word(std::uint32_t epoch, std::uint64_t round,
                                                  std::uint32_t slot, int word) {
  std::uint64_t z = (static_cast<std::uint64_t>(epoch) << 32) ^ (round * 0x9E3779B97F4A7C15ULL) ^
                    (static_cast<std::uint64_t>(slot) << 8) ^ static_cast<std::uint64_t>(word);
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/// Word `word` of the line a correct writer stores for round `round`, slot `slot`.
DCP_HOST_DEVICE inline std::uint64_t line_word(FlagLayout l, std::uint32_t epoch,
                                               std::uint64_t round, std::uint32_t slot, int word) {
  return word == flag_word(l) ? flag_value(epoch, round) : payload_word(epoch, round, slot, word);
}

/// The self-test writer tears line g deliberately when `inject_every` > 0 and g % inject_every
/// == inject_every - 1: its torn_word then carries round + 1's value (data that is not the
/// flag's round), published with the right flag.
DCP_HOST_DEVICE constexpr bool injected(std::uint64_t g, std::uint64_t inject_every) {
  return inject_every != 0 && g % inject_every == inject_every - 1;
}

/// Word `word` of line g as the probe's writer stores it (with the optional injection).
DCP_HOST_DEVICE inline std::uint64_t writer_word(FlagLayout l, std::uint32_t epoch,
                                                 std::uint32_t ring_lines, std::uint64_t g,
                                                 int word, std::uint64_t inject_every) {
  const std::uint32_t slot = slot_of(g, ring_lines);
  const std::uint64_t round = round_of(g, ring_lines);
  if (word == torn_word(l) && injected(g, inject_every)) {
    return payload_word(epoch, round + 1, slot, word);
  }
  return line_word(l, epoch, round, slot, word);
}

/// Lines the self-test writer tears among lines 0..lines-1.
DCP_HOST_DEVICE constexpr std::uint64_t injected_lines(std::uint64_t lines,
                                                       std::uint64_t inject_every) {
  return inject_every == 0 ? 0 : lines / inject_every;
}

/// Reader, per lane: do the two words of lane chunk `chunk` (words 2*chunk and 2*chunk+1) hold
/// round `round`'s payload? The flag word is skipped (it is checked separately).
DCP_HOST_DEVICE inline bool chunk_payload_ok(std::uint64_t w0, std::uint64_t w1, int chunk,
                                             FlagLayout l, std::uint32_t epoch, std::uint64_t round,
                                             std::uint32_t slot) {
  const int a = kWordsPerLane * chunk;
  const int b = a + 1;
  const bool ok0 = a == flag_word(l) || w0 == payload_word(epoch, round, slot, a);
  const bool ok1 = b == flag_word(l) || w1 == payload_word(epoch, round, slot, b);
  return ok0 && ok1;
}

/// What one observation of a line shows.
enum class LineState : int {
  kNotArrived = 0,  ///< the flag is not round `round`'s: keep polling
  kWhole = 1,       ///< flag and every payload word are round `round`'s
  kTorn = 2,        ///< the flag is round `round`'s but some payload word is not
};

/// Classifies an observed line (16 words) against round `round` of slot `slot` (pure; the
/// kernel applies the same two tests lane by lane).
DCP_HOST_DEVICE inline LineState classify_line(const std::uint64_t* words, FlagLayout l,
                                               std::uint32_t epoch, std::uint64_t round,
                                               std::uint32_t slot) {
  if (words[flag_word(l)] != flag_value(epoch, round)) return LineState::kNotArrived;
  for (int c = 0; c < kLanesPerLine; ++c) {
    if (!chunk_payload_ok(words[kWordsPerLane * c], words[kWordsPerLane * c + 1], c, l, epoch,
                          round, slot)) {
      return LineState::kTorn;
    }
  }
  return LineState::kWhole;
}

}  // namespace dcp::diag::ll128probe
