// The NVML loader's unavailable path: a missing library, and a library that is not NVML, give a
// clean reason (never a crash or an exception), and the nvlink check reports SKIP with it.
#include <gtest/gtest.h>

#include <string>

#include "diag/nvml.hpp"
#include "diag/verdict.hpp"

namespace dcp::diag {
namespace {

TEST(DiagNvml, MissingLibraryIsUnavailableWithTheReason) {
  const Nvml nvml("/nonexistent/libnvidia-ml.so.1");
  EXPECT_FALSE(nvml.available());
  EXPECT_NE(nvml.unavailable_reason().find("dlopen(/nonexistent/libnvidia-ml.so.1) failed"),
            std::string::npos)
      << nvml.unavailable_reason();

  const NvlinkFacts f = nvml.nvlink("GPU-00000000-0000-0000-0000-000000000000");
  EXPECT_FALSE(f.nvml_available);
  EXPECT_EQ(f.unavailable_reason, nvml.unavailable_reason());

  RankFacts r;
  r.rank = 0;
  const auto checks = nvlink_checks({r}, {f});
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].verdict, Verdict::kSkip);
  EXPECT_EQ(checks[0].hint, "NVML unavailable: " + nvml.unavailable_reason());
  EXPECT_EQ(summarize(checks).exit_code, 0);
}

TEST(DiagNvml, LibraryWithoutTheEntryPointsIsUnavailable) {
  // libm is on every glibc system and has none of NVML's symbols.
  const Nvml nvml("libm.so.6");
  EXPECT_FALSE(nvml.available());
  EXPECT_NE(nvml.unavailable_reason().find("lacks nvmlInit_v2"), std::string::npos)
      << nvml.unavailable_reason();
}

}  // namespace
}  // namespace dcp::diag
