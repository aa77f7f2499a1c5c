#pragma once
/// @file
/// Check group `pcie`: PCIe settings that block or slow P2P between GPUs, read from what Linux
/// exposes (no lspci): the ACS control register of every bridge between two GPUs (sysfs config
/// space, PCIe extended capability 0x000D) and the IOMMU translation mode of each GPU
/// (/sys/kernel/iommu_groups/<n>/type, /proc/cmdline). NCCL's troubleshooting guide ("PCI Access
/// Control Services (ACS)") explains both: ACS redirect sends P2P through the root complex (slow
/// or refused), and a translating IOMMU must let P2P through (iommu=pt). NVLink pairs do not use
/// PCIe for P2P, so both are a WARN only for pairs that are not NVLink (paths table). Runs
/// without a working CUDA device. Run: groups/pcie_run.cpp.
///
/// Rules:
///  - iommu (rank): PASS when the GPU has no IOMMU group (IOMMU off) or the group's type is
///    "identity" (passthrough); WARN when it is translated (DMA, DMA-FQ) and one of the rank's
///    same-host peers is not joined by NVLink (or the paths are unknown); PASS with a note when
///    every peer is NVLink.
///  - pcie_acs (pair a < b, same host, distinct GPUs): the bridges below the two GPUs' common
///    upstream port are checked; WARN when one has P2P Request Redirect, Completion Redirect or
///    Egress Control enabled and the pair is not NVLink; SKIP when a bridge's extended config
///    space is unreadable (needs root) or sysfs is missing; PASS otherwise.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/diag_result.hpp"
#include "diag/group_info.hpp"
#include "diag/rank_facts.hpp"
#include "fabric/peer_path.hpp"

namespace dcp::diag {

inline constexpr CheckGroupInfo kPcieGroup{
    "pcie",
    "PCIe settings that block P2P: ACS redirect on the bridges between GPUs, IOMMU translation "
    "(sysfs, /proc/cmdline)",
    false};

/// ACS control register bits (PCIe base spec, ACS Extended Capability; Linux PCI_ACS_*).
inline constexpr std::uint16_t kAcsRequestRedirect = 0x0004;     ///< P2P Request Redirect
inline constexpr std::uint16_t kAcsCompletionRedirect = 0x0008;  ///< P2P Completion Redirect
inline constexpr std::uint16_t kAcsEgressControl = 0x0020;       ///< P2P Egress Control
/// PCIe extended capability id of ACS.
inline constexpr std::uint16_t kAcsCapabilityId = 0x000D;

/// What a bridge's config space says about ACS.
struct AcsControl {
  bool readable = false;  ///< the extended config space (>= 4096 bytes) could be read
  bool present = false;   ///< the bridge has the ACS capability
  std::uint16_t control = 0;
  [[nodiscard]] bool redirects() const {
    return present &&
           (control & (kAcsRequestRedirect | kAcsCompletionRedirect | kAcsEgressControl)) != 0;
  }
};

/// Walks the extended capability list of a PCI config space image (pure). Fewer than 4096
/// bytes (an unprivileged read of sysfs `config`) is unreadable.
AcsControl parse_acs_control(std::span<const std::uint8_t> config);

/// "0000:18:00.0" (the sysfs name, 4-digit domain where it fits) from any bus id form; "" for
/// text that is not one. Pure.
std::string sysfs_bus_id(std::string_view bus_id);

/// The PCI bridges from the root port down to the device's parent, from the device's resolved
/// sysfs path ("/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/0000:02:00.0"). Pure.
std::vector<std::string> bridge_chain(std::string_view device_path);

/// iommu=, intel_iommu=, amd_iommu=, iommu.passthrough=, iommu.strict= and pcie_acs_override=
/// tokens of a kernel command line, space-separated (pure).
std::string iommu_cmdline_flags(std::string_view cmdline);

struct BridgeFacts {
  std::string bus_id;  ///< sysfs form
  bool readable = false;
  bool acs_present = false;
  std::uint16_t acs_control = 0;

  friend bool operator==(const BridgeFacts&, const BridgeFacts&) = default;
};

/// One rank's GPU as Linux sees it.
struct PcieFacts {
  std::string bus_id;  ///< sysfs form of the GPU's bus id
  bool ok = false;     ///< the GPU was found in sysfs
  std::string error;
  std::vector<BridgeFacts> chain;  ///< root port first
  int iommu_group = -1;            ///< -1: none (IOMMU off, or not exposed)
  std::string iommu_type;          ///< "identity", "DMA", "DMA-FQ", "blocked", "" unknown
  std::string cmdline_flags;       ///< iommu_cmdline_flags(/proc/cmdline)

  friend bool operator==(const PcieFacts&, const PcieFacts&) = default;
};

std::string encode(const PcieFacts& f);
void decode(std::string_view text, PcieFacts& out);

/// Reads `sysfs_root`/bus/pci/devices/<bus id> (resolved), each bridge's `config`, the IOMMU
/// group and `cmdline_path` (CUDA-free; tests point both at a crafted tree).
PcieFacts probe_pcie(std::string_view bus_id, std::string_view sysfs_root = "/sys",
                     std::string_view cmdline_path = "/proc/cmdline");

/// The iommu rows (per rank) and the pcie_acs rows (per same-host pair a < b). `paths` may be
/// null (unknown): then no pair counts as NVLink.
std::vector<DiagCheck> pcie_checks(const std::vector<RankFacts>& ranks,
                                   const std::vector<PcieFacts>& facts,
                                   const fabric::PeerPathTable* paths);

}  // namespace dcp::diag
