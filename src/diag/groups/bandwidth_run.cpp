// Check group `bandwidth`, measured: timed copy-engine copies (probes.hpp) from this rank's GPU
// into its own buffer (the diagonal) and into every same-host peer's cudaMalloc buffer, opened
// with legacy CUDA IPC; one ordered pair at a time. (The cuMem workspace is not used: it is kept
// small, environment.md notes a driver crash with large cuMem mappings.)
#include <cuda_runtime_api.h>
#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "core/cuda_check.hpp"
#include "core/cuda_raii.hpp"
#include "diag/context.hpp"
#include "diag/groups/bandwidth.hpp"
#include "diag/probes.hpp"
#include "diag/registry.hpp"
#include "diag/rules.hpp"

namespace dcp::diag {

namespace {

/// A peer's cudaMalloc buffer opened in this process (legacy CUDA IPC), closed on destruction.
class OpenedIpcBuffer {
 public:
  OpenedIpcBuffer() = default;
  explicit OpenedIpcBuffer(const cudaIpcMemHandle_t& h) {
    DCP_CUDA_CHECK(cudaIpcOpenMemHandle(&ptr_, h, cudaIpcMemLazyEnablePeerAccess));
  }
  OpenedIpcBuffer(OpenedIpcBuffer&& o) noexcept : ptr_(std::exchange(o.ptr_, nullptr)) {}
  OpenedIpcBuffer& operator=(OpenedIpcBuffer&& o) noexcept {
    if (this != &o) {
      reset();
      ptr_ = std::exchange(o.ptr_, nullptr);
    }
    return *this;
  }
  OpenedIpcBuffer(const OpenedIpcBuffer&) = delete;
  OpenedIpcBuffer& operator=(const OpenedIpcBuffer&) = delete;
  ~OpenedIpcBuffer() { reset(); }
  void reset() noexcept {
    if (ptr_ != nullptr) DCP_CUDA_CHECK_NOEXCEPT(cudaIpcCloseMemHandle(ptr_));
    ptr_ = nullptr;
  }
  [[nodiscard]] void* get() const { return ptr_; }

 private:
  void* ptr_ = nullptr;
};

class BandwidthGroup final : public CheckGroup {
 public:
  BandwidthGroup() : CheckGroup(kBandwidthGroup) {}

  void run(Context& ctx, DiagReport& report) override {
    const auto all = ctx.gather_flat(measure(ctx), "diag bandwidth facts");
    append_rows(report, bandwidth_checks(ctx.ranks(), all));
    report.matrices.push_back(bandwidth_matrix(ctx.size(), all, method(ctx.sizes())));
  }

 private:
  static std::string method(const ProbeSizes& s) {
    return fmt::format(
        "cudaMemcpyAsync (copy engine) from the source rank's GPU into the destination rank's "
        "cudaMalloc buffer (opened with cudaIpcOpenMemHandle), {} x {} after {} warm-up, CUDA "
        "events; one ordered pair at a time",
        format_bytes(s.copy_bytes), s.copy_reps, s.copy_warmup);
  }

  static std::vector<BandwidthFacts> measure(Context& ctx) {
    const ProbeSizes& sz = ctx.sizes();
    const int me = ctx.me();
    std::vector<BandwidthFacts> mine;
    const std::size_t bytes = sz.copy_bytes;
    DeviceMemory src;
    DeviceMemory dst;
    const std::string alloc_error = capture_error([&] {
      src = DeviceMemory(bytes);
      dst = DeviceMemory(bytes);
      DCP_CUDA_CHECK(cudaMemset(src.get(), 0x5A, bytes));
      DCP_CUDA_CHECK(cudaMemset(dst.get(), 0, bytes));
      DCP_CUDA_CHECK(cudaDeviceSynchronize());
    });
    const Stream stream;
    const auto timed = [&](BandwidthFacts& f, void* to) {
      f.bytes = bytes;
      f.reps = sz.copy_reps;
      f.error = capture_error([&] {
        f.seconds = time_copies(to, src.get(), bytes, sz.copy_warmup, sz.copy_reps, stream.get(),
                                ctx.host_wait_s());
        f.ran = true;
        f.Bps = f.seconds > 0 ? static_cast<double>(bytes) * f.reps / f.seconds : 0.0;
      });
    };
    for (int r = 0; r < ctx.size(); ++r) {
      ctx.world().barrier("diag bandwidth: self");
      if (r != me) continue;
      BandwidthFacts f;
      f.from = f.to = me;
      if (alloc_error.empty()) {
        timed(f, dst.get());
      } else {
        f.error = alloc_error;
      }
      mine.push_back(f);
    }
    if (ctx.size() < 2) return mine;
    struct Wire {
      std::int32_t ok;
      cudaIpcMemHandle_t handle;
    };
    Wire w{};
    std::string export_error = alloc_error;
    if (export_error.empty()) {
      export_error =
          capture_error([&] { DCP_CUDA_CHECK(cudaIpcGetMemHandle(&w.handle, dst.get())); });
    }
    w.ok = export_error.empty() ? 1 : 0;
    const auto wires = ctx.world().allgather(w, "diag bandwidth IPC handles");
    std::vector<OpenedIpcBuffer> opened(static_cast<std::size_t>(ctx.size()));
    std::vector<std::string> open_error(static_cast<std::size_t>(ctx.size()));
    for (int p = 0; p < ctx.size(); ++p) {
      if (p == me || pair_skip_reason(ctx.rank(me), ctx.rank(p), true)) continue;
      const auto i = static_cast<std::size_t>(p);
      if (wires[i].ok == 0) {
        open_error[i] = fmt::format("rank {} could not export its buffer", p);
      } else {
        open_error[i] = capture_error([&] { opened[i] = OpenedIpcBuffer(wires[i].handle); });
      }
    }
    for (int a = 0; a < ctx.size(); ++a) {
      for (int b = 0; b < ctx.size(); ++b) {
        if (a == b) continue;
        ctx.world().barrier("diag bandwidth: pair");
        if (me != a) continue;
        BandwidthFacts f;
        f.from = a;
        f.to = b;
        const auto i = static_cast<std::size_t>(b);
        const RankFacts& from = ctx.rank(a);
        const RankFacts& to = ctx.rank(b);
        const bool peer_visible = std::find(from.visible_uuids.begin(), from.visible_uuids.end(),
                                            to.gpu_uuid) != from.visible_uuids.end();
        if (auto why = pair_skip_reason(from, to, true)) {
          f.skip_reason =
              from.host == to.host ? *why + ": a copy between them crosses no link" : *why;
        } else if (!alloc_error.empty()) {
          f.error = alloc_error;
        } else if (!open_error[i].empty() && !peer_visible) {
          // Legacy CUDA IPC may need the peer GPU visible in-process: not a fault of the link.
          f.skip_reason = fmt::format(
              "rank {}'s GPU is not visible in rank {}'s process (CUDA_VISIBLE_DEVICES={}) and "
              "this copy-engine test opens the peer's buffer with cudaIpcOpenMemHandle, which "
              "failed: {}; run with every GPU visible to every rank to measure it",
              b, a, from.cvd_set ? from.cvd : "(unset)", open_error[i]);
        } else if (!open_error[i].empty()) {
          f.error = "cudaIpcOpenMemHandle of the peer's buffer: " + open_error[i];
        } else {
          timed(f, opened[i].get());
        }
        mine.push_back(f);
      }
    }
    opened.clear();
    ctx.world().barrier("diag bandwidth: buffers closed");  // before any rank frees its buffer
    return mine;
  }
};

}  // namespace

std::unique_ptr<CheckGroup> make_bandwidth_group() {
  return std::make_unique<BandwidthGroup>();
}

}  // namespace dcp::diag
