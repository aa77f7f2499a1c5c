// A short timing sweep of the native exchange in sim mode (all ranks on one GPU), for the
// kernel's author: per-exchange time inside a CUDA graph (100 exchanges per rank captured,
// replayed) and eager (sync, events around one launch per rank), each case verified bit-exactly
// with fresh inputs before and after timing. Not a ctest; the real benchmark is `dcpbench run`.
//
// Usage: native_sim_bench [--quick | --experiment]
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "bench/timing.hpp"
#include "core/cuda_check.hpp"
#include "core/cuda_raii.hpp"
#include "kernels/native_alltoall.hpp"
#include "native_sim_harness.hpp"

namespace {

using dcp::Case;
using dcp::DType;
using dcp::Event;
using dcp::kernels::NativeAllToAll;
using dcp::kernels::NativeOptions;
using dcp::testing::sim_case;
using dcp::testing::SimHarness;

struct Timing {
  double graph_us = 0;
  double eager_p50_us = 0;
  bool exact = false;
  std::string detail;
};

Timing measure(NativeAllToAll& impl, const Case& c, bool quick) {
  constexpr int kRing = 4;
  constexpr int kGraphCalls = 100;
  SimHarness h(impl, c, kRing, 10.0);
  Timing t;
  t.detail = impl.detail();
  std::uint32_t call = 0;
  bool exact = true;
  for (int k = 0; k < kRing; ++k)
    exact &= h.exchange(static_cast<std::size_t>(k), call++).ok();
  const auto streams = h.streams();

  // Graph: events on stream 0 around replays (the graph joins every rank's stream into it).
  {
    dcp::bench::GraphRunner graph([&](std::size_t slot) { impl.run(slot); }, streams, kGraphCalls,
                                  kRing);
    const int replays = quick ? 5 : 20;
    for (int i = 0; i < 3; ++i)
      graph.launch();
    Event start, stop;
    start.record(streams[0]);
    for (int i = 0; i < replays; ++i)
      graph.launch();
    stop.record(streams[0]);
    h.sync();
    impl.check();
    t.graph_us = stop.seconds_since(start) * 1e6 / (replays * kGraphCalls);
  }
  // Eager: one exchange per iteration, max over the rank streams.
  {
    const int iters = quick ? 20 : 60;
    std::vector<Event> start(streams.size()), stop(streams.size());
    std::vector<double> samples;
    for (int i = 0; i < iters + 5; ++i) {
      h.sync();
      for (std::size_t s = 0; s < streams.size(); ++s)
        start[s].record(streams[s]);
      impl.run(static_cast<std::size_t>(i % kRing));
      for (std::size_t s = 0; s < streams.size(); ++s)
        stop[s].record(streams[s]);
      h.sync();
      double worst = 0;
      for (std::size_t s = 0; s < streams.size(); ++s)
        worst = std::max(worst, stop[s].seconds_since(start[s]));
      if (i >= 5) samples.push_back(worst * 1e6);
    }
    impl.check();
    std::sort(samples.begin(), samples.end());
    t.eager_p50_us = samples[samples.size() / 2];
  }
  // Still exact after thousands of calls on the same counters.
  for (int k = 0; k < kRing; ++k)
    exact &= h.exchange(static_cast<std::size_t>(k), call++).ok();
  t.exact = exact;
  return t;
}

void row(NativeAllToAll& impl, const Case& c, bool quick, const char* note = "") {
  const Timing t = measure(impl, c, quick);
  std::printf("%3d %6lld %4d %2d %5s %4s %9.2f %9.2f %6s  %s %s\n", c.cp_size,
              static_cast<long long>(c.batch), c.head_dim, c.stats_dim,
              c.dtype == DType::kFp16 ? "fp16" : "bf16", c.pdl.value_or(true) ? "on" : "off",
              t.graph_us, t.eager_p50_us, t.exact ? "exact" : "WRONG", t.detail.c_str(), note);
  std::fflush(stdout);
}

/// A named configuration of the exchange (NativeOptions) for the experiment mode.
struct Config {
  const char* name;
  NativeOptions options;
};

NativeOptions options(int max_channels, int slot_lines, int target) {
  NativeOptions o;
  if (max_channels > 0) o.geometry = dcp::kernels::ll128::Geometry{0, max_channels, 4, slot_lines};
  o.target_lines_per_warp = target;
  return o;
}

void experiment(bool quick) {
  // Geometry variants at (about) the same workspace size per rank: C_max x slot lines.
  const Config configs[] = {
      {"default", NativeOptions{}},
      {"t2", options(0, 0, 2)},
      {"t8", options(0, 0, 8)},
  };
  struct Shape {
    int cp;
    std::int64_t e;
    int d;
  };
  const Shape shapes[] = {{2, 1, 128},  {2, 128, 128}, {2, 128, 512}, {4, 1, 128},
                          {4, 16, 128}, {4, 128, 128}, {4, 128, 512}, {4, 1024, 512},
                          {8, 1, 128},  {8, 128, 512}, {4, 4096, 512}};
  for (const Config& cfg : configs) {
    NativeAllToAll impl(nullptr, cfg.options);
    for (const Shape& sh : shapes)
      row(impl, sim_case(sh.cp, sh.e, sh.d, 2), quick, cfg.name);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const bool exp = argc > 1 && std::strcmp(argv[1], "--experiment") == 0;
  try {
    dcp::require_cuda_devices();
    cudaDeviceProp prop{};
    DCP_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
    std::printf("# %s, %d SMs; native exchange, sim mode (all ranks on this GPU)\n", prop.name,
                prop.multiProcessorCount);
    std::printf("# graph: us per exchange, 100 exchanges per rank captured and replayed\n");
    std::printf("# eager: p50 us of one launch per rank between events (max over ranks)\n");
    std::printf(" cp  batch    D  S dtype  pdl  graph_us  eager_us verify  detail\n");
    if (exp) {
      experiment(true);
      return 0;
    }
    NativeAllToAll impl(nullptr);
    for (int cp : {2, 4, 8}) {
      for (std::int64_t e : {1, 16, 64, 128, 1024}) {
        for (int d : {128, 512}) {
          row(impl, sim_case(cp, e, d, 2), quick);
        }
      }
    }
    for (int cp : {2, 4}) {
      row(impl, sim_case(cp, 1, 128, 2, DType::kBf16, false), quick);
      row(impl, sim_case(cp, 128, 512, 2, DType::kBf16, false), quick);
    }
    row(impl, sim_case(16, 128, 512, 2), quick);
    row(impl, sim_case(4, 4096, 512, 2), quick);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "native_sim_bench: %s\n", e.what());
    return 3;
  }
  return 0;
}
