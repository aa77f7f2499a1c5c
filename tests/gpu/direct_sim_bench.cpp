// Benchmark print (not a test, not in ctest): the direct strategies in sim mode (all cp ranks on
// one GPU) at DeepSeek-V3's large decode shapes, against a device-to-device cudaMemcpyAsync of the
// same bytes timed in the same process (issue 16's goal: native-direct at >= 85 % of the copy,
// merge included), and direct-staged against native-direct.
//
// Bytes: every rank sends E x cp rows of D*2 bytes plus E x cp LSEs (4 bytes), itself included;
// the copy moves cp times that in one cudaMemcpyAsync (all ranks share the one GPU in sim mode).
// Both are timed with events over `iters` back-to-back calls after a warm-up and the same inputs
// (correctness is direct_test's job; one verified call first makes sure the timed code works).
//
// Usage: direct_sim_bench [iters=200]
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/cuda_check.hpp"
#include "core/cuda_raii.hpp"
#include "direct_sim_harness.hpp"
#include "kernels/direct_kernel.hpp"
#include "kernels/native_direct.hpp"

namespace {

using dcp::testing::DirectSim;
using namespace dcp;

/// Milliseconds per call of `iters` calls of `body` enqueued on the harness's streams: stream 0
/// records the start, every stream waits for it, runs, and records its end; the time is the
/// latest end.
template <typename Body>
double time_calls(const std::vector<StreamHandle>& streams, int iters, Body&& body) {
  const std::size_t n = streams.size();
  cudaEvent_t start;
  DCP_CUDA_CHECK(cudaEventCreate(&start));
  std::vector<cudaEvent_t> ends(n);
  for (auto& e : ends)
    DCP_CUDA_CHECK(cudaEventCreate(&e));
  DCP_CUDA_CHECK(cudaDeviceSynchronize());
  DCP_CUDA_CHECK(cudaEventRecord(start, streams[0]));
  for (std::size_t i = 1; i < n; ++i)
    DCP_CUDA_CHECK(cudaStreamWaitEvent(streams[i], start, 0));
  for (int k = 0; k < iters; ++k)
    body(k);
  for (std::size_t i = 0; i < n; ++i)
    DCP_CUDA_CHECK(cudaEventRecord(ends[i], streams[i]));
  DCP_CUDA_CHECK(cudaDeviceSynchronize());
  float worst = 0;
  for (auto& e : ends) {
    float ms = 0;
    DCP_CUDA_CHECK(cudaEventElapsedTime(&ms, start, e));
    worst = std::max(worst, ms);
    DCP_CUDA_CHECK(cudaEventDestroy(e));
  }
  DCP_CUDA_CHECK(cudaEventDestroy(start));
  return static_cast<double>(worst) / iters;
}

double time_direct(kernels::NativeDirect& impl, const Case& c, int iters) {
  DirectSim h(impl, c, 1, 30.0);
  const auto o = h.call(0, 0);
  if (!o.exact()) {
    std::printf("  %s NOT EXACT: %s\n", impl.name().c_str(), o.text().c_str());
    std::exit(1);
  }
  for (int k = 0; k < 10; ++k)
    impl.run(0);
  const double ms = time_calls(h.streams(), iters, [&](int) { impl.run(0); });
  impl.check();
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    std::printf("SKIP: no CUDA device\n");
    return 77;
  }
  const int iters = argc > 1 ? std::atoi(argv[1]) : 200;
  std::printf("# %s\n", kernels::direct_kernel_resources().c_str());
  std::printf("%-9s %3s %6s %7s %10s %10s %10s %9s %9s %9s\n", "op", "cp", "tokens", "E", "bytes",
              "copy_us", "direct_us", "staged_us", "dir/copy", "stg/dir");
  kernels::NativeDirect fused(nullptr, kernels::DirectScheme::kFused);
  kernels::NativeDirect staged(nullptr, kernels::DirectScheme::kStaged);
  for (const Op op : {Op::kReduce, Op::kExchange}) {
    for (const int cp : {2, 4, 8}) {
      for (const std::int64_t tokens : {64, 128, 256}) {
        const std::int64_t e = tokens * 16;  // DeepSeek-V3: 16 heads per rank, D = 512
        const Case c = testing::direct_case(op, cp, e, 512, DType::kBf16, LseBase::kTwo, 1);
        const ExchangeShape s = c.shape();
        const auto bytes =
            static_cast<std::size_t>(cp) * static_cast<std::size_t>(s.o_bytes() + s.stats_bytes());
        DeviceMemory src(bytes);
        DeviceMemory dst(bytes);
        Stream copy_stream;
        const std::vector<StreamHandle> one{copy_stream.get()};
        for (int k = 0; k < 10; ++k)
          DCP_CUDA_CHECK(cudaMemcpyAsync(dst.get(), src.get(), bytes, cudaMemcpyDeviceToDevice,
                                         copy_stream.get()));
        const double copy_ms = time_calls(one, iters, [&](int) {
          DCP_CUDA_CHECK(cudaMemcpyAsync(dst.get(), src.get(), bytes, cudaMemcpyDeviceToDevice,
                                         copy_stream.get()));
        });
        const double direct_ms = time_direct(fused, c, iters);
        // direct-staged refuses sim at cp > 2 (a known stall, NativeDirect::unsupported_reason).
        const double staged_ms =
            staged.unsupported_reason(c) ? std::nan("") : time_direct(staged, c, iters);
        std::printf("%-9s %3d %6lld %7lld %10zu %10.2f %10.2f %10.2f %8.0f%% %9.2f\n",
                    op == Op::kReduce ? "reduce" : "exchange", cp, static_cast<long long>(tokens),
                    static_cast<long long>(e), bytes, copy_ms * 1e3, direct_ms * 1e3,
                    staged_ms * 1e3, 100.0 * copy_ms / direct_ms, staged_ms / direct_ms);
      }
    }
  }
  return 0;
}
