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
  /// True when a host-side wait timed out (TimeoutError, HangError included): the last result is
  /// that case, status error (with its HangReport where the implementation gave one), and the
  /// runs after it were not made. The caller writes the report of what ran.
  bool aborted = false;
  std::string abort_reason;  ///< the timeout's message when aborted
};

/// Runs `sweep.runs` on the current device. Collective: every rank must run the same sweep,
/// which the caller established once (bench::require_same_plan) after resolving it; the runner
/// does not expand, resolve or agree anything again. The runs' rows must come from
/// impls.catalog(). A row that does not support a case's launch mode or op is reported as
/// skipped.
///
/// Verification, for every verified call on fresh inputs and freshly poisoned outputs:
///  - op exchange: bit-exact against core/pattern.hpp (DeviceVerifier); a row that is not exact
///    is skipped for the exchange;
///  - op reduce: the merged outputs against the CPU reference's bits and fp64
///    (merge::DeviceMergeChecker), recorded in CaseResult::accuracy. A row with traits.exact
///    fails (verify_failed) on any differing bit; a row that is not exact passes when every
///    element's error is within traits.ulp_bound x cp output-type ulps of the terms'
///    magnitude (Accuracy::cond_ulp_max) and every lse_out is bit-identical to the reference
///    (Accuracy::lse_differing = 0: every strategy computes lse_out with the merge routine),
///    and fails otherwise.
/// Strategies with parts (AllToAllImpl::parts) get each part timed alone, in the same run.
///
/// Verification failures are recorded in the results (status verify_failed) and the sweep goes
/// on. A host-side wait that times out (after the impl's abort_inflight()) ends the sweep: the
/// case is recorded with status error (and its HangReport when the implementation threw a
/// HangError) and the outcome says `aborted`. CUDA/NCCL/MPI failures still end the sweep by
/// throwing (the workspace and counters may be inconsistent).
SweepOutcome run_sweep(const ResolvedSweep& sweep, ImplProvider& impls, const World& world,
                       const ProgressFn& progress);

}  // namespace dcp::bench
