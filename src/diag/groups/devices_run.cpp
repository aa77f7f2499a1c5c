// Check group `devices`, measured: the rule reads the RankFacts gathered at the start.
#include "diag/context.hpp"
#include "diag/groups/devices.hpp"
#include "diag/registry.hpp"

namespace dcp::diag {

namespace {

class DevicesGroup final : public CheckGroup {
 public:
  DevicesGroup() : CheckGroup(kDevicesGroup) {}
  void run(Context& ctx, DiagReport& report) override {
    append_rows(report, device_checks(ctx.ranks()));
  }
};

}  // namespace

std::unique_ptr<CheckGroup> make_devices_group() {
  return std::make_unique<DevicesGroup>();
}

}  // namespace dcp::diag
