#include "diag/groups/imex.hpp"

#include <fmt/format.h>

#include "diag/rules.hpp"
#include "diag/wire.hpp"
#include "fabric/nvml.hpp"

namespace dcp::diag {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(ImexFacts, channel_dir, channel0_exists, channel0_accessible,
                                   summary, nvml_available, nvml_reason, fabric_queried,
                                   fabric_state, fabric_status, cluster_uuid, clique_id)

std::string encode(const ImexFacts& f) {
  return wire::encode(f);
}
void decode(std::string_view text, ImexFacts& out) {
  wire::decode(text, out, "IMEX facts");
}

namespace {

constexpr std::string_view kChannelRemedy =
    "run the IMEX service (nvidia-imex) on every node of the NVLink domain and create the "
    "channel: mkdir -p /dev/nvidia-caps-imex-channels && mknod "
    "/dev/nvidia-caps-imex-channels/channel0 c <major of nvidia-caps-imex-channels in "
    "/proc/devices> 0; in containers pass the device in (e.g. --device "
    "/dev/nvidia-caps-imex-channels/channel0)";

}  // namespace

std::vector<DiagCheck> imex_checks(const std::vector<RankFacts>& ranks,
                                   const std::vector<ImexFacts>& facts) {
  const bool needs_fabric = !single_host(ranks);
  const std::size_t n = std::min(ranks.size(), facts.size());
  std::vector<DiagCheck> out;
  for (std::size_t i = 0; i < n; ++i) {
    const ImexFacts& f = facts[i];
    DiagCheck c = rank_row("imex", "imex_channel", ranks[i].rank);
    if (f.channel0_accessible) {
      c.verdict = Verdict::kPass;
      c.value = f.summary;
    } else if (needs_fabric) {
      c.verdict = Verdict::kFail;
      c.value = "no usable channel";
      c.hint = fmt::format(
          "the ranks span hosts, so the exchange needs a fabric workspace, and fabric handles "
          "need an IMEX channel this process can open: {}",
          f.summary);
      c.remedy = std::string(kChannelRemedy);
    } else {
      c.verdict = Verdict::kSkip;
      c.hint = fmt::format("not needed: all ranks share host {} and use the ipc workspace ({})",
                           ranks[i].host, f.summary);
    }
    out.push_back(std::move(c));
  }

  DiagCheck d = job_row("imex", "imex_domain");
  if (!needs_fabric) {
    d.verdict = Verdict::kSkip;
    d.hint = "all ranks on one host: no IMEX domain needed (the ipc workspace serves them)";
    out.push_back(std::move(d));
    return out;
  }
  std::vector<int> no_nvml;
  std::vector<int> unregistered;
  std::string unregistered_state;
  for (std::size_t i = 0; i < n; ++i) {
    const ImexFacts& f = facts[i];
    if (!f.nvml_available || !f.fabric_queried) {
      no_nvml.push_back(ranks[i].rank);
    } else if (f.fabric_state != fabric::kFabricStateCompleted ||
               f.fabric_status != fabric::kNvmlSuccess) {
      unregistered.push_back(ranks[i].rank);
      if (unregistered_state.empty()) {
        unregistered_state = fabric::fabric_state_name(f.fabric_state);
        if (f.fabric_state == fabric::kFabricStateCompleted) {
          unregistered_state += fmt::format(" with error {}", f.fabric_status);
        }
      }
    }
  }
  if (!unregistered.empty()) {
    d.verdict = Verdict::kFail;
    d.ranks = unregistered;
    d.hint = fmt::format(
        "the GPU{} of rank{} {} {} not registered with an NVLink fabric (first: {}): fabric "
        "workspaces cannot span hosts without one",
        unregistered.size() == 1 ? "" : "s", unregistered.size() == 1 ? "" : "s",
        format_ranks(unregistered), unregistered.size() == 1 ? "is" : "are", unregistered_state);
    d.remedy =
        "run multi-host jobs only on GPUs of one multi-node NVLink system with the Fabric Manager "
        "running (see fabric_manager); otherwise keep all ranks on one host";
    out.push_back(std::move(d));
    return out;
  }
  if (!no_nvml.empty()) {
    d.verdict = Verdict::kSkip;
    d.ranks = no_nvml;
    d.hint = fmt::format("cannot tell the NVLink cliques: NVML gave no fabric info on rank{} {}",
                         no_nvml.size() == 1 ? "" : "s", format_ranks(no_nvml));
    out.push_back(std::move(d));
    return out;
  }
  ValueGroups cliques;
  for (std::size_t i = 0; i < n; ++i) {
    const std::string key =
        fmt::format("cluster {} clique {}",
                    facts[i].cluster_uuid.empty() ? std::string("(none)") : facts[i].cluster_uuid,
                    facts[i].clique_id);
    auto it = cliques.begin();
    while (it != cliques.end() && it->first != key)
      ++it;
    if (it == cliques.end()) {
      cliques.push_back({key, {ranks[i].rank}});
    } else {
      it->second.push_back(ranks[i].rank);
    }
  }
  if (cliques.size() == 1) {
    d.verdict = Verdict::kPass;
    d.value = fmt::format("all {} ranks in {}", n, cliques.front().first);
  } else {
    d.verdict = Verdict::kFail;
    d.value = fmt::format("{} NVLink partitions", cliques.size());
    d.hint = fmt::format(
        "the ranks' GPUs sit in different NVLink partitions: {}; GPUs of different cliques "
        "cannot import each other's fabric memory",
        describe_groups(cliques));
    d.remedy =
        "schedule all ranks inside one NVLink partition and one IMEX domain (nvidia-smi -q, "
        "section Fabric, shows each GPU's ClusterUUID and CliqueId)";
  }
  out.push_back(std::move(d));
  return out;
}

}  // namespace dcp::diag
