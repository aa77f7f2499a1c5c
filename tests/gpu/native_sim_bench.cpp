// Timing and stress harness of the native exchange in sim mode (all ranks on one GPU), for the
// kernel's author (docs/perf/native-speed.md). Not a ctest; the real benchmark is `dcpbench run`.
//
// Graph timing (the anchors' method, shared/docs/anchors.md): 100 exchanges per rank captured in
// one CUDA graph; after warm-up replays, `--samples` replays back to back with an event after
// each; a sample is one replay / 100 (us per exchange); the median of each of `--reps`
// repetitions is reported, and the spread (max - min) / min over them. Eager: sync, events around
// one launch per rank, max over ranks, p50. Every timed case is checked bit-exactly with fresh
// inputs before and after timing.
//
// Modes (any combination; each prints rows tagged with --label):
//   --anchors     the anchor shapes of anchors.md (graph + eager) and their floors
//   --floors      floor kernels: empty PDL grid of the exchange's size, and a one-hop ping
//   --extra       larger shapes, cp 8/16, PDL off
//   --sweep       channel-split and role experiments (not in the baseline build)
//   --stress      fresh-input stress through CUDA graphs: --rows rows checked per shape
//   --quick       fewer samples (smoke test)
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "bench/device_data.hpp"
#include "bench/timing.hpp"
#include "core/cuda_check.hpp"
#include "core/cuda_raii.hpp"
#include "kernels/fused_alltoall.hpp"
#include "kernels/native_alltoall.hpp"
#include "native_floor.hpp"
#include "native_sim_harness.hpp"

namespace {

using dcp::Case;
using dcp::DType;
using dcp::Event;
using dcp::StreamHandle;
using dcp::kernels::NativeAllToAll;
using dcp::kernels::NativeOptions;
using dcp::testing::sim_case;
using dcp::testing::SimHarness;

struct Settings {
  const char* label = "native";
  int samples = 2000;  ///< graph replays per repetition
  int reps = 3;
  int warmup = 30;  ///< graph replays before timing
  int eager_iters = 200;
  double stress_rows = 2e6;
};
Settings g_settings;

constexpr int kGraphCalls = 100;

struct GraphTiming {
  std::vector<double> rep_median_us;  ///< per repetition
  double median_us = 0;               ///< median of the repetition medians
  double spread = 0;                  ///< (max - min) / min of the repetition medians
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

/// Times `enqueue` (one exchange on every stream, slot = ring slot) captured 100x in a graph.
GraphTiming time_graph(const dcp::bench::EnqueueFn& enqueue, const std::vector<StreamHandle>& s,
                       int ring, const std::function<void()>& after_sync) {
  dcp::bench::GraphRunner graph(enqueue, s, kGraphCalls, ring);
  for (int i = 0; i < g_settings.warmup; ++i)
    graph.launch();
  std::vector<Event> ev(static_cast<std::size_t>(g_settings.samples) + 1);
  GraphTiming t;
  for (int rep = 0; rep < g_settings.reps; ++rep) {
    ev[0].record(s[0]);
    for (int i = 0; i < g_settings.samples; ++i) {
      graph.launch();
      ev[static_cast<std::size_t>(i) + 1].record(s[0]);
    }
    dcp::bench::sync_streams(s, 60.0, 0, "graph timing");
    after_sync();
    std::vector<double> us(static_cast<std::size_t>(g_settings.samples));
    for (std::size_t i = 0; i < us.size(); ++i)
      us[i] = ev[i + 1].seconds_since(ev[i]) * 1e6 / kGraphCalls;
    t.rep_median_us.push_back(median(us));
  }
  t.median_us = median(t.rep_median_us);
  const auto [lo, hi] = std::minmax_element(t.rep_median_us.begin(), t.rep_median_us.end());
  t.spread = *lo > 0 ? (*hi - *lo) / *lo : 0;
  return t;
}

/// p50 of one eager launch per stream (max over streams), us.
double time_eager(const std::function<void(std::size_t)>& enqueue,
                  const std::vector<StreamHandle>& s, int ring,
                  const std::function<void()>& after_sync) {
  std::vector<Event> start(s.size()), stop(s.size());
  std::vector<double> samples;
  for (int i = 0; i < g_settings.eager_iters + 10; ++i) {
    dcp::bench::sync_streams(s, 30.0, 0, "eager timing");
    for (std::size_t k = 0; k < s.size(); ++k)
      start[k].record(s[k]);
    enqueue(static_cast<std::size_t>(i % ring));
    for (std::size_t k = 0; k < s.size(); ++k)
      stop[k].record(s[k]);
    dcp::bench::sync_streams(s, 30.0, 0, "eager timing");
    double worst = 0;
    for (std::size_t k = 0; k < s.size(); ++k)
      worst = std::max(worst, stop[k].seconds_since(start[k]));
    if (i >= 10) samples.push_back(worst * 1e6);
  }
  after_sync();
  return median(samples);
}

std::string shape_text(const Case& c) {
  char buf[96];
  std::snprintf(buf, sizeof(buf), "cp%d B%lld D%d S%d %s%s", c.cp_size,
                static_cast<long long>(c.batch), c.head_dim, c.stats_dim,
                c.dtype == DType::kFp16 ? "fp16" : "bf16", c.pdl.value_or(true) ? "" : " nopdl");
  return buf;
}

void print_graph_row(const char* what, const Case& c, const GraphTiming& t, double eager,
                     const char* verify, const std::string& detail) {
  std::printf("ROW %-14s %-10s %-26s graph_us %7.3f [", g_settings.label, what,
              shape_text(c).c_str(), t.median_us);
  for (std::size_t i = 0; i < t.rep_median_us.size(); ++i)
    std::printf("%s%.3f", i ? " " : "", t.rep_median_us[i]);
  std::printf("] spread %5.1f%% eager_us %7.2f %s  %s\n", t.spread * 100, eager, verify,
              detail.c_str());
  std::fflush(stdout);
}

/// Graph + eager timing of the exchange for `c`, verified before and after.
void exchange_row(NativeAllToAll& impl, const Case& c, const char* what = "exchange") {
  constexpr int kRing = 4;
  SimHarness h(impl, c, kRing, 10.0);
  const std::string detail = impl.detail();
  std::uint32_t call = 0;
  bool exact = true;
  for (int k = 0; k < kRing; ++k)
    exact &= h.exchange(static_cast<std::size_t>(k), call++).ok();
  const auto streams = h.streams();
  auto run = [&](std::size_t slot) { impl.run(slot); };
  auto check = [&] { impl.check(); };
  const GraphTiming t = time_graph(run, streams, kRing, check);
  const double eager = time_eager(run, streams, kRing, check);
  for (int k = 0; k < kRing; ++k)
    exact &= h.exchange(static_cast<std::size_t>(k), call++).ok();
  print_graph_row(what, c, t, eager, exact ? "exact" : "WRONG", detail);
}

/// Floors for the shape of `c`: an empty PDL grid as large as the exchange's, a 1-CTA empty
/// grid, and the ping (launch + one flag hop).
void floor_rows(NativeAllToAll& impl, const Case& c) {
  const int cp = c.cp_size;
  const auto plan = impl.plan(c, cp);
  std::vector<dcp::Stream> own(static_cast<std::size_t>(cp));
  std::vector<StreamHandle> streams;
  for (const auto& s : own)
    streams.push_back(s.get());
  const bool pdl = c.pdl.value_or(true);
  auto none = [] {};
  char detail[64];
  std::snprintf(detail, sizeof(detail), "ctas/rank=%d", plan.ctas_per_rank);
  {
    auto enq = [&](std::size_t) {
      for (int r = 0; r < cp; ++r)
        dcp::testing::launch_floor_empty(plan.ctas_per_rank, 128, streams[r], pdl);
    };
    const GraphTiming t = time_graph(enq, streams, 1, none);
    const double eager = time_eager(enq, streams, 1, none);
    print_graph_row("floor-grid", c, t, eager, "-", detail);
  }
  {
    auto enq = [&](std::size_t) {
      for (int r = 0; r < cp; ++r)
        dcp::testing::launch_floor_empty(1, 32, streams[r], pdl);
    };
    const GraphTiming t = time_graph(enq, streams, 1, none);
    const double eager = time_eager(enq, streams, 1, none);
    print_graph_row("floor-1cta", c, t, eager, "-", "ctas/rank=1");
  }
  {
    dcp::DeviceMemory mem(sizeof(std::uint64_t) * (64 * 64 + 64) + sizeof(int));
    DCP_CUDA_CHECK(cudaMemset(mem.get(), 0, sizeof(std::uint64_t) * (64 * 64 + 64) + sizeof(int)));
    auto* mailbox = static_cast<std::uint64_t*>(mem.get());
    std::uint64_t* counters = mailbox + 64 * 64;
    int* failed = reinterpret_cast<int*>(counters + 64);
    auto enq = [&](std::size_t) {
      for (int r = 0; r < cp; ++r)
        dcp::testing::launch_floor_ping(mailbox, counters, r, cp, 2000000000ull, failed, streams[r],
                                        pdl);
    };
    const GraphTiming t = time_graph(enq, streams, 1, none);
    const double eager = time_eager(enq, streams, 1, none);
    int bad = 0;
    DCP_CUDA_CHECK(cudaMemcpy(&bad, failed, sizeof(int), cudaMemcpyDeviceToHost));
    print_graph_row("floor-ping", c, t, eager, bad ? "TIMEOUT" : "-", "1 warp/rank, 1 hop");
  }
}

/// Fresh-input stress: graphs of K calls (fill, poison, exchange, verify per call and rank; G
/// graphs with different input sets, rotated) replayed until `rows` rows were checked.
void stress_row(NativeAllToAll& impl, const Case& c, double rows) {
  const std::int64_t per_call = c.batch * c.cp_size * c.cp_size;
  const int k_calls = per_call >= 100000 ? 8 : 32;
  constexpr int kGraphs = 4;
  SimHarness h(impl, c, k_calls, 10.0);
  const auto streams = h.streams();
  std::uint32_t base = 0;
  auto enq = [&](std::size_t slot) {
    const std::uint32_t call = base + static_cast<std::uint32_t>(slot);
    h.prepare(slot, call);
    impl.run(slot);
    h.enqueue_verify(slot, call);
  };
  std::vector<std::unique_ptr<dcp::bench::GraphRunner>> graphs;
  for (int g = 0; g < kGraphs; ++g) {
    base = 1000u + static_cast<std::uint32_t>(g * k_calls);
    graphs.push_back(std::make_unique<dcp::bench::GraphRunner>(enq, streams, k_calls, k_calls));
  }
  std::uint64_t checked = 0, bad = 0, calls = 0;
  const auto want = static_cast<std::uint64_t>(rows);
  Event t0, t1;
  t0.record(streams[0]);
  for (int replay = 0; checked < want; ++replay) {
    graphs[static_cast<std::size_t>(replay % kGraphs)]->launch();
    calls += static_cast<std::uint64_t>(k_calls);
    if (replay % 64 == 63 || calls * static_cast<std::uint64_t>(per_call) >= want) {
      h.sync();
      impl.check();
      const dcp::VerifyOutcome v = h.collect();
      checked += v.rows_checked;
      bad += v.bad_rows;
      if (!v.ok()) std::printf("  stress mismatch: %s\n", v.summary().c_str());
    }
  }
  t1.record(streams[0]);
  h.sync();
  std::printf("STRESS %-14s %-26s calls %9llu rows %11llu bad_rows %llu  (%.1f s)  %s\n",
              g_settings.label, shape_text(c).c_str(), static_cast<unsigned long long>(calls),
              static_cast<unsigned long long>(checked), static_cast<unsigned long long>(bad),
              t1.seconds_since(t0), impl.detail().c_str());
  std::fflush(stdout);
}

#if DCP_NATIVE_TRACE
/// Where the time of one exchange goes, from the kernel's %globaltimer stamps (trace build):
/// replays a 100-exchange graph, then averages over the last kTraceCalls calls and all warps.
void trace_row(NativeAllToAll& impl, const Case& c) {
  namespace k = dcp::kernels;
  constexpr int kRing = 4;
  SimHarness h(impl, c, kRing, 10.0);
  for (int i = 0; i < kRing; ++i)
    (void)h.exchange(static_cast<std::size_t>(i), static_cast<std::uint32_t>(i));
  const auto streams = h.streams();
  {
    dcp::bench::GraphRunner graph([&](std::size_t slot) { impl.run(slot); }, streams, kGraphCalls,
                                  kRing);
    for (int i = 0; i < 20; ++i)
      graph.launch();
    h.sync();
    impl.check();
  }
  std::vector<std::uint64_t> tr;
  k::fused_alltoall_trace_copy(tr);
  const int cp = std::min(c.cp_size, k::kTraceRanks);
  auto rec = [&](int call, int rank, int w) {
    return &tr[((static_cast<std::size_t>(call) * k::kTraceRanks + rank) * k::kTraceWarps + w) *
               k::kTraceWords];
  };
  struct Acc {
    double sum = 0;
    double n = 0;
    void add(double v) {
      sum += v;
      n += 1;
    }
    double mean() const { return n > 0 ? sum / n : 0; }
  };
  Acc gap, period, span, counters_send, counters_recv, counters_both, inputs, send_done, first_poll,
      poll_time, tail, polls, detect, mhz;
  for (int call = 0; call < k::kTraceCalls; ++call) {
    const int next = (call + 1) % k::kTraceCalls;
    for (int r = 0; r < cp; ++r) {
      double release = 1e300, end = 0, release_next = 1e300;
      for (int w = 0; w < k::kTraceWarps; ++w) {
        const std::uint64_t* a = rec(call, r, w);
        const std::uint64_t* b = rec(next, r, w);
        if (a[1] != 0) {
          release = std::min(release, static_cast<double>(a[1]));
          end = std::max(end, static_cast<double>(a[6]));
          const bool send = ((a[7] >> 48) & 1) != 0;
          const bool recv = ((a[7] >> 49) & 1) != 0;
          const double cnt = static_cast<double>(a[2] - a[1]);
          if (send && recv) {
            counters_both.add(cnt);
          } else if (send) {
            counters_send.add(cnt);
          } else {
            counters_recv.add(cnt);
          }
          if (a[6] > a[1] && a[9] > a[8]) {
            mhz.add(static_cast<double>(a[9] - a[8]) * 1e3 / static_cast<double>(a[6] - a[1]));
          }
          if (send) {
            send_done.add(static_cast<double>(a[3] - a[1]));
            inputs.add(static_cast<double>(a[0] - a[1]));
          }
          if (recv) {
            first_poll.add(static_cast<double>(a[4] - a[1]));
            poll_time.add(static_cast<double>(a[5] - a[4]));
            polls.add(static_cast<double>(a[7] & 0xFFFF));
            // The sender of this stream: rank = my peer, its peer = me, same channel.
            const int peer = static_cast<int>((a[7] >> 16) & 0xFFFF);
            const std::uint64_t ch = (a[7] >> 32) & 0xFFFF;
            if (peer < cp) {
              for (int v = 0; v < k::kTraceWarps; ++v) {
                const std::uint64_t* s = rec(call, peer, v);
                if (s[1] != 0 && ((s[7] >> 48) & 1) != 0 &&
                    static_cast<int>((s[7] >> 16) & 0xFFFF) == r && ((s[7] >> 32) & 0xFFFF) == ch) {
                  detect.add(static_cast<double>(a[5]) - static_cast<double>(s[3]));
                  break;
                }
              }
            }
          }
          if (recv) tail.add(static_cast<double>(a[6] - a[5]));
        }
        if (b[1] != 0) release_next = std::min(release_next, static_cast<double>(b[1]));
      }
      if (end > 0 && release_next < 1e299 && release_next > release) {
        gap.add(release_next - end);
        period.add(release_next - release);
        span.add(end - release);
      }
    }
  }
  std::printf(
      "TRACE %-14s %-26s ns: period %5.0f = span %5.0f + gap %4.0f | counters send %4.0f recv "
      "%4.0f both %4.0f inputs %4.0f | send_done %4.0f first_poll %4.0f poll %5.0f polls %4.2f "
      "detect %4.0f tail %4.0f | SM %4.0f MHz  %s\n",
      g_settings.label, shape_text(c).c_str(), period.mean(), span.mean(), gap.mean(),
      counters_send.mean(), counters_recv.mean(), counters_both.mean(), inputs.mean(),
      send_done.mean(), first_poll.mean(), poll_time.mean(), polls.mean(), detect.mean(),
      tail.mean(), mhz.mean(), impl.detail().c_str());
  std::fflush(stdout);
}
#endif

struct Shape {
  int cp;
  std::int64_t e;
  int d;
  int s = 2;
};

const Shape kAnchors[] = {{2, 1, 128},   {2, 16, 128}, {2, 64, 128},  {2, 128, 128}, {2, 1, 512},
                          {2, 128, 512}, {4, 1, 128},  {4, 128, 128}, {4, 128, 512}};

bool has(int argc, char** argv, const char* flag) {
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], flag) == 0) return true;
  return false;
}
const char* value(int argc, char** argv, const char* flag) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], flag) == 0) return argv[i + 1];
  return nullptr;
}

#ifndef DCP_NATIVE_BENCH_BASELINE
using dcp::kernels::WarpMode;
NativeOptions options(int target, WarpMode warps, int max_channels = 0, int slot_lines = 64) {
  NativeOptions o;
  o.target_lines_per_warp = target;
  o.warps = warps;
  if (max_channels > 0) {
    o.geometry = dcp::kernels::ll128::Geometry{0, max_channels, 4, slot_lines};
  }
  return o;
}
#endif

}  // namespace

int main(int argc, char** argv) {
  if (const char* v = value(argc, argv, "--label")) g_settings.label = v;
  if (const char* v = value(argc, argv, "--samples")) g_settings.samples = std::atoi(v);
  if (const char* v = value(argc, argv, "--reps")) g_settings.reps = std::atoi(v);
  if (const char* v = value(argc, argv, "--rows")) g_settings.stress_rows = std::atof(v);
  if (has(argc, argv, "--quick")) {
    g_settings.samples = 50;
    g_settings.reps = 2;
    g_settings.warmup = 3;
    g_settings.eager_iters = 20;
    g_settings.stress_rows = 2e4;
  }
  try {
    dcp::require_cuda_devices();
    cudaDeviceProp prop{};
    DCP_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
    std::printf("# %s, %d SMs, label %s; native exchange, sim mode (all ranks on this GPU)\n",
                prop.name, prop.multiProcessorCount, g_settings.label);
    std::printf(
        "# graph: us per exchange = median over %d replays of a 100-exchange graph, x%d "
        "repetitions [each]; eager: p50 of one launch per rank (max over ranks)\n",
        g_settings.samples, g_settings.reps);
    if (has(argc, argv, "--anchors")) {
      NativeAllToAll impl(nullptr);
      for (const Shape& s : kAnchors)
        exchange_row(impl, sim_case(s.cp, s.e, s.d, s.s));
    }
    if (has(argc, argv, "--floors")) {
      NativeAllToAll impl(nullptr);
      for (const Shape& s : {kAnchors[0], kAnchors[3], kAnchors[6], kAnchors[8]})
        floor_rows(impl, sim_case(s.cp, s.e, s.d, s.s));
    }
    if (has(argc, argv, "--extra")) {
      NativeAllToAll impl(nullptr);
      for (const Shape& s : {Shape{2, 1024, 512}, Shape{4, 1024, 128}, Shape{4, 4096, 512},
                             Shape{8, 1, 128}, Shape{8, 128, 512}, Shape{16, 128, 512}})
        exchange_row(impl, sim_case(s.cp, s.e, s.d, s.s));
      for (const Shape& s : {kAnchors[0], kAnchors[8]})
        exchange_row(impl, sim_case(s.cp, s.e, s.d, s.s, DType::kBf16, false));
    }
#ifndef DCP_NATIVE_BENCH_BASELINE
    if (has(argc, argv, "--sweep")) {
      struct Exp {
        const char* name;
        NativeOptions o;
      };
      const Exp exps[] = {{"auto-t2", options(2, WarpMode::kAuto)},
                          {"auto-t6", options(6, WarpMode::kAuto)},
                          {"auto-t8", options(8, WarpMode::kAuto)},
                          {"auto-t12", options(12, WarpMode::kAuto)},
                          {"single-t4", options(4, WarpMode::kSingle)}};
      for (const Exp& x : exps) {
        NativeAllToAll impl(nullptr, x.o);
        for (const Shape& s : kAnchors)
          exchange_row(impl, sim_case(s.cp, s.e, s.d, s.s), x.name);
      }
    }
#endif
#if DCP_NATIVE_TRACE
    if (has(argc, argv, "--trace")) {
      for (const WarpMode mode : {WarpMode::kSingle, WarpMode::kSplit}) {
        NativeOptions o;
        o.warps = mode;
        NativeAllToAll impl(nullptr, o);
        for (const Shape& s : kAnchors)
          trace_row(impl, sim_case(s.cp, s.e, s.d, s.s));
      }
    }
#endif
    if (has(argc, argv, "--stress")) {
      NativeAllToAll impl(nullptr);
      for (const Shape& s : kAnchors)
        stress_row(impl, sim_case(s.cp, s.e, s.d, s.s), g_settings.stress_rows);
      for (const Shape& s : {Shape{2, 1024, 512, 4}, Shape{4, 2048, 512, 4}})
        stress_row(impl, sim_case(s.cp, s.e, s.d, s.s), g_settings.stress_rows);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "native_sim_bench: %s\n", e.what());
    return 3;
  }
  return 0;
}
