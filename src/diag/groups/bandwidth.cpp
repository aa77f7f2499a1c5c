#include "diag/groups/bandwidth.hpp"

#include <fmt/format.h>

#include "diag/rules.hpp"
#include "diag/wire.hpp"
#include "report/diag_report.hpp"

namespace dcp::diag {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(BandwidthFacts, from, to, ran, skip_reason, bytes, reps, seconds,
                                   Bps, error)

std::string encode(const std::vector<BandwidthFacts>& f) {
  return wire::encode(f);
}
void decode(std::string_view text, std::vector<BandwidthFacts>& out) {
  wire::decode(text, out, "bandwidth facts");
}

std::vector<DiagCheck> bandwidth_checks(const std::vector<RankFacts>& ranks,
                                        const std::vector<BandwidthFacts>& facts) {
  std::vector<DiagCheck> out;
  const bool single = ranks.size() < 2;
  for (const auto& f : facts) {
    const bool self = f.from == f.to;
    DiagCheck c = self ? rank_row("bandwidth", "copy_bandwidth_self", f.from)
                       : pair_row("bandwidth", "copy_bandwidth", f.from, f.to);
    if (!f.skip_reason.empty()) {
      c.verdict = Verdict::kSkip;
      c.hint = f.skip_reason;
    } else if (!f.error.empty()) {
      c.verdict = Verdict::kFail;
      c.hint = "the copy failed: " + f.error;
      c.remedy = "check the peer row of this pair (P2P access) and the driver, then rerun";
    } else {
      const auto bw = report::display_value(f.Bps, "B/s");
      c.value = fmt::format("{} ({} x {}){}", bw.text, format_bytes(f.bytes), f.reps,
                            self ? "; self: device-local copy, not a link" : "");
      c.number = bw.number;
      c.unit = bw.unit;
      if (!self && f.Bps < kBandwidthWarnBps) {
        c.verdict = Verdict::kWarn;
        c.hint = fmt::format(
            "copy bandwidth {} is below {}: these GPUs do not talk over NVLink (PCIe or "
            "host staging); check `nvidia-smi topo -m` and `nvidia-smi nvlink -s`",
            bw.text, report::display_value(kBandwidthWarnBps, "B/s").text);
        c.remedy =
            "run the ranks on GPUs joined by NVLink; if they are, check the nvlink_pair row "
            "(links down) and the pcie rows (ACS, IOMMU)";
      } else {
        c.verdict = Verdict::kPass;
      }
    }
    if (self && !single && c.verdict == Verdict::kPass) continue;
    out.push_back(std::move(c));
  }
  if (single) out.push_back(single_rank_skip("bandwidth", "copy_bandwidth"));
  return out;
}

DiagMatrix bandwidth_matrix(int world_size, const std::vector<BandwidthFacts>& facts,
                            std::string_view method) {
  DiagMatrix m;
  m.name = "copy_bandwidth";
  m.title = "copy bandwidth, source rank's GPU into the destination rank's buffer";
  m.unit = "B/s";
  m.method = std::string(method);
  m.size = world_size;
  m.values.assign(static_cast<std::size_t>(world_size) * static_cast<std::size_t>(world_size),
                  std::nullopt);
  for (const auto& f : facts) {
    if (!f.ran || !f.error.empty() || !f.skip_reason.empty()) continue;
    m.set(f.from, f.to, f.Bps);
    if (f.from == f.to) m.diagonal = "self: device-local copy on the same GPU, not a link";
  }
  return m;
}

}  // namespace dcp::diag
