#include "diag/groups/driver.hpp"

#include <fmt/format.h>

#include "diag/rules.hpp"

namespace dcp::diag {

std::vector<DiagCheck> driver_checks(const std::vector<RankFacts>& ranks) {
  DiagCheck v = job_row("driver", "driver_runtime");
  const auto drivers = distinct(ranks, [](const RankFacts& r) { return r.driver_version; });
  const auto runtimes = distinct(ranks, [](const RankFacts& r) { return r.runtime_version; });
  std::vector<std::string> problems;
  if (drivers.size() > 1) problems.push_back("driver versions differ: " + describe_groups(drivers));
  if (runtimes.size() > 1) {
    problems.push_back("CUDA runtime versions differ: " + describe_groups(runtimes));
  }
  if (problems.empty()) {
    v.verdict = Verdict::kPass;
    const RankFacts* r0 = ranks.empty() ? nullptr : &ranks.front();
    const auto or_unknown = [](const std::string& s) { return s.empty() ? "(unknown)" : s; };
    v.value = fmt::format("driver {}, runtime {} on every rank",
                          r0 ? or_unknown(r0->driver_version) : "?",
                          r0 ? or_unknown(r0->runtime_version) : "?");
  } else {
    v.verdict = Verdict::kWarn;
    v.value = "versions differ across ranks";
    v.hint = fmt::format("{}", fmt::join(problems, "; "));
    v.remedy =
        "install one NVIDIA driver version on every node (nvidia-smi shows it) and run the same "
        "dcpbench build everywhere (its CUDA runtime is linked in); then rerun dcpbench diag";
  }
  return {v};
}

}  // namespace dcp::diag
