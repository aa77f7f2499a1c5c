// Why one file of ~640 lines: the per-case sequence (setup, correctness pass, timing per launch
// mode and part, stress, verification of the timed outputs, abort on a hang) shares one case's
// state; buffers (buffer_ring), inputs (device_data, reduce_data) and timing live apart.
#include "bench/runner.hpp"

#include <cuda_runtime_api.h>
#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <memory>
#include <optional>
#include <utility>

#include "bench/buffer_ring.hpp"
#include "bench/device_data.hpp"
#include "bench/reduce_data.hpp"
#include "bench/sync.hpp"
#include "bench/timing.hpp"
#include "core/bandwidth.hpp"
#include "core/cuda_check.hpp"
#include "core/cuda_raii.hpp"
#include "core/error.hpp"
#include "core/hang_report.hpp"
#include "core/host_wait.hpp"
#include "core/stats.hpp"
#include "merge/case_shape.hpp"
#include "merge/merge_checker.hpp"

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

/// Accuracy's fields as one fixed-size record, gathered across ranks.
struct AccuracyWire {
  std::uint64_t rows_checked, rows_identical, elements_checked, values_differing, lse_differing,
      calls;
  double ulp_max, ulp_sum, lse_ulp_max, lse_ulp_sum, cond_ulp_max;
  int has_first;
  int first_dst, first_element;
  std::uint32_t first_call, first_got, first_expected;
  long long first_entry;
};

/// Every rank's accuracy record merged in rank order (sums, maxima, the lowest rank's first
/// difference), and the verified calls summed over ranks.
std::pair<Accuracy, std::uint64_t> reduce_accuracy(const Accuracy& mine, std::uint64_t calls,
                                                   const World& world) {
  AccuracyWire w{};
  w.rows_checked = mine.rows_checked;
  w.rows_identical = mine.rows_identical;
  w.elements_checked = mine.elements_checked;
  w.values_differing = mine.values_differing;
  w.lse_differing = mine.lse_differing;
  w.calls = calls;
  w.ulp_max = mine.ulp_max;
  w.ulp_sum = mine.ulp_sum;
  w.lse_ulp_max = mine.lse_ulp_max;
  w.lse_ulp_sum = mine.lse_ulp_sum;
  w.cond_ulp_max = mine.cond_ulp_max;
  if (mine.first) {
    w.has_first = 1;
    w.first_dst = mine.first->dst_rank;
    w.first_element = mine.first->element;
    w.first_call = mine.first->call;
    w.first_got = mine.first->got_bits;
    w.first_expected = mine.first->expected_bits;
    w.first_entry = mine.first->entry;
  }
  Accuracy out;
  std::uint64_t total_calls = 0;
  for (const AccuracyWire& r : world.allgather(w, "accuracy records")) {
    Accuracy a;
    a.rows_checked = r.rows_checked;
    a.rows_identical = r.rows_identical;
    a.elements_checked = r.elements_checked;
    a.values_differing = r.values_differing;
    a.lse_differing = r.lse_differing;
    a.ulp_max = r.ulp_max;
    a.ulp_sum = r.ulp_sum;
    a.lse_ulp_max = r.lse_ulp_max;
    a.lse_ulp_sum = r.lse_ulp_sum;
    a.cond_ulp_max = r.cond_ulp_max;
    if (r.has_first) {
      a.first = MergeDifference{r.first_dst,     r.first_call, r.first_entry,
                                r.first_element, r.first_got,  r.first_expected};
    }
    out.merge(a);
    total_calls += r.calls;
  }
  return {out, total_calls};
}

/// The verdict on a reduce row's accuracy (all ranks), as the VerifyOutcome every row carries:
/// exact rows fail on any differing bit; others on an element error beyond ulp_bound x cp or any
/// lse_out differing from the reference (runner.hpp).
VerifyOutcome reduce_verdict(const Accuracy& acc, std::uint64_t calls, const ImplTraits& traits,
                             int cp) {
  VerifyOutcome v;
  v.calls_checked = calls;
  v.rows_checked = acc.rows_checked;
  bool pass = acc.identical() && acc.values_differing == 0;
  if (!traits.exact) {
    const double bound = static_cast<double>(traits.ulp_bound) * cp;
    pass = acc.cond_ulp_max <= bound && acc.lse_differing == 0;
  }
  if (!pass) {
    v.bad_rows = std::max<std::uint64_t>(1, acc.rows_checked - acc.rows_identical);
    v.mismatched_elements = acc.values_differing;
    if (acc.first) {
      const MergeDifference& f = *acc.first;
      v.first = Mismatch{f.element < 0 ? "lse_out" : "out",
                         f.dst_rank,
                         -1,  // a merged row has no single source
                         f.entry,
                         f.element < 0 ? 0 : f.element,
                         f.call,
                         f.expected_bits,
                         f.got_bits};
    }
  }
  return v;
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
      CaseResult r;
      try {
        r = run_one(plan[i]);
      } catch (const TimeoutError& e) {
        // The wait that expired already released the implementation's stuck work
        // (abort_inflight); nothing after this case can be trusted to run.
        r = CaseResult{};
        r.c = plan[i].c;
        r.impl = plan[i].impl;
        r.status = CaseStatus::kError;
        r.error = e.what();
        if (const auto* hang = dynamic_cast<const HangError*>(&e)) r.hang = hang->report();
        out.results.push_back(std::move(r));
        out.aborted = true;
        out.abort_reason = e.what();
        break;
      }
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
      sync_streams(streams, host_wait_s(timeout_s), world_.rank(), what);
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
    return TimingPlan{c.launch, m.warmup, m.iters, m.graph_calls, m.ring, host_wait_s(m.timeout_s)};
  }

  /// Why `row` cannot run `c` at all, from the row alone (identical on every rank).
  static std::optional<std::string> row_skip_reason(const ImplInfo& row, const Case& c) {
    if (!row.ops.contains(c.op)) {
      return fmt::format("{} does not implement --op {}", row.name, to_string(c.op));
    }
    if (!row.launches.contains(c.launch)) {
      return fmt::format("{} does not support launch mode {}", row.name, to_string(c.launch));
    }
    if (c.op == Op::kExchange && !row.traits.exact) {
      return fmt::format(
          "{} is not bit-exact (within {} ulp per source) and the exchange is verified bit-exact",
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
    const bool reduce = c.op == Op::kReduce;
    const bool moves_stats = reduce || row.traits.moves_stats;
    // Op reduce sends every row with its fp32 LSE.
    const std::uint64_t stats_row = reduce ? sizeof(float) : c.stats_row_bytes();
    result.bytes_per_rank = static_cast<std::uint64_t>(c.batch) *
                            static_cast<std::uint64_t>(c.cp_size) *
                            (c.o_row_bytes() + (moves_stats ? stats_row : 0));
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
    const merge::MergeShape mshape = merge::merge_shape_of(c);
    const int local = is_sim(c) ? c.cp_size : 1;
    const int first_rank = is_sim(c) ? 0 : world_.rank();
    const MeasureOptions& m = spec_.measure;
    const auto streams = streams_for(local);

    std::unique_ptr<BufferAllocator> own_alloc = impl.make_allocator();
    CudaMallocAllocator plain;
    BufferAllocator& alloc = own_alloc ? *own_alloc : plain;
    BufferRing ring(TensorBytes::of(c), m.ring, local, alloc);

    // Input set k holds call index k; every output starts poisoned.
    auto fill_slot = [&](std::size_t k, std::uint32_t call) {
      for (int l = 0; l < local; ++l) {
        const RankBuffers& b = ring.at(k, static_cast<std::size_t>(l));
        if (reduce) {
          fill_reduce_inputs_device(mshape, m.seed, call, first_rank + l, const_cast<void*>(b.in_o),
                                    const_cast<void*>(b.in_stats),
                                    streams[static_cast<std::size_t>(l)]);
        } else {
          fill_inputs_device(shape, m.seed, call, first_rank + l, const_cast<void*>(b.in_o),
                             const_cast<void*>(b.in_stats), streams[static_cast<std::size_t>(l)]);
        }
      }
    };
    auto poison_slot = [&](std::size_t k) {
      for (int l = 0; l < local; ++l) {
        const RankBuffers& b = ring.at(k, static_cast<std::size_t>(l));
        if (reduce) {
          poison_reduce_outputs_device(mshape, b.out_o, b.out_stats,
                                       streams[static_cast<std::size_t>(l)]);
        } else {
          poison_outputs_device(shape, b.out_o, b.out_stats, streams[static_cast<std::size_t>(l)]);
        }
      }
    };
    auto verify_slot = [&](std::size_t k, std::uint32_t call) {
      for (int l = 0; l < local; ++l) {
        const RankBuffers& b = ring.at(k, static_cast<std::size_t>(l));
        if (reduce) {
          merge_checker_.enqueue(
              mshape, m.seed, call, first_rank + l, static_cast<const std::uint16_t*>(b.out_o),
              static_cast<const float*>(b.out_stats), streams[static_cast<std::size_t>(l)]);
          ++reduce_calls_;
        } else {
          verifier_.enqueue(shape, m.seed, call, first_rank + l, b.out_o, b.out_stats, moves_stats,
                            streams[static_cast<std::size_t>(l)]);
        }
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
    VerifyOutcome outcome;
    Accuracy accuracy;
    reduce_calls_ = 0;
    // What the checks enqueued since the last collect, into outcome (exchange) or accuracy.
    auto collect = [&] {
      if (reduce) {
        accuracy.merge(merge_checker_.collect());
      } else {
        outcome.merge(verifier_.collect());
      }
    };
    fresh_calls(impl, streams, fill_slot, poison_slot, verify_slot, 0, fresh,
                "checking correctness");
    collect();
    auto next_call = static_cast<std::uint32_t>(fresh);  // past every index used so far

    if (m.stress_calls > 0) {
      stress(c, impl, streams, fill_slot, poison_slot, verify_slot, next_call);
      collect();
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
      collect();
      Timing t;
      t.samples_s = samples;
      t.stats = summarize(samples);
      t.alg_bw_Bps = alg_bw_Bps(static_cast<double>(result.bytes_per_rank), t.stats.p50);
      t.bus_bw_Bps = bus_bw_alltoall_Bps(t.alg_bw_Bps, c.cp_size);
      result.timing = std::move(t);
      // 3. Each part of a multi-launch strategy alone, the same way (after the timed outputs
      //    were checked: a part alone leaves them half-computed).
      result.parts = time_parts(impl, streams, tp);
    }

    if (reduce) {
      const auto [all, calls] = reduce_accuracy(accuracy, reduce_calls_, world_);
      result.accuracy = all;
      result.verify = reduce_verdict(all, calls, row.traits, c.cp_size);
    } else {
      result.verify = reduce_outcome(outcome, world_);
    }
    result.status = result.verify.ok() ? CaseStatus::kOk : CaseStatus::kVerifyFailed;
    if (const auto defect = verification_defect(c.batch, result.verify)) {
      result.status = CaseStatus::kError;
      result.error = *defect;
    }
    world_.barrier("end of case");
    return result;
  }

  /// Times every part of `impl` (AllToAllImpl::parts) alone with `tp`; empty without parts.
  std::vector<PartTiming> time_parts(AllToAllImpl& impl, const std::vector<StreamHandle>& streams,
                                     const TimingPlan& tp) {
    std::vector<PartTiming> out;
    const std::vector<std::string> names = impl.parts();
    for (std::size_t p = 0; p < names.size(); ++p) {
      std::vector<double> samples;
      try {
        samples = measure([&](std::size_t slot) { impl.run_part(slot, p); }, streams, world_, tp,
                          [&] { impl.check(); }, {});
      } catch (const TimeoutError&) {
        impl.abort_inflight();
        throw;
      }
      PartTiming part;
      part.name = names[p];
      part.timing.samples_s = samples;
      part.timing.stats = summarize(samples);
      out.push_back(std::move(part));
    }
    return out;
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
  /// freshly poisoned outputs, every output row checked on the device (collected by the caller).
  template <typename Fill, typename Poison, typename Verify>
  void stress(const Case& c, AllToAllImpl& impl, const std::vector<StreamHandle>& streams,
              Fill& fill_slot, Poison& poison_slot, Verify& verify_slot, std::uint32_t first_call) {
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
  }

  const SweepSpec& spec_;
  ImplProvider& impls_;
  const World& world_;
  std::vector<Stream> streams_;
  DeviceVerifier verifier_;
  merge::DeviceMergeChecker merge_checker_;
  std::uint64_t reduce_calls_ = 0;  ///< merged outputs checked in the current case
};

}  // namespace

SweepOutcome run_sweep(const ResolvedSweep& sweep, ImplProvider& impls, const World& world,
                       const ProgressFn& progress) {
  SweepRunner runner(sweep.spec, impls, world);
  return runner.run(sweep.runs, progress);
}

}  // namespace dcp::bench
