// Check group `fabric_manager`, measured: NVML's fabric info of this rank's GPU (CUDA's own start
// was recorded in RankFacts by select_diag_device).
#include "diag/context.hpp"
#include "diag/groups/fabric_manager.hpp"
#include "diag/registry.hpp"
#include "fabric/nvml.hpp"

namespace dcp::diag {

namespace {

class FabricManagerGroup final : public CheckGroup {
 public:
  FabricManagerGroup() : CheckGroup(kFabricManagerGroup) {}
  void run(Context& ctx, DiagReport& report) override {
    const fabric::Nvml& nvml = ctx.nvml();
    const std::string& uuid = ctx.rank(ctx.me()).gpu_uuid;
    fabric::GpuFabricInfo info;
    if (nvml.available()) {
      if (uuid.empty()) {
        info.unavailable =
            "this rank's GPU is unknown (CUDA did not start and NVML did not name it)";
      } else {
        info = nvml.fabric_info(uuid);
      }
    }
    const FabricManagerFacts mine =
        fabric_manager_facts(nvml.available(), nvml.unavailable_reason(), uuid, info);
    append_rows(report,
                fabric_manager_checks(ctx.ranks(), ctx.gather(mine, "diag fabric manager facts")));
  }
};

}  // namespace

std::unique_ptr<CheckGroup> make_fabric_manager_group() {
  return std::make_unique<FabricManagerGroup>();
}

}  // namespace dcp::diag
