#pragma once
/// @file
/// The sweep runner: for every planned (case, impl) it sets up, verifies, times (or stresses),
/// verifies the timed outputs, and returns plain CaseResult records. It never prints; progress
/// goes through an optional callback.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/impl.hpp"
#include "core/impl_info.hpp"
#include "core/resolve.hpp"
#include "core/result.hpp"
#include "core/world.hpp"

namespace dcp::bench {

/// Gives the runner the implementation objects of registry rows (owned elsewhere, reused across
/// cases). The CLI's registry is the one in the program; tests bring their own.
class ImplProvider {
 public:
  virtual ~ImplProvider() = default;
  /// The rows this provider can make: sweeps run with it are resolved against this catalog.
  [[nodiscard]] virtual const ImplCatalog& catalog() const = 0;
  /// The object of `row` (a row of catalog()), made on first use.
  [[nodiscard]] virtual AllToAllImpl& get(const ImplInfo& row) = 0;
};

/// Called before each planned run: (index, total, run).
using ProgressFn = std::function<void(std::size_t, std::size_t, const PlannedRun&)>;

struct SweepOutcome {
  std::vector<CaseResult> results;
  std::vector<LaunchFloor> launch_floors;
  /// The sweep stopped before its last run (e.g. a hang left the workspace unusable): `results`
  /// holds the runs made so far; the run command writes them as a partial report and exits 3.
  bool aborted = false;
  std::string abort_reason;  ///< one line: why, naming the run that ended it
};

/// Runs `sweep.runs` on the current device. Collective: every rank must run the same sweep,
/// which the caller established once (bench::require_same_plan) after resolving it; the runner
/// does not expand, resolve or agree anything again. The runs' rows must come from
/// impls.catalog(). A row that does not support a case's launch mode, or is not exact (the
/// runner verifies bit-exact outputs only), is reported as skipped.
/// Verification failures are recorded in the results (status verify_failed) and the sweep goes
/// on; timeouts and CUDA/NCCL/MPI failures end the sweep by throwing (the workspace and counters
/// may be inconsistent), after the impl's abort_inflight() where a wait timed out.
SweepOutcome run_sweep(const ResolvedSweep& sweep, ImplProvider& impls, const World& world,
                       const ProgressFn& progress);

}  // namespace dcp::bench
