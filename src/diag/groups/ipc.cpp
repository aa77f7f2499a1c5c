#include "diag/groups/ipc.hpp"

#include <fmt/format.h>

#include "diag/rules.hpp"
#include "diag/wire.hpp"

namespace dcp::diag {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(IpcFacts, attempted, ok, describe, error)

std::string encode(const IpcFacts& f) {
  return wire::encode(f);
}
void decode(std::string_view text, IpcFacts& out) {
  wire::decode(text, out, "ipc facts");
}

DiagCheck ipc_check(const std::vector<RankFacts>& ranks, const std::vector<IpcFacts>& facts) {
  DiagCheck c = job_row("ipc", "ipc_workspace");
  if (!single_host(ranks)) {
    const auto hosts = distinct(ranks, [](const RankFacts& r) { return r.host; });
    c.verdict = Verdict::kSkip;
    c.hint = fmt::format(
        "the ranks span hosts ({}): the ipc workspace needs one host; the fabric checks cover "
        "this job",
        describe_groups(hosts));
    return c;
  }
  std::vector<int> failed;
  std::string first_error;
  bool attempted = false;
  for (std::size_t i = 0; i < facts.size() && i < ranks.size(); ++i) {
    attempted = attempted || facts[i].attempted;
    if (facts[i].attempted && !facts[i].ok) {
      failed.push_back(ranks[i].rank);
      if (first_error.empty()) first_error = facts[i].error;
    }
  }
  if (!attempted) {
    c.verdict = Verdict::kSkip;
    c.hint = "not attempted";
    return c;
  }
  if (failed.empty()) {
    c.verdict = Verdict::kPass;
    c.value = facts.front().describe;
    if (ranks.size() == 1) c.value += " (single rank: mapped, not shared)";
    return c;
  }
  c.verdict = Verdict::kFail;
  c.ranks = failed;
  c.value = "failed";
  c.hint = fmt::format("the ipc workspace could not be built (rank{} {}): {}",
                       failed.size() > 1 ? "s" : "", format_ranks(failed), first_error);
  c.remedy =
      "check the cumem and peer rows first; the ranks need one host, P2P between their GPUs and "
      "a writable temporary folder for the fd-passing socket ($TMPDIR)";
  return c;
}

}  // namespace dcp::diag
