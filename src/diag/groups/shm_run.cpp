// Check group `shm`, measured: statvfs(/dev/shm) on every rank.
#include "diag/context.hpp"
#include "diag/groups/shm.hpp"
#include "diag/registry.hpp"

namespace dcp::diag {

namespace {

class ShmGroup final : public CheckGroup {
 public:
  ShmGroup() : CheckGroup(kShmGroup) {}
  void run(Context& ctx, DiagReport& report) override {
    append_rows(report, shm_checks(ctx.ranks(), ctx.gather(probe_shm(), "diag shm facts")));
  }
};

}  // namespace

std::unique_ptr<CheckGroup> make_shm_group() {
  return std::make_unique<ShmGroup>();
}

}  // namespace dcp::diag
