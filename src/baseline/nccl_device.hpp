#pragma once
/// @file
/// nccl-device: the exchange written with NCCL's device API (NCCL >= 2.28.9). The runner's buffer
/// blocks are symmetric NCCL windows (make_allocator()), and one kernel pushes every input row of
/// both tensors straight into the owning peer's output window through LSA (load/store accessible)
/// pointers, between two LSA barriers: the entry barrier keeps a rank from writing into a peer
/// whose earlier stream work (poisoning, verification) may still be running, and the exit barrier
/// makes completion of the kernel mean that every peer's rows have landed. The barrier waits are
/// bounded by ExchangeSetup::timeout_s; an expired wait is reported by check().

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "baseline/nccl_context.hpp"
#include "core/impl.hpp"

namespace dcp::baseline {

class NcclDeviceAllToAll final : public AllToAllImpl {
 public:
  explicit NcclDeviceAllToAll(std::shared_ptr<NcclContext> ctx);
  /// Destroys the device communicator (collective, as every rank destroys its impls in order).
  ~NcclDeviceAllToAll() override;

  [[nodiscard]] std::string name() const override;
  /// Local checks first (one GPU per rank, library and header versions, compute capability >=
  /// 9.0). When they pass, the first call creates the NCCL communicator and the device
  /// communicator (collective: the runner asks every rank, in the same order) and checks that
  /// NCCL's LSA team covers every rank.
  [[nodiscard]] std::optional<std::string> unsupported_reason(const Case& c) const override;
  /// Blocks are ncclMemAlloc'ed and registered as symmetric windows (collective).
  [[nodiscard]] std::unique_ptr<BufferAllocator> make_allocator() override;
  /// Requires every ring set's outputs inside one window of make_allocator(), at offsets that
  /// are the same on all ranks (checked with an allgather).
  void setup(const ExchangeSetup& s) override;
  void run(std::size_t slot) override;
  /// Throws TimeoutError when a barrier wait on a peer expired, NcclError for NCCL errors.
  void check() override;
  void teardown() override;
  void abort_inflight() noexcept override;
  [[nodiscard]] std::string detail() const override;

 private:
  struct State;  // device communicator and per-case launch state (nccl_device.cu)

  /// Creates the device communicator on first use and returns why the device API cannot run
  /// here (nullopt when it can). Cached: the answer does not depend on the case.
  std::optional<std::string> prepare_device_api() const;

  std::shared_ptr<NcclContext> ctx_;
  std::unique_ptr<State> state_;
};

}  // namespace dcp::baseline
