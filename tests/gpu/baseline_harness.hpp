#pragma once
// Test harness for the NCCL baselines (used by tests/gpu and tests/mpi): drives one
// AllToAllImpl through unsupported_reason / make_allocator / setup / run / check / teardown the
// way the runner does, on a ring of input/output sets whose outputs start poisoned, and checks
// every rank's outputs bit by bit with the host oracle (core/verify.hpp).
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "baseline/impls.hpp"
#include "baseline/nccl_context.hpp"
#include "bench/buffer_ring.hpp"
#include "core/cuda_check.hpp"
#include "core/impl.hpp"
#include "core/impl_info.hpp"
#include "core/pattern.hpp"
#include "core/shape.hpp"
#include "core/verify.hpp"

namespace dcp::baseline::testing {

inline constexpr std::uint64_t kSeed = 0xD0C5EEDull;

using bench::CudaMallocAllocator;

/// The registry row of the NCCL baseline called `name` (nullptr for variants without one).
inline const ImplInfo* nccl_row(std::string_view name) {
  for (const ImplInfo& row : nccl_impls()) {
    if (row.name == name) return &row;
  }
  return nullptr;
}

/// The baseline of registry row `name`, made by the row's own factory over `ctx` (stored in the
/// ImplEnv where the factories look for the job's context).
inline std::unique_ptr<AllToAllImpl> make_from_row(std::string_view name,
                                                   std::shared_ptr<NcclContext> ctx) {
  const ImplInfo* row = nccl_row(name);
  if (!row || !row->make) throw Error("no NCCL baseline row called " + std::string(name));
  ImplEnv env(nullptr);
  (void)env.shared<NcclContext>(kNcclContextKey, [&] { return ctx; });
  return row->make(env);
}

/// The runner's ring with one local rank.
class TestRing {
 public:
  TestRing(const ExchangeShape& shape, int sets, BufferAllocator& alloc)
      : ring_(shape, sets, 1, alloc) {}
  [[nodiscard]] const std::vector<BufferSet>& sets() const { return ring_.sets(); }
  [[nodiscard]] const RankBuffers& at(std::size_t k) const { return ring_.at(k, 0); }

 private:
  bench::BufferRing ring_;
};

/// What one run_exchange() saw.
struct ExchangeReport {
  VerifyOutcome eager;          ///< outputs of one eager run() per ring set
  VerifyOutcome graph;          ///< outputs of the same calls replayed from a CUDA graph
  bool stats_untouched = true;  ///< every softmax_stats output still poisoned (nccl-1x)
  std::string detail;
  std::size_t workspace_bytes = 0;
};

/// Runs `impl` on case `c` as rank `rank` of `ctx`'s job: `sets` ring sets, each input set k
/// filled for call k; outputs poisoned; one eager run() per set, then the same calls captured in
/// a CUDA graph and replayed on freshly poisoned outputs. Skip checks are the caller's.
inline ExchangeReport run_exchange(AllToAllImpl& impl, NcclContext& ctx, const Case& c, int rank,
                                   const ExchangeSetup* overrides = nullptr, int sets = 2,
                                   double timeout_s = 30.0) {
  const ExchangeShape shape = c.shape();
  const auto o_elems = static_cast<std::size_t>(shape.rows() * shape.head_dim);
  const auto s_elems = static_cast<std::size_t>(shape.rows() * shape.stats_dim);
  const ImplInfo* row = nccl_row(impl.name());
  const bool moves_stats = !row || row->traits.moves_stats;

  std::unique_ptr<BufferAllocator> own = impl.make_allocator();
  CudaMallocAllocator plain;
  TestRing ring(shape, sets, own ? *own : plain);

  cudaStream_t stream = nullptr;
  DCP_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  struct StreamGuard {
    cudaStream_t s;
    ~StreamGuard() { DCP_CUDA_CHECK_NOEXCEPT(cudaStreamDestroy(s)); }
  } guard{stream};

  std::vector<std::uint16_t> host_o(o_elems), poison_o(o_elems);
  std::vector<std::uint32_t> host_s(s_elems), poison_s(s_elems);
  poison_outputs_host(shape, poison_o.data(), poison_s.data());
  auto poison = [&] {
    for (std::size_t k = 0; k < ring.sets().size(); ++k) {
      const RankBuffers& b = ring.at(k);
      DCP_CUDA_CHECK(cudaMemcpy(b.out_o, poison_o.data(), o_elems * 2, cudaMemcpyHostToDevice));
      DCP_CUDA_CHECK(cudaMemcpy(b.out_stats, poison_s.data(), s_elems * 4, cudaMemcpyHostToDevice));
    }
    // Copies from pageable memory may still be in flight on the legacy stream, which the
    // exchange's non-blocking stream does not wait for.
    DCP_CUDA_CHECK(cudaDeviceSynchronize());
  };
  for (std::size_t k = 0; k < ring.sets().size(); ++k) {
    const RankBuffers& b = ring.at(k);
    fill_inputs_host(shape, kSeed, static_cast<std::uint32_t>(k), rank, host_o.data(),
                     host_s.data());
    DCP_CUDA_CHECK(
        cudaMemcpy(const_cast<void*>(b.in_o), host_o.data(), o_elems * 2, cudaMemcpyHostToDevice));
    DCP_CUDA_CHECK(cudaMemcpy(const_cast<void*>(b.in_stats), host_s.data(), s_elems * 4,
                              cudaMemcpyHostToDevice));
  }
  poison();

  ExchangeReport report;
  auto verify = [&](VerifyOutcome& into) {
    for (std::size_t k = 0; k < ring.sets().size(); ++k) {
      const RankBuffers& b = ring.at(k);
      DCP_CUDA_CHECK(cudaMemcpy(host_o.data(), b.out_o, o_elems * 2, cudaMemcpyDeviceToHost));
      DCP_CUDA_CHECK(cudaMemcpy(host_s.data(), b.out_stats, s_elems * 4, cudaMemcpyDeviceToHost));
      into.merge(verify_outputs_host(shape, kSeed, static_cast<std::uint32_t>(k), rank,
                                     host_o.data(), host_s.data(), moves_stats));
      if (!moves_stats) {
        report.stats_untouched = report.stats_untouched &&
                                 std::all_of(host_s.begin(), host_s.end(),
                                             [](auto w) { return w == pattern::kPoisonStats; });
      }
    }
  };

  ExchangeSetup setup = overrides ? *overrides : ExchangeSetup{};
  setup.c = c;
  setup.first_rank = rank;
  setup.local_ranks = 1;
  setup.ring = ring.sets();
  setup.streams = {stream};
  setup.timeout_s = overrides ? overrides->timeout_s : timeout_s;
  impl.setup(setup);
  struct Teardown {
    AllToAllImpl& impl;
    ~Teardown() { impl.teardown(); }
  } teardown{impl};
  report.detail = impl.detail();
  report.workspace_bytes = impl.workspace_bytes();

  // 1. Eager: one call per set.
  for (std::size_t k = 0; k < ring.sets().size(); ++k)
    impl.run(k);
  wait_stream_bounded(stream, ctx, timeout_s, impl.name() + " eager calls");
  impl.check();
  verify(report.eager);

  // 2. The same calls captured into a CUDA graph, replayed on poisoned outputs (an empty
  // exchange enqueues nothing, so there is no graph to build).
  if (c.batch == 0) {
    report.graph = report.eager;
    return report;
  }
  poison();
  cudaGraph_t graph = nullptr;
  DCP_CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
  try {
    for (std::size_t k = 0; k < ring.sets().size(); ++k)
      impl.run(k);
  } catch (...) {
    cudaGraph_t dropped = nullptr;
    if (cudaStreamEndCapture(stream, &dropped) == cudaSuccess && dropped) cudaGraphDestroy(dropped);
    throw;
  }
  DCP_CUDA_CHECK(cudaStreamEndCapture(stream, &graph));
  cudaGraphExec_t exec = nullptr;
  const cudaError_t inst = cudaGraphInstantiate(&exec, graph, 0);
  DCP_CUDA_CHECK(cudaGraphDestroy(graph));
  DCP_CUDA_CHECK(inst);
  DCP_CUDA_CHECK(cudaGraphLaunch(exec, stream));
  wait_stream_bounded(stream, ctx, timeout_s, impl.name() + " graph replay");
  DCP_CUDA_CHECK(cudaGraphExecDestroy(exec));
  impl.check();
  verify(report.graph);
  return report;
}

}  // namespace dcp::baseline::testing
