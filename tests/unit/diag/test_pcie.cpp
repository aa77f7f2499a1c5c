// Group `pcie`: the ACS parser over crafted config-space images, the sysfs helpers, the probe
// over a crafted /sys tree in a temporary folder, and the iommu / pcie_acs rules (healthy, ACS
// redirect, IOMMU translation, NVLink pairs, unreadable config space, missing sysfs).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "diag/groups/pcie.hpp"
#include "diag_test_util.hpp"

namespace dcp::diag {
namespace {

using testing::expect_remedies;
using testing::find;
using testing::make_rank;
using testing::two_ranks;

/// A 4096-byte config space with the given extended capabilities: (offset, id, value of the
/// word at +6), chained in order.
std::vector<std::uint8_t> config(
    std::vector<std::tuple<std::size_t, std::uint16_t, std::uint16_t>> caps) {
  std::vector<std::uint8_t> c(4096, 0);
  for (std::size_t i = 0; i < caps.size(); ++i) {
    const auto [off, id, ctrl] = caps[i];
    const std::size_t next = i + 1 < caps.size() ? std::get<0>(caps[i + 1]) : 0;
    const std::uint32_t header = id | (1u << 16) | (static_cast<std::uint32_t>(next) << 20);
    for (int b = 0; b < 4; ++b)
      c[off + static_cast<std::size_t>(b)] = static_cast<std::uint8_t>(header >> (8 * b));
    c[off + 6] = static_cast<std::uint8_t>(ctrl & 0xFF);
    c[off + 7] = static_cast<std::uint8_t>(ctrl >> 8);
  }
  return c;
}

TEST(DiagPcieParse, AcsFoundAlongTheChain) {
  const auto c = config({{0x100, 0x0001, 0}, {0x148, 0x000D, 0x001D}});
  const AcsControl a = parse_acs_control(c);
  EXPECT_TRUE(a.readable);
  EXPECT_TRUE(a.present);
  EXPECT_EQ(a.control, 0x001D);
  EXPECT_TRUE(a.redirects());  // RR (0x4) and CR (0x8) set
  EXPECT_FALSE(parse_acs_control(config({{0x100, 0x000D, 0x0011}})).redirects());  // SV, UF only
  EXPECT_TRUE(parse_acs_control(config({{0x100, 0x000D, kAcsEgressControl}})).redirects());
  const AcsControl none = parse_acs_control(config({{0x100, 0x0001, 0}}));
  EXPECT_TRUE(none.readable);
  EXPECT_FALSE(none.present);
  // An unprivileged read of sysfs config gives 64 or 256 bytes: unreadable, not "no ACS".
  EXPECT_FALSE(parse_acs_control(std::vector<std::uint8_t>(256, 0xFF)).readable);
  // A loop in the chain ends.
  auto loop = config({{0x100, 0x0001, 0}});
  loop[0x102] = 0x10;  // next = 0x100 again
  loop[0x103] = 0x10;
  EXPECT_FALSE(parse_acs_control(loop).present);
}

TEST(DiagPcieParse, SysfsHelpers) {
  EXPECT_EQ(sysfs_bus_id("00000000:18:00.0"), "0000:18:00.0");
  EXPECT_EQ(sysfs_bus_id("0001A000:18:00.0"), "1a000:18:00.0");
  EXPECT_EQ(sysfs_bus_id("nope"), "");
  EXPECT_EQ(bridge_chain("/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/0000:02:08.0/"
                         "0000:10:00.0"),
            (std::vector<std::string>{"0000:00:01.0", "0000:01:00.0", "0000:02:08.0"}));
  EXPECT_TRUE(bridge_chain("/sys/devices/pci0000:00/0000:10:00.0").empty());
  EXPECT_EQ(iommu_cmdline_flags("BOOT_IMAGE=/vmlinuz ro intel_iommu=on iommu=pt quiet"),
            "intel_iommu=on iommu=pt");
  EXPECT_EQ(iommu_cmdline_flags("ro quiet"), "");
}

/// A crafted /sys: two GPUs under one switch (root port 00:01.0 -> upstream 01:00.0 ->
/// downstream ports 02:08.0 and 02:10.0), with ACS control words and IOMMU groups.
class FakeSysfs {
 public:
  FakeSysfs(std::uint16_t acs_down0, std::uint16_t acs_down1, const std::string& iommu_type) {
    namespace fs = std::filesystem;
    root_ = fs::temp_directory_path() /
            ("dcp_sysfs_" + std::to_string(getpid()) + "_" + std::to_string(counter_++));
    const fs::path dev = root_ / "devices" / "pci0000:00" / "0000:00:01.0" / "0000:01:00.0";
    const fs::path d0 = dev / "0000:02:08.0";
    const fs::path d1 = dev / "0000:02:10.0";
    fs::create_directories(d0 / "0000:10:00.0");
    fs::create_directories(d1 / "0000:11:00.0");
    fs::create_directories(root_ / "bus" / "pci" / "devices");
    const auto link = [&](const fs::path& target, const std::string& name) {
      fs::create_directory_symlink(target, root_ / "bus" / "pci" / "devices" / name);
    };
    link(root_ / "devices" / "pci0000:00" / "0000:00:01.0", "0000:00:01.0");
    link(dev, "0000:01:00.0");
    link(d0, "0000:02:08.0");
    link(d1, "0000:02:10.0");
    link(d0 / "0000:10:00.0", "0000:10:00.0");
    link(d1 / "0000:11:00.0", "0000:11:00.0");
    write_config(root_ / "devices" / "pci0000:00" / "0000:00:01.0", 0);
    write_config(dev, 0);
    write_config(d0, acs_down0);
    write_config(d1, acs_down1);
    if (!iommu_type.empty()) {
      for (int g : {40, 41}) {
        fs::create_directories(root_ / "kernel" / "iommu_groups" / std::to_string(g));
        std::ofstream(root_ / "kernel" / "iommu_groups" / std::to_string(g) / "type")
            << iommu_type << "\n";
      }
      fs::create_directory_symlink(root_ / "kernel" / "iommu_groups" / "40",
                                   d0 / "0000:10:00.0" / "iommu_group");
      fs::create_directory_symlink(root_ / "kernel" / "iommu_groups" / "41",
                                   d1 / "0000:11:00.0" / "iommu_group");
    }
    std::ofstream(root_ / "cmdline") << "ro quiet intel_iommu=on\n";
  }
  ~FakeSysfs() { std::filesystem::remove_all(root_); }
  FakeSysfs(const FakeSysfs&) = delete;
  FakeSysfs& operator=(const FakeSysfs&) = delete;

  [[nodiscard]] PcieFacts probe(const std::string& bus) const {
    return probe_pcie(bus, root_.string(), (root_ / "cmdline").string());
  }

 private:
  static void write_config(const std::filesystem::path& dir, std::uint16_t acs) {
    const auto c = config({{0x100, 0x0001, 0}, {0x180, kAcsCapabilityId, acs}});
    std::ofstream(dir / "config", std::ios::binary)
        .write(reinterpret_cast<const char*>(c.data()), static_cast<std::streamsize>(c.size()));
  }
  static inline int counter_ = 0;
  std::filesystem::path root_;
};

TEST(DiagPcieProbe, ReadsTheChainAcsAndIommu) {
  const FakeSysfs sys(0x001D, 0x0000, "DMA");
  const PcieFacts a = sys.probe("00000000:10:00.0");
  ASSERT_TRUE(a.ok) << a.error;
  EXPECT_EQ(a.bus_id, "0000:10:00.0");
  ASSERT_EQ(a.chain.size(), 3u);
  EXPECT_EQ(a.chain[2].bus_id, "0000:02:08.0");
  EXPECT_TRUE(a.chain[2].readable);
  EXPECT_TRUE(a.chain[2].acs_present);
  EXPECT_EQ(a.chain[2].acs_control, 0x001D);
  EXPECT_EQ(a.iommu_group, 40);
  EXPECT_EQ(a.iommu_type, "DMA");
  EXPECT_EQ(a.cmdline_flags, "intel_iommu=on");
  const PcieFacts missing = sys.probe("00000000:99:00.0");
  EXPECT_FALSE(missing.ok);
  EXPECT_HAS(missing.error, "0000:99:00.0");
}

TEST(DiagPcieRules, AcsRedirectOnAPciePairWarnsNamingTheBridge) {
  const FakeSysfs sys(0x001D, 0x0000, "identity");
  const std::vector<PcieFacts> facts{sys.probe("00000000:10:00.0"), sys.probe("00000000:11:00.0")};
  const auto rows = pcie_checks(two_ranks(), facts, nullptr);
  const DiagCheck& acs = find(rows, "pcie_acs", {0, 1});
  EXPECT_EQ(acs.verdict, Verdict::kWarn);
  EXPECT_HAS(acs.hint, "0000:02:08.0 (ACSCtl 0x001d)");
  EXPECT_HAS(acs.remedy, "setpci -s <bridge> ECAP_ACS+0x6.w=0000");
  EXPECT_EQ(find(rows, "iommu", {0}).verdict, Verdict::kPass);  // passthrough
  EXPECT_HAS(find(rows, "iommu", {0}).value, "type identity");
  expect_remedies(rows);
}

TEST(DiagPcieRules, CleanPathPassesNvlinkPairIsNotWarned) {
  const FakeSysfs clean(0x0011, 0x0000, "");
  const std::vector<PcieFacts> facts{clean.probe("0000:10:00.0"), clean.probe("0000:11:00.0")};
  const auto rows = pcie_checks(two_ranks(), facts, nullptr);
  EXPECT_EQ(find(rows, "pcie_acs", {0, 1}).verdict, Verdict::kPass);
  EXPECT_HAS(find(rows, "pcie_acs", {0, 1}).value, "no ACS redirect on the 2 bridges between them");
  EXPECT_HAS(find(rows, "iommu", {1}).value, "no IOMMU group");

  const FakeSysfs acs(0x001D, 0x001D, "DMA-FQ");
  const std::vector<PcieFacts> f2{acs.probe("0000:10:00.0"), acs.probe("0000:11:00.0")};
  std::vector<std::vector<fabric::PeerPath>> rows2(2);
  rows2[0].push_back(fabric::PeerPath{0, 1, fabric::PathKind::kNvlink, ""});
  rows2[1].push_back(fabric::PeerPath{1, 0, fabric::PathKind::kNvlink, ""});
  const fabric::PeerPathTable nvlink = fabric::assemble_table(2, rows2);
  const auto with_nvlink = pcie_checks(two_ranks(), f2, &nvlink);
  EXPECT_EQ(find(with_nvlink, "pcie_acs", {0, 1}).verdict, Verdict::kPass);
  EXPECT_HAS(find(with_nvlink, "pcie_acs", {0, 1}).value, "the pair is NVLink");
  EXPECT_EQ(find(with_nvlink, "iommu", {0}).verdict, Verdict::kPass);
  const auto without = pcie_checks(two_ranks(), f2, nullptr);
  EXPECT_EQ(find(without, "iommu", {0}).verdict, Verdict::kWarn);
  EXPECT_HAS(find(without, "iommu", {0}).hint, "translates this GPU's DMA (type DMA-FQ)");
  EXPECT_HAS(find(without, "iommu", {0}).remedy, "iommu=pt");
  expect_remedies(without);
}

TEST(DiagPcieRules, UnreadableConfigAndMissingSysfsSkip) {
  PcieFacts a;
  a.ok = true;
  a.bus_id = "0000:10:00.0";
  a.chain = {BridgeFacts{"0000:00:01.0", false, false, 0},
             BridgeFacts{"0000:02:08.0", false, false, 0}};
  PcieFacts b = a;
  b.bus_id = "0000:11:00.0";
  b.chain[1].bus_id = "0000:02:10.0";
  const DiagCheck u = find(pcie_checks(two_ranks(), {a, b}, nullptr), "pcie_acs", {0, 1});
  EXPECT_EQ(u.verdict, Verdict::kSkip);
  EXPECT_HAS(u.hint, "0000:02:08.0, 0000:02:10.0 is unreadable (reading it needs root)");
  PcieFacts gone;
  gone.error = "/sys/bus/pci/devices/0000:10:00.0 is not readable";
  const auto rows = pcie_checks(two_ranks(), {gone, b}, nullptr);
  EXPECT_EQ(find(rows, "iommu", {0}).verdict, Verdict::kSkip);
  EXPECT_EQ(find(rows, "pcie_acs", {0, 1}).verdict, Verdict::kSkip);
  EXPECT_EQ(find(pcie_checks({make_rank(0)}, {a}, nullptr), "pcie_acs").verdict, Verdict::kSkip);
}

TEST(DiagPcieRules, DifferentRootPortsAreNamed) {
  PcieFacts a;
  a.ok = true;
  a.chain = {BridgeFacts{"0000:00:01.0", true, true, 0}};
  PcieFacts b;
  b.ok = true;
  b.chain = {BridgeFacts{"0000:80:01.0", true, true, 0}};
  const DiagCheck c = find(pcie_checks(two_ranks(), {a, b}, nullptr), "pcie_acs", {0, 1});
  EXPECT_EQ(c.verdict, Verdict::kPass);
  EXPECT_HAS(c.value, "P2P crosses the CPU");
}

}  // namespace
}  // namespace dcp::diag
