#pragma once
/// @file
/// Hang forensics of the native exchange (issue 17.3), host side and CPU-testable: which words to
/// read from device memory after a device-side timeout, and how they decode into a HangReport
/// (core/hang_report.hpp). native_alltoall.cpp does the copies; this file does the rest.
///
/// For each rank r this process runs, it reads:
///   - r's segment from 0 to fifos_offset(): the error record and every counter record
///     (head, tail, credit of each (peer, channel));
///   - the flag word of line 0 of every physical slot of every FIFO in r's segment (what has
///     arrived from each peer);
///   - for every peer p, the credit word of record (r, channel) in p's segment: how far r's
///     receiver has consumed p's stream (the receiver publishes it there, not locally).

#include <cstdint>
#include <span>
#include <vector>

#include "core/hang_report.hpp"
#include "kernels/ll128_layout.hpp"

namespace dcp::kernels::ll128 {

/// The raw words of one rank, as copied from device memory.
struct RankWords {
  int rank = 0;
  /// Words [0, fifos_offset() / 8) of the rank's segment: error record, header, counters.
  std::vector<std::uint64_t> header;
  /// The flag word of line 0 of every physical slot, in FIFO order: index
  /// ((sender * max_channels) + channel) * depth + slot (slot_flag_index()).
  std::vector<std::uint64_t> slot_flags;
  /// Credit word of record (rank, channel) in peer p's segment at p * max_channels + channel;
  /// empty when the peers' segments could not be read.
  std::vector<std::uint64_t> peer_credit;
};

/// Byte offset (in a segment) of the first slot flag and the stride between two slots: the slot
/// flags of all FIFOs are one strided run (slots of consecutive FIFOs are adjacent).
inline constexpr std::int64_t slot_flags_offset(const Geometry& g, LineLayout layout) {
  return g.fifos_offset() + std::int64_t{flag_word(0, layout)} * kWordBytes;
}
/// Number of slot flags per segment (cp * max_channels * depth).
inline constexpr std::int64_t slot_flag_count(const Geometry& g) {
  return std::int64_t{g.cp_size} * g.max_channels * g.depth;
}
/// Index into RankWords::slot_flags of slot `slot` of the FIFO from `sender` on `channel`.
inline constexpr std::int64_t slot_flag_index(const Geometry& g, int sender, int channel,
                                              int slot) {
  return (std::int64_t{sender} * g.max_channels + channel) * g.depth + slot;
}
/// Byte offset in peer p's segment of the credit word for (rank, channel 0); channels follow at
/// kCounterRecordBytes.
inline constexpr std::int64_t peer_credit_offset(const Geometry& g, int rank) {
  return g.counter_offset(rank, 0) + std::int64_t{kCreditWord} * kWordBytes;
}

/// Decodes the words of the ranks this process runs into a HangReport: every (rank, peer,
/// channel) that is not idle, in order, plus the decoded error records (root causes first;
/// `timeout_s` for their text). Throws dcp::Error when a vector has the wrong size.
HangReport decode_hang(const Geometry& g, std::span<const RankWords> ranks, double timeout_s);

}  // namespace dcp::kernels::ll128
