#pragma once
/// @file
/// Test harness for the native exchange in sim mode: cp simulated ranks on one GPU, one stream
/// each, a ring of input/output sets, device-side fill / poison / verify (bench/device_data.hpp).
/// Shared by native_exchange_test.cpp and native_sim_bench.cpp.

#include <cuda_runtime_api.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "bench/device_data.hpp"
#include "bench/sync.hpp"
#include "core/case.hpp"
#include "core/cuda_check.hpp"
#include "core/cuda_raii.hpp"
#include "core/host_wait.hpp"
#include "core/impl.hpp"
#include "kernels/native_alltoall.hpp"
#include "sim_setup.hpp"

namespace dcp::testing {

inline Case sim_case(int cp, std::int64_t batch, int head_dim, int stats_dim,
                     DType dtype = DType::kBf16, bool pdl = true) {
  Case c;
  c.cp_size = cp;
  c.batch = batch;
  c.head_dim = head_dim;
  c.stats_dim = stats_dim;
  c.dtype = dtype;
  c.pdl = pdl;
  c.workspace = WorkspaceKind::kSim;
  return c;
}

/// Buffers and streams for one case; the impl is owned by the caller (so that its workspace
/// cache spans cases).
class SimHarness {
 public:
  SimHarness(kernels::NativeAllToAll& impl, const Case& c, int ring, double timeout_s = 10.0,
             std::optional<FaultInjection> inject = std::nullopt)
      : impl_(impl),
        case_(c),
        shape_(c.shape()),
        timeout_s_(timeout_s),
        sim_(c, ring, timeout_s, inject) {
    impl_.setup(setup_);
  }
  ~SimHarness() {
    try {
      sync();
    } catch (...) {
    }
    impl_.teardown();
  }
  SimHarness(const SimHarness&) = delete;
  SimHarness& operator=(const SimHarness&) = delete;

  [[nodiscard]] const ExchangeShape& shape() const { return shape_; }
  [[nodiscard]] const ExchangeSetup& setup() const { return setup_; }
  [[nodiscard]] std::vector<StreamHandle> streams() const { return setup_.streams; }
  [[nodiscard]] const RankBuffers& buffers(std::size_t slot, int rank) const {
    return setup_.ring[slot].ranks[static_cast<std::size_t>(rank)];
  }

  /// Fresh inputs for input set `call` and poisoned outputs in ring slot `slot`, on each rank's
  /// stream (ordered before the next exchange on that stream).
  void prepare(std::size_t slot, std::uint32_t call) {
    for (int r = 0; r < case_.cp_size; ++r) {
      const RankBuffers& b = buffers(slot, r);
      bench::fill_inputs_device(shape_, kSeed, call, r, const_cast<void*>(b.in_o),
                                const_cast<void*>(b.in_stats), stream(r));
      bench::poison_outputs_device(shape_, b.out_o, b.out_stats, stream(r));
    }
  }
  /// Enqueues the device check of slot `slot` against input set `call` on every rank.
  void enqueue_verify(std::size_t slot, std::uint32_t call) {
    for (int r = 0; r < case_.cp_size; ++r) {
      const RankBuffers& b = buffers(slot, r);
      verifier_.enqueue(shape_, kSeed, call, r, b.out_o, b.out_stats, true, stream(r));
    }
  }
  /// Bounded wait for every stream, longer than the device timeout (host_wait_s), so that a
  /// device-side timeout surfaces through check() with its record and FIFO dump.
  void sync() {
    bench::sync_streams(setup_.streams, host_wait_s(timeout_s_), 0, "native sim test");
  }
  VerifyOutcome collect() { return verifier_.collect(); }

  /// One verified exchange: prepare, run, verify, sync, check; returns the outcome.
  VerifyOutcome exchange(std::size_t slot, std::uint32_t call) {
    prepare(slot, call);
    impl_.run(slot);
    enqueue_verify(slot, call);
    sync();
    impl_.check();
    return collect();
  }

  StreamHandle stream(int r) const { return setup_.streams[static_cast<std::size_t>(r)]; }

  static constexpr std::uint64_t kSeed = 0xA2A0;

 private:
  kernels::NativeAllToAll& impl_;
  Case case_;
  ExchangeShape shape_;
  double timeout_s_;
  SimSetup sim_;
  ExchangeSetup& setup_ = sim_.setup;
  bench::DeviceVerifier verifier_;
};

}  // namespace dcp::testing
