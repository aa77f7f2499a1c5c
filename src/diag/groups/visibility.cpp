#include "diag/groups/visibility.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "diag/rules.hpp"
#include "diag/wire.hpp"

namespace dcp::diag {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(VisibilityFacts, writer, reader, ran, skip_reason, words,
                                   read_mismatches, read_first_bad, read_expected, read_actual,
                                   write_mismatches, write_first_bad, write_expected, write_actual,
                                   error)

std::string encode(const std::vector<VisibilityFacts>& f) {
  return wire::encode(f);
}
void decode(std::string_view text, std::vector<VisibilityFacts>& out) {
  wire::decode(text, out, "visibility facts");
}

std::vector<DiagCheck> visibility_checks(const std::vector<RankFacts>& ranks,
                                         const std::vector<VisibilityFacts>& facts) {
  if (ranks.size() < 2) return {single_rank_skip("visibility", "visibility")};
  std::vector<VisibilityFacts> sorted = facts;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const VisibilityFacts& x, const VisibilityFacts& y) {
                     return std::pair(x.writer, x.reader) < std::pair(y.writer, y.reader);
                   });
  std::vector<DiagCheck> out;
  for (const auto& f : sorted) {
    DiagCheck c = pair_row("visibility", "visibility", f.writer, f.reader);
    if (!f.skip_reason.empty()) {
      c.verdict = Verdict::kSkip;
      c.hint = f.skip_reason;
    } else if (!f.error.empty()) {
      c.verdict = Verdict::kFail;
      c.hint = "the signature check failed to run: " + f.error;
      c.remedy = "fix the rows above first (ipc/fabric workspace, store_load), then rerun";
    } else if (f.read_mismatches != 0 || f.write_mismatches != 0) {
      c.verdict = Verdict::kFail;
      c.value = fmt::format("remote read {} bad, remote write {} bad of {} words",
                            f.read_mismatches, f.write_mismatches, f.words);
      std::vector<std::string> parts;
      if (f.read_mismatches != 0) {
        parts.push_back(fmt::format(
            "rank {} read {} of {} words of rank {}'s segment wrong through the mapping (first at "
            "word {}: expected {:#010x}, got {:#010x})",
            f.reader, f.read_mismatches, f.words, f.writer, f.read_first_bad, f.read_expected,
            f.read_actual));
      }
      if (f.write_mismatches != 0) {
        parts.push_back(fmt::format(
            "rank {}'s writes into rank {}'s segment arrived wrong in {} of {} words (first at "
            "word {}: expected {:#010x}, got {:#010x})",
            f.writer, f.reader, f.write_mismatches, f.words, f.write_first_bad, f.write_expected,
            f.write_actual));
      }
      c.hint = fmt::format(
          "{}: the mapped segments do not alias the peer's memory (wrong VA "
          "layout or stride, or a stale mapping)",
          fmt::join(parts, "; "));
      c.remedy =
          "a software fault, not a setting: report it with this output (dcpbench diag --json) "
          "and run with --workspace sim meanwhile";
    } else {
      c.verdict = Verdict::kPass;
      c.value = fmt::format("{} words: remote read ok, remote write ok", f.words);
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace dcp::diag
