#include "diag/groups/latency.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "diag/rules.hpp"
#include "diag/wire.hpp"
#include "report/diag_report.hpp"

namespace dcp::diag {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(LatencyFacts, from, to, ran, skip_reason, timed_out,
                                   failed_round, failed_side, rounds, p50_s, p99_s, mean_s, error)

std::string encode(const std::vector<LatencyFacts>& f) {
  return wire::encode(f);
}
void decode(std::string_view text, std::vector<LatencyFacts>& out) {
  wire::decode(text, out, "latency facts");
}

std::vector<DiagCheck> latency_checks(const std::vector<RankFacts>& ranks,
                                      const std::vector<LatencyFacts>& facts) {
  std::vector<DiagCheck> out;
  const bool single = ranks.size() < 2;
  for (const auto& f : facts) {
    const bool self = f.from == f.to;
    DiagCheck c = self ? rank_row("latency", "latency_self", f.from)
                       : pair_row("latency", "latency", f.from, f.to);
    if (!f.skip_reason.empty()) {
      c.verdict = Verdict::kSkip;
      c.hint = f.skip_reason;
    } else if (f.timed_out) {
      c.verdict = Verdict::kFail;
      c.value = "timeout";
      c.hint = self ? fmt::format(
                          "the two ping-pong kernels on rank {}'s GPU did not answer each "
                          "other (round {}, {} gave up): they could not run at once "
                          "(another process occupying the GPU, or MPS limits?)",
                          f.from, f.failed_round, f.failed_side)
                    : fmt::format(
                          "no answer between ranks {} and {} in round {} ({} gave up at "
                          "the timeout): a flag written through the mapping never "
                          "arrived: dead link, or the peer's kernel did not run",
                          f.from, f.to, f.failed_round, f.failed_side);
      c.remedy = self ? "stop other processes on this GPU (nvidia-smi) and rerun"
                      : "check the store_load row of this pair and the links (nvidia-smi nvlink "
                        "-s); rerun with a longer --timeout if the GPUs were busy";
    } else if (!f.error.empty()) {
      c.verdict = Verdict::kFail;
      c.hint = "the latency probe failed: " + f.error;
      c.remedy = "fix the workspace rows above (ipc, fabric, store_load) and rerun";
    } else {
      const auto p50 = report::display_value(f.p50_s, "s");
      c.value = fmt::format("p50 {}, p99 {}, mean {} ({} rounds){}", p50.text,
                            report::display_value(f.p99_s, "s").text,
                            report::display_value(f.mean_s, "s").text, f.rounds,
                            self ? "; self: two streams on one GPU, not a link" : "");
      c.number = p50.number;
      c.unit = p50.unit;
      if (!self && f.p50_s > kLatencyWarnS) {
        c.verdict = Verdict::kWarn;
        c.hint = fmt::format(
            "one-way latency p50 {} is above {} (NVLink is about 0.7 us): the path may go "
            "over PCIe or host memory; check `nvidia-smi topo -m`",
            p50.text, report::display_value(kLatencyWarnS, "s").text);
        c.remedy =
            "run the ranks on GPUs joined by NVLink (nvidia-smi topo -m shows NV#); see the "
            "paths and nvlink rows";
      } else {
        c.verdict = Verdict::kPass;
      }
    }
    // Self rows are shown on a single rank, and whenever they are not PASS.
    if (self && !single && c.verdict == Verdict::kPass) continue;
    out.push_back(std::move(c));
  }
  if (single) out.push_back(single_rank_skip("latency", "latency"));
  return out;
}

std::vector<DiagMatrix> latency_matrices(int world_size, const std::vector<LatencyFacts>& facts,
                                         std::string_view method) {
  DiagMatrix p50;
  p50.name = "latency_p50";
  p50.title = "one-way flag latency, p50";
  p50.unit = "s";
  p50.method = std::string(method);
  p50.size = world_size;
  p50.values.assign(static_cast<std::size_t>(world_size) * static_cast<std::size_t>(world_size),
                    std::nullopt);
  DiagMatrix p99 = p50;
  p99.name = "latency_p99";
  p99.title = "one-way flag latency, p99";
  for (const auto& f : facts) {
    if (!f.ran || f.timed_out || !f.error.empty() || !f.skip_reason.empty()) continue;
    p50.set(f.from, f.to, f.p50_s);
    p99.set(f.from, f.to, f.p99_s);
    if (f.from == f.to) {
      p50.diagonal = p99.diagonal = "self: two streams on the same GPU, not a link";
    } else {
      p50.set(f.to, f.from, f.p50_s);
      p99.set(f.to, f.from, f.p99_s);
    }
  }
  return {p50, p99};
}

std::vector<LatencyFacts> merge_latency(std::vector<LatencyFacts> all) {
  std::vector<LatencyFacts> out;
  for (auto& f : all) {
    auto it = std::find_if(out.begin(), out.end(),
                           [&](const LatencyFacts& o) { return o.from == f.from && o.to == f.to; });
    if (it == out.end()) {
      out.push_back(std::move(f));
      continue;
    }
    LatencyFacts& keep = it->ran ? *it : f;
    LatencyFacts& other = it->ran ? f : *it;
    if (other.timed_out && !keep.timed_out) {
      keep.timed_out = true;
      keep.failed_round = other.failed_round;
      keep.failed_side = other.failed_side;
    }
    if (!other.error.empty()) {
      keep.error +=
          (keep.error.empty() ? "" : "; ") +
          fmt::format("rank {}: {}", other.from == keep.from ? other.to : other.from, other.error);
    }
    if (&keep != &*it) *it = std::move(keep);
  }
  std::sort(out.begin(), out.end(), [](const LatencyFacts& x, const LatencyFacts& y) {
    return std::pair(x.from != x.to, std::pair(x.from, x.to)) <
           std::pair(y.from != y.to, std::pair(y.from, y.to));
  });
  return out;
}

}  // namespace dcp::diag
