#pragma once
/// @file
/// Hang forensics of the direct protocol, host side and CPU-testable: after a device-side timeout
/// the implementation copies each local rank's header words and its flag area, and this file
/// turns them into a HangReport (core/hang_report.hpp): the decoded error records (root causes
/// first) and, per (rank, source) whose flags of the awaited call are not all there, one line
/// saying how many blocks arrived and which one is missing first. The report's FIFO channels stay
/// empty (the direct protocol has no FIFOs); the lines go to HangReport::errors after the records.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/hang_report.hpp"
#include "kernels/direct_layout.hpp"

namespace dcp::kernels::direct {

/// The raw words of one rank's segment.
struct RankFlagWords {
  int rank = 0;
  std::vector<std::uint64_t> header;  ///< words [0, kHeaderBytes / 8)
  std::vector<std::uint64_t> flags;   ///< the flag area: 2 x max_blocks x cp words (Geometry)
};

/// Which flags a call awaits: per block (fused) or one per pair in slot kPairFlagBlock (staged).
enum class FlagUse : std::uint8_t { kPerBlock = 0, kPerPair = 1 };

/// The call a rank was in: the epoch of its error record when it has one, else the epoch its
/// epoch word names (fused: the next call's; staged: the call begun, word - 1).
std::uint64_t awaited_epoch(const RankFlagWords& w, FlagUse use);

/// Decodes the words of the ranks this process runs (see the file comment). Throws dcp::Error
/// when a vector has the wrong size. `timeout_s` for the error records' text.
HangReport decode_direct_hang(const Geometry& g, const Layout& layout, FlagUse use,
                              std::span<const RankFlagWords> ranks, double timeout_s);

}  // namespace dcp::kernels::direct
