#include "diag/groups/pcie.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "diag/rules.hpp"
#include "diag/wire.hpp"
#include "fabric/nvml.hpp"

namespace dcp::diag {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(BridgeFacts, bus_id, readable, acs_present, acs_control)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(PcieFacts, bus_id, ok, error, chain, iommu_group, iommu_type,
                                   cmdline_flags)

std::string encode(const PcieFacts& f) {
  return wire::encode(f);
}
void decode(std::string_view text, PcieFacts& out) {
  wire::decode(text, out, "PCIe facts");
}

// ---- pure parsing -------------------------------------------------------------------------------

AcsControl parse_acs_control(std::span<const std::uint8_t> config) {
  AcsControl a;
  constexpr std::size_t kExtendedSize = 4096;
  if (config.size() < kExtendedSize) return a;
  a.readable = true;
  const auto u16 = [&](std::size_t off) {
    return static_cast<std::uint16_t>(config[off] | (config[off + 1] << 8));
  };
  const auto u32 = [&](std::size_t off) {
    return static_cast<std::uint32_t>(config[off]) |
           (static_cast<std::uint32_t>(config[off + 1]) << 8) |
           (static_cast<std::uint32_t>(config[off + 2]) << 16) |
           (static_cast<std::uint32_t>(config[off + 3]) << 24);
  };
  // Extended capabilities start at 0x100; each header: id (16 bits), version (4), next (12).
  std::size_t off = 0x100;
  for (int guard = 0; guard < 64 && off >= 0x100 && off + 8 <= kExtendedSize; ++guard) {
    const std::uint32_t header = u32(off);
    if (header == 0 || header == 0xFFFFFFFFu) break;
    if ((header & 0xFFFFu) == kAcsCapabilityId) {
      a.present = true;
      a.control = u16(off + 6);
      return a;
    }
    const std::size_t next = (header >> 20) & 0xFFCu;
    if (next == 0 || next <= off) break;
    off = next;
  }
  return a;
}

std::string sysfs_bus_id(std::string_view bus_id) {
  const std::string c = fabric::canonical_bus_id(bus_id);  // "0000abcd:bb:dd.f"
  if (c.empty()) return {};
  std::string domain = c.substr(0, 8);
  const std::size_t nz = domain.find_first_not_of('0');
  domain = nz == std::string::npos || nz > 4 ? domain.substr(4) : domain.substr(nz);
  return domain + c.substr(8);
}

std::vector<std::string> bridge_chain(std::string_view device_path) {
  std::vector<std::string> parts;
  std::size_t pos = 0;
  while (pos <= device_path.size()) {
    std::size_t end = device_path.find('/', pos);
    if (end == std::string_view::npos) end = device_path.size();
    const std::string_view part = device_path.substr(pos, end - pos);
    if (!part.empty() && !sysfs_bus_id(part).empty() && part.find(':') != std::string_view::npos &&
        part.rfind("pci", 0) != 0) {
      parts.emplace_back(part);
    }
    pos = end + 1;
  }
  if (!parts.empty()) parts.pop_back();  // the device itself
  return parts;
}

std::string iommu_cmdline_flags(std::string_view cmdline) {
  std::vector<std::string> out;
  std::istringstream in{std::string(cmdline)};
  std::string tok;
  while (in >> tok) {
    for (const std::string_view key : {"iommu=", "intel_iommu=", "amd_iommu=", "iommu.passthrough=",
                                       "iommu.strict=", "pcie_acs_override="}) {
      if (tok.rfind(key, 0) == 0) {
        out.push_back(tok);
        break;
      }
    }
  }
  return fmt::format("{}", fmt::join(out, " "));
}

// ---- the probe (file system only) ---------------------------------------------------------------

namespace {

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream text;
  text << in.rdbuf();
  std::string s = text.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
    s.pop_back();
  return s;
}

std::vector<std::uint8_t> read_bytes(const std::filesystem::path& p, std::size_t max) {
  std::ifstream in(p, std::ios::binary);
  std::vector<std::uint8_t> out(max);
  in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(max));
  out.resize(static_cast<std::size_t>(std::max<std::streamsize>(in.gcount(), 0)));
  return out;
}

}  // namespace

PcieFacts probe_pcie(std::string_view bus_id, std::string_view sysfs_root,
                     std::string_view cmdline_path) {
  namespace fs = std::filesystem;
  PcieFacts f;
  f.bus_id = sysfs_bus_id(bus_id);
  f.cmdline_flags = iommu_cmdline_flags(read_text(fs::path{std::string(cmdline_path)}));
  if (f.bus_id.empty()) {
    f.error = bus_id.empty() ? std::string(
                                   "this rank's GPU has no known PCI bus id (CUDA did not "
                                   "start and NVML did not name it)")
                             : fmt::format("'{}' is not a PCI bus id", bus_id);
    return f;
  }
  const fs::path root{std::string(sysfs_root)};
  const fs::path dev = root / "bus" / "pci" / "devices" / f.bus_id;
  std::error_code ec;
  const fs::path real = fs::canonical(dev, ec);
  if (ec) {
    f.error = fmt::format("{} is not readable: {}", dev.string(), ec.message());
    return f;
  }
  f.ok = true;
  for (const auto& b : bridge_chain(real.string())) {
    BridgeFacts bf;
    bf.bus_id = b;
    const AcsControl acs =
        parse_acs_control(read_bytes(root / "bus" / "pci" / "devices" / b / "config", 4096));
    bf.readable = acs.readable;
    bf.acs_present = acs.present;
    bf.acs_control = acs.control;
    f.chain.push_back(std::move(bf));
  }
  const fs::path group = fs::read_symlink(dev / "iommu_group", ec);
  if (!ec) {
    try {
      f.iommu_group = std::stoi(group.filename().string());
    } catch (const std::exception&) {
      f.iommu_group = -1;
    }
    f.iommu_type = read_text(root / "kernel" / "iommu_groups" / group.filename() / "type");
  }
  return f;
}

// ---- rules --------------------------------------------------------------------------------------

namespace {

bool nvlink_pair(const fabric::PeerPathTable* paths, int a, int b) {
  if (paths == nullptr || a >= paths->world || b >= paths->world) return false;
  const auto k = paths->at(a, b).kind;
  return k == fabric::PathKind::kNvlink || k == fabric::PathKind::kSameGpu;
}

bool translated(const std::string& type) {
  return type == "DMA" || type == "DMA-FQ";
}

constexpr std::string_view kAcsRemedy =
    "disable ACS redirect on the bridges between the GPUs: sudo setpci -s <bridge> "
    "ECAP_ACS+0x6.w=0000 for each bridge named (lost at reboot; or turn ACS off in the BIOS); "
    "see NCCL's troubleshooting guide, PCI Access Control Services (ACS)";

}  // namespace

std::vector<DiagCheck> pcie_checks(const std::vector<RankFacts>& ranks,
                                   const std::vector<PcieFacts>& facts,
                                   const fabric::PeerPathTable* paths) {
  std::vector<DiagCheck> out;
  const std::size_t n = std::min(ranks.size(), facts.size());
  for (std::size_t i = 0; i < n; ++i) {
    const PcieFacts& f = facts[i];
    DiagCheck c = rank_row("pcie", "iommu", ranks[i].rank);
    if (!f.ok) {
      c.verdict = Verdict::kSkip;
      c.hint = "the GPU is not visible in sysfs: " + f.error;
      out.push_back(std::move(c));
      continue;
    }
    const std::string flags = f.cmdline_flags.empty() ? "" : "; kernel: " + f.cmdline_flags;
    if (f.iommu_group < 0) {
      c.verdict = Verdict::kPass;
      c.value = "no IOMMU group: IOMMU off for this GPU" + flags;
    } else if (!translated(f.iommu_type)) {
      c.verdict = Verdict::kPass;
      c.value = fmt::format("IOMMU group {}, type {}{}", f.iommu_group,
                            f.iommu_type.empty() ? std::string("unknown") : f.iommu_type, flags);
    } else {
      std::vector<int> pcie_peers;
      for (std::size_t j = 0; j < n; ++j) {
        if (j == i || ranks[j].host != ranks[i].host) continue;
        if (!nvlink_pair(paths, ranks[i].rank, ranks[j].rank)) pcie_peers.push_back(ranks[j].rank);
      }
      c.value =
          fmt::format("IOMMU group {}, type {} (translated){}", f.iommu_group, f.iommu_type, flags);
      if (pcie_peers.empty()) {
        c.verdict = Verdict::kPass;
        c.value += "; every same-host peer is NVLink, which the IOMMU does not translate";
      } else {
        c.verdict = Verdict::kWarn;
        c.hint = fmt::format(
            "the IOMMU translates this GPU's DMA (type {}): P2P over PCIe to rank{} {} goes "
            "through it and may be refused or slow",
            f.iommu_type, pcie_peers.size() == 1 ? "" : "s", format_ranks(pcie_peers));
        c.remedy =
            "boot with the IOMMU in passthrough mode (kernel parameter iommu=pt; with Intel also "
            "intel_iommu=on) or disable it in the BIOS, then reboot";
      }
    }
    out.push_back(std::move(c));
  }
  if (n < 2) {
    out.push_back(single_rank_skip("pcie", "pcie_acs"));
    return out;
  }
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      DiagCheck c = pair_row("pcie", "pcie_acs", ranks[i].rank, ranks[j].rank);
      if (auto why = pair_skip_reason(ranks[i], ranks[j], true)) {
        c.verdict = Verdict::kSkip;
        c.hint = *why;
        out.push_back(std::move(c));
        continue;
      }
      const PcieFacts& a = facts[i];
      const PcieFacts& b = facts[j];
      if (!a.ok || !b.ok) {
        c.verdict = Verdict::kSkip;
        c.hint = "a GPU is not visible in sysfs: " + (a.ok ? b.error : a.error);
        out.push_back(std::move(c));
        continue;
      }
      std::size_t common = 0;
      while (common < a.chain.size() && common < b.chain.size() &&
             a.chain[common].bus_id == b.chain[common].bus_id) {
        ++common;
      }
      std::vector<const BridgeFacts*> between;
      for (std::size_t k = common; k < a.chain.size(); ++k)
        between.push_back(&a.chain[k]);
      for (std::size_t k = common; k < b.chain.size(); ++k)
        between.push_back(&b.chain[k]);
      std::vector<std::string> redirecting;
      std::vector<std::string> unreadable;
      for (const BridgeFacts* br : between) {
        if (!br->readable) {
          unreadable.push_back(br->bus_id);
        } else if (AcsControl{true, br->acs_present, br->acs_control}.redirects()) {
          redirecting.push_back(fmt::format("{} (ACSCtl {:#06x})", br->bus_id, br->acs_control));
        }
      }
      const std::string cpu =
          common == 0 ? "; the GPUs sit under different root ports, so P2P crosses the CPU" : "";
      const bool nvlink = nvlink_pair(paths, ranks[i].rank, ranks[j].rank);
      if (!redirecting.empty()) {
        c.value = fmt::format("ACS redirect on {}", fmt::join(redirecting, ", "));
        if (nvlink) {
          c.verdict = Verdict::kPass;
          c.value += "; the pair is NVLink, which does not use PCIe for P2P";
        } else {
          c.verdict = Verdict::kWarn;
          c.hint = fmt::format(
              "ACS redirects P2P between these GPUs up to the root complex at {}: P2P over PCIe "
              "is slow or refused{}",
              fmt::join(redirecting, ", "), cpu);
          c.remedy = std::string(kAcsRemedy);
        }
      } else if (!unreadable.empty()) {
        c.verdict = Verdict::kSkip;
        c.hint = fmt::format(
            "the extended config space of {} is unreadable (reading it needs root): ACS unknown",
            fmt::join(unreadable, ", "));
      } else {
        c.verdict = Verdict::kPass;
        c.value = between.empty() ? std::string("no bridge between the GPUs")
                                  : fmt::format("no ACS redirect on the {} bridge{} between them",
                                                between.size(), between.size() == 1 ? "" : "s");
        c.value += cpu;
      }
      out.push_back(std::move(c));
    }
  }
  return out;
}

}  // namespace dcp::diag
