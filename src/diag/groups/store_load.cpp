#include "diag/groups/store_load.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <utility>

#include "diag/rules.hpp"
#include "diag/wire.hpp"
#include "report/diag_report.hpp"

namespace dcp::diag {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(StoreLoadFacts, from, to, initiator, ran, skip_reason, timed_out,
                                   step, load_checked, expected, loaded, seconds, error)

std::string encode(const std::vector<StoreLoadFacts>& f) {
  return wire::encode(f);
}
void decode(std::string_view text, std::vector<StoreLoadFacts>& out) {
  wire::decode(text, out, "store_load facts");
}

namespace {

constexpr std::string_view kRemedy =
    "make sure the mapping grants this GPU access to the peer's memory (cuMemSetAccess for the "
    "importing device; see the ipc/fabric and peer rows), that P2P is possible between the GPUs "
    "(nvidia-smi topo -m; pcie rows for ACS/IOMMU), and that the link is up (nvlink rows)";

}  // namespace

std::vector<DiagCheck> store_load_checks(const std::vector<RankFacts>& ranks,
                                         const std::vector<StoreLoadFacts>& facts) {
  if (ranks.size() < 2) return {single_rank_skip("store_load", "store_load")};
  std::map<std::pair<int, int>, std::vector<const StoreLoadFacts*>> pairs;
  for (const auto& f : facts)
    pairs[{f.from, f.to}].push_back(&f);
  std::vector<DiagCheck> out;
  for (const auto& [key, sides] : pairs) {
    const auto [from, to] = key;
    DiagCheck c = pair_row("store_load", "store_load", from, to);
    const StoreLoadFacts* skipped = nullptr;
    std::vector<std::string> problems;
    double seconds = 0;
    bool ran = false;
    for (const StoreLoadFacts* s : sides) {
      const int me = s->initiator ? from : to;
      if (!s->skip_reason.empty()) {
        skipped = s;
        continue;
      }
      ran = ran || s->ran;
      seconds = std::max(seconds, s->seconds);
      if (!s->error.empty()) problems.push_back(fmt::format("rank {}: {}", me, s->error));
      if (s->timed_out) {
        problems.push_back(
            s->step == static_cast<int>(StoreLoadStep::kResponderWait)
                ? fmt::format("rank {} never saw rank {}'s store arrive in its memory", to, from)
                : fmt::format("rank {} never saw rank {}'s answer arrive in its memory", from, to));
      }
      if (s->load_checked && s->loaded != s->expected) {
        problems.push_back(
            fmt::format("rank {} loaded back {:#018x} through the mapping after storing {:#018x}",
                        me, s->loaded, s->expected));
      }
    }
    if (skipped != nullptr && !ran) {
      c.verdict = Verdict::kSkip;
      c.hint = skipped->skip_reason;
    } else if (!problems.empty()) {
      c.verdict = Verdict::kFail;
      c.value = "no round trip";
      c.hint = fmt::format(
          "store/load through the mapping between ranks {} and {} failed: {} (gave up after the "
          "timeout: a mapping whose peer access was never granted, a dead link, or a peer kernel "
          "that never ran)",
          from, to, fmt::join(problems, "; "));
      c.remedy = std::string(kRemedy);
    } else {
      c.verdict = Verdict::kPass;
      c.value = fmt::format("store, load back and answer through the mapping in {}",
                            report::display_value(seconds, "s").text);
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace dcp::diag
