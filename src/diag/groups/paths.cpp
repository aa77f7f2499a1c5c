#include "diag/groups/paths.hpp"

#include <fmt/format.h>

#include "diag/rules.hpp"

namespace dcp::diag {

std::vector<DiagCheck> paths_checks(const std::vector<RankFacts>& ranks,
                                    const fabric::PeerPathTable& table) {
  if (ranks.size() < 2 || table.world < 2) return {single_rank_skip("paths", "ll128_path")};
  std::vector<DiagCheck> out;
  for (int a = 0; a < table.world; ++a) {
    for (int b = a + 1; b < table.world; ++b) {
      const fabric::PeerPath& ab = table.at(a, b);
      const fabric::PeerPath& ba = table.at(b, a);
      // The worse direction decides (NVML is asked from both sides).
      const bool ab_ok = fabric::ll128_validated(ab.kind);
      const fabric::PeerPath& e = !ab_ok ? ab : ba;
      DiagCheck c = pair_row("paths", "ll128_path", a, b);
      c.value = fmt::format("{}: {}", fabric::to_string(e.kind), e.detail);
      if (fabric::ll128_validated(e.kind)) {
        c.verdict = Verdict::kPass;
      } else {
        c.verdict = Verdict::kFail;
        c.hint = fmt::format(
            "ranks {} and {} are joined by {} ({}): the native exchange's LL128 wire format is "
            "validated only over NVLink, so it refuses this pair",
            a, b,
            e.kind == fabric::PathKind::kUnknown ? std::string("a path NVML cannot classify")
                                                 : std::string(fabric::to_string(e.kind)),
            e.detail);
        c.remedy = std::string(kPathsRemedy);
      }
      out.push_back(std::move(c));
    }
  }
  return out;
}

}  // namespace dcp::diag
