#pragma once
/// @file
/// Host reference of the LL128 stream format, and a CPU-thread emulation of the whole FIFO
/// protocol built on the same index code as the kernel (ll128_layout.hpp).
///
/// The reference packer defines the exact bytes a sender puts on the wire; the GPU test compares
/// the kernel's FIFO contents with it. The emulation runs real exchanges (fresh inputs per call,
/// poisoned outputs, core/verify.hpp as the oracle) with ranks as std::threads and workspace
/// segments as arrays of std::atomic<u64>, so that sequencing, flow control, slot reuse across
/// calls, empty channels, timeouts and fault injection are all exercised without a GPU.
///
/// What the emulation can prove: the index math (stream <-> rows, channel split, slot/line
/// offsets, counters) moves every word to the right place; both sides consume the same sequence
/// numbers per call, so counters stay in step over any number of calls and no flag value is
/// reused; flow control never lets a sender overwrite an unread slot; the bounded waits fire and
/// name the right peer; and, with Delivery::kAscendingWords (the default), that the wire format
/// and the reader survive a writer whose line arrives word by word in ascending address order
/// while the reader samples its words in any order (spec §3.8's contract, C++ memory model).
/// What it cannot prove: anything about the GPU memory system itself (whether NVLink keeps the
/// ascending order, what one warp-wide load samples). Delivery::kWholeLine publishes a line
/// atomically in effect (payload, then the flag with release; reader: flag with acquire, then
/// payload), so a torn line cannot happen in it. The deterministic ordering model that shows the
/// old layout tearing is ll128_ordering.hpp.

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/fault.hpp"
#include "core/shape.hpp"
#include "core/verify.hpp"
#include "kernels/ll128_layout.hpp"

namespace dcp::kernels::ll128 {

/// One 128-byte line as 16 words.
using Line = std::array<std::uint64_t, kWordsPerLine>;

/// The payload of one call's (sender -> receiver, channel): the pair-stream words carried by the
/// channel's lines (stream_geometry), gathered from the sender's inputs (in_o [E, cp, D] as u16
/// bits, in_stats [E, cp, S] as u32 bits).
std::vector<std::uint64_t> gather_stream(const ExchangeShape& shape, int channels, int channel,
                                         int receiver, const std::uint16_t* in_o,
                                         const std::uint32_t* in_stats);

/// Scatters a channel's payload into the receiver's outputs (rows (e, sender)).
void scatter_stream(const ExchangeShape& shape, int channels, int channel, int sender,
                    std::span<const std::uint64_t> payload, std::uint16_t* out_o,
                    std::uint32_t* out_stats);

/// Line `line` of a channel whose payload starts at stream line `first_line`: payload words
/// [15*line, 15*line + 15) (0 past the end) in the line words payload_slot() names, and the flag
/// in word flag_word(first_line + line, layout) (word 15 in the shipped kFlagLast format).
Line pack_line(std::span<const std::uint64_t> payload, std::uint32_t line, std::uint64_t flag,
               std::uint32_t first_line = 0, LineLayout layout = LineLayout::kFlagLast);

/// All lines of a channel's payload whose first slot has sequence number `first_seq` (line l
/// belongs to slot l / slot_lines and carries flag_for(first_seq + l / slot_lines)).
std::vector<Line> pack_stream(std::span<const std::uint64_t> payload, std::uint64_t first_seq,
                              int slot_lines, std::uint32_t first_line = 0,
                              LineLayout layout = LineLayout::kFlagLast);

/// Inverse of pack_stream: returns the first `words` payload words; throws dcp::Error naming the
/// first line whose flag does not match.
std::vector<std::uint64_t> unpack_stream(std::span<const Line> lines, std::uint64_t first_seq,
                                         int slot_lines, std::uint32_t words,
                                         std::uint32_t first_line = 0,
                                         LineLayout layout = LineLayout::kFlagLast);

/// The TimeoutError message for a decoded error record, e.g. "rank 0: no data from peer 1 on
/// channel 3 (awaited sequence 17, line 2) within 10 s - the peer never launched the exchange,
/// died, or runs a different sweep".
std::string describe_error(const ErrorInfo& e, double timeout_s);

/// How an emulated sender publishes a line and an emulated receiver reads it.
enum class Delivery {
  /// The line's 16 words in ascending address order, each with a release store (a later word
  /// implies the earlier ones), with random pauses in between; the reader loads the 16 words in a
  /// random order (acquire), accepts the line on its flag, and (EmulationOptions::reload) takes
  /// the payload from loads issued after the flag matched. Models spec §3.8.
  kAscendingWords,
  /// Payload words (random order, relaxed), then the flag (release); the reader acquires the
  /// flag, then reads the payload: an atomic line in effect (cannot tear).
  kWholeLine,
};

/// Options of one emulated call.
struct EmulationOptions {
  int channels = 0;  ///< 0: channel_count(shape, geometry.max_channels)
  /// Per wait, from the last progress. Generous: the emulation runs a thread per warp (thousands
  /// at cp = 8) on a CI machine of 2 cores, possibly under other tests' load; only the fault
  /// tests, which expect a timeout, set a short one.
  std::chrono::milliseconds timeout{30000};
  std::optional<FaultInjection> fault;  ///< skip-launch / corrupt-line, as on the GPU
  bool shuffle_payload_stores = true;   ///< kWholeLine: payload words in random order
  /// As on the GPU: where ll128::single_warp_allowed, one task per (peer, channel) sends its
  /// whole stream and only then receives; false: separate sender and receiver tasks.
  bool single_warp = true;
  std::uint64_t schedule_seed = 1;  ///< randomises task order, step sizes and word orders
  Delivery delivery = Delivery::kAscendingWords;
  /// kAscendingWords: take the payload from loads issued after the flag matched (the kernel's
  /// DCP_NATIVE_RELOAD); false: from the sampling loads that found the flag.
  bool reload = true;
  /// The wire format. Only tests select the old kFlagFirstOnOdd (it can tear).
  LineLayout layout = LineLayout::kFlagLast;
};

/// Result of one emulated call.
struct EmulatedCall {
  int channels = 0;
  VerifyOutcome verify;           ///< over every rank that ran
  std::vector<ErrorInfo> errors;  ///< error records of every rank after the call (valid ones)
};

/// cp emulated ranks and their workspace segments, persisting across calls like the GPU
/// workspace: counters are never re-initialised between calls.
class FifoEmulator {
 public:
  explicit FifoEmulator(const Geometry& geometry);
  ~FifoEmulator();
  FifoEmulator(const FifoEmulator&) = delete;
  FifoEmulator& operator=(const FifoEmulator&) = delete;

  [[nodiscard]] const Geometry& geometry() const { return geometry_; }

  /// One exchange: fills fresh inputs for input set `call`, poisons outputs, runs one thread per
  /// rank (a skip-launch rank runs nothing), verifies every rank's outputs. E = 0 returns at once
  /// without touching anything (as the GPU path launches nothing).
  EmulatedCall run_call(const ExchangeShape& shape, std::uint64_t seed, std::uint32_t call,
                        const EmulationOptions& options = {});

  /// Sets every counter (head, tail, credit) of every pair and channel to `seq` (tests 64-bit
  /// counter arithmetic far from 0). Not collective-safe: call between calls only.
  void set_all_counters(std::uint64_t seq);
  /// Zero-fills every segment (the collective reset after a failure).
  void reset();
  /// Error records of every rank (valid ones only).
  [[nodiscard]] std::vector<ErrorInfo> errors() const;
  /// Word `index` of rank r's segment (for tests).
  [[nodiscard]] std::uint64_t load_word(int rank, std::int64_t index) const;

 private:
  struct Impl;
  Geometry geometry_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dcp::kernels::ll128
