// Check group `paths`, measured: the peer-path table (fabric::gather_peer_paths: NVML asked by
// every rank about its pairs, rows gathered so every rank holds the same table).
#include "diag/context.hpp"
#include "diag/groups/paths.hpp"
#include "diag/registry.hpp"

namespace dcp::diag {

namespace {

class PathsGroup final : public CheckGroup {
 public:
  PathsGroup() : CheckGroup(kPathsGroup) {}
  void run(Context& ctx, DiagReport& report) override {
    append_rows(report, paths_checks(ctx.ranks(), ctx.paths()));
  }
};

}  // namespace

std::unique_ptr<CheckGroup> make_paths_group() {
  return std::make_unique<PathsGroup>();
}

}  // namespace dcp::diag
