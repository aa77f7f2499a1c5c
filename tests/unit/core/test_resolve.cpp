// Resolve once: defaults filled, names checked against the catalog, the job's limits applied
// (cp, --inject rank, buffer sizes), expanded once; `auto` workspaces substituted without a
// second expansion.
#include <gtest/gtest.h>

#include <array>
#include <string>

#include "core/error.hpp"
#include "core/resolve.hpp"
#include "metadata_catalog.hpp"

namespace dcp {
namespace {

using testing::metadata_catalog;

std::string error_of(const SweepSpec& s, int world) {
  try {
    (void)resolve_sweep(s, metadata_catalog(), world);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "accepted";
}

TEST(Resolve, OneRankSimulatesCp2And4) {
  const ResolvedSweep r = resolve_sweep(SweepSpec{}, metadata_catalog(), 1);
  EXPECT_EQ(r.spec.axes.cp_size, (std::vector<int>{2, 4}));
  EXPECT_EQ(r.spec.axes.workspace, std::vector<WorkspaceKind>{WorkspaceKind::kSim});
  ASSERT_EQ(r.notes.size(), 1u);
  // Which implementations cannot run simulated ranks comes from their rows.
  EXPECT_EQ(r.notes[0],
            "single rank and no --cp-size: simulating cp=2 and cp=4 on this one GPU (nccl-2x, "
            "nccl-fused, nccl-device, nccl-packed, nccl-ag-rs need one GPU per rank and are "
            "skipped). Run under mpirun -np N for real GPUs.");
  SweepSpec native_only;
  native_only.axes.impl = {"native"};
  EXPECT_EQ(resolve_sweep(native_only, metadata_catalog(), 1).notes.at(0),
            "single rank and no --cp-size: simulating cp=2 and cp=4 on this one GPU. Run under "
            "mpirun -np N for real GPUs.");
}

TEST(Resolve, SeveralRanksTakeTheWorldSizeAndTheDefaultImpls) {
  const ResolvedSweep r = resolve_sweep(SweepSpec{}, metadata_catalog(), 2);
  EXPECT_EQ(r.spec.axes.cp_size, std::vector<int>{2});
  EXPECT_EQ(r.spec.axes.workspace, std::vector<WorkspaceKind>{WorkspaceKind::kAuto});
  EXPECT_EQ(r.spec.axes.impl, metadata_catalog().default_names());
  EXPECT_TRUE(r.notes.empty());
  // Expanded once, from the resolved spec.
  EXPECT_EQ(r.runs, expand(r.spec, metadata_catalog(), 2));
  for (const auto& run : r.runs)
    EXPECT_EQ(run.c.cp_size, 2);
}

TEST(Resolve, ExplicitCpWithoutSimMustMatchTheWorld) {
  SweepSpec s;
  s.axes.cp_size = {4};
  EXPECT_EQ(error_of(s, 2).rfind("cp_size: 4 differs from the 2 MPI ranks", 0), 0u);
}

TEST(Resolve, ImplNamesAreCheckedAgainstTheCatalog) {
  SweepSpec s;
  s.axes.impl = {"native", "mpi"};
  EXPECT_EQ(
      error_of(s, 2),
      "impl: unknown implementation 'mpi'; accepted: "
      "native|native-fused|native-direct|direct-staged|native-auto|nccl-2x|nccl-fused|nccl-device|"
      "nccl-1x|nccl-packed|nccl-ag-rs");
  std::array rows{testing::plain_row("future")};
  rows[0].ops = {};  // e.g. a strategy that only reduces
  const ImplCatalog catalog{std::span<const ImplInfo>(rows)};
  s.axes.impl = {"future"};
  try {
    (void)resolve_sweep(s, catalog, 2);
    FAIL() << "a row that does not implement the exchange was accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "impl: 'future' does not implement --op exchange; accepted: none in this build");
  }
}

// --inject's rank must exist before any GPU work: a process rank for kill and shape-mismatch,
// an exchange rank otherwise (simulated ranks count in sim mode).
TEST(Resolve, InjectRankOutsideTheJobIsRefused) {
  SweepSpec s;
  s.measure.inject = parse_fault("skip-launch:2");
  EXPECT_EQ(error_of(s, 2),
            "inject: rank 2 is outside this job of 2 ranks; accepted: a rank in 0..1");
  s.measure.inject = parse_fault("skip-launch:1");
  EXPECT_EQ(error_of(s, 2), "accepted");
  // One process simulating cp=2 and 4: exchange ranks 0..3 exist, process ranks only 0.
  s.measure.inject = parse_fault("row-order:3");
  EXPECT_EQ(error_of(s, 1), "accepted");
  s.measure.inject = parse_fault("skip-init:4");
  EXPECT_EQ(error_of(s, 1),
            "inject: rank 4 is outside every simulated exchange (cp_size up to 4); accepted: a "
            "rank in 0..3");
  s.measure.inject = parse_fault("kill:1");
  EXPECT_EQ(error_of(s, 1),
            "inject: rank 1 is outside this job of 1 rank; accepted: a rank in 0..0");
  s.measure.inject = parse_fault("shape-mismatch:3");
  EXPECT_EQ(error_of(s, 2).rfind("inject: rank 3 is outside this job of 2 ranks", 0), 0u);
  s.measure.inject = parse_fault("corrupt-line");  // every rank: always inside
  EXPECT_EQ(error_of(s, 2), "accepted");
}

TEST(Resolve, BufferBytesAreExactAndOverflowIsCaught) {
  Case c;
  c.cp_size = 2;
  c.batch = 16;
  c.head_dim = 128;
  c.stats_dim = 2;
  // o: 16*2*256 = 8192 B; stats: 16*2*8 = 256 B; four tensors = 2*(8192+256); 5 sets; 1 rank.
  EXPECT_EQ(buffer_bytes_per_gpu(c, 5, 1), std::uint64_t{5} * 2 * (8192 + 256));
  EXPECT_EQ(buffer_bytes_per_gpu(c, 5, 2), std::uint64_t{2} * 5 * 2 * (8192 + 256));
  c.batch = 1;
  c.stats_dim = 2;  // 2 rows x 8 B = 16 B, aligned up to 256
  EXPECT_EQ(buffer_bytes_per_gpu(c, 1, 1), std::uint64_t{2} * (512 + 256));
  c.batch = 0;
  EXPECT_EQ(buffer_bytes_per_gpu(c, 5, 1), 0u);
  c.batch = std::int64_t{1} << 62;
  EXPECT_FALSE(buffer_bytes_per_gpu(c, 5, 1).has_value());
}

TEST(Resolve, ShapesWhoseBuffersCannotFitAreRefusedNamingTheAxis) {
  SweepSpec s;
  s.axes.batch = {1, 9999999999999};
  const std::string e = error_of(s, 2);
  EXPECT_EQ(e.rfind("batch: the case cp_size=2 batch=9999999999999 head_dim=128 stats_dim=2 "
                    "needs ",
                    0),
            0u)
      << e;
  EXPECT_NE(e.find("accepted: at most 1099511627776 bytes (1 TiB) per GPU"), std::string::npos)
      << e;
  s.axes.batch = {std::int64_t{1} << 62};  // the byte count itself overflows
  EXPECT_NE(error_of(s, 2).find("more than 2^64 bytes"), std::string::npos);
  s = {};
  s.axes.batch = {1024};
  s.measure.ring = 2'000'000'000;
  EXPECT_EQ(error_of(s, 2).rfind("ring: ", 0), 0u);
  s = {};
  s.axes.batch = {1};
  s.axes.head_dim = {1 << 30};
  s.axes.cp_size = {64};
  s.axes.workspace = {WorkspaceKind::kSim};
  EXPECT_EQ(error_of(s, 1).rfind("head_dim: ", 0), 0u) << error_of(s, 1);
  // In sim mode every simulated rank's buffers share the one GPU.
  s = {};
  s.axes.batch = {1 << 20};
  s.axes.head_dim = {4096};
  s.axes.cp_size = {64};
  s.axes.workspace = {WorkspaceKind::kSim};
  EXPECT_NE(error_of(s, 1).find("for each of the 64 simulated ranks"), std::string::npos);
  s.axes.cp_size = {2};
  s.axes.batch = {1024};
  EXPECT_EQ(error_of(s, 1), "accepted");
}

TEST(Resolve, AutoWorkspaceIsSubstitutedWithoutExpandingAgain) {
  SweepSpec s;
  s.axes.batch = {1};
  s.axes.launch = {LaunchMode::kEager};
  s.axes.impl = {"native", "nccl-2x"};
  ResolvedSweep r = resolve_sweep(s, metadata_catalog(), 2);
  ASSERT_TRUE(has_auto_workspace(r));
  const auto before = r.runs;
  resolve_auto_workspace(r, WorkspaceKind::kIpc);
  EXPECT_FALSE(has_auto_workspace(r));
  EXPECT_EQ(r.spec.axes.workspace, std::vector<WorkspaceKind>{WorkspaceKind::kIpc});
  ASSERT_EQ(r.runs.size(), before.size());
  EXPECT_EQ(r.runs[0].c.workspace, WorkspaceKind::kIpc);
  EXPECT_EQ(r.runs[1].c.workspace, std::nullopt);  // nccl-2x has no workspace axis
  EXPECT_EQ(r.runs[1], before[1]);
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_EQ(r.notes[0], "workspace auto resolved to ipc");
  // Asked for auto and ipc: the runs that become equal run once.
  s.axes.workspace = {WorkspaceKind::kAuto, WorkspaceKind::kIpc};
  r = resolve_sweep(s, metadata_catalog(), 2);
  EXPECT_EQ(r.runs.size(), 3u);
  resolve_auto_workspace(r, WorkspaceKind::kIpc);
  EXPECT_EQ(r.runs.size(), 2u);
  EXPECT_EQ(r.spec.axes.workspace, std::vector<WorkspaceKind>{WorkspaceKind::kIpc});
  EXPECT_NE(r.notes.back().find("those cases run once"), std::string::npos);
}

}  // namespace
}  // namespace dcp
