// NativeDirect's host-side rules without a GPU (full builds: links the kernels library, calls no
// CUDA function): the workspace geometry from the capacity, and the names and parts of the rows.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.hpp"
#include "kernels/direct_layout.hpp"
#include "kernels/direct_workspace.hpp"
#include "kernels/native_direct.hpp"

namespace dcp::kernels {
namespace {

TEST(NativeDirectHost, DefaultCapacityHoldsDeepSeekUpTo256Tokens) {
  const direct::Geometry g = direct_geometry_for(8, DirectCapacity{});
  const direct::Geometry want = direct::geometry_for(8, 4096, 512, 2);
  EXPECT_EQ(g.max_blocks, want.max_blocks);
  EXPECT_EQ(g.region_bytes, want.region_bytes);
  EXPECT_EQ(g.segment_bytes(), 67670016);  // 64.5 MiB per rank (docs/perf/fused-direct.md)
  // 256 tokens x 16 heads of D = 512 fit (reduce S = 1, exchange S = 2); one more entry does not.
  EXPECT_FALSE(direct::direct_fit_problem(ExchangeShape{8, 4096, 512, 1, false}, g));
  EXPECT_FALSE(direct::direct_fit_problem(ExchangeShape{8, 4096, 512, 2, false}, g));
  const auto why = direct::direct_fit_problem(ExchangeShape{8, 4097, 512, 2, false}, g);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("needs"), std::string::npos) << *why;
}

TEST(NativeDirectHost, CapacityComesFromTheCasesOfItsCp) {
  DirectCapacity c;
  c.cases = {ExchangeShape{4, 64, 512, 1, false}, ExchangeShape{4, 1000, 128, 1, false},
             ExchangeShape{2, 1 << 20, 512, 1, false}};
  const direct::Geometry g4 = direct_geometry_for(4, c);
  const direct::Geometry want =
      direct::covering(direct::geometry_for(4, 64, 512, 1), direct::geometry_for(4, 1000, 128, 1));
  EXPECT_EQ(g4.max_blocks, want.max_blocks);
  EXPECT_EQ(g4.region_bytes, want.region_bytes);
  // No case of cp 8: the default capacity.
  EXPECT_EQ(direct_geometry_for(8, c).segment_bytes(), 67670016);
  // A case of cp 2 that passes 2 GiB per segment is refused naming it.
  EXPECT_THROW((void)direct_geometry_for(2, c), ConfigError);
}

TEST(NativeDirectHost, NamesAndParts) {
  NativeDirect fused(nullptr, DirectScheme::kFused);
  NativeDirect staged(nullptr, DirectScheme::kStaged);
  EXPECT_EQ(fused.name(), "native-direct");
  EXPECT_EQ(staged.name(), "direct-staged");
  EXPECT_TRUE(fused.parts().empty());
  EXPECT_EQ(staged.parts(), (std::vector<std::string>{"advance", "write", "signal", "wait-copy"}));
  EXPECT_EQ(fused.workspace_bytes(), 0u);
  EXPECT_EQ(fused.min_fresh_calls(), 0u);
  Case c;
  c.workspace = WorkspaceKind::kSim;
  c.op = Op::kReduce;
  c.stats_dim = 2;
  const auto why = fused.unsupported_reason(c);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("stats_dim 1"), std::string::npos) << *why;
  c.workspace.reset();
  EXPECT_TRUE(staged.unsupported_reason(c).has_value());
}

}  // namespace
}  // namespace dcp::kernels
