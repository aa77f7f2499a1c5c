// The NCCL baselines across ranks, one GPU per rank: every impl bit-exact for cp = world size
// (eager and from a CUDA graph), and the timeout paths (a rank that never launches). Exits 77
// (skipped) where this host has fewer visible GPUs than ranks, so CI without GPUs skips it.
// Run with any world size: mpirun -np N baseline_nccl_mpi_test (N = 1 works on one GPU).
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "../gpu/baseline_harness.hpp"
#include "baseline/impls.hpp"
#include "baseline/nccl_alltoall.hpp"
#include "baseline/nccl_baseline.hpp"
#include "baseline/nccl_context.hpp"
#include "core/cuda_check.hpp"
#include "core/device.hpp"
#include "core/error.hpp"
#include "core/fault.hpp"
#include "core/world.hpp"

namespace dcp::baseline {
namespace {

constexpr double kTimeoutS = 30.0;

World* g_world = nullptr;
std::shared_ptr<NcclContext>* g_ctx = nullptr;

std::vector<Case> cases(int cp) {
  std::vector<Case> out;
  for (std::int64_t batch : {1, 5, 16}) {
    for (int d : {128, 130}) {
      for (int s : {2, 4}) {
        Case c;
        c.cp_size = cp;
        c.batch = batch;
        c.head_dim = d;
        c.stats_dim = s;
        c.dtype = d == 130 ? DType::kFp16 : DType::kBf16;
        out.push_back(c);
      }
    }
  }
  return out;
}

void run_all_cases(AllToAllImpl& impl, const std::string& label) {
  const World& world = *g_world;
  for (const Case& c : cases(world.size())) {
    SCOPED_TRACE(label + " " + c.exchange_key());
    const auto reason = impl.unsupported_reason(c);
    ASSERT_EQ(world.all(!reason, "supported-case agreement"), !reason);
    if (reason) {
      ASSERT_EQ(impl.name(), kNcclDeviceName) << *reason;
      if (world.rank() == 0) std::printf("[ SKIPPED  ] %s: %s\n", label.c_str(), reason->c_str());
      return;
    }
    const auto r = testing::run_exchange(impl, **g_ctx, c, world.rank(), nullptr, 2, kTimeoutS);
    EXPECT_TRUE(r.eager.ok()) << r.eager.summary();
    EXPECT_TRUE(r.graph.ok()) << r.graph.summary();
    EXPECT_TRUE(r.stats_untouched);
    EXPECT_TRUE(world.all(r.eager.ok() && r.graph.ok(), "verification agreement"));
    world.barrier("end of case");
  }
}

TEST(NcclBaselineMpi, EveryImplIsBitExactAcrossRanks) {
  for (auto name : {kNccl2xName, kNcclFusedName, kNccl1xName, kNcclDeviceName}) {
    auto impl = testing::make_from_row(name, *g_ctx);
    run_all_cases(*impl, std::string(name));
  }
}

TEST(NcclBaselineMpi, SendRecvFallbackIsBitExactAcrossRanks) {
  NcclHostAllToAll two(*g_ctx, HostPath::kTwoAllToAll, HostPathOptions{true, false});
  run_all_cases(two, "nccl-2x send/recv");
  NcclHostAllToAll one(*g_ctx, HostPath::kOneAllToAll, HostPathOptions{true, false});
  run_all_cases(one, "nccl-1x send/recv");
}

// Rank 1 never launches: rank 0's device-side barrier wait gives up after the case's timeout and
// check() names the missing peer. Needs two ranks; runs before the host-path abort below.
TEST(NcclBaselineMpi, NcclDeviceTimesOutOnAPeerThatNeverLaunches) {
  const World& world = *g_world;
  if (world.size() < 2) GTEST_SKIP() << "needs two ranks";
  auto impl = testing::make_from_row(kNcclDeviceName, *g_ctx);
  Case c;
  c.cp_size = world.size();
  c.batch = 4;
  const auto reason = impl->unsupported_reason(c);
  if (world.any(reason.has_value(), "nccl-device support")) GTEST_SKIP() << reason.value_or("");
  ExchangeSetup s;
  s.inject = FaultInjection{FaultKind::kSkipLaunch, 1};
  s.timeout_s = 1.0;
  if (world.rank() == 0) {
    try {
      (void)testing::run_exchange(*impl, **g_ctx, c, world.rank(), &s, 1, kTimeoutS);
      ADD_FAILURE() << "no timeout reported";
    } catch (const TimeoutError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("entry LSA barrier for rank 1"), std::string::npos) << what;
    }
  } else {
    EXPECT_NO_THROW((void)testing::run_exchange(*impl, **g_ctx, c, world.rank(), &s, 1, kTimeoutS));
  }
  world.barrier("after the nccl-device timeout");
}

// Rank 1 never launches nccl-2x: rank 0's NCCL kernel waits for it until the bounded stream
// wait aborts the communicator. A separate context, so the shared one stays usable.
TEST(NcclBaselineMpi, HostPathAbortsTheCommunicatorOnAPeerThatNeverLaunches) {
  const World& world = *g_world;
  if (world.size() < 2) GTEST_SKIP() << "needs two ranks";
  // Rank 1's finalize may wait for the aborted rank 0: keep that bounded wait short.
  const double saved_timeout_s = world.timeout_s();
  g_world->set_timeout_s(10.0);
  auto own = make_nccl_context(*g_world);
  auto impl = testing::make_from_row(kNccl2xName, own);
  Case c;
  c.cp_size = world.size();
  c.batch = 4;
  ExchangeSetup s;
  s.inject = FaultInjection{FaultKind::kSkipLaunch, 1};
  if (world.rank() == 0) {
    EXPECT_THROW((void)testing::run_exchange(*impl, *own, c, world.rank(), &s, 1, 2.0),
                 TimeoutError);
    EXPECT_TRUE(own->aborted());
  } else {
    EXPECT_NO_THROW((void)testing::run_exchange(*impl, *own, c, world.rank(), &s, 1, 2.0));
  }
  impl.reset();
  own.reset();
  g_world->set_timeout_s(saved_timeout_s);
  world.barrier("after the nccl-2x abort");
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
    // One rank prints gtest's progress; failures on any rank still fail the exit code.
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  auto ctx = dcp::baseline::make_nccl_context(world);
  dcp::baseline::g_world = &world;
  dcp::baseline::g_ctx = &ctx;
  const int result = RUN_ALL_TESTS();
  ctx.reset();
  std::printf("[rank %d] %s\n", world.rank(), result == 0 ? "PASSED" : "FAILED");
  return result;
}
