#pragma once
/// @file
/// Check group `nvlink`: every NVLink of every GPU and its state (NVML, loaded at run time),
/// per rank and per same-host pair. Facts carry the state of each link (active, far end's PCI
/// bus id, far end's device type). Runs without a working CUDA device. Run:
/// groups/nvlink_run.cpp.
///
/// Rules:
///  - nvlink (rank): SKIP without NVML or without NVLink; WARN when NVML fails, or when no link
///    is active and there are several ranks; PASS otherwise (value: active/total, endpoints).
///  - nvlink_pair (pair a < b, same host, distinct GPUs): the pair is *joined* by NVLink when one
///    GPU has an active link whose far end is the other's bus id, or both have active links to
///    an NVSwitch. Joined with every link of both GPUs up: PASS. Joined but some links of either
///    GPU down: WARN (reduced bandwidth; FlashInfer's fabric path refuses such GPUs; NVML cannot
///    say where a down link led, so a down link of either GPU counts). Not joined, while a GPU
///    of the pair has NVLinks and none is up: FAIL (the pair lost NVLink; traffic falls back to
///    PCIe, where LL128 is not validated). Not joined otherwise (links lead elsewhere, or no
///    NVLink at all): SKIP with the reason. SKIP without NVML, across hosts, on a shared GPU.

#include <string>
#include <string_view>
#include <vector>

#include "core/diag_result.hpp"
#include "diag/group_info.hpp"
#include "diag/rank_facts.hpp"

namespace dcp::fabric {
struct NvlinkReport;
}

namespace dcp::diag {

inline constexpr CheckGroupInfo kNvlinkGroup{
    "nvlink",
    "NVLink links and their state through NVML (loaded at run time), per GPU and per same-host "
    "pair (every link up)",
    false};

/// One NVLink of a GPU.
struct LinkFacts {
  int index = 0;
  bool active = false;
  std::string remote_bus_id;  ///< canonical PCI bus id of the far end ("" unknown)
  std::string remote;         ///< "gpu", "switch", "other", "unknown"

  friend bool operator==(const LinkFacts&, const LinkFacts&) = default;
};

/// NVLink state of one rank's GPU (NVML).
struct NvlinkFacts {
  bool nvml_available = false;
  std::string unavailable_reason;  ///< why NVML could not be used
  std::string bus_id;              ///< this GPU's canonical PCI bus id
  bool supported = false;          ///< the GPU reports NVLink state at all
  std::vector<LinkFacts> links;    ///< every link NVML reported, in index order
  std::string error;

  [[nodiscard]] int links_active() const;
  [[nodiscard]] std::vector<std::string> remote_bus_ids() const;  ///< distinct, sorted

  friend bool operator==(const NvlinkFacts&, const NvlinkFacts&) = default;
};

std::string encode(const NvlinkFacts& f);
void decode(std::string_view text, NvlinkFacts& out);

/// Facts from what the NVML loader returned (pure).
NvlinkFacts nvlink_facts(bool nvml_available, const std::string& reason, const std::string& bus_id,
                         const fabric::NvlinkReport& report);

/// One "nvlink" row per rank and one "nvlink_pair" row per same-host pair (a < b).
std::vector<DiagCheck> nvlink_checks(const std::vector<RankFacts>& ranks,
                                     const std::vector<NvlinkFacts>& facts);

}  // namespace dcp::diag
