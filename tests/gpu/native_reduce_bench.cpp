// native_reduce_bench: graph p50 (us per call, sim mode on one GPU, max over nothing: one graph
// forks every rank's stream) of the native reduce paths at DeepSeek-V3 decode shapes, for the
// goal of issue 16 (fused reduce <= native exchange-only + 0.3 us). A benchmark print, not a
// test. Columns:
//   xchg S=2     native --op exchange of the same E, D with stats_dim 2 (today's exchange)
//   xchg S=1     the exchange part of native --op reduce (partial_o + the LSE packed)
//   merge        the merge part of native --op reduce alone
//   native       native --op reduce: exchange + merge kernel (two launches per rank)
//   fused        native-fused: one kernel per rank
// Every timed case is first checked bit for bit against the CPU reference (one call).
// Usage: native_reduce_bench [--replays N] (default 50 replays of a 100-call graph, x3).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "bench/sync.hpp"
#include "bench/timing.hpp"
#include "core/cuda_raii.hpp"
#include "core/error.hpp"
#include "kernels/native_alltoall.hpp"
#include "kernels/native_fused.hpp"
#include "kernels/native_strategy.hpp"
#include "native_sim_harness.hpp"
#include "reduce_sim_harness.hpp"

namespace {

using dcp::Case;
using dcp::StreamHandle;

constexpr int kGraphCalls = 100;
int g_replays = 50;
constexpr int kReps = 3;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

/// Median over kReps of the median over g_replays replays of a kGraphCalls-call graph (us/call).
double time_graph(const dcp::bench::EnqueueFn& enqueue, const std::vector<StreamHandle>& s,
                  const std::function<void()>& after_sync) {
  dcp::bench::GraphRunner graph(enqueue, s, kGraphCalls, 1);
  for (int i = 0; i < 5; ++i)
    graph.launch();
  std::vector<dcp::Event> ev(static_cast<std::size_t>(g_replays) + 1);
  std::vector<double> reps;
  for (int rep = 0; rep < kReps; ++rep) {
    ev[0].record(s[0]);
    for (int i = 0; i < g_replays; ++i) {
      graph.launch();
      ev[static_cast<std::size_t>(i) + 1].record(s[0]);
    }
    dcp::bench::sync_streams(s, 60.0, 0, "graph timing");
    after_sync();
    std::vector<double> us(static_cast<std::size_t>(g_replays));
    for (std::size_t i = 0; i < us.size(); ++i)
      us[i] = ev[i + 1].seconds_since(ev[i]) * 1e6 / kGraphCalls;
    reps.push_back(median(us));
  }
  return median(reps);
}

double time_reduce(dcp::AllToAllImpl& impl, const Case& c, int part) {
  dcp::testing::ReduceSimHarness h(impl, c, 1);
  const dcp::testing::ReduceCheck r = h.call(0, 0);
  if (!r.ok()) {
    std::fprintf(stderr, "NOT EXACT: %s %s\n", impl.name().c_str(), r.first.c_str());
    std::exit(1);
  }
  const auto enqueue = [&](std::size_t slot) {
    if (part < 0) {
      impl.run(slot);
    } else {
      impl.run_part(slot, static_cast<std::size_t>(part));
    }
  };
  return time_graph(enqueue, h.streams(), [&] { impl.check(); });
}

double time_exchange(dcp::kernels::NativeAllToAll& impl, const Case& c) {
  dcp::testing::SimHarness h(impl, c, 1);
  if (!h.exchange(0, 0).ok()) {
    std::fprintf(stderr, "NOT EXACT: native exchange\n");
    std::exit(1);
  }
  return time_graph([&](std::size_t slot) { impl.run(slot); }, h.streams(), [&] { impl.check(); });
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--replays") == 0) g_replays = std::max(1, std::atoi(argv[i + 1]));
  }
  try {
    dcp::kernels::NativeAllToAll exchange(nullptr);
    dcp::kernels::NativeStrategy native(nullptr);
    dcp::kernels::NativeFused fused(nullptr);
    std::printf(
        "# graph p50, us per call, sim mode (cp ranks on one GPU), DeepSeek-V3 D=512 "
        "bf16 lse=2, %d replays of %d calls x%d\n",
        g_replays, kGraphCalls, kReps);
    std::printf("%-4s %-6s %-5s %-6s %10s %10s %8s %8s %8s %12s\n", "cp", "tokens", "heads", "E",
                "xchg S=2", "xchg S=1", "merge", "native", "fused", "fused-xchg");
    for (int cp : {2, 4, 8}) {
      for (std::int64_t tokens : {1, 8}) {
        const int heads = 16;
        const Case rc = dcp::testing::reduce_case(cp, tokens, heads, 512, dcp::DType::kBf16,
                                                  dcp::LseBase::kTwo);
        const Case xc = dcp::testing::sim_case(cp, tokens * heads, 512, 2);
        const double x2 = time_exchange(exchange, xc);
        const double x1 = time_reduce(native, rc, 0);
        const double m = time_reduce(native, rc, 1);
        const double nat = time_reduce(native, rc, -1);
        double f = -1;
        if (auto why = fused.unsupported_reason(rc)) {
          std::printf("# fused refused: %s\n", why->c_str());
        } else {
          f = time_reduce(fused, rc, -1);
        }
        std::printf("%-4d %-6lld %-5d %-6lld %10.3f %10.3f %8.3f %8.3f %8.3f %+12.3f\n", cp,
                    static_cast<long long>(tokens), heads, static_cast<long long>(rc.batch), x2, x1,
                    m, nat, f, f - x2);
      }
    }
  } catch (const dcp::Error& e) {
    std::fprintf(stderr, "native_reduce_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
