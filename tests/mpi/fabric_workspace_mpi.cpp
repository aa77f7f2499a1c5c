// Cross-process workspaces on real GPUs, under mpirun (exit 77 = skipped without a GPU).
//   --same-gpu      every rank uses device 0 (allowed for this test only: the ipc mapping of
//                   another process's allocation on the same GPU)
//   --gpu-per-rank  rank uses device local_rank; skipped (77) with fewer GPUs than local ranks
//   --sizes-mib=a,b,...  segment sizes of the visibility test (default 2,8,16)
// Tests: ipc cross-rank visibility (every rank writes a signature into its own segment with a
// kernel; every rank reads every segment through its mapping with a kernel and a memcpy; reset
// zeroes them), fabric failing with the IMEX explanation where there is no IMEX channel, auto
// resolving to ipc there, and a size mismatch naming the rank.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "core/cuda_check.hpp"
#include "core/error.hpp"
#include "core/world.hpp"
#include "fabric/driver_api.hpp"
#include "fabric/explain.hpp"
#include "fabric/workspace.hpp"
#include "fabric_workspace_kernels.hpp"

namespace {

constexpr std::size_t kMiB = std::size_t{1} << 20;

dcp::World* g_world = nullptr;
std::vector<std::size_t> g_sizes_mib{2, 8, 16};
int g_device = 0;

bool contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

/// Rank 0 prints a line (and appends it to $DCP_FABRIC_LOG when set).
void note(const std::string& line) {
  if (g_world->rank() != 0) return;
  std::printf("[fabric-test] %s\n", line.c_str());
  std::fflush(stdout);
  if (const char* log = std::getenv("DCP_FABRIC_LOG"))
    std::ofstream(log, std::ios::app) << line << "\n";
}

using dcp::WorkspaceKind;

TEST(MpiWorkspace, IpcCrossRankVisibility) {
  const dcp::World& w = *g_world;
  cudaStream_t stream = nullptr;
  ASSERT_EQ(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), cudaSuccess);
  for (const std::size_t mib : g_sizes_mib) {
    const std::size_t bytes = mib * kMiB;
    const std::size_t words = bytes / sizeof(std::uint64_t);
    const auto t0 = std::chrono::steady_clock::now();
    auto ws = dcp::fabric::make_shared_workspace(WorkspaceKind::kIpc, w, bytes);
    const double build_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ASSERT_EQ(ws->kind(), WorkspaceKind::kIpc);
    ASSERT_EQ(ws->cp_size(), w.size());
    ASSERT_EQ(ws->segment_bytes(), bytes);
    note(ws->describe() + " (built in " + std::to_string(build_s) + " s)");
    EXPECT_EQ(ws->describe().rfind("ipc: " + std::to_string(w.size()) + " segments of " +
                                       std::to_string(mib) + " MiB at stride ",
                                   0),
              0U)
        << ws->describe();
    // One range at a constant stride, rank order = World rank order.
    const auto base = reinterpret_cast<std::uintptr_t>(ws->segment(0));
    const std::uintptr_t stride =
        w.size() > 1 ? reinterpret_cast<std::uintptr_t>(ws->segment(1)) - base : bytes;
    EXPECT_GE(stride, bytes);
    EXPECT_EQ(stride % (2 * kMiB), 0U);
    for (int r = 0; r < w.size(); ++r) {
      EXPECT_EQ(reinterpret_cast<std::uintptr_t>(ws->segment(r)), base + r * stride);
    }

    // Fresh: every segment reads zero (each owner zeroed its own before the factory returned).
    for (int r = 0; r < w.size(); ++r) {
      EXPECT_EQ(dcp::test::count_mismatches(ws->segment(r), words, -1, stream), 0U)
          << "segment " << r << " not zero after creation, " << mib << " MiB";
    }
    w.barrier("fresh checked");

    // Each rank writes its own segment; after sync + barrier every rank sees every signature.
    dcp::test::write_signature(ws->segment(w.rank()), words, w.rank(), stream);
    ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
    w.barrier("signatures written");
    for (int r = 0; r < w.size(); ++r) {
      EXPECT_EQ(dcp::test::count_mismatches(ws->segment(r), words, r, stream), 0U)
          << "rank " << w.rank() << " reads wrong words in segment " << r << ", " << mib << " MiB";
      // A second read path: the copy engine, first and last words.
      std::array<std::uint64_t, 4> head{};
      std::array<std::uint64_t, 4> tail{};
      const auto* seg = static_cast<const std::uint64_t*>(ws->segment(r));
      ASSERT_EQ(cudaMemcpy(head.data(), seg, sizeof(head), cudaMemcpyDeviceToHost), cudaSuccess);
      ASSERT_EQ(
          cudaMemcpy(tail.data(), seg + words - tail.size(), sizeof(tail), cudaMemcpyDeviceToHost),
          cudaSuccess);
      for (std::size_t i = 0; i < head.size(); ++i) {
        EXPECT_EQ(head[i], dcp::test::signature_word(r, i));
        EXPECT_EQ(tail[i], dcp::test::signature_word(r, words - tail.size() + i));
      }
    }
    w.barrier("signatures checked");

    // reset(): every rank zeroes its own, syncs, barrier; then all read zero everywhere.
    ws->reset();
    for (int r = 0; r < w.size(); ++r) {
      EXPECT_EQ(dcp::test::count_mismatches(ws->segment(r), words, -1, stream), 0U)
          << "segment " << r << " not zero after reset, " << mib << " MiB";
    }
    ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);  // the owner syncs before destroying
    w.barrier("reset checked");
    ws.reset();
  }
  ASSERT_EQ(cudaStreamDestroy(stream), cudaSuccess);
}

TEST(MpiWorkspace, SizeMismatchNamesTheRank) {
  const dcp::World& w = *g_world;
  const std::size_t bytes = (w.rank() == w.size() - 1 ? 4 : 2) * kMiB;
  try {
    (void)dcp::fabric::make_shared_workspace(WorkspaceKind::kIpc, w, bytes);
    ADD_FAILURE() << "different sizes were accepted";
  } catch (const dcp::EnvironmentError& e) {
    EXPECT_TRUE(contains(
        e.what(), "rank " + std::to_string(w.size() - 1) + " has segment size (bytes) 4194304"))
        << e.what();
  }
  w.barrier("after size mismatch");
}

TEST(MpiWorkspace, FabricFailsWithImexExplanation) {
  const dcp::World& w = *g_world;
  const dcp::fabric::ImexStatus imex = dcp::fabric::probe_imex();
  note("IMEX check on this host: " + imex.summary());
  if (imex.channel0_exists) GTEST_SKIP() << "this host has an IMEX channel; fabric may work";
  const dcp::fabric::DeviceSharingCaps caps = dcp::fabric::query_sharing_caps(g_device);
  note("device " + std::to_string(g_device) + ": vmm " + std::to_string(caps.vmm) + ", posix fd " +
       std::to_string(caps.posix_fd) + ", fabric attribute " + std::to_string(caps.fabric) +
       ", driver " + std::to_string(caps.driver_version));
  std::string msg;
  try {
    (void)dcp::fabric::make_shared_workspace(WorkspaceKind::kFabric, w, 4 * kMiB);
    ADD_FAILURE() << "a fabric workspace was built without an IMEX channel";
  } catch (const dcp::EnvironmentError& e) {
    msg = e.what();
  }
  note("fabric workspace error (rank 0): " + msg);
  EXPECT_TRUE(contains(msg, "workspace fabric: ")) << msg;
  EXPECT_TRUE(contains(msg, "/dev/nvidia-caps-imex-channels")) << msg;
  if (w.single_host()) {
    EXPECT_TRUE(contains(msg, "use --workspace ipc")) << msg;
  }
  if (caps.fabric) {
    // The attribute is advertised, so the failure is the missing channel: NOT_PERMITTED.
    EXPECT_TRUE(contains(msg, "CUDA_ERROR_NOT_PERMITTED (operation not permitted)")) << msg;
    EXPECT_TRUE(contains(msg, "need an IMEX channel")) << msg;
    EXPECT_TRUE(contains(msg, "channel0")) << msg;
  } else {
    EXPECT_TRUE(contains(msg, "CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_FABRIC_SUPPORTED is 0")) << msg;
  }
  w.barrier("after fabric failure");
}

TEST(MpiWorkspace, AutoResolvesToIpcWithoutImex) {
  const dcp::World& w = *g_world;
  if (dcp::fabric::probe_imex().channel0_exists) GTEST_SKIP() << "IMEX channel present";
  if (!w.single_host()) GTEST_SKIP() << "ranks on several hosts";
  EXPECT_EQ(dcp::fabric::resolve_workspace_kind(WorkspaceKind::kAuto, w), WorkspaceKind::kIpc);
  EXPECT_EQ(dcp::fabric::resolve_workspace_kind(WorkspaceKind::kIpc, w), WorkspaceKind::kIpc);
  auto ws = dcp::fabric::make_shared_workspace(WorkspaceKind::kAuto, w, 2 * kMiB);
  EXPECT_EQ(ws->kind(), WorkspaceKind::kIpc);
  note("auto -> " + ws->describe());
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  w.barrier("after auto");
}

}  // namespace

int main(int argc, char** argv) {
  bool same_gpu = false;
  bool gpu_per_rank = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--same-gpu") same_gpu = true;
    if (a == "--gpu-per-rank") gpu_per_rank = true;
    if (a.rfind("--sizes-mib=", 0) == 0) {
      g_sizes_mib.clear();
      std::stringstream ss(a.substr(12));
      for (std::string item; std::getline(ss, item, ',');)
        g_sizes_mib.push_back(std::stoul(item));
    }
  }
  if (same_gpu == gpu_per_rank) {
    std::fprintf(stderr, "usage: %s --same-gpu | --gpu-per-rank [--sizes-mib=2,8,16]\n", argv[0]);
    return 2;
  }
  std::optional<dcp::World> world;
  try {
    world.emplace(&argc, &argv, 60.0);
    int count = 0;
    const cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) count = 0;
    (void)cudaGetLastError();
    const int needed = gpu_per_rank ? world->local_size() : 1;
    if (!world->all(count >= needed, "GPU count")) {
      if (world->rank() == 0) {
        std::printf("SKIP: needs %d GPU(s) per host, found %d (%s)\n", needed, count,
                    cudaGetErrorName(err));
      }
      world.reset();  // MPI_Finalize before leaving
      return 77;
    }
    g_device = same_gpu ? 0 : world->local_rank();
    DCP_CUDA_CHECK(cudaSetDevice(g_device));
  } catch (const dcp::Error& e) {
    return dcp::exit_for_error(e, world ? &*world : nullptr, 0);
  }
  g_world = &*world;
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
