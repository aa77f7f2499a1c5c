#include "kernels/crossover.hpp"

#include <algorithm>
#include <map>
#include <sstream>
#include <tuple>
#include <utility>

#include <fmt/format.h>

#include "core/error.hpp"

namespace dcp::kernels {

std::optional<CrossoverRule> rule_for(const Crossover& x, Op op, int cp_size, int head_dim) {
  for (const CrossoverRule& r : x.rules) {
    if (r.op == op && r.cp_size == cp_size && r.head_dim == head_dim) return r;
  }
  return std::nullopt;
}

bool picks_direct(const Crossover& x, Op op, int cp_size, int head_dim, std::int64_t entries) {
  const auto r = rule_for(x, op, cp_size, head_dim);
  return r && r->direct_from_entries != kDirectNever && entries >= r->direct_from_entries;
}

Crossover parse_crossover(std::string_view text, std::string_view origin) {
  Crossover x;
  std::istringstream in{std::string(text)};
  std::string line;
  int n = 0;
  std::vector<std::string> comments;
  while (std::getline(in, line)) {
    ++n;
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    if (line[first] == '#') {
      comments.push_back(line.substr(first + 1));
      continue;
    }
    std::istringstream fields(line);
    std::string op_text, cp_text, d_text, from_text, extra;
    fields >> op_text >> cp_text >> d_text >> from_text;
    const auto bad = [&](std::string_view why) {
      throw ConfigError(fmt::format(
          "crossover: {} line {}: {} ('{}'); accepted: <exchange|reduce> <cp 1..64> <head_dim> "
          "<E >= 0 or never>",
          origin, n, why, line));
    };
    if (from_text.empty() || (fields >> extra)) bad("four fields expected");
    CrossoverRule r;
    const auto op = parse_op(op_text);
    if (!op) bad("unknown op");
    r.op = *op;
    try {
      std::size_t used = 0;
      r.cp_size = std::stoi(cp_text, &used);
      if (used != cp_text.size() || r.cp_size < 1 || r.cp_size > 64) bad("cp out of range");
      r.head_dim = std::stoi(d_text, &used);
      if (used != d_text.size() || r.head_dim < 1) bad("bad head_dim");
      if (from_text == "never") {
        r.direct_from_entries = kDirectNever;
      } else {
        r.direct_from_entries = std::stoll(from_text, &used);
        if (used != from_text.size() || r.direct_from_entries < 0) bad("bad entry count");
      }
    } catch (const std::logic_error&) {
      bad("not a number");
    }
    if (rule_for(x, r.op, r.cp_size, r.head_dim))
      bad("a second rule for the same op, cp and head_dim");
    x.rules.push_back(r);
  }
  x.source = comments.empty() ? std::string(origin) : comments.front();
  return x;
}

std::string format_crossover(const Crossover& x) {
  std::string out = fmt::format("# {}\n", x.source);
  out += "# <op> <cp> <head_dim> <native-direct from E>: native-auto runs native (LL128) below E\n";
  for (const CrossoverRule& r : x.rules) {
    out +=
        fmt::format("{} {} {} {}\n", to_string(r.op), r.cp_size, r.head_dim,
                    r.direct_from_entries == kDirectNever ? std::string("never")
                                                          : std::to_string(r.direct_from_entries));
  }
  return out;
}

Crossover derive_crossover(const std::vector<CaseResult>& results, std::string_view ll128,
                           std::string_view direct, std::string source) {
  // (op, cp, D) -> E -> (best ll128 p50, best direct p50) over the other axes (dtype, base, ...).
  using Pair = std::pair<double, double>;
  std::map<std::tuple<int, int, int>, std::map<std::int64_t, Pair>> table;
  for (const CaseResult& r : results) {
    if (r.status != CaseStatus::kOk || !r.timing || r.c.launch != LaunchMode::kGraph) continue;
    const bool is_ll128 = r.impl == ll128;
    if (!is_ll128 && r.impl != direct) continue;
    auto& cell = table[{static_cast<int>(r.c.op), r.c.cp_size, r.c.head_dim}]
                     .try_emplace(r.c.batch, Pair{-1.0, -1.0})
                     .first->second;
    double& slot = is_ll128 ? cell.first : cell.second;
    const double p50 = r.timing->stats.p50;
    if (slot < 0 || p50 < slot) slot = p50;
  }
  Crossover x;
  x.source = std::move(source);
  for (const auto& [key, by_e] : table) {
    CrossoverRule rule;
    rule.op = static_cast<Op>(std::get<0>(key));
    rule.cp_size = std::get<1>(key);
    rule.head_dim = std::get<2>(key);
    bool any = false;
    // Walk from the largest E down while direct keeps winning.
    for (auto it = by_e.rbegin(); it != by_e.rend(); ++it) {
      const auto [l, d] = it->second;
      if (l < 0 || d < 0) continue;  // measured for one strategy only
      any = true;
      if (d < l) {
        rule.direct_from_entries = it->first;
      } else {
        break;
      }
    }
    if (any) x.rules.push_back(rule);
  }
  return x;
}

}  // namespace dcp::kernels
