// Check group `mapping`, measured: the rule reads the RankFacts gathered at the start.
#include "diag/context.hpp"
#include "diag/groups/mapping.hpp"
#include "diag/registry.hpp"

namespace dcp::diag {

namespace {

class MappingGroup final : public CheckGroup {
 public:
  MappingGroup() : CheckGroup(kMappingGroup) {}
  void run(Context& ctx, DiagReport& report) override {
    append_rows(report, mapping_checks(ctx.ranks()));
  }
};

}  // namespace

std::unique_ptr<CheckGroup> make_mapping_group() {
  return std::make_unique<MappingGroup>();
}

}  // namespace dcp::diag
