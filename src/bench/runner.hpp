#pragma once
/// @file
/// The sweep runner: for every planned (case, impl) it sets up, verifies, times (or stresses),
/// verifies the timed outputs, and returns plain CaseResult records. It never prints; progress
/// goes through an optional callback.

#include <cstddef>
#include <functional>
#include <string_view>
#include <vector>

#include "core/impl.hpp"
#include "core/result.hpp"
#include "core/sweep.hpp"
#include "core/world.hpp"

namespace dcp::bench {

/// Gives the runner the implementation object for a name (owned elsewhere, reused across cases).
class ImplProvider {
 public:
  virtual ~ImplProvider() = default;
  [[nodiscard]] virtual AllToAllImpl& get(std::string_view name) = 0;
};

/// Called before each planned run: (index, total, run).
using ProgressFn = std::function<void(std::size_t, std::size_t, const PlannedRun&)>;

struct SweepOutcome {
  std::vector<CaseResult> results;
  std::vector<LaunchFloor> launch_floors;
};

/// Runs `plan` (from expand(spec, ...)) on `device`. Collective: every rank runs the same plan.
/// Verification failures are recorded in the results (status verify_failed) and the sweep goes
/// on; timeouts and CUDA/NCCL/MPI failures end the sweep by throwing (the workspace and counters
/// may be inconsistent), after the impl's abort_inflight() where a wait timed out.
SweepOutcome run_sweep(const SweepSpec& spec, const std::vector<PlannedRun>& plan,
                       ImplProvider& impls, const World& world, const ProgressFn& progress);

}  // namespace dcp::bench
