#include "diag/groups/ll128_order.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "diag/rules.hpp"
#include "diag/wire.hpp"

namespace dcp::diag {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Ll128LayoutCounts, lines, torn_single, torn_after_flag,
                                   first_torn_line, timed_out, stalled_side, stalled_at_line)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Ll128OrderFacts, writer, reader, ran, skip_reason, error,
                                   ring_lines, flag_first, flag_last, seconds)

std::string encode(const std::vector<Ll128OrderFacts>& f) {
  return wire::encode(f);
}
void decode(std::string_view text, std::vector<Ll128OrderFacts>& out) {
  wire::decode(text, out, "ll128_order facts");
}

void Ll128LayoutCounts::add(std::uint64_t line, ll128probe::LineState first,
                            ll128probe::LineState reload) {
  ++lines;
  const bool torn1 = first == ll128probe::LineState::kTorn;
  const bool torn2 = reload == ll128probe::LineState::kTorn;
  if (torn1) ++torn_single;
  if (torn2) ++torn_after_flag;
  if ((torn1 || torn2) && first_torn_line < 0) first_torn_line = static_cast<std::int64_t>(line);
}

namespace {

std::string counts_text(const Ll128LayoutCounts& c) {
  return fmt::format("{} single-read / {} after-flag torn of {}", c.torn_single, c.torn_after_flag,
                     c.lines);
}

}  // namespace

std::vector<Ll128OrderFacts> merge_ll128_order(const std::vector<Ll128OrderFacts>& facts) {
  std::vector<Ll128OrderFacts> out;
  const auto fold = [](Ll128LayoutCounts& keep, const Ll128LayoutCounts& other) {
    if (other.lines > keep.lines) {
      const bool timed_out = keep.timed_out;
      const std::string side = keep.stalled_side;
      const std::uint64_t at = keep.stalled_at_line;
      keep = other;
      if (timed_out && !keep.timed_out) {
        keep.timed_out = true;
        keep.stalled_side = side;
        keep.stalled_at_line = at;
      }
    } else if (other.timed_out && !keep.timed_out) {
      keep.timed_out = true;
      keep.stalled_side = other.stalled_side;
      keep.stalled_at_line = other.stalled_at_line;
    }
  };
  for (const auto& f : facts) {
    auto it = std::find_if(out.begin(), out.end(), [&](const Ll128OrderFacts& o) {
      return o.writer == f.writer && o.reader == f.reader;
    });
    if (it == out.end()) {
      out.push_back(f);
      continue;
    }
    Ll128OrderFacts& m = *it;
    if (m.skip_reason.empty() && !f.skip_reason.empty() && !m.ran) m.skip_reason = f.skip_reason;
    if (!f.error.empty()) m.error += (m.error.empty() ? "" : "; ") + f.error;
    m.ran = m.ran || f.ran;
    m.seconds = std::max(m.seconds, f.seconds);
    fold(m.flag_first, f.flag_first);
    fold(m.flag_last, f.flag_last);
  }
  std::stable_sort(out.begin(), out.end(), [](const Ll128OrderFacts& x, const Ll128OrderFacts& y) {
    return std::pair(x.writer, x.reader) < std::pair(y.writer, y.reader);
  });
  return out;
}

std::vector<DiagCheck> ll128_order_checks(const std::vector<RankFacts>& ranks,
                                          const std::vector<Ll128OrderFacts>& facts) {
  if (ranks.size() < 2) return {single_rank_skip("ll128_order", "ll128_order")};
  const std::vector<Ll128OrderFacts> sorted = merge_ll128_order(facts);
  std::vector<DiagCheck> out;
  for (const auto& f : sorted) {
    DiagCheck c = pair_row("ll128_order", "ll128_order", f.writer, f.reader);
    if (!f.skip_reason.empty()) {
      c.verdict = Verdict::kSkip;
      c.hint = f.skip_reason;
      out.push_back(std::move(c));
      continue;
    }
    if (!f.error.empty()) {
      c.verdict = Verdict::kFail;
      c.hint = "the ordering probe failed: " + f.error;
      c.remedy = "fix the workspace and store_load rows of this pair first, then rerun";
      out.push_back(std::move(c));
      continue;
    }
    const Ll128LayoutCounts* stalled = f.flag_first.timed_out  ? &f.flag_first
                                       : f.flag_last.timed_out ? &f.flag_last
                                                               : nullptr;
    if (stalled != nullptr) {
      c.verdict = Verdict::kFail;
      c.value = "timeout";
      c.hint = fmt::format(
          "the ordering probe from rank {} to rank {} stalled ({} layout): the {} made no "
          "progress for the timeout at line {}: lines written through the mapping stopped "
          "arriving",
          f.writer, f.reader, stalled == &f.flag_first ? "flag-first" : "flag-last",
          stalled->stalled_side, stalled->stalled_at_line);
      c.remedy =
          "check the store_load and latency rows of this pair and the links (nvidia-smi nvlink "
          "-s); rerun with a longer --timeout if the GPUs were busy";
      out.push_back(std::move(c));
      continue;
    }
    c.value = fmt::format("flag last: {}; flag first: {}", counts_text(f.flag_last),
                          counts_text(f.flag_first));
    c.number = static_cast<double>(f.flag_last.torn_after_flag);
    c.unit = "lines";
    if (f.flag_last.lines == 0) {
      c.verdict = Verdict::kFail;
      c.hint = "the reader classified no line";
      c.remedy = "rerun; if it repeats, report this output (dcpbench diag --json)";
    } else if (f.flag_last.torn_after_flag != 0) {
      c.verdict = Verdict::kFail;
      c.hint = fmt::format(
          "the shipped LL128 layout (flag in the last word, data read after the flag) tore {} of "
          "{} lines from rank {} to rank {} (first at line {}): this path does not deliver a "
          "line's pieces in address order, so the native exchange would accept stale data here",
          f.flag_last.torn_after_flag, f.flag_last.lines, f.writer, f.reader,
          f.flag_last.first_torn_line);
      c.remedy =
          "do not run the native exchange over this pair: use --impl nccl-*; report this output "
          "(dcpbench diag --json) with the GPU and fabric model";
    } else {
      c.verdict = Verdict::kPass;
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace dcp::diag
