// The --op reduce NCCL strategies across ranks, one GPU per rank, through the sweep runner at
// cp = world size: nccl-2x and nccl-packed bit-identical to the CPU reference on every rank
// (eager and graph, bf16 and fp16, both LSE bases, E from 1 to a model-sized 16 x 64), nccl-packed
// also for the exchange; nccl-ag-rs within its stated bound (2 x cp output-type ulps of the
// terms) with its error shown, lse_out exact. Exits 77 (skipped) where this host has fewer
// visible GPUs than ranks. Run: mpirun -np N baseline_reduce_mpi_test (N = 2..8; 1 works too).
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "baseline/ag_rs_math.hpp"
#include "baseline/impls.hpp"
#include "bench/catalog_impls.hpp"
#include "bench/runner.hpp"
#include "core/cuda_check.hpp"
#include "core/device.hpp"
#include "core/world.hpp"

namespace dcp::baseline {
namespace {

World* g_world = nullptr;

const ImplCatalog& catalog() {
  static const ImplCatalog c{nccl_impls()};
  return c;
}

std::vector<PlannedRun> runs(const std::string& impl, Op op) {
  std::vector<PlannedRun> out;
  for (std::int64_t e : {1, 24, 1024}) {
    for (LaunchMode launch : {LaunchMode::kEager, LaunchMode::kGraph}) {
      Case c;
      c.op = op;
      c.cp_size = g_world->size();
      c.batch = e;
      c.head_dim = e == 1024 ? 512 : 128;
      c.stats_dim = op == Op::kReduce ? 1 : 2;
      if (op == Op::kReduce) c.lse_base = e == 24 ? LseBase::kTwo : LseBase::kE;
      c.dtype = e == 24 ? DType::kFp16 : DType::kBf16;
      c.launch = launch;
      out.push_back(PlannedRun{c, impl, catalog().find(impl)});
    }
  }
  return out;
}

std::vector<CaseResult> sweep(const std::string& impl, Op op) {
  ResolvedSweep s;
  s.spec.measure.warmup = 5;
  s.spec.measure.iters = 20;
  s.spec.measure.graph_calls = 5;
  s.spec.measure.ring = 5;
  s.spec.measure.timeout_s = 30;
  s.runs = runs(impl, op);
  bench::CatalogImpls impls(catalog(), g_world);
  const bench::SweepOutcome out = bench::run_sweep(s, impls, *g_world, {});
  EXPECT_FALSE(out.aborted) << out.abort_reason;
  return out.results;
}

TEST(NcclReduceMpi, ExactStrategiesAreBitIdentical) {
  for (const std::string impl : {"nccl-2x", "nccl-packed"}) {
    for (const CaseResult& r : sweep(impl, Op::kReduce)) {
      SCOPED_TRACE(impl + " " + r.c.key());
      EXPECT_EQ(r.status, CaseStatus::kOk) << r.error << r.verify.summary();
      ASSERT_TRUE(r.accuracy.has_value());
      EXPECT_TRUE(r.accuracy->identical()) << r.accuracy->summary();
      EXPECT_FALSE(r.parts.empty());
      if (g_world->rank() == 0 && r.timing) {
        std::printf("%s %s: p50 %.2f us (%s)\n", impl.c_str(), r.c.key().c_str(),
                    r.timing->stats.p50 * 1e6, r.detail.c_str());
      }
    }
  }
  for (const CaseResult& r : sweep("nccl-packed", Op::kExchange)) {
    SCOPED_TRACE(r.c.key());
    EXPECT_EQ(r.status, CaseStatus::kOk) << r.error << r.verify.summary();
  }
}

TEST(NcclReduceMpi, AgRsIsWithinItsBoundAndShowsItsError) {
  const double bound = double{kAgRsUlpBound} * g_world->size();
  bool any_difference = false;
  for (const CaseResult& r : sweep("nccl-ag-rs", Op::kReduce)) {
    SCOPED_TRACE(r.c.key());
    EXPECT_EQ(r.status, CaseStatus::kOk) << r.error << r.verify.summary();
    ASSERT_TRUE(r.accuracy.has_value());
    EXPECT_LE(r.accuracy->cond_ulp_max, bound) << r.accuracy->summary();
    any_difference = any_difference || !r.accuracy->identical();
    if (g_world->rank() == 0) {
      std::printf("nccl-ag-rs %s: %s\n", r.c.key().c_str(), r.accuracy->summary().c_str());
    }
  }
  if (g_world->size() > 1) {
    EXPECT_TRUE(any_difference) << "ag-rs exact at cp > 1: unexpected";
  }
}

}  // namespace
}  // namespace dcp::baseline

int main(int argc, char** argv) {
  dcp::World world(&argc, &argv, 120.0);
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (dcp::is_no_device_error(err) || err != cudaSuccess || count < world.local_size()) {
    std::printf("SKIP: %d rank(s) on this host need as many GPUs, %d visible (%s)\n",
                world.local_size(), err == cudaSuccess ? count : 0, cudaGetErrorName(err));
    return 77;
  }
  dcp::select_device_for_local_rank(world.local_rank(), world.local_size());
  ::testing::InitGoogleTest(&argc, argv);
  if (world.rank() != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  dcp::baseline::g_world = &world;
  const int result = RUN_ALL_TESTS();
  std::printf("[rank %d] %s\n", world.rank(), result == 0 ? "PASSED" : "FAILED");
  return result;
}
