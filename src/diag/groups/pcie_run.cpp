// Check group `pcie`, measured: this rank's GPU in sysfs (bridges, ACS, IOMMU) and
// /proc/cmdline; the peer-path table says which pairs are NVLink.
#include "diag/context.hpp"
#include "diag/groups/pcie.hpp"
#include "diag/registry.hpp"

namespace dcp::diag {

namespace {

class PcieGroup final : public CheckGroup {
 public:
  PcieGroup() : CheckGroup(kPcieGroup) {}
  void run(Context& ctx, DiagReport& report) override {
    const PcieFacts mine = probe_pcie(ctx.rank(ctx.me()).pci_bus_id);
    const auto all = ctx.gather(mine, "diag PCIe facts");
    const fabric::PeerPathTable& paths = ctx.paths();
    append_rows(report, pcie_checks(ctx.ranks(), all, &paths));
  }
};

}  // namespace

std::unique_ptr<CheckGroup> make_pcie_group() {
  return std::make_unique<PcieGroup>();
}

}  // namespace dcp::diag
