#pragma once
/// @file
/// Agreeing on the outcome of one step of a collective set-up, so that every rank takes the same
/// path: a failure on one rank fails every rank with a message, instead of leaving the others
/// waiting in the next collective until the timeout.

#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/world.hpp"
#include "fabric/driver_api.hpp"

namespace dcp::fabric {

/// What one step did on this rank.
struct StepOutcome {
  std::exception_ptr error;  ///< null on success
  int cu_result = 0;         ///< CUresult of a failed driver call, 0 otherwise
  [[nodiscard]] bool ok() const { return error == nullptr; }
};

/// Runs `step()`, capturing a dcp::Error (and the CUresult when it is a DriverError). Anything
/// that is not a dcp::Error propagates.
template <typename Step>
StepOutcome attempt(Step&& step) {
  StepOutcome out;
  try {
    step();
  } catch (const DriverError& e) {
    out.error = std::current_exception();
    out.cu_result = static_cast<int>(e.result());
  } catch (const Error&) {
    out.error = std::current_exception();
  }
  return out;
}

/// Every rank's outcome of one step, gathered (an AND-reduce that also says who failed).
struct StepReport {
  std::vector<int> failed_ranks;  ///< ascending
  std::vector<int> cu_results;    ///< per rank; 0 where the rank succeeded or failed otherwise
  [[nodiscard]] bool ok() const { return failed_ranks.empty(); }
  /// "1" / "0, 2" / "all 4 ranks".
  [[nodiscard]] std::string failed_list(int world_size) const;
  /// CUresult shared by every failed rank, or 0 when they differ or none was a driver error.
  [[nodiscard]] int common_cu_result() const;
};

/// Collective: gathers every rank's outcome of `step` (bounded by the World timeout).
[[nodiscard]] StepReport gather_outcomes(const World& world, const StepOutcome& mine,
                                         std::string_view step);

/// Collective: gathers outcomes; when any rank failed, rethrows this rank's own error, or throws
/// EnvironmentError("<context>: <step> failed on rank(s) ...") on ranks that succeeded.
void agree_or_throw(const World& world, const StepOutcome& mine, std::string_view context,
                    std::string_view step);

/// Pure: builds a StepReport from gathered (failed, cu_result) pairs indexed by rank.
[[nodiscard]] StepReport make_step_report(const std::vector<int>& failed_flags,
                                          const std::vector<int>& cu_results);

}  // namespace dcp::fabric
