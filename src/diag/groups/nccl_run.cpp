// Check group `nccl`, measured: the rule reads the RankFacts gathered at the start.
#include "diag/context.hpp"
#include "diag/groups/nccl.hpp"
#include "diag/registry.hpp"

namespace dcp::diag {

namespace {

class NcclGroup final : public CheckGroup {
 public:
  NcclGroup() : CheckGroup(kNcclGroup) {}
  void run(Context& ctx, DiagReport& report) override {
    append_rows(report, nccl_checks(ctx.ranks()));
  }
};

}  // namespace

std::unique_ptr<CheckGroup> make_nccl_group() {
  return std::make_unique<NcclGroup>();
}

}  // namespace dcp::diag
