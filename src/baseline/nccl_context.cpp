#include "baseline/nccl_context.hpp"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "core/cuda_check.hpp"
#include "core/error.hpp"

namespace dcp::baseline {

namespace {

/// NCCL_WIN_REQUIRED_ALIGNMENT: window sizes and bases are multiples of 4 KiB.
constexpr std::size_t kWindowAlign = 4096;

}  // namespace

NcclContext::NcclContext(NcclBootstrap boot) : boot_(std::move(boot)) {}

NcclContext::~NcclContext() {
  if (comm_ && !comm_->aborted()) {
    for (auto& [base, w] : windows_) {
      try {
        comm_->deregister_window(w.window);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "%s dcpbench: NCCL window deregistration failed: %s\n",
                     boot_.tag.c_str(), e.what());
      }
      nccl_mem_free(reinterpret_cast<void*>(base));
    }
  }
  windows_.clear();
  comm_.reset();
}

NcclComm& NcclContext::comm() {
  if (aborted_) {
    throw NcclError(fmt::format(
        "{} the NCCL communicator was aborted after a timeout; the NCCL baselines cannot run "
        "again in this job",
        boot_.tag));
  }
  if (!comm_) comm_ = std::make_unique<NcclComm>(boot_);
  return *comm_;
}

void NcclContext::abort() noexcept {
  aborted_ = true;
  if (comm_) comm_->abort();
}

void* NcclContext::allocate_window(std::size_t bytes) {
  NcclComm& c = comm();
  const std::size_t size =
      (std::max<std::size_t>(bytes, 1) + kWindowAlign - 1) / kWindowAlign * kWindowAlign;
  void* base = nccl_mem_alloc(size);
  try {
    const NcclWindow window = c.register_window(base, size);
    windows_[reinterpret_cast<std::uintptr_t>(base)] = Window{size, window};
  } catch (...) {
    nccl_mem_free(base);
    throw;
  }
  return base;
}

void NcclContext::release_window(void* base) noexcept {
  const auto it = windows_.find(reinterpret_cast<std::uintptr_t>(base));
  if (it == windows_.end()) {
    std::fprintf(stderr, "%s dcpbench: release of a block that is not an NCCL window\n",
                 boot_.tag.c_str());
    return;
  }
  if (comm_ && !comm_->aborted()) {
    try {
      comm_->deregister_window(it->second.window);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s dcpbench: NCCL window deregistration failed: %s\n",
                   boot_.tag.c_str(), e.what());
    }
  }
  nccl_mem_free(base);
  windows_.erase(it);
}

std::optional<NcclContext::WindowSpan> NcclContext::find_window(const void* ptr) const {
  const auto p = reinterpret_cast<std::uintptr_t>(ptr);
  auto it = windows_.upper_bound(p);
  if (it == windows_.begin()) return std::nullopt;
  --it;
  const std::size_t offset = p - it->first;
  if (offset >= it->second.bytes) return std::nullopt;
  return WindowSpan{it->second.window, offset, it->second.bytes};
}

std::optional<std::string> nccl_rank_layout_reason(const Case& c, int world_size) {
  if (c.cp_size == world_size) return std::nullopt;
  if (world_size == 1) {
    return fmt::format("NCCL needs one GPU per rank; this case simulates cp={} ranks on one GPU",
                       c.cp_size);
  }
  return fmt::format(
      "NCCL needs one GPU per rank; this case has cp={} ranks but the job runs {} (one per GPU)",
      c.cp_size, world_size);
}

void wait_stream_bounded(StreamHandle stream, NcclContext& ctx, double timeout_s,
                         std::string_view what) {
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(timeout_s));
  auto pause = std::chrono::microseconds(1);
  for (;;) {
    const cudaError_t err = cudaStreamQuery(stream);
    if (err == cudaSuccess) return;
    if (err != cudaErrorNotReady) DCP_CUDA_CHECK(err);
    if (std::chrono::steady_clock::now() > deadline) {
      ctx.abort();
      throw TimeoutError(fmt::format(
          "{} {} did not finish within {} s: a peer never joined the NCCL exchange; the NCCL "
          "communicator was aborted",
          ctx.bootstrap().tag, what, timeout_s));
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(1000));
  }
}

}  // namespace dcp::baseline
