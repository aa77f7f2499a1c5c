#include "bench/timing.hpp"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <string>

#include "bench/sync.hpp"
#include "core/cuda_check.hpp"
#include "core/cuda_raii.hpp"
#include "core/error.hpp"

namespace dcp::bench {

struct GraphRunner::State {
  std::vector<StreamHandle> streams;
  GraphExec exec;
  std::vector<Event> fork;  ///< per stream: recorded before a launch so streams[0] waits on it
  Event join;               ///< recorded after a launch so the other streams wait on it
};

GraphRunner::GraphRunner(const EnqueueFn& enqueue, std::span<const StreamHandle> streams, int calls,
                         int ring)
    : state_(std::make_unique<State>()) {
  DCP_CHECK(!streams.empty() && calls > 0 && ring > 0, "graph capture needs streams and calls");
  State& st = *state_;
  st.streams.assign(streams.begin(), streams.end());
  st.fork.resize(streams.size());
  StreamHandle s0 = streams[0];
  DCP_CUDA_CHECK(cudaStreamBeginCapture(s0, cudaStreamCaptureModeThreadLocal));
  try {
    // Bring every other stream into the capture: they wait on an event of the capturing stream.
    Event capture_fork;
    capture_fork.record(s0);
    for (std::size_t i = 1; i < streams.size(); ++i) {
      DCP_CUDA_CHECK(cudaStreamWaitEvent(streams[i], capture_fork.get(), 0));
    }
    for (int k = 0; k < calls; ++k)
      enqueue(static_cast<std::size_t>(k % ring));
    std::vector<Event> capture_join(streams.size());
    for (std::size_t i = 1; i < streams.size(); ++i) {
      capture_join[i].record(streams[i]);
      DCP_CUDA_CHECK(cudaStreamWaitEvent(s0, capture_join[i].get(), 0));
    }
    cudaGraph_t graph = nullptr;
    DCP_CUDA_CHECK(cudaStreamEndCapture(s0, &graph));
    st.exec = GraphExec(graph);
  } catch (...) {
    cudaGraph_t dropped = nullptr;
    if (cudaStreamEndCapture(s0, &dropped) == cudaSuccess && dropped) cudaGraphDestroy(dropped);
    (void)cudaGetLastError();
    throw;
  }
  DCP_CUDA_CHECK(cudaGraphUpload(st.exec.get(), s0));
}

GraphRunner::~GraphRunner() = default;

void GraphRunner::launch() {
  State& st = *state_;
  StreamHandle s0 = st.streams[0];
  for (std::size_t i = 1; i < st.streams.size(); ++i) {
    st.fork[i].record(st.streams[i]);
    DCP_CUDA_CHECK(cudaStreamWaitEvent(s0, st.fork[i].get(), 0));
  }
  st.exec.launch(s0);
  if (st.streams.size() > 1) {
    st.join.record(s0);
    for (std::size_t i = 1; i < st.streams.size(); ++i) {
      DCP_CUDA_CHECK(cudaStreamWaitEvent(st.streams[i], st.join.get(), 0));
    }
  }
}

void GraphRunner::launch_on_primary() {
  state_->exec.launch(state_->streams[0]);
}

namespace {

/// Runs `before_last_pass` on idle streams and waits for what it enqueued.
void prepare_last_pass(std::span<const StreamHandle> streams, const World& world,
                       const TimingPlan& plan, const std::function<void()>& before_last_pass) {
  if (!before_last_pass) return;
  before_last_pass();
  sync_streams(streams, plan.timeout_s, world.rank(), "poisoning before the last timed pass");
}

std::vector<double> measure_eager(const EnqueueFn& enqueue, std::span<const StreamHandle> streams,
                                  const World& world, const TimingPlan& plan,
                                  const std::function<void()>& after_sync,
                                  const std::function<void()>& before_last_pass) {
  std::vector<Event> start(streams.size()), stop(streams.size());
  std::vector<double> samples(static_cast<std::size_t>(plan.iters));
  const int total = plan.warmup + plan.iters;
  const std::int64_t last = last_pass(plan).before;
  for (int i = 0; i < total; ++i) {
    sync_streams(streams, plan.timeout_s, world.rank(), "waiting for the previous eager call");
    after_sync();
    if (i == last) prepare_last_pass(streams, world, plan, before_last_pass);
    world.barrier("eager iteration");
    for (std::size_t s = 0; s < streams.size(); ++s)
      start[s].record(streams[s]);
    enqueue(static_cast<std::size_t>(i % plan.ring));
    for (std::size_t s = 0; s < streams.size(); ++s)
      stop[s].record(streams[s]);
    if (i >= plan.warmup) {
      sync_streams(streams, plan.timeout_s, world.rank(), "timing an eager call");
      double worst = 0;
      for (std::size_t s = 0; s < streams.size(); ++s) {
        worst = std::max(worst, stop[s].seconds_since(start[s]));
      }
      samples[static_cast<std::size_t>(i - plan.warmup)] = worst;
    }
  }
  sync_streams(streams, plan.timeout_s, world.rank(), "finishing eager timing");
  after_sync();
  return samples;
}

/// Pipelined and graph modes: after a barrier, samples are gaps between consecutive events
/// recorded on every stream, each gap spanning `calls_per_sample` exchanges.
std::vector<double> measure_back_to_back(const EnqueueFn& enqueue,
                                         std::span<const StreamHandle> streams, const World& world,
                                         const TimingPlan& plan,
                                         const std::function<void()>& after_sync,
                                         const std::function<void()>& before_last_pass) {
  const int k = plan.calls_per_sample;
  std::unique_ptr<GraphRunner> graph;
  if (plan.mode == LaunchMode::kGraph) {
    sync_streams(streams, plan.timeout_s, world.rank(), "preparing graph capture");
    graph = std::make_unique<GraphRunner>(enqueue, streams, k, plan.ring);
  }
  // A graph joins all its branches back into streams[0] inside the graph, so replays are timed
  // on streams[0] alone, back to back, with no per-replay fork/join events to pay for. Pipelined
  // calls are plain launches on every stream: each stream is timed and the slowest counts.
  const std::span<const StreamHandle> timed = graph ? streams.first(1) : streams;
  std::size_t next_slot = 0;
  auto one_sample = [&]() {
    if (graph) {
      graph->launch_on_primary();
    } else {
      for (int c = 0; c < k; ++c) {
        enqueue(next_slot);
        next_slot = (next_slot + 1) % static_cast<std::size_t>(plan.ring);
      }
    }
  };
  // Warm-up: whole samples covering at least `warmup` calls.
  const int warm_samples = (plan.warmup + k - 1) / k;
  for (int w = 0; w < warm_samples; ++w)
    one_sample();
  sync_streams(streams, plan.timeout_s * std::max(1, warm_samples), world.rank(), "warming up");
  after_sync();
  world.barrier("start of back-to-back timing");

  // Samples 0 .. n-2 back to back; the last one (the last pass) after the outputs it writes were
  // poisoned, from its own start mark: marks[s][i + 1] - starts[s][i] is sample i.
  const auto n = static_cast<std::size_t>(plan.iters);
  std::vector<std::vector<Event>> marks(timed.size());
  for (auto& m : marks)
    m.resize(n + 2);
  for (std::size_t s = 0; s < timed.size(); ++s)
    marks[s][0].record(timed[s]);
  for (std::size_t i = 0; i + 1 < n; ++i) {
    one_sample();
    for (std::size_t s = 0; s < timed.size(); ++s)
      marks[s][i + 1].record(timed[s]);
  }
  // Generous bound: the whole loop may take long only if something hangs.
  sync_streams(streams,
               plan.timeout_s + 1e-3 * static_cast<double>(n * static_cast<std::size_t>(k)),
               world.rank(), "timing back-to-back calls");
  after_sync();
  prepare_last_pass(streams, world, plan, before_last_pass);
  world.barrier("start of the last timed pass");
  for (std::size_t s = 0; s < timed.size(); ++s)
    marks[s][n + 1].record(timed[s]);  // the last sample's start
  one_sample();
  for (std::size_t s = 0; s < timed.size(); ++s)
    marks[s][n].record(timed[s]);
  sync_streams(streams, plan.timeout_s, world.rank(), "timing the last back-to-back pass");
  after_sync();
  std::vector<double> samples(n);
  for (std::size_t i = 0; i < n; ++i) {
    double worst = 0;
    for (std::size_t s = 0; s < timed.size(); ++s) {
      const Event& from = i + 1 == n ? marks[s][n + 1] : marks[s][i];
      worst = std::max(worst, marks[s][i + 1].seconds_since(from));
    }
    samples[i] = worst / k;
  }
  return samples;
}

}  // namespace

std::size_t slots_written(const TimingPlan& plan) {
  const auto k = static_cast<std::int64_t>(plan.calls_per_sample);
  std::int64_t calls = 0;
  switch (plan.mode) {
    case LaunchMode::kEager:
      calls = std::int64_t{plan.warmup} + plan.iters;
      break;
    case LaunchMode::kPipelined:
      calls = ((plan.warmup + k - 1) / k + plan.iters) * k;
      break;
    case LaunchMode::kGraph:
      calls = k;
      break;
  }
  return static_cast<std::size_t>(std::min<std::int64_t>(plan.ring, calls));
}

LastPass last_pass(const TimingPlan& plan) {
  LastPass p;
  const auto ring = static_cast<std::int64_t>(plan.ring);
  const auto k = static_cast<std::int64_t>(plan.calls_per_sample);
  std::int64_t first_call = 0;  // the pass's first call, counted from the first warm-up call
  std::int64_t calls = 0;
  switch (plan.mode) {
    case LaunchMode::kEager: {
      const std::int64_t total = std::int64_t{plan.warmup} + plan.iters;
      calls = std::min(ring, total);
      first_call = total - calls;
      p.before = first_call;
      break;
    }
    case LaunchMode::kPipelined:
      calls = k;
      first_call = ((plan.warmup + k - 1) / k + plan.iters - 1) * k;
      p.before = plan.iters - 1;
      break;
    case LaunchMode::kGraph:
      calls = k;  // every replay is the same calls 0 .. k-1
      first_call = 0;
      p.before = plan.iters - 1;
      break;
  }
  for (std::int64_t c = 0; c < std::min(calls, ring); ++c)
    p.slots.push_back(static_cast<std::size_t>((first_call + c) % ring));
  std::sort(p.slots.begin(), p.slots.end());
  return p;
}

std::vector<double> measure(const EnqueueFn& enqueue, std::span<const StreamHandle> streams,
                            const World& world, const TimingPlan& plan,
                            const std::function<void()>& after_sync,
                            const std::function<void()>& before_last_pass) {
  DCP_CHECK(!streams.empty(), "measure needs at least one stream");
  DCP_CHECK(plan.iters > 0 && plan.calls_per_sample > 0 && plan.ring > 0, "bad timing plan");
  std::vector<double> samples =
      plan.mode == LaunchMode::kEager
          ? measure_eager(enqueue, streams, world, plan, after_sync, before_last_pass)
          : measure_back_to_back(enqueue, streams, world, plan, after_sync, before_last_pass);
  world.allreduce_max(samples, "per-iteration timing samples");
  return samples;
}

}  // namespace dcp::bench
