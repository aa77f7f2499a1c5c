// Check group `driver`, measured: the rule reads the RankFacts gathered at the start.
#include "diag/context.hpp"
#include "diag/groups/driver.hpp"
#include "diag/registry.hpp"

namespace dcp::diag {

namespace {

class DriverGroup final : public CheckGroup {
 public:
  DriverGroup() : CheckGroup(kDriverGroup) {}
  void run(Context& ctx, DiagReport& report) override {
    append_rows(report, driver_checks(ctx.ranks()));
  }
};

}  // namespace

std::unique_ptr<CheckGroup> make_driver_group() {
  return std::make_unique<DriverGroup>();
}

}  // namespace dcp::diag
