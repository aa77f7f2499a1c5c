#pragma once
/// @file
/// The timing engine: one method for every implementation, in three launch modes.
///
///   eager      per iteration: sync, barrier, start event, ONE call, end event (the reference
///              benchmark's method); sample = end - start.
///   pipelined  after one barrier, `calls_per_sample` calls back to back between consecutive
///              events; sample = gap / calls.
///   graph      `calls_per_sample` calls captured in one CUDA graph; after one barrier, replays
///              back to back with an event after each; sample = gap / calls.
/// With several local streams (simulated ranks) every stream gets its own events and a sample is
/// the max over them; with several processes each iteration's sample is then the max over ranks.
/// Samples are seconds per exchange.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "core/impl.hpp"
#include "core/types.hpp"
#include "core/world.hpp"

namespace dcp::bench {

/// Enqueues one exchange on every local stream, using ring slot `slot`.
using EnqueueFn = std::function<void(std::size_t slot)>;

/// How one case is timed. Every field comes from the sweep's MeasureOptions (core/sweep.hpp,
/// the home of their defaults), so none has a default of its own.
struct TimingPlan {
  LaunchMode mode;
  int warmup;            ///< untimed calls first
  int iters;             ///< samples
  int calls_per_sample;  ///< pipelined/graph: calls per sample (graph_calls)
  int ring;              ///< slots cycled: call i uses slot i % ring
  double timeout_s;      ///< every host-side wait on the GPU or a peer
};

/// How many ring slots (0, 1, ...) the calls of `plan` write: min(ring, calls made), where a graph
/// replays the same calls_per_sample calls.
std::size_t slots_written(const TimingPlan& plan);

/// The last timed pass of a plan, before which the runner poisons the outputs it writes (outside
/// the timed region), so that the check of the timed outputs can fail: a pass that silently wrote
/// nothing would otherwise leave an earlier, identical result in place.
///   eager      the last min(ring, warmup + iters) calls, one per ring slot; `before` is the
///              iteration that starts it (each eager iteration begins with a synchronisation,
///              so poisoning there is outside every timed interval).
///   pipelined  the last sample (calls_per_sample calls); `before` = iters - 1.
///   graph      the last replay; `before` = iters - 1.
/// For the back-to-back modes the last sample therefore starts on idle streams (after the
/// poison, a synchronisation and a barrier) instead of right behind the previous sample.
struct LastPass {
  std::int64_t before = 0;         ///< eager: iteration index; pipelined/graph: sample index
  std::vector<std::size_t> slots;  ///< ring slots the pass writes, ascending
  friend bool operator==(const LastPass&, const LastPass&) = default;
};
LastPass last_pass(const TimingPlan& plan);

/// Measures `enqueue` and returns one sample per iteration (seconds per exchange, max over local
/// streams and over ranks). `after_sync` runs after every synchronisation (the impl's check());
/// `before_last_pass` (may be empty) runs once, on synchronised streams, right before the
/// last_pass(plan), and its work is synchronised before that pass starts.
std::vector<double> measure(const EnqueueFn& enqueue, std::span<const StreamHandle> streams,
                            const World& world, const TimingPlan& plan,
                            const std::function<void()>& after_sync,
                            const std::function<void()>& before_last_pass);

/// A CUDA graph of `calls` exchanges captured over every local stream (forked from and joined
/// into streams[0]); call k uses slot k % ring.
class GraphRunner {
 public:
  GraphRunner(const EnqueueFn& enqueue, std::span<const StreamHandle> streams, int calls, int ring);
  ~GraphRunner();
  GraphRunner(GraphRunner&&) = delete;
  GraphRunner(const GraphRunner&) = delete;
  GraphRunner& operator=(const GraphRunner&) = delete;
  /// One replay, ordered with every stream (events fork/join around it when there are several).
  void launch();
  /// One replay on streams[0] only (for back-to-back timing after a full-stream fence).
  void launch_on_primary();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace dcp::bench
