#include "bench/plan_agreement.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <string>

#include "core/error.hpp"

namespace dcp::bench {

namespace {

std::string describe(const PlannedRun& r) {
  return r.impl + " " + r.c.key();
}

/// FNV-1a over the plan's text: equal plans give equal hashes on every rank.
std::uint64_t hash_plan(const std::vector<PlannedRun>& plan) {
  std::uint64_t h = 1469598103934665603ull;
  for (const auto& r : plan) {
    for (unsigned char ch : describe(r) + '\n') {
      h ^= ch;
      h *= 1099511628211ull;
    }
  }
  return h;
}

std::string plan_text(const std::vector<PlannedRun>& plan) {
  std::string text;
  for (const auto& r : plan)
    text += describe(r) + '\n';
  return text;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  for (std::size_t pos = 0; pos < text.size();) {
    const auto nl = text.find('\n', pos);
    out.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

struct PlanDigest {
  std::uint64_t runs;
  std::uint64_t hash;
};

}  // namespace

void require_same_plan(const std::vector<PlannedRun>& plan, const World& world) {
  const PlanDigest mine{plan.size(), hash_plan(plan)};
  const auto all = world.allgather(mine, "sweep plan agreement");
  int first_bad = -1;
  for (std::size_t r = 1; r < all.size(); ++r) {
    if (all[r].runs != all[0].runs || all[r].hash != all[0].hash) {
      first_bad = static_cast<int>(r);
      break;
    }
  }
  if (first_bad < 0) return;

  // Only when they differ: every rank gets every plan's text and names the same difference.
  const auto texts = world.allgather_strings(plan_text(plan), "sweep plans of every rank");
  const std::vector<std::string> ref = lines(texts[0]);
  const std::vector<std::string> theirs = lines(texts[static_cast<std::size_t>(first_bad)]);
  std::size_t at = 0;
  while (at < ref.size() && at < theirs.size() && ref[at] == theirs[at])
    ++at;
  std::string detail;
  if (at < ref.size() && at < theirs.size()) {
    detail = fmt::format("first difference at run {}: rank 0 runs '{}', rank {} runs '{}'", at,
                         ref[at], first_bad, theirs[at]);
  } else {
    detail =
        fmt::format("rank 0 plans {} runs, rank {} plans {}", ref.size(), first_bad, theirs.size());
  }
  throw ConfigError(fmt::format(
      "sweep: rank {} was launched with a different sweep than rank 0 ({} vs {} runs; {}): "
      "every rank must get the same flags and config, or the exchanges cannot match",
      first_bad, theirs.size(), ref.size(), detail));
}

}  // namespace dcp::bench
