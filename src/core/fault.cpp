#include "core/fault.hpp"

#include <array>
#include <charconv>

#include <fmt/format.h>

#include "core/error.hpp"

namespace dcp {

namespace {
constexpr std::array kAllFaults{FaultKind::kSkipLaunch,    FaultKind::kCorruptLine,
                                FaultKind::kShapeMismatch, FaultKind::kKill,
                                FaultKind::kSkipInit,      FaultKind::kRowOrder};
}

std::string_view to_string(FaultKind k) {
  switch (k) {
    case FaultKind::kSkipLaunch:
      return "skip-launch";
    case FaultKind::kCorruptLine:
      return "corrupt-line";
    case FaultKind::kShapeMismatch:
      return "shape-mismatch";
    case FaultKind::kKill:
      return "kill";
    case FaultKind::kSkipInit:
      return "skip-init";
    case FaultKind::kRowOrder:
      return "row-order";
  }
  return "?";
}

std::string to_string(const FaultInjection& f) {
  if (!f.rank) return std::string(to_string(f.kind));
  return fmt::format("{}:{}", to_string(f.kind), *f.rank);
}

std::string accepted_faults() {
  std::string out;
  for (auto k : kAllFaults) {
    if (!out.empty()) out += '|';
    out += to_string(k);
  }
  return out;
}

FaultInjection parse_fault(std::string_view text) {
  const auto colon = text.find(':');
  const std::string_view kind_text = text.substr(0, colon);
  FaultInjection f;
  bool found = false;
  for (auto k : kAllFaults) {
    if (to_string(k) == kind_text) {
      f.kind = k;
      found = true;
    }
  }
  if (!found) {
    throw ConfigError(
        fmt::format("inject: unknown fault '{}'; accepted: KIND[:rank] with KIND one of {}", text,
                    accepted_faults()));
  }
  if (colon != std::string_view::npos) {
    const std::string_view rank_text = text.substr(colon + 1);
    int rank = -1;
    auto [ptr, ec] = std::from_chars(rank_text.data(), rank_text.data() + rank_text.size(), rank);
    if (ec != std::errc{} || ptr != rank_text.data() + rank_text.size() || rank < 0) {
      throw ConfigError(
          fmt::format("inject: bad rank '{}' in '{}'; accepted: a non-negative integer after ':'",
                      rank_text, text));
    }
    f.rank = rank;
  }
  return f;
}

}  // namespace dcp
