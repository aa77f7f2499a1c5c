#pragma once
/// @file
/// A CPU model of the ordering contract LL128 rests on (dcp-a2a-spec.md §3.8), in which a wrong
/// wire format or a wrong reader CAN fail: one writer streams lines through a ring of `depth`
/// 128-byte slots to one reader, with credit flow control as in the exchange.
///
/// The writer publishes each line's 16 words one at a time in ASCENDING address order (an
/// std::atomic per word, a release store per word, so that a reader that acquires word k also
/// sees words 0..k-1 of that line: "the pieces arrive in ascending address order"), with pauses
/// between the words. The reader samples the 16 words of the slot it awaits in an arbitrary order
/// at arbitrary times (acquire loads, a random permutation per attempt, drawn from a pool of
/// 1024 permutations made from the seed) and accepts the
/// line when its flag word holds the awaited flag. Then it either uses the sampled payload
/// (ReadMode::kSingle) or loads the payload again (ReadMode::kReloadAfterFlag, what the kernel's
/// DCP_NATIVE_RELOAD does), checks it against what the writer wrote for that line, counts a torn
/// line when any payload word is from an older use of the slot (or still the zero fill), and
/// publishes its credit.
///
/// What the model shows: (1) the old format (flag in word 0 of odd lines) tears: the flag is the
/// first word to arrive, so a reader accepts an odd line before its data; no reload can fix that;
/// (2) flag-last + single read tears too: a sampling pass may read data words before the writer
/// reaches them and the flag after it finished. In the kernel that is a warp-wide 16-byte-per-lane
/// poll whose sectors are served at different times: this is why the receiver reloads the burst
/// after its flags matched; (3) flag-last + reload never tears (in the C++ memory model it cannot:
/// the flag is the last word released, the reload is sequenced after the flag's acquire, and the
/// slot is rewritten only after the reader's credit).
///
/// What it cannot show: anything about real hardware. It assumes the ascending-arrival contract
/// instead of testing it (only a writer on another GPU can: the diag ll128_order probe), and a
/// real GPU's loads, stores and caches have more freedom than one atomic word at a time.
///
/// Two drivers of the same model:
///  - run_ordering_stepped: ONE thread interleaves single-word steps of the writer and the reader
///    by a seeded schedule (or an explicit script). Deterministic on every platform (own PRNG,
///    no std distributions): the counts are exact facts of the seed, so tests asserting them
///    cannot flake.
///  - run_ordering_threaded: a writer thread and a reader thread with random spin/yield pauses:
///    the same model under real concurrency (and under the sanitizers).

#include <cstdint>
#include <string>

#include "kernels/ll128_layout.hpp"

namespace dcp::kernels::ll128 {

/// Where the reader takes an accepted line's payload from.
enum class ReadMode {
  kSingle,           ///< the sampling pass that found the flag
  kReloadAfterFlag,  ///< loads issued after the flag matched (the kernel's DCP_NATIVE_RELOAD)
};

/// One run of the model.
struct OrderingOptions {
  LineLayout layout = LineLayout::kFlagLast;
  ReadMode read = ReadMode::kReloadAfterFlag;
  std::uint64_t lines = 1000;  ///< lines sent; line n is stream line n (parities alternate)
  int depth = 2;               ///< slots of the ring (>= 1)
  std::uint64_t seed = 1;      ///< schedule, pauses and the reader's sampling orders
  /// Stepped driver only: steps to take first, one character each: 'w' = one writer step (a word
  /// store, or nothing while it waits for credit), 'r' = one reader step (one word load; after
  /// the 16th sample the flag check; after the reload the check and the credit). The seeded
  /// schedule takes over when the script ends.
  std::string script;
  /// The reader samples a line's words in ascending order instead of a random permutation.
  bool ascending_reads = false;
};

/// What the reader accepted.
struct OrderingResult {
  std::uint64_t lines = 0;           ///< lines accepted (= OrderingOptions::lines when done)
  std::uint64_t torn_lines = 0;      ///< accepted lines with a payload word not of that line
  std::uint64_t torn_odd_lines = 0;  ///< of those, odd stream lines
  std::uint64_t torn_words = 0;      ///< payload words not of their line, over all lines
  std::uint64_t polls = 0;           ///< sampling passes (>= lines)
};

/// Deterministic single-thread driver (see the file comment).
OrderingResult run_ordering_stepped(const OrderingOptions& options);

/// Writer and reader on two threads (see the file comment); `script` is ignored.
OrderingResult run_ordering_threaded(const OrderingOptions& options);

/// The payload word i (0..14) the writer puts in line `line`: never 0 and never equal to any
/// other line's word i, so a word from an older use of a slot is always detected.
constexpr std::uint64_t ordering_payload(std::uint64_t line, int i) {
  return ((line + 1) << 4) | static_cast<std::uint64_t>(i);
}

}  // namespace dcp::kernels::ll128
