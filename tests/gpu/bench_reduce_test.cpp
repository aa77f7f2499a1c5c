// The sweep runner's --op reduce path on one GPU, in sim mode (cp 2 and 4 ranks on the GPU),
// with a reduction made of copies between the simulated ranks and the merge kernel (no NCCL, no
// native kernel): what the runner itself must get right.
//  - a correct reduction is ok: every verified row bit-identical to the CPU reference, counted
//    (correctness pass + timed outputs, every rank), accuracy filled, both parts timed;
//  - an exact row whose outputs differ by one bit fails (verify_failed, first difference named);
//  - the same outputs from a row that is not exact (ulp_bound 2) pass within ulp_bound x cp and
//    show their error;
//  - a reduction whose later calls silently write nothing is caught (outputs poisoned per run);
//  - stress mode (fresh inputs every call) checks every call, eager and graph.
// The host-testable halves: tests/unit/merge (reference, strides, accuracy units).
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bench/catalog_impls.hpp"
#include "bench/runner.hpp"
#include "core/cuda_check.hpp"
#include "core/cuda_raii.hpp"
#include "core/world.hpp"
#include "merge/case_shape.hpp"
#include "merge/merge_kernel.hpp"
#include "merge/merge_plan.hpp"
#include "reduce_test_kernels.hpp"

namespace dcp::bench {
namespace {

enum class Mode { kGood, kFlip, kSilent };

/// Calls that write before a kSilent reduction stops writing.
std::int64_t g_good_calls = 0;

/// Rows (e, dst) of every source's partial_o / lse copied into the destination's staging
/// [E, cp, D] / [E, cp] on the destination's stream (after every stream waited for every other),
/// then the merge kernel into out / lse_out. Parts: "exchange" (the copies), "merge".
class CopyMerge final : public AllToAllImpl {
 public:
  CopyMerge(std::string name, Mode mode) : name_(std::move(name)), mode_(mode) {}
  [[nodiscard]] std::string name() const override { return name_; }
  [[nodiscard]] std::optional<std::string> unsupported_reason(const Case&) const override {
    return std::nullopt;
  }
  void setup(const ExchangeSetup& s) override {
    setup_ = s;
    calls_ = 0;
    good_calls_ = mode_ == Mode::kSilent ? g_good_calls : std::numeric_limits<std::int64_t>::max();
    events_.clear();
    events_.resize(s.streams.size());
    shape_ = merge::merge_shape_of(s.c);
    plan_.emplace(shape_);
    const auto rows = static_cast<std::size_t>(shape_.entries * shape_.cp);
    staging_.clear();
    for (std::size_t l = 0; l < s.streams.size(); ++l) {
      staging_.emplace_back(std::max<std::size_t>(
          256, rows * static_cast<std::size_t>(shape_.head_dim) * 2 + rows * 4 + 256));
    }
  }
  [[nodiscard]] std::vector<std::string> parts() const override { return {"exchange", "merge"}; }
  void run(std::size_t slot) override {
    if (calls_++ >= good_calls_) return;
    run_part(slot, 0);
    run_part(slot, 1);
  }
  void run_part(std::size_t slot, std::size_t part) override {
    const ExchangeSetup& s = *setup_;
    const std::size_t cp = s.streams.size();
    const BufferSet& set = s.ring[slot];
    const auto o_row = static_cast<std::size_t>(shape_.head_dim) * 2;
    const auto e = static_cast<std::size_t>(shape_.entries);
    if (e == 0) return;
    if (part == 0) {
      for (std::size_t l = 0; l < cp; ++l)
        events_[l].record(s.streams[l]);
      for (std::size_t l = 0; l < cp; ++l) {
        for (std::size_t m = 0; m < cp; ++m) {
          if (m != l) DCP_CUDA_CHECK(cudaStreamWaitEvent(s.streams[l], events_[m].get(), 0));
        }
      }
      for (std::size_t dst = 0; dst < cp; ++dst) {
        for (std::size_t src = 0; src < cp; ++src) {
          copy_rows(o(dst), set.ranks[src].in_o, o_row, cp, src, dst, e, s.streams[dst]);
          copy_rows(lse(dst), set.ranks[src].in_stats, 4, cp, src, dst, e, s.streams[dst]);
        }
      }
      return;
    }
    for (std::size_t dst = 0; dst < cp; ++dst) {
      const RankBuffers& b = set.ranks[dst];
      merge::MergeBuffers mb{static_cast<const std::uint16_t*>(o(dst)),
                             static_cast<const float*>(lse(dst)),
                             1,
                             static_cast<std::uint16_t*>(b.out_o),
                             static_cast<float*>(b.out_stats),
                             std::nullopt};
      merge::launch_merge(*plan_, mb, s.streams[dst]);
      if (mode_ == Mode::kFlip) {
        testing::flip_lowest_bits(static_cast<std::uint16_t*>(b.out_o), shape_.out_elements(),
                                  s.streams[dst]);
      }
    }
  }
  void check() override {}
  void teardown() override {
    setup_.reset();
    events_.clear();
    staging_.clear();
    plan_.reset();
  }

 private:
  void* o(std::size_t l) const { return staging_[l].get(); }
  void* lse(std::size_t l) const {
    const auto rows = static_cast<std::size_t>(shape_.entries * shape_.cp);
    const std::size_t off =
        (rows * static_cast<std::size_t>(shape_.head_dim) * 2 + 255) / 256 * 256;
    return static_cast<std::byte*>(staging_[l].get()) + off;
  }
  /// Rows (e, dst) of `in` (rank src) -> rows (e, src) of `out` (rank dst).
  static void copy_rows(void* out, const void* in, std::size_t row, std::size_t cp, std::size_t src,
                        std::size_t dst, std::size_t entries, StreamHandle stream) {
    DCP_CUDA_CHECK(cudaMemcpy2DAsync(static_cast<std::byte*>(out) + src * row, cp * row,
                                     static_cast<const std::byte*>(in) + dst * row, cp * row, row,
                                     entries, cudaMemcpyDeviceToDevice, stream));
  }

  std::string name_;
  Mode mode_;
  std::int64_t calls_ = 0, good_calls_ = 0;
  std::optional<ExchangeSetup> setup_;
  std::vector<Event> events_;
  std::vector<DeviceMemory> staging_;
  merge::MergeShape shape_;
  std::optional<merge::MergePlan> plan_;
};

ImplInfo row(std::string_view name, bool exact, int ulp_bound, ImplFactory f) {
  ImplInfo r;
  r.name = name;
  r.summary = "copies between simulated ranks + the merge kernel (test)";
  r.ops = {Op::kReduce};
  r.launches = kAllLaunches;
  r.traits.uses_workspace = true;  // the sim workspace axis applies: cp ranks on one GPU
  r.traits.exact = exact;
  r.traits.ulp_bound = ulp_bound;
  r.make = f;
  return r;
}

std::unique_ptr<AllToAllImpl> make_good(ImplEnv&) {
  return std::make_unique<CopyMerge>("copy-merge", Mode::kGood);
}
std::unique_ptr<AllToAllImpl> make_flip(ImplEnv&) {
  return std::make_unique<CopyMerge>("copy-merge-flip", Mode::kFlip);
}
std::unique_ptr<AllToAllImpl> make_flip_approx(ImplEnv&) {
  return std::make_unique<CopyMerge>("copy-merge-approx", Mode::kFlip);
}
std::unique_ptr<AllToAllImpl> make_silent(ImplEnv&) {
  return std::make_unique<CopyMerge>("copy-merge-silent", Mode::kSilent);
}

const ImplCatalog& catalog() {
  static const std::vector<ImplInfo> rows = {
      row("copy-merge", true, 0, &make_good),
      row("copy-merge-flip", true, 0, &make_flip),
      row("copy-merge-approx", false, 2, &make_flip_approx),
      row("copy-merge-silent", true, 0, &make_silent),
  };
  static const ImplCatalog c{std::span<const ImplInfo>(rows)};
  return c;
}

const World& world() {
  static int argc = 0;
  static char** argv = nullptr;
  static const World w(&argc, &argv, 10.0);
  return w;
}

constexpr int kRing = 4;
constexpr std::int64_t kEntries = 40;

Case reduce_case(int cp, LaunchMode launch, bool fp16, LseBase base) {
  Case c;
  c.op = Op::kReduce;
  c.cp_size = cp;
  c.batch = kEntries;
  c.head_dim = 128;
  c.stats_dim = 1;
  c.lse_base = base;
  c.dtype = fp16 ? DType::kFp16 : DType::kBf16;
  c.launch = launch;
  c.workspace = WorkspaceKind::kSim;
  return c;
}

/// Runs `impl` on `c` through run_sweep (a plan built by hand: the sweep model's op axis is the
/// CLI's). `stress` > 0: stress mode with that many calls.
CaseResult run_case(std::string_view impl, const Case& c, std::int64_t stress = 0) {
  DCP_CUDA_CHECK(cudaSetDevice(0));
  ResolvedSweep sweep;
  sweep.spec.measure.warmup = kRing;
  sweep.spec.measure.iters = 8;
  sweep.spec.measure.graph_calls = kRing;
  sweep.spec.measure.ring = kRing;
  sweep.spec.measure.stress_calls = stress;
  const ImplInfo* info = catalog().find(impl);
  EXPECT_NE(info, nullptr);
  sweep.runs.push_back(PlannedRun{c, std::string(impl), info});
  CatalogImpls impls(catalog(), &world());
  SweepOutcome out = run_sweep(sweep, impls, world(), {});
  EXPECT_FALSE(out.aborted) << out.abort_reason;
  EXPECT_EQ(out.results.size(), 1u);
  return out.results.front();
}

TEST(RunnerReduce, ACorrectReductionIsBitIdenticalWithEveryRowCountedAndPartsTimed) {
  for (int cp : {2, 4}) {
    for (LaunchMode launch : {LaunchMode::kEager, LaunchMode::kPipelined, LaunchMode::kGraph}) {
      const bool fp16 = launch == LaunchMode::kPipelined;
      const LseBase base = cp == 4 ? LseBase::kTwo : LseBase::kE;
      SCOPED_TRACE(std::to_string(cp) + " " + std::string(to_string(launch)));
      const CaseResult r = run_case("copy-merge", reduce_case(cp, launch, fp16, base));
      EXPECT_EQ(r.status, CaseStatus::kOk) << r.error << r.verify.summary();
      ASSERT_TRUE(r.accuracy.has_value());
      // Correctness pass: kRing fresh calls; timing: every ring set once; each check covers
      // every simulated rank's E rows.
      const std::uint64_t rows = std::uint64_t{2 * kRing} * cp * kEntries;
      EXPECT_EQ(r.accuracy->rows_checked, rows);
      EXPECT_EQ(r.accuracy->rows_identical, rows);
      EXPECT_EQ(r.accuracy->elements_checked, rows * 128);
      EXPECT_GT(r.accuracy->ulp_max, 0.0);  // the routine rounds: its error vs fp64 is measured
      EXPECT_LT(r.accuracy->cond_ulp_max, 1.0);
      EXPECT_EQ(r.verify.rows_checked, rows);
      EXPECT_TRUE(r.timing.has_value());
      ASSERT_EQ(r.parts.size(), 2u);
      EXPECT_EQ(r.parts[0].name, "exchange");
      EXPECT_EQ(r.parts[1].name, "merge");
      for (const PartTiming& p : r.parts)
        EXPECT_EQ(p.timing.samples_s.size(), 8u);
    }
  }
}

TEST(RunnerReduce, OneFlippedBitFailsAnExactRowAndPassesWithinAStatedBound) {
  const Case c = reduce_case(2, LaunchMode::kEager, false, LseBase::kE);
  const CaseResult exact = run_case("copy-merge-flip", c);
  EXPECT_EQ(exact.status, CaseStatus::kVerifyFailed);
  ASSERT_TRUE(exact.accuracy.has_value());
  EXPECT_FALSE(exact.accuracy->identical());
  ASSERT_TRUE(exact.accuracy->first.has_value());
  EXPECT_EQ(exact.accuracy->first->got_bits ^ exact.accuracy->first->expected_bits, 1u);
  ASSERT_TRUE(exact.verify.first.has_value());

  const CaseResult approx = run_case("copy-merge-approx", c);
  EXPECT_EQ(approx.status, CaseStatus::kOk) << approx.verify.summary();
  ASSERT_TRUE(approx.accuracy.has_value());
  EXPECT_FALSE(approx.accuracy->identical());  // the error is shown, not hidden
  EXPECT_GT(approx.accuracy->cond_ulp_max, 0.0);
  // A flipped last bit is one ulp of the output, which is up to two ulps at A's magnitude where
  // the output rounded up into the next binade (|out| <= A, but rounded out may exceed A), plus
  // the routine's own rounding (<= 0.5): up to 2.5. Measured on an H100 (2026-12-05): 2.48. The
  // row states ulp_bound 2 (x cp = 4).
  EXPECT_LE(approx.accuracy->cond_ulp_max, 2.5);
}

TEST(RunnerReduce, AReplayThatSilentlyWritesNothingIsCaught) {
  g_good_calls = 2 * kRing;  // the correctness pass and the first timed pass
  const CaseResult r =
      run_case("copy-merge-silent", reduce_case(2, LaunchMode::kEager, false, LseBase::kE));
  EXPECT_EQ(r.status, CaseStatus::kVerifyFailed);
  ASSERT_TRUE(r.accuracy.has_value());
  EXPECT_LT(r.accuracy->rows_identical, r.accuracy->rows_checked);
}

TEST(RunnerReduce, StressChecksEveryCall) {
  for (LaunchMode launch : {LaunchMode::kEager, LaunchMode::kGraph}) {
    SCOPED_TRACE(std::string(to_string(launch)));
    const CaseResult r =
        run_case("copy-merge", reduce_case(4, launch, true, LseBase::kTwo), /*stress=*/100);
    EXPECT_EQ(r.status, CaseStatus::kOk) << r.verify.summary();
    ASSERT_TRUE(r.accuracy.has_value());
    EXPECT_FALSE(r.timing.has_value());
    // kRing correctness calls, then 100 stress calls (graph: whole replays of kRing calls).
    const std::uint64_t calls = kRing + 100;
    EXPECT_EQ(r.accuracy->rows_checked, calls * 4 * kEntries);
    EXPECT_TRUE(r.accuracy->identical());
  }
}

}  // namespace
}  // namespace dcp::bench
