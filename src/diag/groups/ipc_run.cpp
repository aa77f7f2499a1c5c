// Check group `ipc`, measured: builds the ipc workspace (kept as the probes' mapping).
#include "diag/context.hpp"
#include "diag/groups/ipc.hpp"
#include "diag/registry.hpp"
#include "fabric/workspace.hpp"

namespace dcp::diag {

namespace {

class IpcGroup final : public CheckGroup {
 public:
  IpcGroup() : CheckGroup(kIpcGroup) {}
  void run(Context& ctx, DiagReport& report) override {
    IpcFacts f;
    if (ctx.single_host()) {
      f.attempted = true;
      f.error = ctx.mapping().make_ipc();
      f.ok = f.error.empty();
      if (f.ok) f.describe = ctx.mapping().get(true)->describe();
    }
    report.checks.push_back(ipc_check(ctx.ranks(), ctx.gather(f, "diag ipc facts")));
  }
};

}  // namespace

std::unique_ptr<CheckGroup> make_ipc_group() {
  return std::make_unique<IpcGroup>();
}

}  // namespace dcp::diag
