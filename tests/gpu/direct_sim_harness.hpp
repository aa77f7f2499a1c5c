#pragma once
/// @file
/// Test harness for the direct strategies in sim mode (cp simulated ranks on one GPU, one stream
/// each), for both operations: a ring of input/output sets, fresh inputs and poisoned outputs on
/// the device before every call (exchange: bench/device_data.hpp; reduce: the reduce pattern,
/// direct_reduce_fill.hpp), checked on the device (exchange: DeviceVerifier, bit for bit against
/// core/pattern.hpp; reduce: merge::DeviceMergeChecker, bit for bit against the merge routine on
/// the delivered inputs, i.e. the CPU reference). Shared by direct_test.cpp and direct_bench.cpp.

#include <cuda_runtime_api.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bench/device_data.hpp"
#include "bench/sync.hpp"
#include "core/accuracy.hpp"
#include "core/case.hpp"
#include "core/cuda_check.hpp"
#include "core/cuda_raii.hpp"
#include "core/host_wait.hpp"
#include "core/impl.hpp"
#include "direct_reduce_fill.hpp"
#include "merge/merge_checker.hpp"
#include "merge/merge_shape.hpp"
#include "sim_setup.hpp"

namespace dcp::testing {

/// A sim case of `op`: reduce has S = 1 and an LSE base; exchange has S = `stats_dim`.
inline Case direct_case(Op op, int cp, std::int64_t entries, int head_dim,
                        DType dtype = DType::kBf16, LseBase base = LseBase::kE, int stats_dim = 2) {
  Case c;
  c.op = op;
  c.cp_size = cp;
  c.batch = entries;
  c.head_dim = head_dim;
  c.stats_dim = op == Op::kReduce ? 1 : stats_dim;
  if (op == Op::kReduce) c.lse_base = base;
  c.dtype = dtype;
  c.workspace = WorkspaceKind::kSim;
  return c;
}

/// What a verified call found: exchange mismatches and reduce accuracy.
struct CallOutcome {
  VerifyOutcome verify;
  Accuracy accuracy;
  bool reduce = false;
  /// Something was checked, and all of it was bit-exact.
  [[nodiscard]] bool exact() const {
    return reduce ? accuracy.rows_checked > 0 && accuracy.identical()
                  : verify.rows_checked > 0 && verify.ok();
  }
  [[nodiscard]] std::string text() const { return reduce ? accuracy.summary() : verify.summary(); }
};

class DirectSim {
 public:
  DirectSim(AllToAllImpl& impl, const Case& c, int ring, double timeout_s = 10.0,
            std::optional<FaultInjection> inject = std::nullopt)
      : impl_(impl),
        case_(c),
        shape_(c.shape()),
        timeout_s_(timeout_s),
        sim_(c, ring, timeout_s, inject) {
    const int cp = c.cp_size;
    reduce_ = c.op == Op::kReduce;
    mshape_ = merge::MergeShape{cp, shape_.entries, shape_.head_dim, shape_.fp16,
                                c.lse_base.value_or(LseBase::kE)};
    impl_.setup(setup_);
  }
  ~DirectSim() {
    try {
      sync();
    } catch (...) {
    }
    impl_.teardown();
  }
  DirectSim(const DirectSim&) = delete;
  DirectSim& operator=(const DirectSim&) = delete;

  [[nodiscard]] const ExchangeShape& shape() const { return shape_; }
  [[nodiscard]] const RankBuffers& buffers(std::size_t slot, int rank) const {
    return setup_.ring[slot].ranks[static_cast<std::size_t>(rank)];
  }
  [[nodiscard]] cudaStream_t stream(int r) const {
    return setup_.streams[static_cast<std::size_t>(r)];
  }
  [[nodiscard]] const std::vector<StreamHandle>& streams() const { return setup_.streams; }

  /// Fresh inputs for input set `call` and poisoned outputs in ring slot `slot`.
  void prepare(std::size_t slot, std::uint32_t call) {
    for (int r = 0; r < case_.cp_size; ++r) {
      const RankBuffers& b = buffers(slot, r);
      if (reduce_) {
        fill_reduce_inputs_device(mshape_, kSeed, call, r, const_cast<void*>(b.in_o),
                                  const_cast<void*>(b.in_stats), stream(r));
        poison_reduce_outputs_device(mshape_, b.out_o, b.out_stats, stream(r));
      } else {
        bench::fill_inputs_device(shape_, kSeed, call, r, const_cast<void*>(b.in_o),
                                  const_cast<void*>(b.in_stats), stream(r));
        bench::poison_outputs_device(shape_, b.out_o, b.out_stats, stream(r));
      }
    }
  }
  void enqueue_verify(std::size_t slot, std::uint32_t call) {
    for (int r = 0; r < case_.cp_size; ++r) {
      const RankBuffers& b = buffers(slot, r);
      if (reduce_) {
        merge_checker_.enqueue(mshape_, kSeed, call, r, static_cast<const std::uint16_t*>(b.out_o),
                               static_cast<const float*>(b.out_stats), stream(r));
      } else {
        verifier_.enqueue(shape_, kSeed, call, r, b.out_o, b.out_stats, true, stream(r));
      }
    }
  }
  void sync() {
    bench::sync_streams(setup_.streams, host_wait_s(timeout_s_), 0, "direct sim test");
  }
  CallOutcome collect() {
    CallOutcome o;
    o.reduce = reduce_;
    if (reduce_) {
      o.accuracy = merge_checker_.collect();
    } else {
      o.verify = verifier_.collect();
    }
    return o;
  }

  /// One verified call: prepare, run, verify, sync, check.
  CallOutcome call(std::size_t slot, std::uint32_t call_index) {
    prepare(slot, call_index);
    impl_.run(slot);
    enqueue_verify(slot, call_index);
    sync();
    impl_.check();
    return collect();
  }

  static constexpr std::uint64_t kSeed = 0xD1EC7;

 private:
  AllToAllImpl& impl_;
  Case case_;
  ExchangeShape shape_;
  merge::MergeShape mshape_;
  bool reduce_ = false;
  double timeout_s_;
  SimSetup sim_;
  ExchangeSetup& setup_ = sim_.setup;
  bench::DeviceVerifier verifier_;
  merge::DeviceMergeChecker merge_checker_;
};

}  // namespace dcp::testing
