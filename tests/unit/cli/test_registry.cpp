// The registry (issue 14 item 1): one row per implementation, listed and checked trait by trait;
// the host-only builds' metadata catalog describes the same rows; the default set is the one
// configs/default.json names. No GPU, no MPI: rows are constant data.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "cli/config_file.hpp"
#include "cli/registry.hpp"
#include "core/impl_info.hpp"
#include "metadata_catalog.hpp"

namespace dcp::cli {
namespace {

struct Expected {
  std::string name;
  bool pdl, workspace, stats, one_gpu_per_rank, load_store, in_default;
  LibVersion min_nccl;
  std::string speedups_against;
  OpSet ops = {Op::kExchange};
  int ulp_bound = 0;  ///< 0: exact
};

TEST(Registry, EveryRowAndItsTraits) {
  const std::vector<Expected> want = {
      {"native", true, true, true, false, true, true, {}, "*", {Op::kExchange, Op::kReduce}},
      {"native-fused", true, true, true, false, true, true, {}, "*", {Op::kReduce}},
      {"native-direct",
       false,
       true,
       true,
       false,
       true,
       true,
       {},
       "*",
       {Op::kExchange, Op::kReduce}},
      {"direct-staged", false, true, true, false, true, true, {}, "", {Op::kExchange, Op::kReduce}},
      {"native-auto", false, true, true, false, true, false, {}, "", {Op::kExchange, Op::kReduce}},
      {"nccl-2x",
       false,
       false,
       true,
       true,
       false,
       true,
       {2, 14, 0},
       "",
       {Op::kExchange, Op::kReduce}},
      {"nccl-fused", false, false, true, true, false, true, {2, 14, 0}, ""},
      {"nccl-device", false, false, true, true, true, true, {2, 28, 9}, ""},
      {"nccl-1x", false, false, false, true, false, false, {2, 14, 0}, ""},
      {"nccl-packed",
       false,
       false,
       true,
       true,
       false,
       true,
       {2, 14, 0},
       "",
       {Op::kExchange, Op::kReduce}},
      {"nccl-ag-rs", false, false, true, true, false, true, {2, 14, 0}, "", {Op::kReduce}, 2},
  };
  const ImplCatalog& c = builtin_catalog();
  ASSERT_EQ(c.rows().size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    const ImplInfo& row = c.rows()[i];
    const Expected& w = want[i];
    SCOPED_TRACE(w.name);
    std::printf("%-11s %s\n", std::string(row.name).c_str(), describe(row).c_str());
    EXPECT_EQ(row.name, w.name);
    EXPECT_FALSE(row.summary.empty());
    EXPECT_EQ(row.ops, w.ops);
    EXPECT_EQ(row.launches, kAllLaunches);
    EXPECT_EQ(row.traits.uses_pdl, w.pdl);
    EXPECT_EQ(row.traits.uses_workspace, w.workspace);
    EXPECT_EQ(row.traits.moves_stats, w.stats);
    EXPECT_EQ(row.traits.exact, w.ulp_bound == 0);
    EXPECT_EQ(row.traits.ulp_bound, w.ulp_bound);
    EXPECT_EQ(row.needs.one_gpu_per_rank, w.one_gpu_per_rank);
    EXPECT_EQ(row.needs.min_world, 1);
    EXPECT_EQ(row.needs.min_nccl, w.min_nccl);
    EXPECT_EQ(row.needs.peer_load_store, w.load_store);
    EXPECT_EQ(row.speedups_against, w.speedups_against);
    EXPECT_EQ(row.in_default_sweep, w.in_default);
    EXPECT_NE(row.make, nullptr);
    EXPECT_EQ(c.find(row.name), &row);
  }
  EXPECT_EQ(
      c.accepted(),
      "native|native-fused|native-direct|direct-staged|native-auto|nccl-2x|nccl-fused|nccl-device|"
      "nccl-1x|nccl-packed|nccl-ag-rs");
  EXPECT_NE(c.find(diag_smoke_impl()), nullptr);
}

TEST(Registry, SpeedupsPairWithRowsOfTheCatalog) {
  const ImplCatalog& c = builtin_catalog();
  std::set<std::string> pairs;
  for (const ImplInfo& row : c.rows()) {
    for (const ImplInfo& other : c.rows()) {
      if (speedup_pairs_with(row, other.name)) {
        pairs.insert(std::string(row.name) + ">" + std::string(other.name));
      }
    }
  }
  // Every "*" row against every other row (the rows of one op pair up when results exist).
  EXPECT_EQ(pairs, (std::set<std::string>{"native>native-fused",
                                          "native>native-direct",
                                          "native>direct-staged",
                                          "native>native-auto",
                                          "native>nccl-2x",
                                          "native>nccl-fused",
                                          "native>nccl-device",
                                          "native>nccl-1x",
                                          "native>nccl-packed",
                                          "native>nccl-ag-rs",
                                          "native-fused>native",
                                          "native-fused>native-direct",
                                          "native-fused>direct-staged",
                                          "native-fused>native-auto",
                                          "native-fused>nccl-2x",
                                          "native-fused>nccl-fused",
                                          "native-fused>nccl-device",
                                          "native-fused>nccl-1x",
                                          "native-fused>nccl-packed",
                                          "native-fused>nccl-ag-rs",
                                          "native-direct>native",
                                          "native-direct>native-fused",
                                          "native-direct>direct-staged",
                                          "native-direct>native-auto",
                                          "native-direct>nccl-2x",
                                          "native-direct>nccl-fused",
                                          "native-direct>nccl-device",
                                          "native-direct>nccl-1x",
                                          "native-direct>nccl-packed",
                                          "native-direct>nccl-ag-rs"}));
}

// tests/common/metadata_catalog.hpp stands in for these rows where kernels/ and baseline/ are not
// built (host-only tests, fuzz targets): it must describe the same implementations.
TEST(Registry, TheMetadataCatalogDescribesTheSameRows) {
  const ImplCatalog& real = builtin_catalog();
  const ImplCatalog& meta = testing::metadata_catalog();
  ASSERT_EQ(meta.rows().size(), real.rows().size());
  for (std::size_t i = 0; i < real.rows().size(); ++i) {
    const ImplInfo& r = real.rows()[i];
    const ImplInfo& m = meta.rows()[i];
    SCOPED_TRACE(std::string(r.name));
    EXPECT_EQ(m.name, r.name);
    EXPECT_EQ(describe(m), describe(r));
    EXPECT_EQ(m.ops, r.ops);
    EXPECT_EQ(m.make, nullptr);
  }
}

// configs/default.json names no implementation: every block runs the registry's default rows
// (each for the ops it implements).
TEST(Registry, TheDefaultSweepRunsTheDefaultRows) {
  const SweepSpec d = default_spec();
  EXPECT_TRUE(d.axes.impl.empty());
  ASSERT_FALSE(d.blocks.empty());
  for (const SweepAxes& b : d.blocks)
    EXPECT_EQ(effective_impls(b, builtin_catalog()), builtin_catalog().default_names());
}

}  // namespace
}  // namespace dcp::cli
