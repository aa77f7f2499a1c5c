#pragma once
/// @file
/// NcclContext: the state every NCCL baseline of one job shares: the bootstrap, the lazily
/// created communicator, and the symmetric windows registered for nccl-device's buffers.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "baseline/nccl_comm.hpp"
#include "core/impl.hpp"

namespace dcp::baseline {

class NcclContext {
 public:
  explicit NcclContext(NcclBootstrap boot);
  /// Deregisters windows still registered, then destroys the communicator.
  ~NcclContext();
  NcclContext(const NcclContext&) = delete;
  NcclContext& operator=(const NcclContext&) = delete;

  [[nodiscard]] const NcclBootstrap& bootstrap() const { return boot_; }
  [[nodiscard]] int rank() const { return boot_.rank; }
  [[nodiscard]] int size() const { return boot_.size; }

  /// The communicator, created on the first call on the current CUDA device. Collective: every
  /// rank makes its first call at the same point of the sweep (the runner calls setup(), and
  /// nccl-device's unsupported_reason(), on all ranks in the same order). Throws NcclError once
  /// the communicator was aborted.
  NcclComm& comm();
  [[nodiscard]] bool has_comm() const { return comm_ != nullptr; }
  /// True after abort(): every NCCL baseline of this job is unusable.
  [[nodiscard]] bool aborted() const { return aborted_; }
  /// ncclCommAbort (see AllToAllImpl::abort_inflight). Never throws.
  void abort() noexcept;

  /// ncclMemAlloc of `bytes` (rounded up to NCCL's 4 KiB window alignment) registered as a
  /// symmetric window. Collective: every rank allocates the same sizes in the same order.
  [[nodiscard]] void* allocate_window(std::size_t bytes);
  /// Deregisters and frees a block from allocate_window() (collective, same order everywhere).
  void release_window(void* base) noexcept;

  /// Where a device pointer lies inside a registered window.
  struct WindowSpan {
    NcclWindow window = nullptr;
    std::size_t offset = 0;  ///< bytes from the window's base
    std::size_t bytes = 0;   ///< registered bytes of the whole window
  };
  /// The window holding `ptr`, or nullopt when `ptr` is not inside a registered window.
  [[nodiscard]] std::optional<WindowSpan> find_window(const void* ptr) const;

 private:
  struct Window {
    std::size_t bytes = 0;
    NcclWindow window = nullptr;
  };

  NcclBootstrap boot_;
  std::unique_ptr<NcclComm> comm_;
  bool aborted_ = false;
  std::map<std::uintptr_t, Window> windows_;  ///< by base address
};

/// Why an NCCL baseline cannot run case `c` in a job of `world_size` ranks (NCCL runs one rank
/// per GPU, so cp_size must equal the job size; the single-GPU sim mode is skipped), or nullopt.
/// Depends only on `c` and `world_size`, hence identical on all ranks.
[[nodiscard]] std::optional<std::string> nccl_rank_layout_reason(const Case& c, int world_size);

/// Waits for `stream` by polling (cudaStreamQuery) for at most `timeout_s`; at the deadline
/// aborts `ctx`'s communicator (so NCCL kernels stuck on peers end) and throws TimeoutError
/// naming `what`.
void wait_stream_bounded(StreamHandle stream, NcclContext& ctx, double timeout_s,
                         std::string_view what);

/// A BufferAllocator whose blocks are symmetric NCCL windows of `ctx` (for nccl-device).
class NcclWindowAllocator final : public BufferAllocator {
 public:
  explicit NcclWindowAllocator(std::shared_ptr<NcclContext> ctx) : ctx_(std::move(ctx)) {}
  void* allocate(std::size_t bytes) override { return ctx_->allocate_window(bytes); }
  void release(void* ptr) noexcept override { ctx_->release_window(ptr); }

 private:
  std::shared_ptr<NcclContext> ctx_;
};

}  // namespace dcp::baseline
