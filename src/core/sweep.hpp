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

/// Named axes. Every list must be non-empty after defaults are applied, and hold each value once
/// (the shape lists tokens, heads, model and lse_base may be empty: see below).
///
/// Two shape vocabularies (issue 15): entries (`batch`, the kernel-level view) or the user's
/// terms, decode `tokens` x `heads` per rank (E = tokens x heads), where `model` presets give
/// heads per rank, head_dim and the LSE base. `tokens` non-empty selects the second: then
/// `batch` is not used, and `heads` or `model` must be given; heads given with a model override
/// its heads per rank (a divisor of its query heads), `lse_base` its base; a model's head_dim
/// replaces the head_dim axis.
struct SweepAxes {
  std::vector<Op> op{Op::kExchange};  ///< what each case computes
  std::vector<std::int64_t> batch{1, 16, 64, 128};
  std::vector<std::int64_t> tokens;  ///< decode tokens; non-empty = the tokens x heads vocabulary
  std::vector<int> heads;            ///< query heads per rank; empty = each model's
  std::vector<std::string> model;    ///< presets (core/models.hpp); empty = none
  std::vector<LseBase> lse_base;     ///< op reduce; empty = each model's, else e
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
  /// Sub-sweeps expanded one after the other (e.g. an exchange block and a reduce block). Empty:
  /// the sweep is `axes` alone. Non-empty: `axes` holds the defaults each block started from (a
  /// config's top level) and is not expanded itself; every block is complete.
  std::vector<SweepAxes> blocks;

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
/// implementations; model names against the compiled-in presets); throws ConfigError naming the
/// field, the value and what is accepted.
/// Every list must be non-empty and hold each value once; implementation names must be
/// non-blank (whether they exist is checked against a catalog by resolve_sweep).
void validate(const SweepSpec& spec);

/// Checks the spec against the job: cp_size must equal the world size unless every workspace is
/// `sim`; `sim` needs a single rank. Throws ConfigError.
void validate_for_world(const SweepSpec& spec, int world_size);

/// Expands the axes into planned runs; with blocks, each block in order, concatenated. Order
/// within a block, outermost first:
///   op, cp_size, dtype, model, head_dim, stats_dim (exchange) or lse_base (reduce), heads,
///   batch or tokens, launch, impl, pdl, workspace
/// (without tokens, model and heads this is the order the sweep had before the op axis).
/// An implementation is expanded only for the ops its row implements (ImplInfo::ops). pdl and
/// workspace expand only for implementations whose row says they apply
/// (ImplTraits::uses_pdl / uses_workspace); for the others they are n/a and the impl appears
/// once. A reduce case has stats_dim 1 (the row's LSE) and an lse_base. `world_size` fills an
/// empty cp_size axis, `catalog` an empty impl axis (its default set). Throws ConfigError for a
/// name the catalog does not know.
std::vector<PlannedRun> expand(const SweepSpec& spec, const ImplCatalog& catalog, int world_size);

/// The axes a spec expands: its blocks, or `axes` alone when it has none.
std::vector<const SweepAxes*> expanded_axes(const SweepSpec& spec);
std::vector<SweepAxes*> expanded_axes(SweepSpec& spec);

/// Checks one block's axes on their own (validate() calls it for `axes` and every block).
void validate_axes(const SweepAxes& axes);

/// The implementation list after defaults: the axis, or the catalog's default set when empty.
std::vector<std::string> effective_impls(const SweepAxes& axes, const ImplCatalog& catalog);

}  // namespace dcp
