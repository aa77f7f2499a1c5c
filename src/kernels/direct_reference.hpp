#pragma once
/// @file
/// A CPU-thread emulation of the direct protocol (direct_layout.hpp), executing the programs of
/// direct_protocol.hpp: ranks are std::threads, each CTA of a launch another thread, workspace
/// segments are arrays of atomics laid out by the same Geometry and Layout as on the GPU. Every
/// rank runs its calls one after the other with NO barrier between ranks, so several calls are in
/// flight at once and the receive regions really are reused across calls; inputs are fresh on
/// every call, outputs poisoned before it and checked bit by bit after it. Exchange: inputs from
/// core/pattern.hpp, checked by core/verify.hpp. Reduce: inputs from merge/reduce_pattern.hpp
/// (empty shards with NaN/Inf payload, all-empty entries, large LSE gaps); a receiving CTA
/// merges a block the way the fused kernel will - merge::merge_weights once per entry from the
/// cp LSEs in its regions, then merge::merge_lanes over 8-element (16-byte) vectors loaded from
/// the regions of the live sources only - and the outputs are checked against the merge
/// library's CPU reference (merge::check_merge_host: bit-identical, and errors against fp64).
///
/// Memory ordering. Payload words are stored with relaxed atomic stores BEFORE the flag's
/// release store, and loaded with relaxed atomic loads AFTER the flag's acquire load: by the C++
/// memory model (release/acquire synchronises-with, and happens-before is transitive through
/// thread creation and join, which stand for launch and kernel boundaries), every payload word a
/// receiver reads after seeing the flag is the one written for this call, or a LATER one - which
/// is exactly what the parity rule must exclude. The relaxed atomics carry no ordering of their
/// own (they behave like plain stores here); they only make the deliberately broken variants
/// race-free in the C++ sense, so that a broken protocol shows up as wrong data, not as undefined
/// behaviour.
///
/// What the emulation shows: the layout and block split move every row to the right place; the
/// schemes' programs deliver bit-exact outputs over many calls with both parities reused; epochs
/// stay in step (the fused kernel's last-arrival rule, the staged advance launch); waits are
/// bounded and name rank, peer, block and epoch; a rank that runs late still delivers exactly; a
/// broken program (single buffer, flag before data) is caught. What it cannot show: anything
/// about the GPU memory system - whether st.release.sys / ld.acquire.sys over NVLink give the
/// C++ semantics modelled here, L1 staleness of the receiver's payload loads, the cost of
/// anything, or co-residency (threads always make progress; CTAs may not).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "core/accuracy.hpp"
#include "core/shape.hpp"
#include "core/verify.hpp"
#include "kernels/direct_layout.hpp"
#include "kernels/direct_protocol.hpp"
#include "merge/merge_routine.hpp"

namespace dcp::kernels::direct {

/// Which of the two schemes runs.
enum class Scheme : std::uint8_t { kFused = 0, kStaged = 1 };

/// Where a CTA calls the test hook.
enum class HookPoint : std::uint8_t {
  kCallStart,     ///< rank thread, before the call's first launch (cta = -1)
  kAfterRelease,  ///< after a kReleaseFlag action
  kBeforeAwait,   ///< before a kAwaitFlag action
  kAfterDeliver,  ///< after a kDeliver action
};
/// Test hook: (rank, cta, call, point, action or nullptr). Called concurrently; may block (to
/// force an interleaving) but must return.
using Hook = std::function<void(int, int, std::uint32_t, HookPoint, const Action*)>;
/// Test-only program rewrite: (rank, call, launch, the launch's CTA programs). Lets a test run a
/// deliberately broken protocol; nothing else sets it.
using ProgramMutation = std::function<void(int, std::uint32_t, int, std::vector<Program>&)>;

/// Options of one emulated run.
struct EmulationOptions {
  Scheme scheme = Scheme::kFused;
  bool reduce = false;  ///< false: exchange (rows delivered); true: merge (S = 1, the LSE)
  merge::LseBase lse_base = merge::LseBase::kE;  ///< reduce: base of the LSEs
  int ctas = 2;                    ///< fused: co-residency budget (CTAs per grid); staged: max
                                   ///< CTAs of the write and wait launches
  std::int64_t block_entries = 0;  ///< entries per block; 0: block_entries_for
  std::chrono::milliseconds timeout{30000};  ///< per flag wait; generous (2 CI cores under load)
  std::vector<std::pair<int, std::uint32_t>> skip;  ///< (rank, call): the rank skips that call
  Hook hook;
  ProgramMutation mutate;      ///< tests only: break the protocol on purpose
  bool shuffle_stores = true;  ///< write a block's rows in a random order
  std::uint64_t schedule_seed = 1;
};

/// Result of one run (several calls).
struct EmulationResult {
  VerifyOutcome verify;           ///< exchange: over every (rank, call) that completed
  Accuracy accuracy;              ///< reduce: over every (rank, call) that completed
  std::vector<ErrorInfo> errors;  ///< valid error records after the run
  std::uint32_t completed = 0;    ///< (rank, call) pairs that completed without error
  std::uint32_t failed = 0;       ///< (rank, call) pairs that stopped on an error

  /// Every completed call's outputs were exact (bit-identical; for reduce to the reference).
  [[nodiscard]] bool exact() const { return verify.ok() && accuracy.identical(); }
};

/// cp emulated ranks and their segments, persisting across runs like the GPU workspace: epochs
/// and flags are never reset between runs or cases (only reset() zeroes everything).
class Emulator {
 public:
  explicit Emulator(const Geometry& geometry);
  ~Emulator();
  Emulator(const Emulator&) = delete;
  Emulator& operator=(const Emulator&) = delete;

  [[nodiscard]] const Geometry& geometry() const { return geometry_; }

  /// Runs calls [first_call, first_call + calls) of `shape` (input sets first_call..): one thread
  /// per rank, each making its calls in order without waiting for the other ranks between calls.
  /// E = 0 launches nothing (no epoch advances). Throws ConfigError when the case does not fit
  /// the geometry (direct_fit_problem) or the options are inconsistent.
  EmulationResult run(const ExchangeShape& shape, std::uint64_t seed, std::uint32_t first_call,
                      std::uint32_t calls, const EmulationOptions& options);

  /// Zero-fills every segment (the collective reset after a failure).
  void reset();
  /// Valid error records of every rank.
  [[nodiscard]] std::vector<ErrorInfo> errors() const;
  /// Rank r's epoch word.
  [[nodiscard]] std::uint64_t epoch(int rank) const;
  /// The flag `source` published in rank r's segment for (parity, block).
  [[nodiscard]] std::uint64_t flag(int rank, std::uint32_t parity, std::int64_t block,
                                   int source) const;

 private:
  struct Impl;
  Geometry geometry_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dcp::kernels::direct
