// The sweep runner's verification depth on one GPU (issue 13 item 9), with an exchange made of
// copies between simulated ranks (no native kernel, no NCCL):
//  - a correct exchange is reported ok, with every verified row counted;
//  - an exchange whose later calls silently write nothing (a replay that does nothing) is caught
//    by the check of the timed outputs: the outputs of the last timed pass are poisoned before
//    it, so an earlier pass's identical result cannot pass for it.
// The host-testable halves are tests/unit/bench (which pass is last, which slots it writes; how
// many fresh calls the native exchange needs) and tests/unit/core (no case ok with 0 rows).
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/catalog_impls.hpp"
#include "bench/runner.hpp"
#include "core/cuda_check.hpp"
#include "core/cuda_raii.hpp"
#include "core/resolve.hpp"
#include "core/world.hpp"

namespace dcp::bench {
namespace {

/// How many calls the next CopyExchange made by the factory performs before it stops writing.
std::int64_t g_good_calls = std::numeric_limits<std::int64_t>::max();

/// out_dst[e, src] = in_src[e, dst] for every pair of the simulated ranks, by 2-D copies on the
/// destination's stream, after every stream waited for every other (each rank's inputs are
/// filled and its outputs poisoned on its own stream). After `good_calls` calls, run() enqueues
/// nothing and says nothing: the fault the timed-output check must catch.
class CopyExchange final : public AllToAllImpl {
 public:
  explicit CopyExchange(std::int64_t good_calls) : good_calls_(good_calls) {}
  [[nodiscard]] std::string name() const override { return "copy"; }
  [[nodiscard]] std::optional<std::string> unsupported_reason(const Case&) const override {
    return std::nullopt;
  }
  void setup(const ExchangeSetup& s) override {
    setup_ = s;
    events_.clear();
    events_.resize(s.streams.size());
  }
  void run(std::size_t slot) override {
    if (calls_++ >= good_calls_) return;
    const ExchangeSetup& s = *setup_;
    const std::size_t cp = s.streams.size();
    for (std::size_t l = 0; l < cp; ++l)
      events_[l].record(s.streams[l]);
    for (std::size_t l = 0; l < cp; ++l) {
      for (std::size_t m = 0; m < cp; ++m) {
        if (m != l) DCP_CUDA_CHECK(cudaStreamWaitEvent(s.streams[l], events_[m].get(), 0));
      }
    }
    const auto o_row = static_cast<std::size_t>(s.c.o_row_bytes());
    const auto s_row = static_cast<std::size_t>(s.c.stats_row_bytes());
    const auto entries = static_cast<std::size_t>(s.c.batch);
    const BufferSet& set = s.ring[slot];
    for (std::size_t dst = 0; dst < cp; ++dst) {
      for (std::size_t src = 0; src < cp; ++src) {
        const RankBuffers& in = set.ranks[src];
        const RankBuffers& out = set.ranks[dst];
        copy_rows(out.out_o, in.in_o, o_row, cp, src, dst, entries, s.streams[dst]);
        copy_rows(out.out_stats, in.in_stats, s_row, cp, src, dst, entries, s.streams[dst]);
      }
    }
  }
  void check() override {}
  void teardown() override {
    setup_.reset();
    events_.clear();
  }

 private:
  /// Rows (e, dst) of `in` (rank src) -> rows (e, src) of `out` (rank dst), e < entries.
  static void copy_rows(void* out, const void* in, std::size_t row, std::size_t cp, std::size_t src,
                        std::size_t dst, std::size_t entries, StreamHandle stream) {
    if (entries == 0) return;
    DCP_CUDA_CHECK(cudaMemcpy2DAsync(static_cast<std::byte*>(out) + src * row, cp * row,
                                     static_cast<const std::byte*>(in) + dst * row, cp * row, row,
                                     entries, cudaMemcpyDeviceToDevice, stream));
  }

  std::int64_t good_calls_;
  std::int64_t calls_ = 0;
  std::optional<ExchangeSetup> setup_;
  std::vector<Event> events_;
};

std::unique_ptr<AllToAllImpl> make_copy(ImplEnv&) {
  return std::make_unique<CopyExchange>(g_good_calls);
}

const ImplCatalog& catalog() {
  static const ImplInfo row = [] {
    ImplInfo r;
    r.name = "copy";
    r.summary = "2-D copies between simulated ranks (test)";
    r.ops = {Op::kExchange};
    r.launches = kAllLaunches;
    r.traits.uses_workspace = true;  // so the sim workspace axis applies: cp ranks on one GPU
    r.make = &make_copy;
    return r;
  }();
  static const ImplCatalog c{std::span<const ImplInfo>(&row, 1)};
  return c;
}

const World& world() {
  static int argc = 0;
  static char** argv = nullptr;
  static const World w(&argc, &argv, 10.0);
  return w;
}

constexpr int kRing = 5;
constexpr std::int64_t kEntries = 16;
constexpr int kCp = 2;

/// One case of the copy exchange; the CopyExchange writes for `good_calls` calls.
CaseResult run_case(LaunchMode launch, std::int64_t good_calls) {
  DCP_CUDA_CHECK(cudaSetDevice(0));
  SweepSpec spec;
  spec.axes.batch = {kEntries};
  spec.axes.cp_size = {kCp};
  spec.axes.impl = {"copy"};
  spec.axes.workspace = {WorkspaceKind::kSim};
  spec.axes.launch = {launch};
  spec.measure.warmup = kRing;
  spec.measure.iters = 10;
  spec.measure.graph_calls = kRing;
  spec.measure.ring = kRing;
  const ResolvedSweep sweep = resolve_sweep(spec, catalog(), 1);
  g_good_calls = good_calls;
  CatalogImpls impls(catalog(), &world());
  SweepOutcome out = run_sweep(sweep, impls, world(), {});
  EXPECT_EQ(out.results.size(), 1u);
  return out.results.front();
}

TEST(RunnerVerification, ACorrectExchangeIsOkWithEveryRowCounted) {
  for (LaunchMode launch : {LaunchMode::kEager, LaunchMode::kPipelined, LaunchMode::kGraph}) {
    SCOPED_TRACE(std::string(to_string(launch)));
    const CaseResult r = run_case(launch, std::numeric_limits<std::int64_t>::max());
    EXPECT_EQ(r.status, CaseStatus::kOk) << r.error << r.verify.summary();
    // Correctness pass: kRing fresh calls; timing: every ring set checked once. Each check
    // covers both simulated ranks' E x cp rows.
    EXPECT_EQ(r.verify.rows_checked, std::uint64_t{2 * kRing} * kCp * kEntries * kCp);
    EXPECT_EQ(r.verify.bad_rows, 0u);
  }
}

TEST(RunnerVerification, AReplayThatSilentlyWritesNothingIsCaught) {
  // Correct for the correctness pass and the first timed pass over the ring, silent after: the
  // last timed pass leaves every output it should have written poisoned.
  for (LaunchMode launch : {LaunchMode::kEager, LaunchMode::kPipelined}) {
    SCOPED_TRACE(std::string(to_string(launch)));
    const CaseResult r = run_case(launch, 2 * kRing);
    EXPECT_EQ(r.status, CaseStatus::kVerifyFailed) << r.verify.summary();
    EXPECT_GT(r.verify.bad_rows, 0u);
    ASSERT_TRUE(r.verify.first.has_value());
  }
  // A graph captured after the correctness pass holds no copies at all.
  const CaseResult g = run_case(LaunchMode::kGraph, kRing);
  EXPECT_EQ(g.status, CaseStatus::kVerifyFailed) << g.verify.summary();
  EXPECT_GT(g.verify.bad_rows, 0u);
}

}  // namespace
}  // namespace dcp::bench
