#include "core/result.hpp"

#include <array>

#include "core/impl_names.hpp"

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

std::vector<Speedup> compute_speedups(const std::vector<CaseResult>& results) {
  std::vector<Speedup> out;
  for (const auto& native : results) {
    if (native.impl != kImplNative || native.status != CaseStatus::kOk || !native.timing) continue;
    const std::string xkey = native.c.exchange_key();
    for (const auto& base : results) {
      if (base.impl == kImplNative || base.status != CaseStatus::kOk || !base.timing) continue;
      if (base.c.exchange_key() != xkey) continue;
      out.push_back(Speedup{xkey, native.c.key(), base.impl,
                            ratio_of_medians(base.timing->stats, native.timing->stats)});
    }
  }
  return out;
}

}  // namespace dcp
