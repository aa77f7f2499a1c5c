#include "diag/groups/fabric_manager.hpp"

#include <fmt/format.h>

#include "diag/rules.hpp"
#include "diag/wire.hpp"
#include "fabric/nvml.hpp"

namespace dcp::diag {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(FabricManagerFacts, nvml_available, nvml_reason, uuid, queried,
                                   unavailable, symbol_missing, state, status, status_text,
                                   clique_id, cluster_uuid, health_known, health_mask, source)

std::string encode(const FabricManagerFacts& f) {
  return wire::encode(f);
}
void decode(std::string_view text, FabricManagerFacts& out) {
  wire::decode(text, out, "fabric manager facts");
}

FabricManagerFacts fabric_manager_facts(bool nvml_available, const std::string& nvml_reason,
                                        const std::string& uuid,
                                        const fabric::GpuFabricInfo& info) {
  FabricManagerFacts f;
  f.nvml_available = nvml_available;
  f.nvml_reason = nvml_reason;
  f.uuid = uuid;
  f.queried = info.queried;
  f.unavailable = info.unavailable;
  f.symbol_missing = info.entry_point_missing;
  f.state = info.state;
  f.status = info.status;
  f.status_text = info.status_text;
  f.clique_id = info.clique_id;
  f.cluster_uuid = info.cluster_uuid;
  f.health_known = info.health_known;
  f.health_mask = info.health_mask;
  f.source = info.source;
  return f;
}

namespace {

constexpr std::string_view kStartFm =
    "start the Fabric Manager on this host and keep it enabled: sudo systemctl enable --now "
    "nvidia-fabricmanager; if it does not start, read journalctl -u nvidia-fabricmanager (its "
    "version must equal the driver's, see nvidia-smi)";

DiagCheck cuda_init_row(const std::vector<RankFacts>& ranks) {
  std::vector<int> down_802;
  std::vector<int> down_other;
  for (const auto& r : ranks) {
    if (r.cuda_ready) continue;
    (r.cuda_error == kCudaErrorSystemNotReady ? down_802 : down_other).push_back(r.rank);
  }
  std::vector<int> down = down_802;
  down.insert(down.end(), down_other.begin(), down_other.end());
  DiagCheck c = job_row("fabric_manager", "cuda_init", down);
  if (down.empty()) {
    c.verdict = Verdict::kPass;
    c.value = "CUDA started on every rank";
    return c;
  }
  c.verdict = Verdict::kFail;
  std::vector<std::string> parts;
  if (!down_802.empty()) {
    const RankFacts* r = find_rank(ranks, down_802.front());
    parts.push_back(
        fmt::format("CUDA error 802 ({}, \"{}\") on rank{} {}: the GPUs of an NVSwitch system stay "
                    "unusable until the Fabric Manager has configured the fabric",
                    r->cuda_error_name.empty() ? "cudaErrorSystemNotReady" : r->cuda_error_name,
                    r->cuda_error_text.empty() ? "system not yet initialized" : r->cuda_error_text,
                    down_802.size() == 1 ? "" : "s", format_ranks(down_802)));
    c.remedy = std::string(kStartFm);
  }
  if (!down_other.empty()) {
    const RankFacts* r = find_rank(ranks, down_other.front());
    parts.push_back(fmt::format("CUDA did not start on rank{} {}: {} ({})",
                                down_other.size() == 1 ? "" : "s", format_ranks(down_other),
                                r->cuda_error_name, r->cuda_error_text));
    if (c.remedy.empty()) {
      c.remedy = "check the driver on those hosts (nvidia-smi must list the GPUs) and rerun";
    }
  }
  c.value = fmt::format("CUDA did not start on {} of {} ranks", down.size(), ranks.size());
  c.hint = fmt::format("{}", fmt::join(parts, "; "));
  return c;
}

std::string where(const FabricManagerFacts& f) {
  return fmt::format("clique {}, cluster {}", f.clique_id,
                     f.cluster_uuid.empty() ? std::string("(none)") : f.cluster_uuid);
}

}  // namespace

std::vector<DiagCheck> fabric_manager_checks(const std::vector<RankFacts>& ranks,
                                             const std::vector<FabricManagerFacts>& facts) {
  std::vector<DiagCheck> out{cuda_init_row(ranks)};
  for (std::size_t i = 0; i < ranks.size() && i < facts.size(); ++i) {
    const FabricManagerFacts& f = facts[i];
    DiagCheck c = rank_row("fabric_manager", "fabric_state", ranks[i].rank);
    const std::string state = fabric::fabric_state_name(f.state);
    if (!f.nvml_available) {
      c.verdict = Verdict::kSkip;
      c.hint = "NVML unavailable: " + f.nvml_reason;
    } else if (!f.queried && f.symbol_missing) {
      c.verdict = Verdict::kSkip;
      c.hint = f.unavailable;
    } else if (!f.queried) {
      c.verdict = Verdict::kWarn;
      c.value = "fabric info unreadable";
      c.hint = "reading the GPU's fabric info failed: " + f.unavailable;
      c.remedy = "check the driver with nvidia-smi -q (section Fabric) on this host";
    } else if (f.state == fabric::kFabricStateNotSupported) {
      c.verdict = Verdict::kSkip;
      c.value = "NOT_SUPPORTED";
      c.hint =
          "this GPU is not on an NVLink fabric (NVML fabric state NOT_SUPPORTED): no Fabric "
          "Manager involved";
    } else if (f.state == fabric::kFabricStateNotStarted) {
      c.verdict = Verdict::kFail;
      c.value = state;
      c.hint =
          "the GPU's fabric registration has not started (NVML state NOT_STARTED): the Fabric "
          "Manager is not running or has not reached this GPU; NVLink P2P and CUDA itself (error "
          "802) fail until it has";
      c.remedy = std::string(kStartFm);
    } else if (f.state == fabric::kFabricStateInProgress) {
      c.verdict = Verdict::kFail;
      c.value = state;
      c.hint = "the GPU's fabric registration is still in progress (NVML state IN_PROGRESS)";
      c.remedy =
          "wait until nvidia-smi -q reports the fabric state Completed, then rerun; if it stays "
          "In Progress, read journalctl -u nvidia-fabricmanager";
    } else if (f.state != fabric::kFabricStateCompleted) {
      c.verdict = Verdict::kWarn;
      c.value = state;
      c.hint = fmt::format("NVML reports an unknown fabric state {}", f.state);
      c.remedy = "check nvidia-smi -q (section Fabric) and the Fabric Manager log";
    } else if (f.status != fabric::kNvmlSuccess) {
      c.verdict = Verdict::kFail;
      c.value = fmt::format("COMPLETED with error {}", f.status);
      c.hint =
          fmt::format("the GPU's fabric registration completed with an error: {}", f.status_text);
      c.remedy =
          "restart the Fabric Manager (sudo systemctl restart nvidia-fabricmanager) and read "
          "journalctl -u nvidia-fabricmanager; a GPU that keeps failing needs a reset (nvidia-smi "
          "-r, with no process on it) or service";
    } else {
      const fabric::FabricHealth h = fabric::decode_fabric_health(f.health_mask);
      c.value = fmt::format("COMPLETED, {}, health {}", where(f),
                            !f.health_known ? std::string("not reported (v1 call)")
                            : h.healthy()   ? std::string("ok")
                                            : fmt::format("mask {:#x}", f.health_mask));
      std::vector<std::string> bad;
      std::vector<std::string> degraded;
      if (f.health_known) {
        if (h.route_unhealthy) bad.emplace_back("a route is unhealthy");
        if (h.incorrect_configuration >= 2) {
          bad.push_back("incorrect configuration: " +
                        fabric::incorrect_configuration_name(h.incorrect_configuration));
        }
        if (h.degraded_bandwidth) degraded.emplace_back("bandwidth is degraded");
        if (h.route_recovery) degraded.emplace_back("a route recovery is in progress");
        if (h.access_timeout_recovery) {
          degraded.emplace_back("an access-timeout recovery is in progress");
        }
      }
      if (!bad.empty()) {
        c.verdict = Verdict::kFail;
        bad.insert(bad.end(), degraded.begin(), degraded.end());
        c.hint = fmt::format("the fabric reports this GPU unhealthy: {}", fmt::join(bad, "; "));
        c.remedy =
            "have the fabric repaired (check nvidia-smi -q section Fabric and the Fabric Manager "
            "log; a misconfigured or unhealthy GPU is drained and serviced)";
      } else if (!degraded.empty()) {
        c.verdict = Verdict::kWarn;
        c.hint = fmt::format("the fabric reports: {}", fmt::join(degraded, "; "));
        c.remedy =
            "rerun when the recovery has finished; if bandwidth stays degraded, check the "
            "NVLinks (nvidia-smi nvlink -s) and the Fabric Manager log";
      } else {
        c.verdict = Verdict::kPass;
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace dcp::diag
