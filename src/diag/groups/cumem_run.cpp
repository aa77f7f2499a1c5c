// Check group `cumem`, measured: the cuMem device attributes of this rank's GPU.
#include "core/error.hpp"
#include "diag/context.hpp"
#include "diag/groups/cumem.hpp"
#include "diag/registry.hpp"
#include "fabric/driver_api.hpp"

namespace dcp::diag {

namespace {

class CumemGroup final : public CheckGroup {
 public:
  CumemGroup() : CheckGroup(kCumemGroup) {}
  void run(Context& ctx, DiagReport& report) override {
    CumemFacts f;
    try {
      const fabric::DeviceSharingCaps caps = fabric::query_sharing_caps(ctx.device());
      f.vmm = caps.vmm;
      f.posix_fd = caps.posix_fd;
      f.fabric = caps.fabric;
    } catch (const TimeoutError&) {
      throw;
    } catch (const Error& e) {
      f.error = e.what();
    }
    append_rows(report, cumem_checks(ctx.ranks(), ctx.gather(f, "diag cuMem facts")));
  }
};

}  // namespace

std::unique_ptr<CheckGroup> make_cumem_group() {
  return std::make_unique<CumemGroup>();
}

}  // namespace dcp::diag
