#include "diag/groups/fabric.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "diag/rules.hpp"
#include "diag/wire.hpp"

namespace dcp::diag {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(FabricFacts, attribute, attempted, create_ok, failed_step,
                                   cu_result, cu_name, cu_text, error, imex, explanation, bytes)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(FabricImportFacts, importer, exporter, attempted, ok, cu_result,
                                   cu_name, cu_text, error)

std::string encode(const FabricFacts& f) {
  return wire::encode(f);
}
void decode(std::string_view text, FabricFacts& out) {
  wire::decode(text, out, "fabric facts");
}
std::string encode(const std::vector<FabricImportFacts>& f) {
  return wire::encode(f);
}
void decode(std::string_view text, std::vector<FabricImportFacts>& out) {
  wire::decode(text, out, "fabric import facts");
}

namespace {

constexpr std::string_view kImexRemedy =
    "give every rank an IMEX channel: run the IMEX service (nvidia-imex) on every node of the "
    "NVLink domain, create /dev/nvidia-caps-imex-channels/channel0 (mknod with the major number "
    "of nvidia-caps-imex-channels in /proc/devices) and pass it into containers";

}  // namespace

std::vector<DiagCheck> fabric_checks(const std::vector<RankFacts>& ranks,
                                     const std::vector<FabricFacts>& facts,
                                     const std::vector<FabricImportFacts>& imports) {
  std::vector<DiagCheck> out;
  const std::size_t n = std::min(ranks.size(), facts.size());
  for (std::size_t i = 0; i < n; ++i) {
    DiagCheck c = rank_row("fabric", "fabric_attribute", ranks[i].rank);
    c.value = std::string(facts[i].attribute ? "1" : "0");
    if (facts[i].attribute) {
      c.verdict = Verdict::kPass;
    } else {
      c.verdict = Verdict::kFail;
      c.hint =
          "CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_FABRIC_SUPPORTED is 0: this GPU/driver offers no "
          "fabric handles (they need a multi-node NVLink system such as GB200 NVL72)";
      c.remedy =
          "run multi-node jobs on a multi-node NVLink system (e.g. GB200 NVL72) with a driver that "
          "offers fabric handles";
    }
    out.push_back(std::move(c));
  }
  for (std::size_t i = 0; i < n; ++i) {
    const FabricFacts& f = facts[i];
    DiagCheck c = rank_row("fabric", "fabric_create", ranks[i].rank);
    if (!f.attribute) {
      c.verdict = Verdict::kSkip;
      c.hint = "the fabric-handle attribute is 0 (see fabric_attribute)";
    } else if (!f.attempted) {
      c.verdict = Verdict::kSkip;
      c.hint = f.error.empty() ? "not attempted" : f.error;
    } else if (f.create_ok) {
      c.verdict = Verdict::kPass;
      c.value = fmt::format("cuMemCreate + export of {} (CU_MEM_HANDLE_TYPE_FABRIC)",
                            format_bytes(f.bytes));
    } else {
      c.verdict = Verdict::kFail;
      c.value =
          fmt::format("{} failed: {}", f.failed_step, f.cu_name.empty() ? "error" : f.cu_name);
      if (f.cu_result == kCuErrorNotPermitted) {
        c.hint = fmt::format(
            "{} answered CUDA_ERROR_NOT_PERMITTED (operation not permitted): fabric handles need "
            "an IMEX channel this process can open, and there is none: checked {}",
            f.failed_step, f.imex);
        c.remedy = std::string(kImexRemedy);
      } else {
        c.hint = fmt::format("{} failed: {}{}; checked {}", f.failed_step,
                             f.cu_name.empty() ? f.error : f.cu_name,
                             f.cu_text.empty() ? "" : " (" + f.cu_text + ")", f.imex);
        c.remedy =
            "check the Fabric Manager and IMEX service (fabric_manager and imex groups), then the "
            "driver";
      }
      c.detail = f.explanation;
    }
    out.push_back(std::move(c));
  }
  if (ranks.size() < 2) {
    out.push_back(single_rank_skip("fabric", "fabric_import"));
    return out;
  }
  for (const auto& im : imports) {
    DiagCheck c = pair_row("fabric", "fabric_import", im.importer, im.exporter);
    const auto created = [&](int r) {
      for (std::size_t i = 0; i < n; ++i) {
        if (ranks[i].rank == r) return facts[i].create_ok;
      }
      return false;
    };
    if (!created(im.exporter)) {
      c.verdict = Verdict::kSkip;
      c.hint =
          fmt::format("rank {} has no fabric handle to export (see fabric_create)", im.exporter);
    } else if (!created(im.importer)) {
      c.verdict = Verdict::kSkip;
      c.hint = fmt::format("rank {} cannot use fabric handles (see fabric_create)", im.importer);
    } else if (!im.attempted) {
      c.verdict = Verdict::kSkip;
      c.hint = im.error.empty() ? "not attempted" : im.error;
    } else if (im.ok) {
      c.verdict = Verdict::kPass;
      c.value =
          fmt::format("rank {} imported and mapped rank {}'s handle", im.importer, im.exporter);
    } else {
      c.verdict = Verdict::kFail;
      c.value = im.cu_name.empty() ? "failed" : im.cu_name;
      if (im.cu_result == kCuErrorNotPermitted) {
        c.hint = fmt::format(
            "cuMemImportFromShareableHandle of rank {}'s fabric handle answered "
            "CUDA_ERROR_NOT_PERMITTED: the importing process lacks the exporter's IMEX channel "
            "(both need access to the same channel, and the IMEX service must link the nodes)",
            im.exporter);
        c.remedy = std::string(kImexRemedy) +
                   "; both nodes must be in one IMEX domain (the same nodes_config.cfg)";
      } else {
        c.hint = fmt::format("importing or mapping rank {}'s fabric handle failed: {}", im.exporter,
                             im.error);
        c.remedy = "check the imex group (same clique and cluster on both ranks) and the driver";
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

void apply_fabric_fallback(std::vector<DiagCheck>& checks, const std::vector<RankFacts>& ranks) {
  std::optional<Verdict> ipc;
  for (const auto& c : checks) {
    if (c.name == "ipc_workspace") ipc = c.verdict;
  }
  const bool one_host = single_host(ranks);
  std::string suffix;
  std::string remedy;
  bool downgrade = false;
  if (ranks.size() < 2) {
    downgrade = true;
    suffix = "; a single rank needs no fabric handles";
    remedy = "nothing to do for one rank";
  } else if (one_host && ipc == Verdict::kPass) {
    downgrade = true;
    suffix = fmt::format(
        "; not needed here: all ranks share host {} and the ipc workspace works (--workspace "
        "ipc, or auto, which picks it)",
        ranks.front().host);
    remedy = "nothing to do on one host: use --workspace ipc (or auto)";
  } else if (one_host && !ipc) {
    downgrade = true;
    suffix = fmt::format(
        "; all ranks share host {}, so the ipc workspace can replace fabric handles (not checked "
        "in this run: add ipc to --checks)",
        ranks.front().host);
    remedy =
        "rerun with --checks ipc,fabric to confirm the ipc workspace, then use --workspace ipc";
  } else if (!one_host) {
    suffix = "; the ranks span several hosts, so no other cross-GPU path exists";
  } else {
    suffix = "; and the ipc workspace failed too: no cross-GPU path works";
  }
  for (auto& c : checks) {
    if (c.group != "fabric" || c.verdict != Verdict::kFail) continue;
    c.verdict = downgrade ? Verdict::kWarn : Verdict::kFail;
    c.hint += suffix;
    if (downgrade) c.remedy = remedy + " (for multi-node jobs: " + c.remedy + ")";
  }
}

}  // namespace dcp::diag
