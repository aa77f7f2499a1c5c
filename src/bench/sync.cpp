#include "bench/sync.hpp"

#include <cuda_runtime_api.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "core/cuda_check.hpp"
#include "core/error.hpp"

namespace dcp::bench {

void sync_streams(std::span<const StreamHandle> streams, double timeout_s, int rank,
                  std::string_view what) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(timeout_s));
  auto pause = std::chrono::microseconds(0);
  for (StreamHandle s : streams) {
    for (;;) {
      const cudaError_t err = cudaStreamQuery(s);
      if (err == cudaSuccess) break;
      if (err != cudaErrorNotReady) DCP_CUDA_CHECK(err);
      if (Clock::now() > deadline) {
        throw TimeoutError(fmt::format(
            "rank {}: GPU work did not finish within {} s while {} (a peer never joined the "
            "exchange, or a kernel hangs)",
            rank, timeout_s, what));
      }
      if (pause.count() > 0) std::this_thread::sleep_for(pause);
      pause = std::min(pause + std::chrono::microseconds(1), std::chrono::microseconds(200));
    }
  }
}

}  // namespace dcp::bench
