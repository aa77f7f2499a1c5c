#include "diag/groups/nvlink.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "diag/rules.hpp"
#include "diag/wire.hpp"
#include "fabric/nvml.hpp"

namespace dcp::diag {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(LinkFacts, index, active, remote_bus_id, remote)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(NvlinkFacts, nvml_available, unavailable_reason, bus_id,
                                   supported, links, error)

std::string encode(const NvlinkFacts& f) {
  return wire::encode(f);
}
void decode(std::string_view text, NvlinkFacts& out) {
  wire::decode(text, out, "NVLink facts");
}

int NvlinkFacts::links_active() const {
  return static_cast<int>(
      std::count_if(links.begin(), links.end(), [](const LinkFacts& l) { return l.active; }));
}

std::vector<std::string> NvlinkFacts::remote_bus_ids() const {
  std::vector<std::string> ids;
  for (const auto& l : links) {
    if (l.active && !l.remote_bus_id.empty() &&
        std::find(ids.begin(), ids.end(), l.remote_bus_id) == ids.end()) {
      ids.push_back(l.remote_bus_id);
    }
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

NvlinkFacts nvlink_facts(bool nvml_available, const std::string& reason, const std::string& bus_id,
                         const fabric::NvlinkReport& report) {
  NvlinkFacts f;
  f.nvml_available = nvml_available;
  f.unavailable_reason = nvml_available ? "" : reason;
  f.bus_id = fabric::canonical_bus_id(bus_id);
  if (!nvml_available) return f;
  f.supported = report.supported;
  f.error = report.ok ? "" : report.error;
  for (const auto& l : report.links) {
    f.links.push_back(
        LinkFacts{l.index, l.active, l.remote_bus_id, std::string(fabric::to_string(l.remote))});
  }
  return f;
}

namespace {

std::vector<int> down_links(const NvlinkFacts& f) {
  std::vector<int> out;
  for (const auto& l : f.links) {
    if (!l.active) out.push_back(l.index);
  }
  return out;
}

int links_to(const NvlinkFacts& f, const std::string& bus_id) {
  if (bus_id.empty()) return 0;
  return static_cast<int>(std::count_if(f.links.begin(), f.links.end(), [&](const LinkFacts& l) {
    return l.active && l.remote_bus_id == bus_id;
  }));
}

int switch_links(const NvlinkFacts& f) {
  return static_cast<int>(std::count_if(f.links.begin(), f.links.end(), [](const LinkFacts& l) {
    return l.active && l.remote == "switch";
  }));
}

constexpr std::string_view kLinkRemedy =
    "inspect the links with nvidia-smi nvlink -s and nvidia-smi nvlink -e (errors); reset the GPU "
    "when idle (nvidia-smi -r -i <gpu>), restart the Fabric Manager on NVSwitch systems, and have "
    "a link that stays down serviced";

DiagCheck pair_check(const RankFacts& ra, const NvlinkFacts& a, const RankFacts& rb,
                     const NvlinkFacts& b) {
  DiagCheck c = pair_row("nvlink", "nvlink_pair", ra.rank, rb.rank);
  if (auto why = pair_skip_reason(ra, rb, true)) {
    c.verdict = Verdict::kSkip;
    c.hint = *why;
    return c;
  }
  if (!a.nvml_available || !b.nvml_available) {
    c.verdict = Verdict::kSkip;
    c.hint =
        "NVML unavailable: " + (a.nvml_available ? b.unavailable_reason : a.unavailable_reason);
    return c;
  }
  if (!a.error.empty() || !b.error.empty()) {
    c.verdict = Verdict::kSkip;
    c.hint = "NVML could not report the NVLink state (see nvlink): " +
             (a.error.empty() ? b.error : a.error);
    return c;
  }
  if (!a.supported && !b.supported) {
    c.verdict = Verdict::kSkip;
    c.hint = "neither GPU has NVLink: they talk over PCIe (see paths)";
    return c;
  }
  const int direct = links_to(a, b.bus_id) + links_to(b, a.bus_id);
  const int sw_a = switch_links(a);
  const int sw_b = switch_links(b);
  const bool joined = direct > 0 || (sw_a > 0 && sw_b > 0);
  const auto down_a = down_links(a);
  const auto down_b = down_links(b);
  const auto describe_down = [&]() {
    std::vector<std::string> parts;
    if (!down_a.empty()) {
      parts.push_back(fmt::format("rank {}'s GPU: link{} {} of {} down", ra.rank,
                                  down_a.size() == 1 ? "" : "s", format_ranks(down_a),
                                  a.links.size()));
    }
    if (!down_b.empty()) {
      parts.push_back(fmt::format("rank {}'s GPU: link{} {} of {} down", rb.rank,
                                  down_b.size() == 1 ? "" : "s", format_ranks(down_b),
                                  b.links.size()));
    }
    return fmt::format("{}", fmt::join(parts, "; "));
  };
  if (!joined) {
    const bool a_dark = a.supported && !a.links.empty() && a.links_active() == 0;
    const bool b_dark = b.supported && !b.links.empty() && b.links_active() == 0;
    if (a_dark || b_dark) {
      c.verdict = Verdict::kFail;
      c.value = "no NVLink path";
      c.hint = fmt::format(
          "{}: no NVLink joins these GPUs any more, so their traffic falls back to PCIe (where "
          "LL128 is not validated)",
          describe_down());
      c.remedy = std::string(kLinkRemedy);
    } else {
      c.verdict = Verdict::kSkip;
      c.hint =
          "no NVLink joins these GPUs (no direct link, no common NVSwitch): their links lead "
          "elsewhere; they talk over PCIe (see paths)";
    }
    return c;
  }
  const int total = static_cast<int>(a.links.size() + b.links.size());
  const std::string how = direct > 0
                              ? fmt::format("{} direct link{}", direct, direct == 1 ? "" : "s")
                              : fmt::format("through NVSwitch ({} + {} switch links)", sw_a, sw_b);
  c.number = a.links_active() + b.links_active();
  c.unit = "links";
  if (down_a.empty() && down_b.empty()) {
    c.verdict = Verdict::kPass;
    c.value = fmt::format("{}; all {} links of both GPUs up", how, total);
  } else {
    c.verdict = Verdict::kWarn;
    c.value = fmt::format("{}; {} of {} links up", how, a.links_active() + b.links_active(), total);
    c.hint = fmt::format(
        "{}: the pair runs at reduced NVLink bandwidth (FlashInfer's fabric path requires every "
        "link up)",
        describe_down());
    c.remedy = std::string(kLinkRemedy);
  }
  return c;
}

}  // namespace

std::vector<DiagCheck> nvlink_checks(const std::vector<RankFacts>& ranks,
                                     const std::vector<NvlinkFacts>& facts) {
  std::vector<DiagCheck> out;
  const std::size_t n = std::min(ranks.size(), facts.size());
  for (std::size_t i = 0; i < n; ++i) {
    const NvlinkFacts& f = facts[i];
    DiagCheck c = rank_row("nvlink", "nvlink", ranks[i].rank);
    if (!f.nvml_available) {
      c.verdict = Verdict::kSkip;
      c.hint = "NVML unavailable: " + f.unavailable_reason;
    } else if (!f.error.empty()) {
      c.verdict = Verdict::kWarn;
      c.hint = "NVML could not report the NVLink state: " + f.error;
      c.remedy = "check the driver with nvidia-smi nvlink -s on this host";
    } else if (!f.supported) {
      c.verdict = Verdict::kSkip;
      c.hint = "the GPU reports no NVLink (NVML: not supported); peers are reached over PCIe";
    } else {
      const int active = f.links_active();
      const auto remotes = f.remote_bus_ids();
      c.number = active;
      c.unit = "links";
      c.value = fmt::format("{} of {} links active", active, f.links.size());
      if (!remotes.empty()) {
        c.value += fmt::format(", {} remote endpoint{} ({})", remotes.size(),
                               remotes.size() > 1 ? "s" : "", fmt::join(remotes, ", "));
      }
      if (active == 0 && ranks.size() > 1) {
        c.verdict = Verdict::kWarn;
        c.hint = fmt::format(
            "no active NVLink link (of {}): traffic between the GPUs takes PCIe; check "
            "`nvidia-smi nvlink -s` and the fabric manager",
            f.links.size());
        c.remedy = std::string(kLinkRemedy);
      } else {
        c.verdict = Verdict::kPass;
      }
    }
    out.push_back(std::move(c));
  }
  if (n < 2) out.push_back(single_rank_skip("nvlink", "nvlink_pair"));
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      out.push_back(pair_check(ranks[i], facts[i], ranks[j], facts[j]));
    }
  }
  return out;
}

}  // namespace dcp::diag
