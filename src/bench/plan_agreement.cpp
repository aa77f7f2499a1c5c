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

  // Rank 0's plan goes to everyone; each rank finds where its own plan departs from it.
  std::string text;
  for (const auto& r : plan)
    text += describe(r) + '\n';
  std::uint64_t size = text.size();
  world.broadcast_bytes(std::as_writable_bytes(std::span(&size, 1)), 0, "plan size of rank 0");
  std::string rank0(size, '\0');
  if (world.rank() == 0) rank0 = text;
  world.broadcast_bytes(std::as_writable_bytes(std::span(rank0.data(), rank0.size())), 0,
                        "plan of rank 0");
  std::vector<std::string> ref;
  for (std::size_t pos = 0; pos < rank0.size();) {
    const auto nl = rank0.find('\n', pos);
    ref.push_back(rank0.substr(pos, nl - pos));
    pos = nl + 1;
  }
  std::uint64_t my_first =
      plan.size() == ref.size() ? plan.size() : std::min(plan.size(), ref.size());
  for (std::size_t i = 0; i < std::min(plan.size(), ref.size()); ++i) {
    if (describe(plan[i]) != ref[i]) {
      my_first = i;
      break;
    }
  }
  const auto firsts = world.allgather(my_first, "first differing run");
  const std::uint64_t at = firsts[static_cast<std::size_t>(first_bad)];
  // Everyone reports the same thing: the first rank that differs, where, and how. The text of
  // that rank's run is only known there, so the message quotes rank 0's run and the count.
  std::string detail;
  if (at < ref.size()) {
    detail = fmt::format("first difference at run {}: rank 0 runs '{}'", at, ref[at]);
    if (world.rank() == first_bad && at < plan.size()) {
      detail += fmt::format(", this rank runs '{}'", describe(plan[at]));
    }
  } else {
    detail = fmt::format("rank 0 plans {} runs, rank {} plans {}", all[0].runs, first_bad,
                         all[static_cast<std::size_t>(first_bad)].runs);
  }
  throw ConfigError(fmt::format(
      "sweep: rank {} was launched with a different sweep than rank 0 ({} vs {} runs; {}): "
      "every rank must get the same flags and config, or the exchanges cannot match",
      first_bad, all[static_cast<std::size_t>(first_bad)].runs, all[0].runs, detail));
}

}  // namespace dcp::bench
