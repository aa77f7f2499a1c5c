// Check group `nvlink`, measured: every NVLink of this rank's GPU through NVML.
#include "diag/context.hpp"
#include "diag/groups/nvlink.hpp"
#include "diag/registry.hpp"
#include "fabric/nvml.hpp"

namespace dcp::diag {

namespace {

class NvlinkGroup final : public CheckGroup {
 public:
  NvlinkGroup() : CheckGroup(kNvlinkGroup) {}
  void run(Context& ctx, DiagReport& report) override {
    const fabric::Nvml& nvml = ctx.nvml();
    const RankFacts& me = ctx.rank(ctx.me());
    fabric::NvlinkReport links;
    if (nvml.available()) links = nvml.nvlinks(me.gpu_uuid);
    const NvlinkFacts mine =
        nvlink_facts(nvml.available(), nvml.unavailable_reason(), me.pci_bus_id, links);
    append_rows(report, nvlink_checks(ctx.ranks(), ctx.gather(mine, "diag NVLink facts")));
  }
};

}  // namespace

std::unique_ptr<CheckGroup> make_nvlink_group() {
  return std::make_unique<NvlinkGroup>();
}

}  // namespace dcp::diag
