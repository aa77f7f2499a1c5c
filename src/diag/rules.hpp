#pragma once
/// @file
/// What the verdict rules of every check group share (pure, no CUDA, no MPI): row builders, the
/// pair skip reasons, rank lists for messages, and the summary with the exit code. Each group's
/// own rule lives in groups/<name>.cpp.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/diag_result.hpp"
#include "diag/rank_facts.hpp"

namespace dcp::diag {

/// The reason every check that needs peers gives on a single rank.
inline constexpr std::string_view kSingleRankReason =
    "single rank: no peers to test; run under mpirun -np N";

/// A row of `group`/`name` for one rank, one ordered pair, or the job (verdict SKIP until set).
DiagCheck rank_row(std::string_view group, std::string_view name, int rank);
DiagCheck pair_row(std::string_view group, std::string_view name, int from, int to);
DiagCheck job_row(std::string_view group, std::string_view name, std::vector<int> ranks = {});

/// A SKIP row for a group that needs peers, on a single rank.
DiagCheck single_rank_skip(std::string_view group, std::string_view name);

/// The one SKIP row of a GPU group when CUDA did not start on some ranks (see RankFacts).
DiagCheck cuda_not_ready_skip(std::string_view group, const std::vector<RankFacts>& ranks);
/// The ranks whose CUDA did not start.
std::vector<int> ranks_without_cuda(const std::vector<RankFacts>& ranks);

/// "0, 2, 3".
std::string format_ranks(const std::vector<int>& ranks);

/// Why a pair measurement between ranks a and b (a != b) cannot run, or nullopt: different
/// hosts when `needs_same_host`, or both ranks on one GPU (same UUID).
std::optional<std::string> pair_skip_reason(const RankFacts& a, const RankFacts& b,
                                            bool needs_same_host);

/// True when every rank runs on the same host.
bool single_host(const std::vector<RankFacts>& ranks);

/// The facts of rank `r`, or null.
const RankFacts* find_rank(const std::vector<RankFacts>& ranks, int r);

/// Distinct values of a text field over the ranks, each with the ranks that have it, in order
/// of first appearance.
using ValueGroups = std::vector<std::pair<std::string, std::vector<int>>>;
template <typename Get>
ValueGroups distinct(const std::vector<RankFacts>& ranks, Get get) {
  ValueGroups out;
  for (const auto& r : ranks) {
    const std::string v = get(r);
    auto it = out.begin();
    while (it != out.end() && it->first != v)
      ++it;
    if (it == out.end()) {
      out.push_back({v, {r.rank}});
    } else {
      it->second.push_back(r.rank);
    }
  }
  return out;
}

/// "13.0 on ranks 0, 1; 12.8 on rank 2" ("(unknown)" for an empty value).
std::string describe_groups(const ValueGroups& groups);

/// "2 MiB", "16 KiB", "100 B".
std::string format_bytes(unsigned long long bytes);

/// Verdict counts; exit_code = 1 when any check FAILs, else 0.
DiagSummary summarize(const std::vector<DiagCheck>& checks);

}  // namespace dcp::diag
