#pragma once
/// @file
/// HangReport: what an exchange's FIFOs looked like after a device-side timeout, as a plain
/// record (the native exchange fills it from device memory; report/ may print it into a case's
/// error record) and its compact text form. CUDA-free.
///
/// All counters are "next sequence number" values of one (rank, peer, channel): a sequence
/// number is one FIFO slot of the pair's lifetime, and both sides advance by the same number of
/// slots per call, so on a quiet channel every value below is the same number.

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace dcp {

/// One (rank, peer, channel) as found in device memory.
struct HangChannel {
  int rank = 0;     ///< whose segment (and whose sender / receiver) this describes
  int peer = 0;     ///< the other side
  int channel = 0;  ///< FIFO channel
  /// Sender side (rank -> peer): `head` = the first sequence number of rank's current (or next)
  /// call, written when a call's send finished; `credit` = sequence numbers of rank's stream the
  /// peer's receiver has consumed (written by the peer).
  std::uint64_t head = 0;
  std::uint64_t credit = 0;
  /// Receiver side (peer -> rank): `tail` = the first sequence number of rank's current (or next)
  /// call, written when a call's receive finished; `consumed` = sequence numbers rank's receiver
  /// has consumed (the credit it publishes into the peer's segment), i.e. the sequence number it
  /// awaits next; `arrived` = 1 + the highest sequence number whose first line is in rank's FIFO
  /// from the peer (0: nothing ever arrived).
  std::uint64_t tail = 0;
  std::uint64_t consumed = 0;
  std::uint64_t arrived = 0;
  bool consumed_known = true;  ///< false when the peer's segment could not be read

  /// Nothing in flight: every slot sent was consumed, and everything that arrived was consumed
  /// (without `consumed`: nothing arrived since the receiver's last finished call).
  [[nodiscard]] bool idle() const {
    if (head != credit) return false;
    return consumed_known ? tail == consumed && arrived == consumed : arrived == tail;
  }
  /// The same counters as `o`, other than rank, peer and channel.
  [[nodiscard]] bool same_state(const HangChannel& o) const {
    return head == o.head && credit == o.credit && tail == o.tail && consumed == o.consumed &&
           arrived == o.arrived && consumed_known == o.consumed_known;
  }

  friend bool operator==(const HangChannel&, const HangChannel&) = default;
};

/// The state of every FIFO of the ranks this process runs, after a timeout.
struct HangReport {
  std::vector<std::string> errors;    ///< one line per rank's device error record (root first)
  std::vector<HangChannel> channels;  ///< the channels that are NOT idle, by rank, peer, channel
  int ranks = 0;                      ///< ranks dumped (those this process runs)
  int peers = 0;                      ///< cp
  int channels_per_pair = 0;          ///< FIFOs per (rank, peer)
  std::size_t idle_channels = 0;      ///< channels left out because they were idle

  friend bool operator==(const HangReport&, const HangReport&) = default;
};

/// The compact text form: a summary line, then per (rank, peer) with a non-idle channel one line
/// with the state of its first non-idle channel and how many others share it, then (up to
/// `max_rows` in all) the channels whose state differs from their group's first.
std::string to_text(const HangReport& report, std::size_t max_rows = 24);

/// A device-side timeout of an exchange, with the FIFO state read after it (e.what() holds the
/// root error line and the text form of the report).
class HangError : public TimeoutError {
 public:
  HangError(const std::string& what, HangReport report)
      : TimeoutError(what), report_(std::move(report)) {}
  [[nodiscard]] const HangReport& report() const { return report_; }

 private:
  HangReport report_;
};

}  // namespace dcp
