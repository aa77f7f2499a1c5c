// The check-group registry (full builds): one object per group of kCheckGroups, in run order,
// each reporting the name and description of its CheckGroupInfo. Touches no GPU.
#include <gtest/gtest.h>

#include "diag/groups.hpp"
#include "diag/registry.hpp"

namespace dcp::diag {
namespace {

TEST(DiagRegistry, OneGroupObjectPerGroupInRunOrder) {
  const auto groups = make_check_groups();
  ASSERT_EQ(groups.size(), kCheckGroups.size());
  for (std::size_t i = 0; i < groups.size(); ++i) {
    EXPECT_EQ(groups[i]->name(), kCheckGroups[i].name);
    EXPECT_EQ(groups[i]->description(), kCheckGroups[i].description);
    EXPECT_EQ(groups[i]->info().needs_gpu, kCheckGroups[i].needs_gpu);
  }
}

}  // namespace
}  // namespace dcp::diag
