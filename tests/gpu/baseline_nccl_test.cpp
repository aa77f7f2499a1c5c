// The NCCL baselines on one GPU.
//  - Every NCCL impl (and the host paths' send/recv and forced-transpose variants) with one rank:
//    NCCL with a single rank is a valid, if trivial, all-to-all, run through setup / run / check,
//    eagerly and from a CUDA graph, on poisoned outputs, verified bit-exact with the host oracle.
//  - The pack/unpack kernels for cp = 2..8 with all ranks' buffers on this GPU and the NCCL
//    all-to-all replaced by copies between them: the transposes that one rank cannot exercise.
//  - Version reporting and the nccl-device refusal with a library older than 2.28.9.
// Environment: DCP_REQUIRE_NCCL_DEVICE=1 turns a refused nccl-device into a failure (set it where
// the 2.28.9 library is loaded); DCP_EXPECT_NCCL_VERSION=x.y.z checks the loaded library.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "baseline/impls.hpp"
#include "baseline/nccl_alltoall.hpp"
#include "baseline/nccl_baseline.hpp"
#include "baseline/nccl_comm.hpp"
#include "baseline/nccl_context.hpp"
#include "baseline/transpose.hpp"
#include "baseline/transpose_kernels.hpp"
#include "baseline_harness.hpp"
#include "core/cuda_check.hpp"
#include "core/cuda_raii.hpp"
#include "core/error.hpp"
#include "core/verify.hpp"

namespace dcp::baseline {
namespace {

using testing::kSeed;
using testing::make_from_row;
using testing::run_exchange;

constexpr double kTimeoutS = 20.0;

/// One single-rank NCCL context for the whole binary, torn down before CUDA unloads.
class NcclEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { context().reset(); }
  static std::shared_ptr<NcclContext>& context() {
    static std::shared_ptr<NcclContext> ctx = make_single_rank_nccl_context(kTimeoutS);
    return ctx;
  }
};
[[maybe_unused]] ::testing::Environment* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new NcclEnvironment);

std::shared_ptr<NcclContext> ctx() {
  return NcclEnvironment::context();
}

bool env_flag(const char* name) {
  const char* v = std::getenv(name);
  return v && std::string(v) == "1";
}

/// The implementations under test: the registry rows' four, plus the host paths' variants.
struct Variant {
  std::string label;
  std::function<std::unique_ptr<AllToAllImpl>()> make;
};

std::vector<Variant> variants() {
  std::vector<Variant> out;
  for (auto name : {kNccl2xName, kNcclFusedName, kNccl1xName}) {
    out.push_back({std::string(name), [name] { return make_from_row(name, ctx()); }});
  }
  out.push_back({"nccl-2x send/recv", [] {
                   return std::make_unique<NcclHostAllToAll>(ctx(), HostPath::kTwoAllToAll,
                                                             HostPathOptions{true, false});
                 }});
  out.push_back({"nccl-1x send/recv", [] {
                   return std::make_unique<NcclHostAllToAll>(ctx(), HostPath::kOneAllToAll,
                                                             HostPathOptions{true, false});
                 }});
  for (HostPath p : {HostPath::kTwoAllToAll, HostPath::kFused, HostPath::kOneAllToAll}) {
    out.push_back(
        {"forced transposes #" + std::to_string(static_cast<int>(p)), [p] {
           return std::make_unique<NcclHostAllToAll>(ctx(), p, HostPathOptions{false, true});
         }});
  }
  out.push_back(
      {std::string(kNcclDeviceName), [] { return make_from_row(kNcclDeviceName, ctx()); }});
  return out;
}

std::vector<Case> one_rank_cases() {
  std::vector<Case> out;
  for (std::int64_t batch : {1, 3, 16, 0}) {
    for (int d : {128, 512, 130}) {
      for (int s : {2, 4}) {
        Case c;
        c.cp_size = 1;
        c.batch = batch;
        c.head_dim = d;
        c.stats_dim = s;
        c.dtype = (d + s) % 4 == 0 ? DType::kBf16 : DType::kFp16;
        out.push_back(c);
      }
    }
  }
  return out;
}

TEST(NcclBaselineGpu, VersionsAreReportedAndTheWarningMatchesThem) {
  const std::string loaded = loaded_nccl_version();
  const std::string compiled = compiled_nccl_version();
  std::printf("NCCL loaded %s, compiled %s, ncclAlltoAll %s\n", loaded.c_str(), compiled.c_str(),
              has_alltoall() ? "yes" : "no");
  const auto warning = nccl_version_warning();
  if (warning) std::printf("version warning: %s\n", warning->c_str());
  EXPECT_EQ(warning.has_value(), loaded != compiled);
  if (warning) {
    EXPECT_NE(warning->find(loaded), std::string::npos) << *warning;
    EXPECT_NE(warning->find("2.28.9"), std::string::npos) << *warning;
  }
  if (const char* want = std::getenv("DCP_EXPECT_NCCL_VERSION")) {
    EXPECT_EQ(loaded, want);
  }
  const auto device = device_api_unsupported_reason();
  std::printf("device API: %s\n", device ? device->c_str() : "supported");
  // Libraries before 2.28.9 are refused (2.28.3 crashes in device-API kernels).
  if (loaded.rfind("2.28.", 0) == 0 && std::atoi(loaded.c_str() + 5) < 9) {
    ASSERT_TRUE(device.has_value());
    EXPECT_NE(device->find(loaded), std::string::npos) << *device;
  }
}

TEST(NcclBaselineGpu, SimulatedRanksOnOneGpuAreSkippedWithTheSameReasonByEveryImpl) {
  Case c;
  c.cp_size = 4;
  for (const Variant& v : variants()) {
    SCOPED_TRACE(v.label);
    const auto impl = v.make();
    const auto reason = impl->unsupported_reason(c);
    ASSERT_TRUE(reason.has_value());
    EXPECT_EQ(*reason, "NCCL needs one GPU per rank; this case simulates cp=4 ranks on one GPU");
  }
}

TEST(NcclBaselineGpu, EveryRowMakesTheImplementationItNames) {
  ASSERT_EQ(nccl_impls().size(), 6u);  // nccl-2x, -fused, -device, -1x, -packed, -ag-rs
  for (const ImplInfo& row : nccl_impls()) {
    SCOPED_TRACE(std::string(row.name));
    EXPECT_EQ(make_from_row(row.name, ctx())->name(), row.name);
  }
  // Without a context stored in the env and without a World there is no NCCL job to join.
  ImplEnv bare(nullptr);
  EXPECT_THROW((void)nccl_impls().front().make(bare), EnvironmentError);
}

/// Every one-rank case on `v`; returns at the first refusal (reasons do not depend on the case).
void run_one_rank_cases(const Variant& v) {
  const auto impl = v.make();
  for (const Case& c : one_rank_cases()) {
    SCOPED_TRACE(v.label + " " + c.exchange_key());
    const auto reason = impl->unsupported_reason(c);
    if (reason) {
      ASSERT_EQ(impl->name(), kNcclDeviceName) << *reason;
      if (env_flag("DCP_REQUIRE_NCCL_DEVICE")) FAIL() << "nccl-device refused: " << *reason;
      std::printf("[ SKIPPED  ] %s: %s\n", v.label.c_str(), reason->c_str());
      return;
    }
    const testing::ExchangeReport r = run_exchange(*impl, *ctx(), c, 0, nullptr, 2, kTimeoutS);
    EXPECT_TRUE(r.eager.ok()) << r.eager.summary();
    EXPECT_TRUE(r.graph.ok()) << r.graph.summary();
    const auto rows = static_cast<std::uint64_t>(2 * c.shape().rows());
    EXPECT_EQ(r.eager.rows_checked, rows);
    EXPECT_EQ(r.graph.rows_checked, rows);
    EXPECT_TRUE(r.stats_untouched) << "nccl-1x wrote softmax_stats";
    EXPECT_FALSE(r.detail.empty());
    if (c.batch == 16 && c.head_dim == 128 && c.stats_dim == 2) {
      std::printf("[ DETAIL   ] %s: %s (workspace %zu B)\n", v.label.c_str(), r.detail.c_str(),
                  r.workspace_bytes);
    }
    if (c.batch > 0 && impl->name() != kNcclDeviceName) {
      const bool forced = v.label.rfind("forced", 0) == 0;
      EXPECT_EQ(r.detail.find("no transposes") != std::string::npos, !forced) << r.detail;
      EXPECT_EQ(r.workspace_bytes > 0, forced);
    }
  }
}

TEST(NcclBaselineGpu, EveryImplIsBitExactWithOneRankEagerAndInAGraph) {
  for (const Variant& v : variants()) {
    // One impl's failure must not hide the others' results.
    try {
      run_one_rank_cases(v);
    } catch (const std::exception& e) {
      ADD_FAILURE() << v.label << ": " << e.what();
    }
  }
}

// All cp ranks' buffers on this GPU; the pack and unpack kernels run per rank and NCCL's
// all-to-all is replaced by device-to-device copies of the peer chunks.
TEST(NcclBaselineGpu, PackAndUnpackKernelsAreBitExactForSeveralRanks) {
  for (int cp : {2, 3, 4, 8}) {
    for (std::int64_t entries : {2, 5, 16}) {
      for (int d : {128, 130, 3}) {
        for (int s : {2, 4, 6}) {
          const ExchangeShape shape{cp, entries, d, s, d == 130};
          SCOPED_TRACE("cp=" + std::to_string(cp) + " E=" + std::to_string(entries) +
                       " D=" + std::to_string(d) + " S=" + std::to_string(s));
          const auto o_bytes = static_cast<std::size_t>(shape.o_bytes());
          const auto s_bytes = static_cast<std::size_t>(shape.stats_bytes());
          const auto o_peer = static_cast<std::size_t>(entries * shape.o_row_bytes());
          const auto s_peer = static_cast<std::size_t>(entries * shape.stats_row_bytes());
          struct RankMem {
            DeviceMemory in_o, in_s, send_o, send_s, recv_o, recv_s, out_o, out_s;
          };
          std::vector<RankMem> mem;
          std::vector<std::uint16_t> host_o(o_bytes / 2);
          std::vector<std::uint32_t> host_s(s_bytes / 4);
          for (int r = 0; r < cp; ++r) {
            mem.push_back(RankMem{DeviceMemory(o_bytes), DeviceMemory(s_bytes),
                                  DeviceMemory(o_bytes), DeviceMemory(s_bytes),
                                  DeviceMemory(o_bytes), DeviceMemory(s_bytes),
                                  DeviceMemory(o_bytes), DeviceMemory(s_bytes)});
            fill_inputs_host(shape, kSeed, 7, r, host_o.data(), host_s.data());
            DCP_CUDA_CHECK(
                cudaMemcpy(mem.back().in_o.get(), host_o.data(), o_bytes, cudaMemcpyHostToDevice));
            DCP_CUDA_CHECK(
                cudaMemcpy(mem.back().in_s.get(), host_s.data(), s_bytes, cudaMemcpyHostToDevice));
            DCP_CUDA_CHECK(cudaMemset(mem.back().out_o.get(), 0xFF, o_bytes));
            DCP_CUDA_CHECK(cudaMemset(mem.back().out_s.get(), 0xFF, s_bytes));
          }
          for (RankMem& m : mem) {
            launch_transpose(Transpose::kPack, entries, cp,
                             TransposeTensor{m.in_o.get(), m.send_o.get(), shape.o_row_bytes()},
                             TransposeTensor{m.in_s.get(), m.send_s.get(), shape.stats_row_bytes()},
                             nullptr);
          }
          // The all-to-all: rank j's chunk i <- rank i's chunk j.
          for (std::size_t i = 0; i < mem.size(); ++i) {
            for (std::size_t j = 0; j < mem.size(); ++j) {
              DCP_CUDA_CHECK(cudaMemcpy(mem[j].recv_o.as<std::byte>() + i * o_peer,
                                        mem[i].send_o.as<std::byte>() + j * o_peer, o_peer,
                                        cudaMemcpyDeviceToDevice));
              DCP_CUDA_CHECK(cudaMemcpy(mem[j].recv_s.as<std::byte>() + i * s_peer,
                                        mem[i].send_s.as<std::byte>() + j * s_peer, s_peer,
                                        cudaMemcpyDeviceToDevice));
            }
          }
          for (RankMem& m : mem) {
            launch_transpose(
                Transpose::kUnpack, entries, cp,
                TransposeTensor{m.recv_o.get(), m.out_o.get(), shape.o_row_bytes()},
                TransposeTensor{m.recv_s.get(), m.out_s.get(), shape.stats_row_bytes()}, nullptr);
          }
          DCP_CUDA_CHECK(cudaDeviceSynchronize());
          for (int r = 0; r < cp; ++r) {
            DCP_CUDA_CHECK(cudaMemcpy(host_o.data(), mem[static_cast<std::size_t>(r)].out_o.get(),
                                      o_bytes, cudaMemcpyDeviceToHost));
            DCP_CUDA_CHECK(cudaMemcpy(host_s.data(), mem[static_cast<std::size_t>(r)].out_s.get(),
                                      s_bytes, cudaMemcpyDeviceToHost));
            const VerifyOutcome v =
                verify_outputs_host(shape, kSeed, 7, r, host_o.data(), host_s.data());
            EXPECT_TRUE(v.ok()) << "rank " << r << ": " << v.summary();
          }
        }
      }
    }
  }
}

TEST(NcclBaselineGpu, NcclDeviceReportsTheLibraryRefusal) {
  Case c;
  c.cp_size = 1;
  const auto impl = make_from_row(kNcclDeviceName, ctx());
  const auto reason = impl->unsupported_reason(c);
  if (const auto lib = device_api_unsupported_reason()) {
    ASSERT_TRUE(reason.has_value());
    EXPECT_EQ(*reason, *lib);
    std::printf("nccl-device refused: %s\n", reason->c_str());
  } else {
    EXPECT_FALSE(reason.has_value()) << *reason;
  }
}

}  // namespace
}  // namespace dcp::baseline
