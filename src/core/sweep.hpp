#pragma once
/// @file
/// The sweep model: named axes whose cartesian product gives the cases, plus the measurement
/// options that apply to every case. Options parse into an immutable SweepSpec that is passed by
/// const reference; `expand` is a pure function with a documented, golden-tested order.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/case.hpp"
#include "core/fault.hpp"
#include "core/impl_info.hpp"
#include "core/limits.hpp"
#include "core/types.hpp"

namespace dcp {

/// Named axes. Every list must be non-empty after defaults are applied, and hold each value once.
struct SweepAxes {
  std::vector<std::int64_t> batch{1, 16, 64, 128};
  std::vector<int> head_dim{128};
  std::vector<int> stats_dim{2};
  std::vector<DType> dtype{DType::kBf16};
  /// Empty = the world size (resolved by `run` before expansion).
  std::vector<int> cp_size;
  std::vector<std::string> impl;  ///< empty = the catalog's default set (filled by resolve_sweep)
  std::vector<WorkspaceKind> workspace{WorkspaceKind::kAuto};
  std::vector<LaunchMode> launch{LaunchMode::kEager, LaunchMode::kGraph};
  std::vector<bool> pdl{true};

  friend bool operator==(const SweepAxes&, const SweepAxes&) = default;
};

/// How each case is measured.
struct MeasureOptions {
  int warmup = 50;          ///< untimed calls before timing (-w)
  int iters = 1000;         ///< timed samples (-n)
  int graph_calls = 20;     ///< exchanges per graph replay / pipelined sample (-G/--graph-calls)
  int ring = kMinRingSize;  ///< distinct input/output sets cycled by timed calls
  std::uint64_t seed = 0xDC9A2A;        ///< data pattern seed
  double timeout_s = kDefaultTimeoutS;  ///< every wait on a peer (device spin, host barrier)
                                        ///< gives up after this
  std::int64_t stress_calls =
      0;  ///< --stress N: N calls with fresh inputs, every row checked; 0 = off
  std::optional<FaultInjection> inject;  ///< --inject (testing aid)
  /// --allow-unvalidated-path: run LL128 strategies over rank pairs whose path is not validated
  /// for LL128's ordering contract (not NVLink); the report records that it was used.
  bool allow_unvalidated_path = false;

  friend bool operator==(const MeasureOptions&, const MeasureOptions&) = default;
};

struct SweepSpec {
  SweepAxes axes;
  MeasureOptions measure;

  friend bool operator==(const SweepSpec&, const SweepSpec&) = default;
};

/// One (case, impl) pair to run.
struct PlannedRun {
  Case c;
  std::string impl;
  /// The implementation's registry row, in the catalog the run was expanded with (which must
  /// outlive the run); nullptr only in runs built by hand.
  const ImplInfo* info = nullptr;

  friend bool operator==(const PlannedRun&, const PlannedRun&) = default;
};

/// Checks every field of the spec on its own (no knowledge of the machine or of the
/// implementations); throws ConfigError naming the field, the value and what is accepted.
/// Every list must be non-empty and hold each value once; implementation names must be
/// non-blank (whether they exist is checked against a catalog by resolve_sweep).
void validate(const SweepSpec& spec);

/// Checks the spec against the job: cp_size must equal the world size unless every workspace is
/// `sim`; `sim` needs a single rank. Throws ConfigError.
void validate_for_world(const SweepSpec& spec, int world_size);

/// Expands the axes into planned runs. Order, outermost first:
///   cp_size, dtype, head_dim, stats_dim, batch, launch, impl, pdl, workspace.
/// pdl and workspace expand only for implementations whose row says they apply
/// (ImplTraits::uses_pdl / uses_workspace); for the others they are n/a and the impl appears
/// once. `world_size` fills an empty cp_size axis, `catalog` an empty impl axis (its default
/// set). Throws ConfigError for a name the catalog does not know.
std::vector<PlannedRun> expand(const SweepSpec& spec, const ImplCatalog& catalog, int world_size);

/// The implementation list after defaults: the axis, or the catalog's default set when empty.
std::vector<std::string> effective_impls(const SweepAxes& axes, const ImplCatalog& catalog);

}  // namespace dcp
