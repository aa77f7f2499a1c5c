#pragma once
/// @file
/// Test harness for the native reduce strategies in sim mode (cp simulated ranks on one GPU, one
/// stream each): a ring of reduce buffer sets (partial_o [E, cp, D], lse [E, cp], out [E, D],
/// lse_out [E] per rank), fresh inputs per call from merge/reduce_pattern.hpp (uploaded from the
/// host), poisoned outputs (all bits set: NaN in both dtypes and in fp32), and a bit-for-bit
/// comparison of every rank's outputs with the CPU reference (merge/reference.hpp). Shared by
/// native_reduce_test.cpp and native_reduce_bench.cpp.

#include <cuda_runtime_api.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "bench/sync.hpp"
#include "core/case.hpp"
#include "core/cuda_check.hpp"
#include "core/cuda_raii.hpp"
#include "core/host_wait.hpp"
#include "core/impl.hpp"
#include "merge/reference.hpp"
#include "sim_setup.hpp"

namespace dcp::testing {

inline Case reduce_case(int cp, std::int64_t tokens, int heads, int head_dim,
                        DType dtype = DType::kBf16, LseBase base = LseBase::kE, bool pdl = true) {
  Case c;
  c.op = Op::kReduce;
  c.cp_size = cp;
  c.tokens = tokens;
  c.heads = heads;
  c.batch = tokens * heads;
  c.head_dim = head_dim;
  c.stats_dim = 1;
  c.dtype = dtype;
  c.lse_base = base;
  c.pdl = pdl;
  c.workspace = WorkspaceKind::kSim;
  return c;
}

inline merge::MergeShape merge_shape_of(const Case& c) {
  return merge::MergeShape{c.cp_size, c.batch, c.head_dim, c.dtype == DType::kFp16,
                           c.lse_base.value_or(LseBase::kE)};
}

/// What a bit-for-bit comparison found.
struct ReduceCheck {
  std::uint64_t elements = 0;  ///< out elements + lse_out values compared
  std::uint64_t differing = 0;
  std::string first;  ///< the first difference, empty when none
  [[nodiscard]] bool ok() const { return differing == 0 && elements > 0; }
};

class ReduceSimHarness {
 public:
  ReduceSimHarness(AllToAllImpl& impl, const Case& c, int ring, double timeout_s = 10.0,
                   std::optional<FaultInjection> inject = std::nullopt)
      : impl_(impl),
        case_(c),
        shape_(merge_shape_of(c)),
        timeout_s_(timeout_s),
        sim_(c, ring, timeout_s, inject) {
    impl_.setup(setup_);
  }
  ~ReduceSimHarness() {
    try {
      sync();
    } catch (...) {
    }
    impl_.teardown();
  }
  ReduceSimHarness(const ReduceSimHarness&) = delete;
  ReduceSimHarness& operator=(const ReduceSimHarness&) = delete;

  [[nodiscard]] std::vector<StreamHandle> streams() const { return setup_.streams; }
  [[nodiscard]] const merge::MergeShape& shape() const { return shape_; }
  [[nodiscard]] StreamHandle stream(int r) const {
    return setup_.streams[static_cast<std::size_t>(r)];
  }
  [[nodiscard]] const RankBuffers& buffers(std::size_t slot, int r) const {
    return setup_.ring[slot].ranks[static_cast<std::size_t>(r)];
  }

  /// Uploads fresh inputs of input set `call` into ring slot `slot` and poisons its outputs, on
  /// each rank's stream (synchronous with the host: the host staging buffers are reused).
  void prepare(std::size_t slot, std::uint32_t call) {
    const auto e = static_cast<std::size_t>(case_.batch);
    const auto d = static_cast<std::size_t>(case_.head_dim);
    const auto n = static_cast<std::size_t>(case_.cp_size);
    std::vector<std::uint16_t> o(e * n * d);
    std::vector<float> lse(e * n);
    for (int r = 0; r < case_.cp_size; ++r) {
      const RankBuffers& b = buffers(slot, r);
      merge::fill_reduce_inputs_host(shape_, kSeed, call, r, o.data(), lse.data());
      DCP_CUDA_CHECK(cudaMemcpyAsync(const_cast<void*>(b.in_o), o.data(), o.size() * 2,
                                     cudaMemcpyHostToDevice, stream(r)));
      DCP_CUDA_CHECK(cudaMemcpyAsync(const_cast<void*>(b.in_stats), lse.data(), lse.size() * 4,
                                     cudaMemcpyHostToDevice, stream(r)));
      DCP_CUDA_CHECK(cudaMemsetAsync(b.out_o, 0xFF, e * d * 2, stream(r)));
      DCP_CUDA_CHECK(cudaMemsetAsync(b.out_stats, 0xFF, e * 4, stream(r)));
      DCP_CUDA_CHECK(cudaStreamSynchronize(stream(r)));
    }
  }

  /// Bounded wait for every stream, longer than the device timeout.
  void sync() {
    bench::sync_streams(setup_.streams, host_wait_s(timeout_s_), 0, "native reduce sim test");
  }

  /// Compares ring slot `slot` of every rank bit for bit with the CPU reference of `call`.
  ReduceCheck compare(std::size_t slot, std::uint32_t call) const {
    ReduceCheck out;
    const auto e = static_cast<std::size_t>(case_.batch);
    const auto d = static_cast<std::size_t>(case_.head_dim);
    std::vector<std::uint16_t> got_o(e * d);
    std::vector<float> got_lse(e);
    for (int r = 0; r < case_.cp_size; ++r) {
      const RankBuffers& b = buffers(slot, r);
      DCP_CUDA_CHECK(cudaMemcpy(got_o.data(), b.out_o, got_o.size() * 2, cudaMemcpyDeviceToHost));
      DCP_CUDA_CHECK(
          cudaMemcpy(got_lse.data(), b.out_stats, got_lse.size() * 4, cudaMemcpyDeviceToHost));
      const merge::MergeOutputs want = merge::reference_merge(shape_, kSeed, call, r);
      for (std::size_t i = 0; i < got_o.size(); ++i) {
        ++out.elements;
        if (got_o[i] != want.out[i]) {
          if (out.first.empty()) {
            out.first = "rank " + std::to_string(r) + " call " + std::to_string(call) + " entry " +
                        std::to_string(i / d) + " element " + std::to_string(i % d) + ": got 0x" +
                        hex(got_o[i]) + " expected 0x" + hex(want.out[i]);
          }
          ++out.differing;
        }
      }
      for (std::size_t i = 0; i < e; ++i) {
        ++out.elements;
        std::uint32_t a = 0;
        std::uint32_t w = 0;
        std::memcpy(&a, &got_lse[i], 4);
        std::memcpy(&w, &want.lse_out[i], 4);
        if (a != w) {
          if (out.first.empty()) {
            out.first = "rank " + std::to_string(r) + " call " + std::to_string(call) +
                        " lse_out of entry " + std::to_string(i) + ": got 0x" + hex(a) +
                        " expected 0x" + hex(w);
          }
          ++out.differing;
        }
      }
    }
    return out;
  }

  /// One verified call: prepare, run, sync, check, compare.
  ReduceCheck call(std::size_t slot, std::uint32_t call_index) {
    prepare(slot, call_index);
    impl_.run(slot);
    sync();
    impl_.check();
    return compare(slot, call_index);
  }

  static constexpr std::uint64_t kSeed = 0x5EDCE;

 private:
  static std::string hex(std::uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(v));
    return buf;
  }

  AllToAllImpl& impl_;
  Case case_;
  merge::MergeShape shape_;
  double timeout_s_;
  SimSetup sim_;
  ExchangeSetup& setup_ = sim_.setup;
};

}  // namespace dcp::testing
