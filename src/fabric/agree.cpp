#include "fabric/agree.hpp"

#include <array>
#include <cstdint>

#include <fmt/format.h>

namespace dcp::fabric {

std::string StepReport::failed_list(int world_size) const {
  if (world_size > 1 && static_cast<int>(failed_ranks.size()) == world_size) {
    return fmt::format("all {} ranks", world_size);
  }
  return fmt::format("{}", fmt::join(failed_ranks, ", "));
}

int StepReport::common_cu_result() const {
  int common = 0;
  for (const int r : failed_ranks) {
    const int code = cu_results[static_cast<std::size_t>(r)];
    if (code == 0) return 0;
    if (common != 0 && code != common) return 0;
    common = code;
  }
  return common;
}

StepReport make_step_report(const std::vector<int>& failed_flags,
                            const std::vector<int>& cu_results) {
  StepReport report;
  report.cu_results.assign(failed_flags.size(), 0);
  for (std::size_t r = 0; r < failed_flags.size(); ++r) {
    if (failed_flags[r] != 0) {
      report.failed_ranks.push_back(static_cast<int>(r));
      report.cu_results[r] = r < cu_results.size() ? cu_results[r] : 0;
    }
  }
  return report;
}

StepReport gather_outcomes(const World& world, const StepOutcome& mine, std::string_view step) {
  const std::array<std::int32_t, 2> local{
      mine.ok() ? 0 : 1, mine.ok() ? 0 : static_cast<std::int32_t>(mine.cu_result)};
  const auto all = world.allgather(local, fmt::format("outcome of {}", step));
  std::vector<int> flags;
  std::vector<int> codes;
  for (const auto& a : all) {
    flags.push_back(a[0]);
    codes.push_back(a[1]);
  }
  return make_step_report(flags, codes);
}

void agree_or_throw(const World& world, const StepOutcome& mine, std::string_view context,
                    std::string_view step) {
  const StepReport report = gather_outcomes(world, mine, step);
  if (report.ok()) return;
  if (!mine.ok()) std::rethrow_exception(mine.error);
  throw EnvironmentError(fmt::format("{}: {} failed on rank(s) {} (see that rank's message)",
                                     context, step, report.failed_list(world.size())));
}

}  // namespace dcp::fabric
