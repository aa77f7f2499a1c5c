#include "bench/runner.hpp"

#include <cuda_runtime_api.h>
#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <memory>
#include <optional>

#include "bench/buffer_ring.hpp"
#include "bench/device_data.hpp"
#include "bench/sync.hpp"
#include "bench/timing.hpp"
#include "core/bandwidth.hpp"
#include "core/cuda_check.hpp"
#include "core/cuda_raii.hpp"
#include "core/error.hpp"
#include "core/stats.hpp"

namespace dcp::bench {

namespace {

/// Calls between synchronisations in fresh-input loops (correctness pass, --stress): errors
/// surface promptly, queues stay short.
constexpr std::int64_t kStressCallsPerSync = 64;
/// Extra seconds past --timeout that a blocking setup/teardown step may take before the
/// watchdog ends the job (NCCL communicator and window creation can take seconds).
constexpr double kSetupGraceSeconds = 30.0;

/// A fixed-size record of a first mismatch, gathered across ranks.
struct FirstMismatchWire {
  int has = 0;
  int tensor_is_stats = 0;
  int dst = 0, src = 0;
  long long entry = 0;
  int element = 0;
  unsigned call = 0, expected = 0, actual = 0;
};

VerifyOutcome reduce_outcome(const VerifyOutcome& mine, const World& world) {
  std::vector<std::uint64_t> counts{mine.calls_checked, mine.rows_checked, mine.bad_rows,
                                    mine.mismatched_elements};
  world.allreduce_sum(counts, "verification counts");
  FirstMismatchWire w;
  if (mine.first) {
    w = FirstMismatchWire{1,
                          mine.first->tensor == "softmax_stats" ? 1 : 0,
                          mine.first->dst_rank,
                          mine.first->src_rank,
                          mine.first->entry,
                          mine.first->element,
                          mine.first->call,
                          mine.first->expected_bits,
                          mine.first->actual_bits};
  }
  const auto all = world.allgather(w, "first mismatches");
  VerifyOutcome out;
  out.calls_checked = counts[0];
  out.rows_checked = counts[1];
  out.bad_rows = counts[2];
  out.mismatched_elements = counts[3];
  for (const auto& f : all) {
    if (f.has) {
      out.first = Mismatch{f.tensor_is_stats ? "softmax_stats" : "partial_o",
                           f.dst,
                           f.src,
                           f.entry,
                           f.element,
                           f.call,
                           f.expected,
                           f.actual};
      break;
    }
  }
  return out;
}

class SweepRunner {
 public:
  SweepRunner(const SweepSpec& spec, ImplProvider& impls, const World& world)
      : spec_(spec), impls_(impls), world_(world) {}

  SweepOutcome run(const std::vector<PlannedRun>& plan, const ProgressFn& progress) {
    SweepOutcome out;
    const auto& inject = spec_.measure.inject;
    for (std::size_t i = 0; i < plan.size(); ++i) {
      if (progress) progress(i, plan.size(), plan[i]);
      if (i == 1 && inject && inject->kind == FaultKind::kKill &&
          inject->applies_to(world_.rank())) {
        // Testing aid: this rank dies without a word, as a crashed or OOM-killed process would.
        std::raise(SIGKILL);
      }
      CaseResult r = run_one(plan[i]);
      if (r.status != CaseStatus::kSkipped && spec_.measure.stress_calls == 0) {
        add_launch_floor(plan[i].c, out);
      }
      out.results.push_back(std::move(r));
    }
    return out;
  }

 private:
  static bool is_sim(const Case& c) { return c.workspace && *c.workspace == WorkspaceKind::kSim; }

  std::vector<StreamHandle> streams_for(int local_ranks) {
    while (static_cast<int>(streams_.size()) < local_ranks)
      streams_.emplace_back();
    std::vector<StreamHandle> out;
    for (int l = 0; l < local_ranks; ++l)
      out.push_back(streams_[static_cast<std::size_t>(l)].get());
    return out;
  }

  void sync(const std::vector<StreamHandle>& streams, AllToAllImpl* impl, std::string_view what,
            double timeout_s) {
    try {
      sync_streams(streams, timeout_s, world_.rank(), what);
    } catch (const TimeoutError&) {
      if (impl) impl->abort_inflight();
      throw;
    }
    if (impl) impl->check();
  }

  void add_launch_floor(const Case& c, SweepOutcome& out) {
    const int local = is_sim(c) ? c.cp_size : 1;
    for (const auto& f : out.launch_floors) {
      if (f.launch == c.launch && f.cp_size == local) return;
    }
    auto streams = streams_for(local);
    TimingPlan plan = timing_plan(c);
    plan.ring = 1;
    const auto samples = measure(
        [&](std::size_t) {
          for (StreamHandle s : streams)
            launch_empty_kernel(s);
        },
        streams, world_, plan, [] {}, {});
    LaunchFloor lf;
    lf.launch = c.launch;
    lf.cp_size = local;
    lf.timing.samples_s = samples;
    lf.timing.stats = summarize(samples);
    out.launch_floors.push_back(std::move(lf));
  }

  TimingPlan timing_plan(const Case& c) const {
    const MeasureOptions& m = spec_.measure;
    return TimingPlan{c.launch, m.warmup, m.iters, m.graph_calls, m.ring, m.timeout_s};
  }

  /// Why `row` cannot run `c` at all, from the row alone (identical on every rank).
  static std::optional<std::string> row_skip_reason(const ImplInfo& row, const Case& c) {
    if (!row.launches.contains(c.launch)) {
      return fmt::format("{} does not support launch mode {}", row.name, to_string(c.launch));
    }
    if (!row.traits.exact) {
      return fmt::format(
          "{} is not bit-exact (within {} ulp) and this runner verifies bit-exact outputs only",
          row.name, row.traits.ulp_bound);
    }
    return std::nullopt;
  }

  CaseResult run_one(const PlannedRun& run) {
    const Case& c = run.c;
    DCP_CHECK(run.info != nullptr && run.info->name == run.impl,
              "a planned run without its registry row");
    const ImplInfo& row = *run.info;
    CaseResult result;
    result.c = c;
    result.impl = run.impl;
    const bool moves_stats = row.traits.moves_stats;
    result.bytes_per_rank = static_cast<std::uint64_t>(c.batch) *
                            static_cast<std::uint64_t>(c.cp_size) *
                            (c.o_row_bytes() + (moves_stats ? c.stats_row_bytes() : 0));
    if (auto why = row_skip_reason(row, c)) {
      result.status = CaseStatus::kSkipped;
      result.skip_reason = *why;
      return result;
    }

    AllToAllImpl& impl = impls_.get(row);
    const std::optional<std::string> reason = impl.unsupported_reason(c);
    if (!world_.all(!reason.has_value(), "supported-case agreement")) {
      result.status = CaseStatus::kSkipped;
      result.skip_reason = reason ? *reason : "not supported on another rank of this job";
      return result;
    }

    const ExchangeShape shape = c.shape();
    const int local = is_sim(c) ? c.cp_size : 1;
    const int first_rank = is_sim(c) ? 0 : world_.rank();
    const MeasureOptions& m = spec_.measure;
    const auto streams = streams_for(local);

    std::unique_ptr<BufferAllocator> own_alloc = impl.make_allocator();
    CudaMallocAllocator plain;
    BufferAllocator& alloc = own_alloc ? *own_alloc : plain;
    BufferRing ring(shape, m.ring, local, alloc);

    // Input set k holds call index k; every output starts poisoned.
    auto fill_slot = [&](std::size_t k, std::uint32_t call) {
      for (int l = 0; l < local; ++l) {
        const RankBuffers& b = ring.at(k, static_cast<std::size_t>(l));
        fill_inputs_device(shape, m.seed, call, first_rank + l, const_cast<void*>(b.in_o),
                           const_cast<void*>(b.in_stats), streams[static_cast<std::size_t>(l)]);
      }
    };
    auto poison_slot = [&](std::size_t k) {
      for (int l = 0; l < local; ++l) {
        const RankBuffers& b = ring.at(k, static_cast<std::size_t>(l));
        poison_outputs_device(shape, b.out_o, b.out_stats, streams[static_cast<std::size_t>(l)]);
      }
    };
    auto verify_slot = [&](std::size_t k, std::uint32_t call) {
      for (int l = 0; l < local; ++l) {
        const RankBuffers& b = ring.at(k, static_cast<std::size_t>(l));
        verifier_.enqueue(shape, m.seed, call, first_rank + l, b.out_o, b.out_stats, moves_stats,
                          streams[static_cast<std::size_t>(l)]);
      }
    };
    const auto ring_size = static_cast<std::size_t>(m.ring);
    for (std::size_t k = 0; k < ring_size; ++k) {
      fill_slot(k, static_cast<std::uint32_t>(k));
      poison_slot(k);
    }
    sync(streams, nullptr, "preparing buffers", m.timeout_s);

    ExchangeSetup setup;
    setup.c = c;
    setup.first_rank = first_rank;
    setup.local_ranks = local;
    setup.ring = ring.sets();
    setup.streams = streams;
    setup.timeout_s = m.timeout_s;
    setup.inject = m.inject;
    setup.allow_unvalidated_path = m.allow_unvalidated_path;
    {
      // Setup may block inside NCCL or the CUDA driver (communicators, windows, cuMem maps):
      // the watchdog ends the job if it never returns.
      const auto guard = world_.guard(fmt::format("setup of {} for {}", run.impl, c.key()),
                                      m.timeout_s + kSetupGraceSeconds);
      impl.setup(setup);
    }
    struct Teardown {
      AllToAllImpl& impl;
      const World& world;
      double seconds;
      ~Teardown() {
        const auto guard = world.guard("teardown of " + impl.name(), seconds);
        impl.teardown();
      }
    } teardown{impl, world_, m.timeout_s + kSetupGraceSeconds};
    result.workspace_bytes = impl.workspace_bytes();
    result.detail = impl.detail();

    // 1. Correctness: fresh inputs on every call (a new call index each), freshly poisoned
    //    outputs, every row checked; at least one call per ring set, and as many as the
    //    implementation needs to reuse every buffer it carries between calls (each FIFO slot)
    //    with fresh data.
    const std::uint64_t fresh = std::max<std::uint64_t>(ring_size, impl.min_fresh_calls());
    world_.barrier("before the correctness pass");
    fresh_calls(impl, streams, fill_slot, poison_slot, verify_slot, 0, fresh,
                "checking correctness");
    VerifyOutcome outcome = verifier_.collect();
    auto next_call = static_cast<std::uint32_t>(fresh);  // past every index used so far

    if (m.stress_calls > 0) {
      outcome.merge(stress(c, impl, streams, fill_slot, poison_slot, verify_slot, next_call));
    } else {
      // 2. Timing. Every set gets inputs no earlier call used and poisoned outputs; the outputs
      //    the last timed pass writes are poisoned again right before it (outside the timed
      //    region), so its check fails if it silently wrote nothing.
      for (std::size_t k = 0; k < ring_size; ++k) {
        fill_slot(k, next_call + static_cast<std::uint32_t>(k));
        poison_slot(k);
      }
      sync(streams, nullptr, "preparing the timed calls", m.timeout_s);
      const TimingPlan tp = timing_plan(c);
      const LastPass last = last_pass(tp);
      std::vector<double> samples;
      try {
        samples = measure([&](std::size_t slot) { impl.run(slot); }, streams, world_, tp,
                          [&] { impl.check(); },
                          [&] {
                            for (std::size_t k : last.slots)
                              poison_slot(k);
                          });
      } catch (const TimeoutError&) {
        impl.abort_inflight();  // e.g. ncclCommAbort, so a stuck collective lets the process exit
        throw;
      }
      // Every set a timed call wrote is checked (those of the last pass were written after their
      // poison); a set no timed call reached (a short run with fewer calls than the ring) still
      // holds its poison and is not one of the timed outputs.
      for (std::size_t k = 0; k < slots_written(tp); ++k)
        verify_slot(k, next_call + static_cast<std::uint32_t>(k));
      sync(streams, nullptr, "verifying timed outputs", m.timeout_s);
      outcome.merge(verifier_.collect());
      Timing t;
      t.samples_s = samples;
      t.stats = summarize(samples);
      t.alg_bw_Bps = alg_bw_Bps(static_cast<double>(result.bytes_per_rank), t.stats.p50);
      t.bus_bw_Bps = bus_bw_alltoall_Bps(t.alg_bw_Bps, c.cp_size);
      result.timing = std::move(t);
    }

    result.verify = reduce_outcome(outcome, world_);
    result.status = result.verify.ok() ? CaseStatus::kOk : CaseStatus::kVerifyFailed;
    if (const auto defect = verification_defect(c.batch, result.verify)) {
      result.status = CaseStatus::kError;
      result.error = *defect;
    }
    world_.barrier("end of case");
    return result;
  }

  /// `count` calls on ring slots i % ring, each on freshly generated inputs (call index
  /// first_call + i) and freshly poisoned outputs, every output row checked on the device;
  /// synchronised (and the impl's check() run) every kStressCallsPerSync calls and at the end.
  template <typename Fill, typename Poison, typename Verify>
  void fresh_calls(AllToAllImpl& impl, const std::vector<StreamHandle>& streams, Fill& fill_slot,
                   Poison& poison_slot, Verify& verify_slot, std::uint32_t first_call,
                   std::uint64_t count, std::string_view what) {
    const auto ring_size = static_cast<std::uint64_t>(spec_.measure.ring);
    for (std::uint64_t i = 0; i < count; ++i) {
      const auto slot = static_cast<std::size_t>(i % ring_size);
      const auto call = first_call + static_cast<std::uint32_t>(i);
      fill_slot(slot, call);
      poison_slot(slot);
      impl.run(slot);
      verify_slot(slot, call);
      if ((i + 1) % kStressCallsPerSync == 0) sync(streams, &impl, what, spec_.measure.timeout_s);
    }
    sync(streams, &impl, what, spec_.measure.timeout_s);
  }

  /// --stress: `stress_calls` exchanges, each on freshly generated inputs (a new call index) and
  /// freshly poisoned outputs, every output row checked on the device.
  template <typename Fill, typename Poison, typename Verify>
  VerifyOutcome stress(const Case& c, AllToAllImpl& impl, const std::vector<StreamHandle>& streams,
                       Fill& fill_slot, Poison& poison_slot, Verify& verify_slot,
                       std::uint32_t first_call) {
    const MeasureOptions& m = spec_.measure;
    std::uint32_t call = first_call;  // past the correctness pass's indices
    world_.barrier("before the stress loop");
    if (c.launch == LaunchMode::kGraph) {
      const int per_replay = std::min(m.graph_calls, m.ring);
      GraphRunner graph([&](std::size_t slot) { impl.run(slot); }, streams, per_replay, m.ring);
      const std::int64_t replays = (m.stress_calls + per_replay - 1) / per_replay;
      for (std::int64_t r = 0; r < replays; ++r) {
        for (int k = 0; k < per_replay; ++k) {
          fill_slot(static_cast<std::size_t>(k), call + static_cast<std::uint32_t>(k));
          poison_slot(static_cast<std::size_t>(k));
        }
        graph.launch();
        for (int k = 0; k < per_replay; ++k) {
          verify_slot(static_cast<std::size_t>(k), call + static_cast<std::uint32_t>(k));
        }
        call += static_cast<std::uint32_t>(per_replay);
        if ((r + 1) * per_replay % kStressCallsPerSync < per_replay) {
          sync(streams, &impl, "stress (graph)", m.timeout_s);
        }
      }
      sync(streams, &impl, "finishing the stress loop", m.timeout_s);
    } else {
      fresh_calls(impl, streams, fill_slot, poison_slot, verify_slot, call,
                  static_cast<std::uint64_t>(m.stress_calls), "stress");
    }
    return verifier_.collect();
  }

  const SweepSpec& spec_;
  ImplProvider& impls_;
  const World& world_;
  std::vector<Stream> streams_;
  DeviceVerifier verifier_;
};

}  // namespace

SweepOutcome run_sweep(const ResolvedSweep& sweep, ImplProvider& impls, const World& world,
                       const ProgressFn& progress) {
  SweepRunner runner(sweep.spec, impls, world);
  return runner.run(sweep.runs, progress);
}

}  // namespace dcp::bench
