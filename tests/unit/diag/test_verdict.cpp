// diag verdict rules: every rule on crafted facts, check-group parsing, the facts wire format and
// the exit code from verdicts. No GPU, no MPI.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.hpp"
#include "diag/verdict.hpp"

/// Expects `text` to contain `needle`, printing `text` otherwise.
#define EXPECT_HAS(text, needle) \
  EXPECT_NE(std::string(text).find(needle), std::string::npos) << "in: " << (text)

namespace dcp::diag {
namespace {

RankFacts make_rank(int r, const std::string& host = "node0", const std::string& uuid = "") {
  RankFacts f;
  f.rank = r;
  f.local_rank = r;
  f.local_size = 2;
  f.host = host;
  f.device = r;
  f.visible_devices = 2;
  f.gpu_name = "NVIDIA H200";
  f.gpu_uuid = uuid.empty() ? "GPU-000" + std::to_string(r) : uuid;
  f.visible_uuids = {"GPU-0000", "GPU-0001"};
  f.sm_count = 132;
  f.cc_major = 9;
  f.cc_minor = 0;
  f.driver_version = "13.0";
  f.runtime_version = "13.0";
  f.nccl_version = "2.28.9";
  f.nccl_compiled = "2.28.9";
  return f;
}

std::vector<RankFacts> two_ranks() {
  return {make_rank(0), make_rank(1)};
}

const DiagCheck& find(const std::vector<DiagCheck>& checks, const std::string& name,
                      std::vector<int> ranks = {}) {
  for (const auto& c : checks) {
    if (c.name == name && (ranks.empty() || c.ranks == ranks)) return c;
  }
  ADD_FAILURE() << "no check " << name;
  static DiagCheck none;
  return none;
}

// ---- groups -------------------------------------------------------------------------------------

TEST(DiagGroups, EmptySelectsEveryGroupInRunOrder) {
  const auto g = parse_check_groups("");
  ASSERT_EQ(g.size(), kCheckGroups.size());
  EXPECT_EQ(g.front(), "devices");
  EXPECT_EQ(g.back(), "smoke");
}

TEST(DiagGroups, SubsetComesBackInRunOrderWithoutDuplicates) {
  EXPECT_EQ(parse_check_groups("latency, devices,latency"),
            (std::vector<std::string>{"devices", "latency"}));
}

TEST(DiagGroups, UnknownNameIsAConfigErrorNamingChecksAndTheAcceptedList) {
  try {
    (void)parse_check_groups("devices,bogus");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_HAS(std::string(e.what()), "checks: unknown check 'bogus'");
    EXPECT_HAS(std::string(e.what()), "accepted: " + accepted_check_groups());
    EXPECT_EQ(e.exit_code(), ExitCode::kUsage);
  }
}

TEST(DiagGroups, EmptyElementIsAConfigError) {
  EXPECT_THROW((void)parse_check_groups("devices,,latency"), ConfigError);
  EXPECT_THROW((void)parse_check_groups(","), ConfigError);
}

TEST(DiagGroups, AcceptedListNamesEveryGroup) {
  EXPECT_EQ(accepted_check_groups(),
            "devices,mapping,peer,nvlink,cumem,ipc,fabric,visibility,latency,bandwidth,smoke");
}

// ---- helpers ------------------------------------------------------------------------------------

TEST(DiagHelpers, PairSkipReasons) {
  const RankFacts a = make_rank(0);
  const RankFacts b = make_rank(1);
  EXPECT_FALSE(pair_skip_reason(a, b, true));
  const RankFacts far = make_rank(1, "node1");
  ASSERT_TRUE(pair_skip_reason(a, far, true));
  EXPECT_HAS(*pair_skip_reason(a, far, true), "different hosts");
  EXPECT_FALSE(pair_skip_reason(a, far, false));
  const RankFacts same = make_rank(1, "node0", a.gpu_uuid);
  ASSERT_TRUE(pair_skip_reason(a, same, false));
  EXPECT_HAS(*pair_skip_reason(a, same, false), "share one GPU");
}

TEST(DiagHelpers, FormatRanksAndSingleHost) {
  EXPECT_EQ(format_ranks({0, 2, 3}), "0, 2, 3");
  EXPECT_TRUE(single_host(two_ranks()));
  EXPECT_FALSE(single_host({make_rank(0), make_rank(1, "node1")}));
}

// ---- devices ------------------------------------------------------------------------------------

TEST(DiagDevices, HopperPassesOlderFails) {
  auto ranks = two_ranks();
  ranks[1].cc_major = 8;
  const auto checks = device_checks(ranks);
  EXPECT_EQ(find(checks, "gpu", {0}).verdict, Verdict::kPass);
  const DiagCheck& old = find(checks, "gpu", {1});
  EXPECT_EQ(old.verdict, Verdict::kFail);
  EXPECT_HAS(old.hint, "compute capability 8.0 is below 9.0");
  EXPECT_HAS(old.value, "NVIDIA H200");
  EXPECT_HAS(old.value, "132 SMs");
}

TEST(DiagDevices, AgreeingVersionsPass) {
  const auto checks = device_checks(two_ranks());
  const DiagCheck& v = find(checks, "versions");
  EXPECT_EQ(v.verdict, Verdict::kPass);
  EXPECT_EQ(v.scope, DiagScope::kJob);
  EXPECT_EQ(v.value, "driver 13.0, runtime 13.0, NCCL 2.28.9 (compiled 2.28.9)");
}

TEST(DiagDevices, VersionMismatchWarnsNamingTheRanks) {
  std::vector<RankFacts> ranks{make_rank(0), make_rank(1), make_rank(2)};
  ranks[2].driver_version = "12.8";
  const auto checks = device_checks(ranks);
  const DiagCheck& v = find(checks, "versions");
  EXPECT_EQ(v.verdict, Verdict::kWarn);
  EXPECT_HAS(v.hint, "driver versions differ: 13.0 on ranks 0, 1; 12.8 on rank 2");
}

TEST(DiagDevices, GpuModelAndNcclMismatchWarn) {
  auto ranks = two_ranks();
  ranks[1].gpu_name = "NVIDIA H100";
  ranks[1].nccl_version = "2.28.3";
  const auto checks = device_checks(ranks);
  const DiagCheck& v = find(checks, "versions");
  EXPECT_EQ(v.verdict, Verdict::kWarn);
  EXPECT_HAS(v.hint, "GPU models differ");
  EXPECT_HAS(v.hint, "NCCL versions differ: 2.28.9 on rank 0; 2.28.3 on rank 1");
}

TEST(DiagDevices, LoadedNcclDifferentFromCompiledWarns) {
  auto ranks = two_ranks();
  for (auto& r : ranks)
    r.nccl_warning = "loaded NCCL 2.28.3 differs from the compiled 2.28.9";
  const auto checks = device_checks(ranks);
  const DiagCheck& v = find(checks, "versions");
  EXPECT_EQ(v.verdict, Verdict::kWarn);
  EXPECT_HAS(v.hint, "ranks 0, 1: loaded NCCL 2.28.3 differs");
}

// ---- mapping ------------------------------------------------------------------------------------

TEST(DiagMapping, DistinctGpusPassAndReportCudaVisibleDevices) {
  auto ranks = two_ranks();
  ranks[0].cvd_set = true;
  ranks[0].cvd = "0,1";
  const auto checks = mapping_checks(ranks);
  EXPECT_EQ(find(checks, "gpu_mapping", {0}).verdict, Verdict::kPass);
  EXPECT_HAS(find(checks, "gpu_mapping", {0}).value, "CUDA_VISIBLE_DEVICES=0,1");
  EXPECT_HAS(find(checks, "gpu_mapping", {1}).value, "CUDA_VISIBLE_DEVICES=(unset)");
}

TEST(DiagMapping, TwoRanksOnOneGpuFailNamingRanksHostAndUuid) {
  std::vector<RankFacts> ranks{make_rank(0, "node0", "GPU-same"),
                               make_rank(1, "node0", "GPU-same")};
  ranks[1].device = 0;
  const auto checks = mapping_checks(ranks);
  for (int r : {0, 1}) {
    const DiagCheck& c = find(checks, "gpu_mapping", {r});
    EXPECT_EQ(c.verdict, Verdict::kFail);
    EXPECT_HAS(c.hint, "two ranks on one GPU: ranks 0, 1 on host node0");
    EXPECT_HAS(c.hint, "GPU-same");
  }
}

TEST(DiagMapping, SameUuidTextOnDifferentHostsIsNotShared) {
  std::vector<RankFacts> ranks{make_rank(0, "a", "GPU-x"), make_rank(1, "b", "GPU-x")};
  EXPECT_EQ(find(mapping_checks(ranks), "gpu_mapping", {1}).verdict, Verdict::kPass);
}

// ---- peer ---------------------------------------------------------------------------------------

PeerFacts peer(int from, int to, int can = 1, int access = 1) {
  PeerFacts p;
  p.from = from;
  p.to = to;
  p.peer_visible = true;
  p.peer_device = to;
  p.can_access = can;
  p.access_supported = access;
  p.native_atomics = 1;
  return p;
}

TEST(DiagPeer, SingleRankSkipsWithTheReason) {
  const auto checks = peer_checks({make_rank(0)}, {});
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].verdict, Verdict::kSkip);
  EXPECT_EQ(checks[0].hint, kSingleRankReason);
}

TEST(DiagPeer, AccessPassesNoAccessFails) {
  const auto checks = peer_checks(two_ranks(), {peer(0, 1), peer(1, 0, 0, 0)});
  EXPECT_EQ(find(checks, "peer_access", {0, 1}).verdict, Verdict::kPass);
  EXPECT_HAS(find(checks, "peer_access", {0, 1}).value, "native atomics yes");
  const DiagCheck& bad = find(checks, "peer_access", {1, 0});
  EXPECT_EQ(bad.verdict, Verdict::kFail);
  EXPECT_HAS(bad.hint, "cudaDeviceCanAccessPeer = 0");
}

TEST(DiagPeer, AccessSupportedZeroFails) {
  EXPECT_EQ(peer_checks(two_ranks(), {peer(0, 1, 1, 0)})[0].verdict, Verdict::kFail);
}

TEST(DiagPeer, ErrorFails) {
  PeerFacts p = peer(0, 1);
  p.error = "cudaDeviceGetP2PAttribute failed";
  EXPECT_EQ(peer_checks(two_ranks(), {p})[0].verdict, Verdict::kFail);
}

TEST(DiagPeer, OtherHostSharedGpuOrInvisiblePeerSkip) {
  {
    std::vector<RankFacts> ranks{make_rank(0), make_rank(1, "node1")};
    const DiagCheck c = peer_checks(ranks, {peer(0, 1)})[0];
    EXPECT_EQ(c.verdict, Verdict::kSkip);
    EXPECT_HAS(c.hint, "different hosts");
  }
  {
    std::vector<RankFacts> ranks{make_rank(0, "node0", "GPU-s"), make_rank(1, "node0", "GPU-s")};
    EXPECT_EQ(peer_checks(ranks, {peer(0, 1)})[0].verdict, Verdict::kSkip);
  }
  {
    PeerFacts p = peer(0, 1);
    p.peer_visible = false;
    const DiagCheck c = peer_checks(two_ranks(), {p})[0];
    EXPECT_EQ(c.verdict, Verdict::kSkip);
    EXPECT_HAS(c.hint, "not visible in rank 0's process");
  }
}

// ---- nvlink -------------------------------------------------------------------------------------

TEST(DiagNvlink, Rules) {
  NvlinkFacts missing;
  missing.unavailable_reason = "dlopen(libnvidia-ml.so.1) failed";
  NvlinkFacts none;
  none.nvml_available = true;
  NvlinkFacts dark;
  dark.nvml_available = dark.supported = true;
  dark.links_checked = 18;
  NvlinkFacts lit = dark;
  lit.links_active = 18;
  lit.remote_bus_ids = {"00000000:05:00.0"};
  NvlinkFacts broken;
  broken.nvml_available = true;
  broken.error = "nvmlDeviceGetHandleByUUID failed";

  const auto r = two_ranks();
  EXPECT_EQ(nvlink_checks(r, {missing, lit})[0].verdict, Verdict::kSkip);
  EXPECT_HAS(nvlink_checks(r, {missing, lit})[0].hint, "NVML unavailable: dlopen");
  EXPECT_EQ(nvlink_checks(r, {none, lit})[0].verdict, Verdict::kSkip);
  EXPECT_EQ(nvlink_checks(r, {dark, lit})[0].verdict, Verdict::kWarn);
  EXPECT_EQ(nvlink_checks({make_rank(0)}, {dark})[0].verdict, Verdict::kPass);
  EXPECT_EQ(nvlink_checks(r, {broken, lit})[0].verdict, Verdict::kWarn);
  const DiagCheck ok = nvlink_checks(r, {lit, lit})[1];
  EXPECT_EQ(ok.verdict, Verdict::kPass);
  EXPECT_HAS(ok.value, "18 of 18 links active");
  EXPECT_EQ(ok.number, 18.0);
}

// ---- cumem --------------------------------------------------------------------------------------

TEST(DiagCumem, Rules) {
  CumemFacts all{true, true, true, ""};
  CumemFacts no_vmm{false, true, true, ""};
  CumemFacts no_fd{true, false, true, ""};
  CumemFacts err{};
  err.error = "no driver";
  const auto r = std::vector<RankFacts>{make_rank(0)};
  EXPECT_EQ(cumem_checks(r, {all})[0].verdict, Verdict::kPass);
  EXPECT_EQ(cumem_checks(r, {all})[0].value, "VMM yes, POSIX-fd handles yes, fabric handles yes");
  EXPECT_EQ(cumem_checks(r, {no_vmm})[0].verdict, Verdict::kFail);
  EXPECT_EQ(cumem_checks(r, {no_fd})[0].verdict, Verdict::kWarn);
  EXPECT_EQ(cumem_checks(r, {err})[0].verdict, Verdict::kFail);
}

// ---- ipc ----------------------------------------------------------------------------------------

TEST(DiagIpc, Rules) {
  IpcFacts ok{true, true, "ipc: 2 segments of 2 MiB", ""};
  IpcFacts bad{true, false, "", "cuMemSetAccess failed"};
  IpcFacts none{};
  EXPECT_EQ(ipc_check(two_ranks(), {ok, ok}).verdict, Verdict::kPass);
  EXPECT_EQ(ipc_check(two_ranks(), {ok, ok}).value, "ipc: 2 segments of 2 MiB");
  const DiagCheck f = ipc_check(two_ranks(), {ok, bad});
  EXPECT_EQ(f.verdict, Verdict::kFail);
  EXPECT_EQ(f.ranks, std::vector<int>{1});
  EXPECT_HAS(f.hint, "cuMemSetAccess failed");
  EXPECT_EQ(ipc_check(two_ranks(), {none, none}).verdict, Verdict::kSkip);
  const DiagCheck far = ipc_check({make_rank(0), make_rank(1, "node1")}, {none, none});
  EXPECT_EQ(far.verdict, Verdict::kSkip);
  EXPECT_HAS(far.hint, "span hosts");
  EXPECT_HAS(ipc_check({make_rank(0)}, {ok}).value, "single rank");
}

// ---- fabric -------------------------------------------------------------------------------------

FabricFacts fabric_ok() {
  FabricFacts f;
  f.attribute = f.attempted = f.create_ok = true;
  f.bytes = 2 << 20;
  return f;
}

FabricFacts fabric_not_permitted() {
  FabricFacts f;
  f.attribute = f.attempted = true;
  f.failed_step = "cuMemCreate(CU_MEM_HANDLE_TYPE_FABRIC)";
  f.cu_result = 800;
  f.cu_name = "CUDA_ERROR_NOT_PERMITTED";
  f.cu_text = "operation not permitted";
  f.imex = "/dev/nvidia-caps-imex-channels does not exist (so no channel0)";
  f.explanation = "workspace fabric: ... full text";
  return f;
}

TEST(DiagFabric, CreateNotPermittedIsExplainedAsMissingImexChannelNamingThePath) {
  const auto checks =
      fabric_checks(two_ranks(), {fabric_not_permitted(), fabric_not_permitted()}, {});
  EXPECT_EQ(find(checks, "fabric_attribute", {0}).verdict, Verdict::kPass);
  const DiagCheck& c = find(checks, "fabric_create", {0});
  EXPECT_EQ(c.verdict, Verdict::kFail);  // before the fallback rule
  EXPECT_HAS(c.value, "CUDA_ERROR_NOT_PERMITTED");
  EXPECT_HAS(c.hint, "IMEX channel");
  EXPECT_HAS(c.hint, "checked /dev/nvidia-caps-imex-channels does not exist");
  EXPECT_EQ(c.detail, "workspace fabric: ... full text");
}

TEST(DiagFabric, AttributeZeroFailsAndSkipsCreate) {
  FabricFacts f;
  const auto checks = fabric_checks({make_rank(0)}, {f}, {});
  EXPECT_EQ(find(checks, "fabric_attribute").verdict, Verdict::kFail);
  EXPECT_EQ(find(checks, "fabric_create").verdict, Verdict::kSkip);
  EXPECT_EQ(find(checks, "fabric_import").verdict, Verdict::kSkip);
  EXPECT_EQ(find(checks, "fabric_import").hint, kSingleRankReason);
}

TEST(DiagFabric, ImportRules) {
  FabricImportFacts ok{0, 1, true, true, 0, "", "", ""};
  FabricImportFacts denied{1, 0, true, false, 800, "CUDA_ERROR_NOT_PERMITTED", "", "x"};
  const auto checks = fabric_checks(two_ranks(), {fabric_ok(), fabric_ok()}, {ok, denied});
  EXPECT_EQ(find(checks, "fabric_create", {0}).verdict, Verdict::kPass);
  EXPECT_EQ(find(checks, "fabric_import", {0, 1}).verdict, Verdict::kPass);
  const DiagCheck& d = find(checks, "fabric_import", {1, 0});
  EXPECT_EQ(d.verdict, Verdict::kFail);
  EXPECT_HAS(d.hint, "lacks the exporter's IMEX channel");
}

TEST(DiagFabric, ImportSkipsWhenAPeerCouldNotCreate) {
  FabricImportFacts im{0, 1, false, false, 0, "", "", ""};
  const auto checks = fabric_checks(two_ranks(), {fabric_ok(), fabric_not_permitted()}, {im});
  const DiagCheck& c = find(checks, "fabric_import", {0, 1});
  EXPECT_EQ(c.verdict, Verdict::kSkip);
  EXPECT_HAS(c.hint, "rank 1 has no fabric handle");
}

std::vector<DiagCheck> failed_fabric(const std::vector<RankFacts>& ranks) {
  std::vector<FabricFacts> f(ranks.size(), fabric_not_permitted());
  return fabric_checks(ranks, f, {});
}

DiagCheck ipc_row(Verdict v) {
  DiagCheck c;
  c.group = "ipc";
  c.name = "ipc_workspace";
  c.verdict = v;
  return c;
}

TEST(DiagFabricFallback, OneHostWithWorkingIpcWarns) {
  auto checks = failed_fabric(two_ranks());
  checks.push_back(ipc_row(Verdict::kPass));
  apply_fabric_fallback(checks, two_ranks());
  const DiagCheck& c = find(checks, "fabric_create", {0});
  EXPECT_EQ(c.verdict, Verdict::kWarn);
  EXPECT_HAS(c.hint, "IMEX channel");
  EXPECT_HAS(c.hint, "the ipc workspace works");
  EXPECT_EQ(summarize(checks).exit_code, 0);
}

TEST(DiagFabricFallback, OneHostWithFailedIpcFails) {
  auto checks = failed_fabric(two_ranks());
  checks.push_back(ipc_row(Verdict::kFail));
  apply_fabric_fallback(checks, two_ranks());
  EXPECT_EQ(find(checks, "fabric_create", {0}).verdict, Verdict::kFail);
  EXPECT_HAS(find(checks, "fabric_create", {0}).hint, "no cross-GPU path works");
}

TEST(DiagFabricFallback, SeveralHostsFail) {
  const std::vector<RankFacts> ranks{make_rank(0), make_rank(1, "node1")};
  auto checks = failed_fabric(ranks);
  checks.push_back(ipc_row(Verdict::kSkip));
  apply_fabric_fallback(checks, ranks);
  EXPECT_EQ(find(checks, "fabric_create", {1}).verdict, Verdict::kFail);
  EXPECT_HAS(find(checks, "fabric_create", {1}).hint, "span several hosts");
}

TEST(DiagFabricFallback, SingleRankWarns) {
  const std::vector<RankFacts> ranks{make_rank(0)};
  auto checks = failed_fabric(ranks);
  apply_fabric_fallback(checks, ranks);
  EXPECT_EQ(find(checks, "fabric_create").verdict, Verdict::kWarn);
  EXPECT_HAS(find(checks, "fabric_create").hint, "single rank needs no fabric");
}

TEST(DiagFabricFallback, OneHostWithIpcNotCheckedWarnsAndSaysSo) {
  auto checks = failed_fabric(two_ranks());
  apply_fabric_fallback(checks, two_ranks());
  EXPECT_EQ(find(checks, "fabric_create", {0}).verdict, Verdict::kWarn);
  EXPECT_HAS(find(checks, "fabric_create", {0}).hint, "add ipc to --checks");
}

TEST(DiagFabricFallback, LeavesPassRowsAndOtherGroupsAlone) {
  auto checks = failed_fabric(two_ranks());
  DiagCheck other;
  other.group = "latency";
  other.name = "latency";
  other.verdict = Verdict::kFail;
  checks.push_back(other);
  checks.push_back(ipc_row(Verdict::kPass));
  apply_fabric_fallback(checks, two_ranks());
  EXPECT_EQ(find(checks, "fabric_attribute", {0}).verdict, Verdict::kPass);
  EXPECT_EQ(find(checks, "latency").verdict, Verdict::kFail);
  EXPECT_TRUE(find(checks, "fabric_attribute", {0}).hint.empty());
}

// ---- visibility ---------------------------------------------------------------------------------

TEST(DiagVisibility, Rules) {
  VisibilityFacts ok;
  ok.writer = 1;
  ok.reader = 0;
  ok.ran = true;
  ok.words = 4096;
  VisibilityFacts bad = ok;
  bad.writer = 0;
  bad.reader = 1;
  bad.write_mismatches = 7;
  bad.write_first_bad = 3;
  bad.write_expected = 0xdeadbeef;
  bad.write_actual = 0;
  VisibilityFacts skipped = ok;
  skipped.skip_reason = "no cross-GPU mapping";

  EXPECT_EQ(visibility_checks({make_rank(0)}, {})[0].hint, kSingleRankReason);
  const auto checks = visibility_checks(two_ranks(), {ok, bad});
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_EQ(checks[0].ranks, (std::vector<int>{0, 1}));  // sorted by (writer, reader)
  EXPECT_EQ(find(checks, "visibility", {1, 0}).verdict, Verdict::kPass);
  const DiagCheck& b = find(checks, "visibility", {0, 1});
  EXPECT_EQ(b.verdict, Verdict::kFail);
  EXPECT_HAS(b.hint, "rank 0's writes into rank 1's segment arrived wrong in 7 of 4096");
  EXPECT_HAS(b.hint, "expected 0xdeadbeef, got 0x00000000");
  EXPECT_EQ(visibility_checks(two_ranks(), {skipped})[0].verdict, Verdict::kSkip);
}

// ---- latency ------------------------------------------------------------------------------------

LatencyFacts lat(int from, int to, double p50_s) {
  LatencyFacts f;
  f.from = from;
  f.to = to;
  f.ran = true;
  f.rounds = 10000;
  f.p50_s = p50_s;
  f.p99_s = p50_s * 1.2;
  f.mean_s = p50_s;
  return f;
}

TEST(DiagLatency, NvlinkClassPassesSlowWarnsTimeoutFails) {
  LatencyFacts slow = lat(0, 1, 8e-6);
  LatencyFacts dead = lat(0, 1, 0);
  dead.timed_out = true;
  dead.failed_round = 0;
  dead.failed_side = "the initiator";
  const DiagCheck ok = latency_checks(two_ranks(), {lat(0, 1, 0.7e-6)})[0];
  EXPECT_EQ(ok.verdict, Verdict::kPass);
  EXPECT_HAS(ok.value, "p50 0.70 us");
  EXPECT_DOUBLE_EQ(*ok.number, 0.7);
  EXPECT_EQ(ok.unit, "us");
  EXPECT_EQ(latency_checks(two_ranks(), {slow})[0].verdict, Verdict::kWarn);
  const DiagCheck d = latency_checks(two_ranks(), {dead})[0];
  EXPECT_EQ(d.verdict, Verdict::kFail);
  EXPECT_HAS(d.hint, "no answer between ranks 0 and 1 in round 0");
}

TEST(DiagLatency, SingleRankShowsTheSelfRowAndSkipsPeers) {
  const auto checks = latency_checks({make_rank(0)}, {lat(0, 0, 0.4e-6)});
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_EQ(checks[0].name, "latency_self");
  EXPECT_EQ(checks[0].verdict, Verdict::kPass);
  EXPECT_HAS(checks[0].value, "self: two streams on one GPU");
  EXPECT_EQ(checks[1].verdict, Verdict::kSkip);
  EXPECT_EQ(checks[1].hint, kSingleRankReason);
}

TEST(DiagLatency, SelfRowsHiddenOnSeveralRanksUnlessNotPass) {
  LatencyFacts self_dead = lat(1, 1, 0);
  self_dead.timed_out = true;
  const auto checks =
      latency_checks(two_ranks(), {lat(0, 0, 0.4e-6), self_dead, lat(0, 1, 0.7e-6)});
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_EQ(checks[0].ranks, std::vector<int>{1});
  EXPECT_EQ(checks[0].verdict, Verdict::kFail);
}

TEST(DiagLatency, MatricesAreSymmetricWithALabelledDiagonal) {
  LatencyFacts skipped = lat(0, 2, 0);
  skipped.skip_reason = "share one GPU";
  const auto m = latency_matrices(3, {lat(0, 0, 0.4e-6), lat(0, 1, 0.7e-6), skipped}, "ping-pong");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].name, "latency_p50");
  EXPECT_EQ(m[1].name, "latency_p99");
  EXPECT_EQ(m[0].unit, "s");
  EXPECT_DOUBLE_EQ(*m[0].at(0, 1), 0.7e-6);
  EXPECT_DOUBLE_EQ(*m[0].at(1, 0), 0.7e-6);
  EXPECT_DOUBLE_EQ(*m[1].at(0, 1), 0.7e-6 * 1.2);
  EXPECT_FALSE(m[0].at(0, 2));
  EXPECT_FALSE(m[0].at(1, 1));
  EXPECT_HAS(m[0].diagonal, "self");
  EXPECT_EQ(m[0].method, "ping-pong");
}

// ---- bandwidth ----------------------------------------------------------------------------------

BandwidthFacts bw(int from, int to, double bps) {
  BandwidthFacts f;
  f.from = from;
  f.to = to;
  f.ran = true;
  f.bytes = 256 << 20;
  f.reps = 10;
  f.Bps = bps;
  return f;
}

TEST(DiagBandwidth, Rules) {
  BandwidthFacts err = bw(1, 0, 0);
  err.error = "cudaIpcOpenMemHandle failed";
  const auto checks =
      bandwidth_checks(two_ranks(), {bw(0, 0, 2e12), bw(0, 1, 392e9), bw(1, 0, 40e9), err});
  ASSERT_EQ(checks.size(), 3u);  // the passing self row is hidden
  EXPECT_EQ(checks[0].verdict, Verdict::kPass);
  EXPECT_HAS(checks[0].value, "392.0 GB/s (256 MiB x 10)");
  EXPECT_EQ(checks[1].verdict, Verdict::kWarn);
  EXPECT_HAS(checks[1].hint, "below 100.0 GB/s");
  EXPECT_EQ(checks[2].verdict, Verdict::kFail);
  const DiagMatrix m = bandwidth_matrix(2, {bw(0, 0, 2e12), bw(0, 1, 392e9), err}, "ce");
  EXPECT_DOUBLE_EQ(*m.at(0, 1), 392e9);
  EXPECT_FALSE(m.at(1, 0));
  EXPECT_FALSE(m.at(1, 1));
  EXPECT_HAS(m.diagonal, "device-local copy");
}

TEST(DiagBandwidth, SingleRankSelfRowAndPeerSkip) {
  const auto checks = bandwidth_checks({make_rank(0)}, {bw(0, 0, 2e12)});
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_EQ(checks[0].name, "copy_bandwidth_self");
  EXPECT_EQ(checks[0].verdict, Verdict::kPass);  // no threshold on a device-local copy
  EXPECT_EQ(checks[1].verdict, Verdict::kSkip);
}

// ---- smoke --------------------------------------------------------------------------------------

TEST(DiagSmoke, Rules) {
  SmokeFacts ok;
  ok.ran = true;
  ok.status = "ok";
  ok.exact = true;
  ok.verify = "ok: 0 bad rows of 640 over 22 calls";
  ok.case_key = "cp=2 batch=16";
  ok.p50_s = 20e-6;
  SmokeFacts wrong = ok;
  wrong.status = "verify_failed";
  wrong.exact = false;
  wrong.verify = "3 bad rows of 640";
  SmokeFacts err = ok;
  err.error = "rank 1: no line from peer 0";
  SmokeFacts skipped;
  skipped.skip_reason = "ranks 0 and 1 share one GPU";
  SmokeFacts runner_skip = ok;
  runner_skip.status = "skipped";
  runner_skip.skip_reason = "not co-resident";

  EXPECT_EQ(smoke_check(ok).verdict, Verdict::kPass);
  EXPECT_HAS(smoke_check(ok).value, "bit-exact");
  EXPECT_EQ(smoke_check(wrong).verdict, Verdict::kFail);
  EXPECT_HAS(smoke_check(wrong).hint, "3 bad rows");
  EXPECT_EQ(smoke_check(err).verdict, Verdict::kFail);
  EXPECT_EQ(smoke_check(skipped).verdict, Verdict::kSkip);
  EXPECT_EQ(smoke_check(skipped).hint, "ranks 0 and 1 share one GPU");
  EXPECT_EQ(smoke_check(runner_skip).verdict, Verdict::kSkip);
}

// ---- aggregation --------------------------------------------------------------------------------

std::vector<DiagCheck> with_verdicts(std::vector<Verdict> vs) {
  std::vector<DiagCheck> out;
  for (Verdict v : vs) {
    DiagCheck c;
    c.verdict = v;
    out.push_back(c);
  }
  return out;
}

TEST(DiagSummary, ExitCodeFromVerdicts) {
  EXPECT_EQ(summarize({}).exit_code, 0);
  EXPECT_EQ(summarize(with_verdicts({Verdict::kPass, Verdict::kWarn, Verdict::kSkip})).exit_code,
            0);
  const DiagSummary s =
      summarize(with_verdicts({Verdict::kPass, Verdict::kFail, Verdict::kWarn, Verdict::kPass}));
  EXPECT_EQ(s.exit_code, 1);
  EXPECT_EQ(s.pass, 2);
  EXPECT_EQ(s.warn, 1);
  EXPECT_EQ(s.fail, 1);
  EXPECT_EQ(s.skip, 0);
}

TEST(DiagVerdictNames, RoundTrip) {
  for (Verdict v : {Verdict::kPass, Verdict::kWarn, Verdict::kFail, Verdict::kSkip})
    EXPECT_EQ(parse_verdict(to_string(v)), v);
  EXPECT_FALSE(parse_verdict("pass"));
  for (DiagScope s : {DiagScope::kRank, DiagScope::kPair, DiagScope::kJob})
    EXPECT_EQ(parse_diag_scope(to_string(s)), s);
  EXPECT_FALSE(parse_diag_scope("node"));
}

// ---- wire format --------------------------------------------------------------------------------

TEST(DiagWire, FactsRoundTrip) {
  RankFacts r = make_rank(1);
  r.cvd_set = true;
  r.cvd = "3";
  RankFacts r2;
  decode(encode(r), r2);
  EXPECT_EQ(r, r2);

  std::vector<LatencyFacts> l{lat(0, 1, 0.7e-6), lat(1, 1, 0.4e-6)};
  std::vector<LatencyFacts> l2;
  decode(encode(l), l2);
  EXPECT_EQ(l, l2);

  FabricFacts f = fabric_not_permitted();
  FabricFacts f2;
  decode(encode(f), f2);
  EXPECT_EQ(f, f2);

  VisibilityFacts v;
  v.write_expected = 0xffffffffu;
  v.read_first_bad = -1;
  std::vector<VisibilityFacts> v2;
  decode(encode(std::vector<VisibilityFacts>{v}), v2);
  ASSERT_EQ(v2.size(), 1u);
  EXPECT_EQ(v2[0], v);
}

TEST(DiagWire, MalformedTextThrows) {
  RankFacts r;
  EXPECT_THROW(decode("{\"rank\": ", r), Error);
  EXPECT_THROW(decode("{}", r), Error);
}

}  // namespace
}  // namespace dcp::diag
