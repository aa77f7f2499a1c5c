#include "core/result.hpp"

#include <array>

namespace dcp {

namespace {
constexpr std::array kAllStatuses{CaseStatus::kOk, CaseStatus::kVerifyFailed, CaseStatus::kSkipped,
                                  CaseStatus::kError};
}

std::string_view to_string(CaseStatus s) {
  switch (s) {
    case CaseStatus::kOk:
      return "ok";
    case CaseStatus::kVerifyFailed:
      return "verify_failed";
    case CaseStatus::kSkipped:
      return "skipped";
    case CaseStatus::kError:
      return "error";
  }
  return "?";
}

std::optional<CaseStatus> parse_case_status(std::string_view s) {
  for (auto v : kAllStatuses) {
    if (to_string(v) == s) return v;
  }
  return std::nullopt;
}

std::vector<Speedup> compute_speedups(const std::vector<CaseResult>& results,
                                      const ImplCatalog& catalog) {
  std::vector<Speedup> out;
  for (const auto& row : results) {
    const ImplInfo* info = catalog.find(row.impl);
    if (!info || info->speedups_against.empty()) continue;
    if (row.status != CaseStatus::kOk || !row.timing) continue;
    const std::string xkey = row.c.exchange_key();
    for (const auto& base : results) {
      if (!speedup_pairs_with(*info, base.impl)) continue;
      if (base.status != CaseStatus::kOk || !base.timing) continue;
      if (base.c.exchange_key() != xkey) continue;
      out.push_back(Speedup{xkey, row.impl, row.c.key(), base.impl,
                            ratio_of_medians(base.timing->stats, row.timing->stats)});
    }
  }
  return out;
}

}  // namespace dcp
