// Group `fabric_manager`: CUDA error 802 at init, and the NVML fabric state / status / health
// rules per GPU, on crafted facts; the facts built from what the NVML loader returns.
#include <gtest/gtest.h>

#include "diag/groups/fabric_manager.hpp"
#include "diag/rules.hpp"
#include "diag_test_util.hpp"
#include "fabric/nvml.hpp"

namespace dcp::diag {
namespace {

using testing::expect_remedies;
using testing::find;
using testing::make_rank;
using testing::two_ranks;

FabricManagerFacts completed(std::uint32_t health = 0x1aa) {
  FabricManagerFacts f;
  f.nvml_available = true;
  f.queried = true;
  f.state = fabric::kFabricStateCompleted;
  f.status = 0;
  f.clique_id = 7;
  f.cluster_uuid = "11111111-1111-1111-1111-111111111111";
  f.health_known = true;
  f.health_mask = health;
  f.source = "nvmlDeviceGetGpuFabricInfoV (v2)";
  return f;
}

TEST(DiagFabricManager, HealthyPasses) {
  const auto rows = fabric_manager_checks(two_ranks(), {completed(), completed()});
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(find(rows, "cuda_init").verdict, Verdict::kPass);
  const DiagCheck& s = find(rows, "fabric_state", {1});
  EXPECT_EQ(s.verdict, Verdict::kPass);
  EXPECT_HAS(s.value,
             "COMPLETED, clique 7, cluster 11111111-1111-1111-1111-111111111111, health ok");
}

TEST(DiagFabricManager, CudaError802FailsNamingTheRanksAndTheRemedy) {
  auto ranks = two_ranks();
  ranks[1].cuda_ready = false;
  ranks[1].cuda_error = kCudaErrorSystemNotReady;
  ranks[1].cuda_error_name = "cudaErrorSystemNotReady";
  ranks[1].cuda_error_text = "system not yet initialized";
  const auto rows = fabric_manager_checks(ranks, {completed(), completed()});
  const DiagCheck& c = find(rows, "cuda_init");
  EXPECT_EQ(c.verdict, Verdict::kFail);
  EXPECT_EQ(c.ranks, std::vector<int>{1});
  EXPECT_HAS(c.hint,
             "CUDA error 802 (cudaErrorSystemNotReady, \"system not yet initialized\") on rank 1");
  EXPECT_HAS(c.remedy, "systemctl enable --now nvidia-fabricmanager");
  expect_remedies(rows);
}

TEST(DiagFabricManager, OtherCudaStartFailureFails) {
  auto ranks = two_ranks();
  ranks[0].cuda_ready = false;
  ranks[0].cuda_error = 999;
  ranks[0].cuda_error_name = "cudaErrorUnknown";
  const DiagCheck c = find(fabric_manager_checks(ranks, {completed(), completed()}), "cuda_init");
  EXPECT_EQ(c.verdict, Verdict::kFail);
  EXPECT_HAS(c.hint, "CUDA did not start on rank 0: cudaErrorUnknown");
  EXPECT_FALSE(c.remedy.empty());
}

TEST(DiagFabricManager, StatesAndStatus) {
  FabricManagerFacts not_started = completed();
  not_started.state = fabric::kFabricStateNotStarted;
  FabricManagerFacts in_progress = completed();
  in_progress.state = fabric::kFabricStateInProgress;
  FabricManagerFacts failed = completed();
  failed.status = 999;
  failed.status_text = "Unknown Error (NVML error 999)";
  FabricManagerFacts none = completed();
  none.state = fabric::kFabricStateNotSupported;
  const std::vector<RankFacts> ranks{make_rank(0), make_rank(1), make_rank(2), make_rank(3)};
  const auto rows = fabric_manager_checks(ranks, {not_started, in_progress, failed, none});
  EXPECT_EQ(find(rows, "fabric_state", {0}).verdict, Verdict::kFail);
  EXPECT_HAS(find(rows, "fabric_state", {0}).hint, "NOT_STARTED");
  EXPECT_HAS(find(rows, "fabric_state", {0}).remedy, "nvidia-fabricmanager");
  EXPECT_EQ(find(rows, "fabric_state", {1}).verdict, Verdict::kFail);
  EXPECT_HAS(find(rows, "fabric_state", {1}).remedy, "wait until nvidia-smi -q");
  EXPECT_EQ(find(rows, "fabric_state", {2}).verdict, Verdict::kFail);
  EXPECT_HAS(find(rows, "fabric_state", {2}).hint, "completed with an error: Unknown Error");
  EXPECT_EQ(find(rows, "fabric_state", {3}).verdict, Verdict::kSkip);
  EXPECT_HAS(find(rows, "fabric_state", {3}).hint, "not on an NVLink fabric");
  expect_remedies(rows);
}

TEST(DiagFabricManager, HealthMask) {
  const std::vector<RankFacts> ranks{make_rank(0), make_rank(1), make_rank(2)};
  const auto rows =
      fabric_manager_checks(ranks, {completed(0x1a9),  // degraded bandwidth
                                    completed(0x19a),  // route unhealthy (TRUE at shift 4)
                                    completed(0x1aa | (5u << 8))});  // insufficient NVLinks
  EXPECT_EQ(find(rows, "fabric_state", {0}).verdict, Verdict::kWarn);
  EXPECT_HAS(find(rows, "fabric_state", {0}).hint, "bandwidth is degraded");
  EXPECT_EQ(find(rows, "fabric_state", {1}).verdict, Verdict::kFail);
  EXPECT_HAS(find(rows, "fabric_state", {1}).hint, "a route is unhealthy");
  EXPECT_EQ(find(rows, "fabric_state", {2}).verdict, Verdict::kFail);
  EXPECT_HAS(find(rows, "fabric_state", {2}).hint, "insufficient NVLinks");
  expect_remedies(rows);
  FabricManagerFacts v1 = completed();
  v1.health_known = false;
  v1.health_mask = 0x1;  // ignored without the v2 call
  const DiagCheck ok = find(fabric_manager_checks({make_rank(0)}, {v1}), "fabric_state");
  EXPECT_EQ(ok.verdict, Verdict::kPass);
  EXPECT_HAS(ok.value, "health not reported (v1 call)");
}

TEST(DiagFabricManager, MissingLibraryAndSymbolSkipCallErrorWarns) {
  FabricManagerFacts no_lib;
  no_lib.nvml_reason = "dlopen(libnvidia-ml.so.1) failed: no such file";
  FabricManagerFacts no_symbol;
  no_symbol.nvml_available = true;
  no_symbol.symbol_missing = true;
  no_symbol.unavailable = "this NVML has neither nvmlDeviceGetGpuFabricInfoV nor ...";
  FabricManagerFacts call_error;
  call_error.nvml_available = true;
  call_error.unavailable = "nvmlDeviceGetGpuFabricInfoV (v2) failed: Unknown Error";
  const std::vector<RankFacts> ranks{make_rank(0), make_rank(1), make_rank(2)};
  const auto rows = fabric_manager_checks(ranks, {no_lib, no_symbol, call_error});
  EXPECT_EQ(find(rows, "fabric_state", {0}).verdict, Verdict::kSkip);
  EXPECT_HAS(find(rows, "fabric_state", {0}).hint, "NVML unavailable: dlopen");
  EXPECT_EQ(find(rows, "fabric_state", {1}).verdict, Verdict::kSkip);
  EXPECT_HAS(find(rows, "fabric_state", {1}).hint, "neither nvmlDeviceGetGpuFabricInfoV");
  EXPECT_EQ(find(rows, "fabric_state", {2}).verdict, Verdict::kWarn);
  expect_remedies(rows);
  EXPECT_EQ(summarize(rows).exit_code, 0);
}

TEST(DiagFabricManager, FactsFromTheLoader) {
  fabric::GpuFabricInfo info;
  info.entry_point_missing = true;
  info.unavailable = "missing";
  const FabricManagerFacts f = fabric_manager_facts(true, "", "GPU-1", info);
  EXPECT_TRUE(f.symbol_missing);
  EXPECT_FALSE(f.queried);
  fabric::GpuFabricInfo ok;
  ok.queried = true;
  ok.state = fabric::kFabricStateCompleted;
  ok.clique_id = 3;
  ok.health_known = true;
  ok.health_mask = 0x1aa;
  const FabricManagerFacts g = fabric_manager_facts(true, "", "GPU-1", ok);
  EXPECT_FALSE(g.symbol_missing);
  EXPECT_EQ(g.clique_id, 3u);
  EXPECT_EQ(g.uuid, "GPU-1");
}

}  // namespace
}  // namespace dcp::diag
