// diag probes on one GPU: the flag ping-pong between two streams, its bounded spin when nobody
// answers (the dead-link path), the signature writer/checker, timed copies, the bounded host
// wait, and a whole single-rank `diag` run (MPI singleton) whose peer checks SKIP with reasons.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>

#include "bench/catalog_impls.hpp"
#include "core/cuda_check.hpp"
#include "core/cuda_raii.hpp"
#include "core/error.hpp"
#include "core/world.hpp"
#include "diag/checks.hpp"
#include "diag/groups.hpp"
#include "diag/probes.hpp"
#include "diag/rules.hpp"
#include "diag/store_load_probe.hpp"
#include "kernels/impls.hpp"

namespace dcp::diag {
namespace {

struct Flags {
  DeviceMemory mem{2 * kFlagStrideBytes};
  Flags() { DCP_CUDA_CHECK(cudaMemset(mem.get(), 0, mem.bytes())); }
  std::uint64_t* a() const { return mem.as<std::uint64_t>(); }
  std::uint64_t* b() const { return a() + kFlagStrideBytes / sizeof(std::uint64_t); }
};

TEST(DiagProbes, SelfPingPongMeasuresEveryRound) {
  const Flags flags;
  constexpr int kRounds = 2000;
  PingPongProbe initiator(kRounds);
  PingPongProbe responder(kRounds);
  const Stream s1;
  const Stream s2;
  responder.launch(PingRole::kResponder, flags.a(), flags.b(), 7, 50, kRounds, 5.0, s2.get());
  initiator.launch(PingRole::kInitiator, flags.b(), flags.a(), 7, 50, kRounds, 5.0, s1.get());
  wait_bounded(s1.get(), 10.0, "initiator");
  wait_bounded(s2.get(), 10.0, "responder");
  const PingPongOutcome o = initiator.collect();
  const PingPongOutcome r = responder.collect();
  ASSERT_FALSE(o.timed_out);
  ASSERT_FALSE(r.timed_out);
  ASSERT_EQ(o.one_way_s.size(), static_cast<std::size_t>(kRounds));
  EXPECT_GT(o.mean_one_way_s, 0.0);
  EXPECT_LT(o.mean_one_way_s, 20e-6);  // a flag through L2 of one GPU: well under a microsecond
  for (double s : o.one_way_s) {
    EXPECT_GT(s, 0.0);
    EXPECT_LT(s, 1e-3);
  }
  std::printf("self one-way latency: mean %.3f us\n", o.mean_one_way_s * 1e6);
}

TEST(DiagProbes, PingPongWithoutAnAnswerStopsAtTheDeadline) {
  const Flags flags;
  PingPongProbe initiator(100);
  const Stream s;
  const auto t0 = std::chrono::steady_clock::now();
  initiator.launch(PingRole::kInitiator, flags.b(), flags.a(), 3, 0, 100, 0.2, s.get());
  wait_bounded(s.get(), 10.0, "initiator");
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const PingPongOutcome o = initiator.collect();
  EXPECT_TRUE(o.timed_out);
  EXPECT_EQ(o.failed_round, 0);
  EXPECT_TRUE(o.one_way_s.empty());
  EXPECT_GE(took, 0.15);
  EXPECT_LT(took, 5.0);
}

TEST(DiagProbes, StaleFlagsOfAnotherEpochNeverMatch) {
  const Flags flags;
  // The responder's flag already holds round 1 of epoch 5; an initiator of epoch 6 must not
  // accept it.
  const std::uint64_t stale = (std::uint64_t{5} << 32) | 1;
  DCP_CUDA_CHECK(cudaMemcpy(flags.a(), &stale, sizeof(stale), cudaMemcpyHostToDevice));
  PingPongProbe initiator(10);
  const Stream s;
  initiator.launch(PingRole::kInitiator, flags.b(), flags.a(), 6, 0, 10, 0.1, s.get());
  wait_bounded(s.get(), 10.0, "initiator");
  EXPECT_TRUE(initiator.collect().timed_out);
}

TEST(DiagProbes, BoundedHostWaitThrowsTimeoutError) {
  const Flags flags;
  PingPongProbe initiator(10);
  const Stream s;
  initiator.launch(PingRole::kInitiator, flags.b(), flags.a(), 1, 0, 10, 1.0, s.get());
  EXPECT_THROW(wait_bounded(s.get(), 0.05, "a spinning probe"), TimeoutError);
  wait_bounded(s.get(), 10.0, "the same probe after its device deadline");
  EXPECT_TRUE(initiator.collect().timed_out);
}

TEST(DiagProbes, SignatureRoundTripAndACorruptedWordIsFound) {
  constexpr std::size_t kWords = 4096;
  const DeviceMemory buf(kWords * 4);
  const Stream s;
  const std::uint64_t seed = signature_seed(42, 0, 1);
  write_signature(buf.get(), kWords, seed, s.get());
  SignatureResult r = check_signature(buf.get(), kWords, seed, s.get(), 10.0);
  EXPECT_EQ(r.words, kWords);
  EXPECT_EQ(r.mismatches, 0u);
  EXPECT_EQ(r.first_bad, -1);
  // Another seed (another writer or run) must not match.
  EXPECT_EQ(check_signature(buf.get(), kWords, signature_seed(42, 1, 0), s.get(), 10.0).mismatches,
            kWords);
  const std::uint32_t junk = ~signature_word(seed, 1000);
  DCP_CUDA_CHECK(cudaMemcpy(buf.as<std::uint32_t>() + 1000, &junk, 4, cudaMemcpyHostToDevice));
  DCP_CUDA_CHECK(cudaMemcpy(buf.as<std::uint32_t>() + 3000, &junk, 4, cudaMemcpyHostToDevice));
  r = check_signature(buf.get(), kWords, seed, s.get(), 10.0);
  EXPECT_EQ(r.mismatches, 2u);
  EXPECT_EQ(r.first_bad, 1000);
  EXPECT_EQ(r.expected, signature_word(seed, 1000));
  EXPECT_EQ(r.actual, junk);
}

TEST(DiagProbes, TimedCopiesGiveAPlausibleBandwidth) {
  constexpr std::size_t kBytes = std::size_t{64} << 20;
  const DeviceMemory src(kBytes);
  const DeviceMemory dst(kBytes);
  const Stream s;
  const double seconds = time_copies(dst.get(), src.get(), kBytes, 1, 5, s.get(), 10.0);
  ASSERT_GT(seconds, 0.0);
  const double gbps = static_cast<double>(kBytes) * 5 / seconds / 1e9;
  EXPECT_GT(gbps, 10.0);
  std::printf("device-local copy: %.1f GB/s\n", gbps);
}

TEST(DiagProbes, StoreLoadRoundTripOnOneGpu) {
  // Both sides on two streams of one GPU, through local memory: the protocol itself.
  const DeviceMemory lines(2 * 128);
  DCP_CUDA_CHECK(cudaMemset(lines.get(), 0, lines.bytes()));
  auto* a = lines.as<std::uint64_t>();  // the initiator's line (the responder answers here)
  auto* b = a + 16;                     // the responder's line (the initiator stores here)
  StoreLoadProbe initiator;
  StoreLoadProbe responder;
  const Stream s1;
  const Stream s2;
  const std::uint64_t token = 0x0000000500010002ULL;
  responder.launch(false, a, b, token, 5.0, s2.get());
  initiator.launch(true, b, a, token, 5.0, s1.get());
  wait_bounded(s1.get(), 10.0, "initiator");
  wait_bounded(s2.get(), 10.0, "responder");
  const StoreLoadOutcome i = initiator.collect();
  const StoreLoadOutcome r = responder.collect();
  EXPECT_FALSE(i.timed_out);
  EXPECT_FALSE(r.timed_out);
  EXPECT_TRUE(i.load_checked);
  EXPECT_EQ(i.loaded, token);
  EXPECT_EQ(r.loaded, token + 1);
  EXPECT_GT(i.seconds, 0.0);
}

TEST(DiagProbes, StoreLoadWithoutAPeerStopsAtTheDeadlineNamingTheStep) {
  const DeviceMemory lines(2 * 128);
  DCP_CUDA_CHECK(cudaMemset(lines.get(), 0, lines.bytes()));
  auto* a = lines.as<std::uint64_t>();
  StoreLoadProbe responder;
  const Stream s;
  const auto start = std::chrono::steady_clock::now();
  responder.launch(false, a, a + 16, 42, 0.2, s.get());
  wait_bounded(s.get(), 10.0, "responder");
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const StoreLoadOutcome o = responder.collect();
  EXPECT_TRUE(o.timed_out);
  EXPECT_EQ(o.step, static_cast<int>(StoreLoadStep::kResponderWait));
  EXPECT_FALSE(o.load_checked);
  EXPECT_LT(waited, 5.0);
}

TEST(DiagRun, SingleRankQuickRunSkipsPeersWithReasonsAndExitsZero) {
  int argc = 0;
  char** argv = nullptr;
  World world(&argc, &argv, 10.0);
  const DiagDevice device = select_diag_device(world);
  ASSERT_TRUE(device.cuda_ready);
  DiagPlan plan;
  plan.groups = parse_check_groups("");
  plan.quick = true;
  // The smoke test's implementation comes from a registry, as the CLI gives it.
  const ImplCatalog natives{kernels::native_impls()};
  bench::CatalogImpls impls(natives, &world);
  const DiagEnvironment env{"2.28.9", "2.28.9", "", &impls, std::string(kernels::kNativeName)};
  const DiagReport r = run_checks(plan, world, device, env);
  // The groups that read the machine's set-up (Fabric Manager, /dev/shm, PCIe, NVLink, IMEX)
  // report what they find; the probes of this build must not fail on a healthy GPU.
  const std::vector<std::string> environment{"shm", "fabric_manager", "pcie", "nvlink", "imex"};
  for (const auto& c : r.checks) {
    std::printf("%s %s/%s %s %s\n", std::string(to_string(c.verdict)).c_str(), c.group.c_str(),
                c.name.c_str(), c.value.c_str(), c.hint.c_str());
    if (std::find(environment.begin(), environment.end(), c.group) != environment.end()) continue;
    EXPECT_NE(c.verdict, Verdict::kFail) << c.name << ": " << c.hint;
  }
  int single_rank_skips = 0;
  for (const auto& c : r.checks) {
    if (c.verdict == Verdict::kSkip && c.hint == kSingleRankReason) ++single_rank_skips;
  }
  // peer, pcie_acs, nvlink_pair, ll128_path, fabric_import, store_load, visibility, latency,
  // bandwidth, ll128_order.
  EXPECT_EQ(single_rank_skips, 10);
  ASSERT_EQ(r.matrices.size(), 3u);
  EXPECT_TRUE(r.matrices[0].at(0, 0).has_value());  // self latency
  EXPECT_TRUE(r.matrices[2].at(0, 0).has_value());  // self copy
}

}  // namespace
}  // namespace dcp::diag
