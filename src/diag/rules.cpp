#include "diag/rules.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.hpp"

namespace dcp::diag {

DiagCheck rank_row(std::string_view group, std::string_view name, int rank) {
  DiagCheck c;
  c.group = std::string(group);
  c.name = std::string(name);
  c.scope = DiagScope::kRank;
  c.ranks = {rank};
  return c;
}

DiagCheck pair_row(std::string_view group, std::string_view name, int from, int to) {
  DiagCheck c;
  c.group = std::string(group);
  c.name = std::string(name);
  c.scope = DiagScope::kPair;
  c.ranks = {from, to};
  return c;
}

DiagCheck job_row(std::string_view group, std::string_view name, std::vector<int> ranks) {
  DiagCheck c;
  c.group = std::string(group);
  c.name = std::string(name);
  c.scope = DiagScope::kJob;
  c.ranks = std::move(ranks);
  return c;
}

DiagCheck single_rank_skip(std::string_view group, std::string_view name) {
  DiagCheck c = job_row(group, name);
  c.verdict = Verdict::kSkip;
  c.hint = std::string(kSingleRankReason);
  return c;
}

std::vector<int> ranks_without_cuda(const std::vector<RankFacts>& ranks) {
  std::vector<int> out;
  for (const auto& r : ranks) {
    if (!r.cuda_ready) out.push_back(r.rank);
  }
  return out;
}

DiagCheck cuda_not_ready_skip(std::string_view group, const std::vector<RankFacts>& ranks) {
  const std::vector<int> down = ranks_without_cuda(ranks);
  DiagCheck c = job_row(group, group, down);
  c.verdict = Verdict::kSkip;
  c.hint = fmt::format(
      "not run: CUDA did not start on rank{} {} (see fabric_manager/cuda_init); this group "
      "measures on the GPU",
      down.size() == 1 ? "" : "s", format_ranks(down));
  return c;
}

std::string format_ranks(const std::vector<int>& ranks) {
  return fmt::format("{}", fmt::join(ranks, ", "));
}

bool single_host(const std::vector<RankFacts>& ranks) {
  return std::all_of(ranks.begin(), ranks.end(),
                     [&](const RankFacts& r) { return r.host == ranks.front().host; });
}

const RankFacts* find_rank(const std::vector<RankFacts>& ranks, int r) {
  for (const auto& f : ranks) {
    if (f.rank == r) return &f;
  }
  return nullptr;
}

std::optional<std::string> pair_skip_reason(const RankFacts& a, const RankFacts& b,
                                            bool needs_same_host) {
  if (a.host != b.host) {
    if (needs_same_host) {
      return fmt::format("ranks {} and {} run on different hosts ({}, {}): not tested across hosts",
                         a.rank, b.rank, a.host, b.host);
    }
    return std::nullopt;
  }
  if (!a.gpu_uuid.empty() && a.gpu_uuid == b.gpu_uuid) {
    return fmt::format("ranks {} and {} share one GPU ({}, see gpu_mapping)", a.rank, b.rank,
                       a.gpu_uuid);
  }
  return std::nullopt;
}

std::string describe_groups(const ValueGroups& groups) {
  std::string out;
  for (const auto& [value, ranks] : groups) {
    if (!out.empty()) out += "; ";
    out += fmt::format("{} on rank{} {}", value.empty() ? "(unknown)" : value,
                       ranks.size() > 1 ? "s" : "", format_ranks(ranks));
  }
  return out;
}

std::string format_bytes(unsigned long long b) {
  if (b >= (1ULL << 30) && b % (1ULL << 30) == 0) return fmt::format("{} GiB", b >> 30);
  if (b >= (1ULL << 20) && b % (1ULL << 20) == 0) return fmt::format("{} MiB", b >> 20);
  if (b >= (1ULL << 10) && b % (1ULL << 10) == 0) return fmt::format("{} KiB", b >> 10);
  return fmt::format("{} B", b);
}

DiagSummary summarize(const std::vector<DiagCheck>& checks) {
  DiagSummary s;
  for (const auto& c : checks) {
    switch (c.verdict) {
      case Verdict::kPass:
        ++s.pass;
        break;
      case Verdict::kWarn:
        ++s.warn;
        break;
      case Verdict::kFail:
        ++s.fail;
        break;
      case Verdict::kSkip:
        ++s.skip;
        break;
    }
  }
  s.exit_code =
      s.fail > 0 ? static_cast<int>(ExitCode::kCheckFailed) : static_cast<int>(ExitCode::kSuccess);
  return s;
}

}  // namespace dcp::diag
