// Check group `imex`, measured: this host's IMEX channel (file system) and the fabric
// registration of this rank's GPU (NVML).
#include "diag/context.hpp"
#include "diag/groups/imex.hpp"
#include "diag/registry.hpp"
#include "fabric/explain.hpp"
#include "fabric/nvml.hpp"

namespace dcp::diag {

namespace {

class ImexGroup final : public CheckGroup {
 public:
  ImexGroup() : CheckGroup(kImexGroup) {}
  void run(Context& ctx, DiagReport& report) override {
    const fabric::ImexStatus s = fabric::probe_imex();
    ImexFacts f;
    f.channel_dir = s.dir;
    f.channel0_exists = s.channel0_exists;
    f.channel0_accessible = s.channel0_accessible;
    f.summary = s.summary();
    const fabric::Nvml& nvml = ctx.nvml();
    f.nvml_available = nvml.available();
    f.nvml_reason = nvml.unavailable_reason();
    const std::string& uuid = ctx.rank(ctx.me()).gpu_uuid;
    if (nvml.available() && !uuid.empty()) {
      const fabric::GpuFabricInfo info = nvml.fabric_info(uuid);
      f.fabric_queried = info.queried;
      f.fabric_state = info.state;
      f.fabric_status = info.status;
      f.cluster_uuid = info.cluster_uuid;
      f.clique_id = info.clique_id;
    }
    append_rows(report, imex_checks(ctx.ranks(), ctx.gather(f, "diag IMEX facts")));
  }
};

}  // namespace

std::unique_ptr<CheckGroup> make_imex_group() {
  return std::make_unique<ImexGroup>();
}

}  // namespace dcp::diag
