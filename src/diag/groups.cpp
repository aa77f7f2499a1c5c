#include "diag/groups.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.hpp"

namespace dcp::diag {

const CheckGroupInfo* find_check_group(std::string_view name) {
  for (const auto& g : kCheckGroups) {
    if (g.name == name) return &g;
  }
  return nullptr;
}

std::string accepted_check_groups() {
  std::string out;
  for (const auto& g : kCheckGroups) {
    if (!out.empty()) out += ',';
    out += g.name;
  }
  return out;
}

std::vector<std::string> parse_check_groups(std::string_view csv) {
  std::vector<bool> chosen(kCheckGroups.size(), csv.empty());
  std::size_t pos = 0;
  while (!csv.empty() && pos <= csv.size()) {
    std::size_t end = csv.find(',', pos);
    if (end == std::string_view::npos) end = csv.size();
    std::string_view name = csv.substr(pos, end - pos);
    while (!name.empty() && name.front() == ' ')
      name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ')
      name.remove_suffix(1);
    if (name.empty()) {
      throw ConfigError(
          fmt::format("checks: empty name in '{}'; accepted: {}", csv, accepted_check_groups()));
    }
    const auto it = std::find_if(kCheckGroups.begin(), kCheckGroups.end(),
                                 [&](const CheckGroupInfo& g) { return g.name == name; });
    if (it == kCheckGroups.end()) {
      throw ConfigError(
          fmt::format("checks: unknown check '{}'; accepted: {}", name, accepted_check_groups()));
    }
    chosen[static_cast<std::size_t>(it - kCheckGroups.begin())] = true;
    pos = end + 1;
  }
  std::vector<std::string> out;
  for (std::size_t i = 0; i < kCheckGroups.size(); ++i) {
    if (chosen[i]) out.emplace_back(kCheckGroups[i].name);
  }
  return out;
}

}  // namespace dcp::diag
