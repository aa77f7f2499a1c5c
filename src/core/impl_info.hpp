#pragma once
/// @file
/// The registry row of an exchange implementation (ImplInfo) and the list of rows (ImplCatalog).
///
/// Everything the sweep model, the runner and the reports need to know about an implementation
/// lives in its row: its name, the operations and launch modes it supports, its traits (which
/// sweep axes apply, what it moves, whether it is exact), what it needs from the job, which
/// implementations its speedups are measured against, and its factory. Rows live in the layer
/// that owns the implementation (kernels/impls.cpp, baseline/impls.cpp); cli/registry.cpp is the
/// only file that sees both and concatenates them. Core names no implementation: adding one is a
/// row plus its own files.
///
/// CUDA-free: the factory returns a core::AllToAllImpl and receives an ImplEnv that names the
/// World only by a forward declaration.

#include <array>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/types.hpp"

namespace dcp {

class AllToAllImpl;
class World;

/// A set of values of a small enumeration (at most 32 values), usable in constant rows.
template <typename E>
class EnumSet {
 public:
  constexpr EnumSet() = default;
  constexpr EnumSet(std::initializer_list<E> values) {
    for (E v : values)
      bits_ |= bit(v);
  }
  [[nodiscard]] constexpr bool contains(E v) const { return (bits_ & bit(v)) != 0; }
  [[nodiscard]] constexpr bool empty() const { return bits_ == 0; }
  friend constexpr bool operator==(EnumSet, EnumSet) = default;

 private:
  static constexpr std::uint32_t bit(E v) { return std::uint32_t{1} << static_cast<unsigned>(v); }
  std::uint32_t bits_ = 0;
};

using OpSet = EnumSet<Op>;
using LaunchSet = EnumSet<LaunchMode>;

/// Every launch mode (the usual row's LaunchSet).
inline constexpr LaunchSet kAllLaunches{LaunchMode::kEager, LaunchMode::kPipelined,
                                        LaunchMode::kGraph};

/// How an implementation behaves, as far as the sweep, the runner and the reports care.
struct ImplTraits {
  bool uses_pdl = false;        ///< the `pdl` axis applies (programmatic dependent launch)
  bool uses_workspace = false;  ///< the `workspace` axis applies (a workspace of its own)
  bool moves_stats = true;      ///< moves softmax_stats too; false: partial_o only, and the
                                ///< runner neither counts nor verifies the stats
  bool exact = true;            ///< outputs bit-identical to the CPU reference
  /// When not exact (op reduce): the largest error allowed, per source of the merge, in
  /// output-type ulps at the magnitude of the merged terms (Accuracy::cond_ulp_max): a case of
  /// cp ranks passes when every element is within ulp_bound x cp of them, and lse_out is still
  /// bit-identical to the reference (the merge routine's). 0 when exact.
  int ulp_bound = 0;
};

/// A library version, e.g. NCCL 2.28.9; all zero = no requirement.
struct LibVersion {
  int major = 0;
  int minor = 0;
  int patch = 0;
  [[nodiscard]] constexpr bool empty() const { return major == 0 && minor == 0 && patch == 0; }
  friend constexpr bool operator==(const LibVersion&, const LibVersion&) = default;
};

/// What an implementation needs from the job. Informational: each implementation still checks
/// its needs itself (unsupported_reason) and says why it skips a case; the row states them so
/// that `dcpbench list --impls` and the docs can show them without running anything.
struct ImplNeeds {
  bool one_gpu_per_rank = false;  ///< no simulated mode: one process per GPU, cp = job size
  int min_world = 1;              ///< fewest ranks (processes) in the job
  LibVersion min_nccl;            ///< NCCL library and headers at least this (empty: no NCCL)
  bool peer_load_store = false;   ///< loads/stores into every peer's memory (NVLink or an MNNVL
                                  ///< fabric between the GPUs, or one GPU in sim mode)
};

/// Shared state and the job an implementation is made for. One ImplEnv per registry: state that
/// several implementations of one layer share (e.g. the NCCL communicator) is created by the
/// first factory that asks for it and destroyed with the ImplEnv, after the implementations.
class ImplEnv {
 public:
  /// `world` may be nullptr where no MPI job exists (single-process tests; sim-only uses).
  explicit ImplEnv(const World* world) : world_(world) {}
  ImplEnv(const ImplEnv&) = delete;
  ImplEnv& operator=(const ImplEnv&) = delete;

  [[nodiscard]] const World* world() const { return world_; }

  /// The state stored under `key`, made by `make` on the first call. Every caller of one key
  /// must ask for the same T (keys are owned by one layer, e.g. "baseline/nccl").
  template <typename T>
  std::shared_ptr<T> shared(std::string_view key, const std::function<std::shared_ptr<T>()>& make) {
    auto it = shared_.find(key);
    if (it == shared_.end()) it = shared_.emplace(std::string(key), make()).first;
    return std::static_pointer_cast<T>(it->second);
  }

 private:
  const World* world_;
  std::map<std::string, std::shared_ptr<void>, std::less<>> shared_;
};

/// Makes an implementation object (one per job, reused across cases).
using ImplFactory = std::unique_ptr<AllToAllImpl> (*)(ImplEnv& env);

/// One implementation's registry row. Constant data with static storage: rows are `constexpr`
/// arrays in their layer, and the sweep keeps pointers to them.
struct ImplInfo {
  std::string_view name;     ///< the --impl name, also reports' `impl`
  std::string_view summary;  ///< one line: what it does
  OpSet ops;                 ///< operations it implements
  LaunchSet launches;        ///< launch modes it supports (others are reported as skipped)
  ImplTraits traits;
  ImplNeeds needs;
  /// Which implementations its speedups are measured against (rows with the same exchange):
  /// empty = none, "*" = every other implementation, else a comma-separated list of names.
  std::string_view speedups_against;
  bool in_default_sweep = true;  ///< part of the sweep when --impl is not given
  ImplFactory make = nullptr;    ///< nullptr in catalogs that only describe (host-only tools)
};

/// Whether `row`'s speedups are measured against the implementation called `other`.
[[nodiscard]] bool speedup_pairs_with(const ImplInfo& row, std::string_view other);

/// One line describing `row` for `dcpbench list --impls`: ops, launches, traits, needs.
[[nodiscard]] std::string describe(const ImplInfo& row);

/// The rows of every implementation a program knows, in the order --help and the default sweep
/// list them. Names are unique (checked on construction).
class ImplCatalog {
 public:
  ImplCatalog() = default;
  /// Concatenates the row lists, in order. Throws Error on a repeated name or an empty one.
  explicit ImplCatalog(std::initializer_list<std::span<const ImplInfo>> parts);

  [[nodiscard]] std::span<const ImplInfo> rows() const { return rows_; }
  /// The row called `name`, or nullptr.
  [[nodiscard]] const ImplInfo* find(std::string_view name) const;
  /// The row called `name`; ConfigError "impl: unknown implementation '...'; accepted: ..."
  /// otherwise.
  [[nodiscard]] const ImplInfo& at(std::string_view name) const;
  /// Names of the rows in the default sweep, in catalog order.
  [[nodiscard]] std::vector<std::string> default_names() const;
  /// "a|b|c": every name, for messages and --help.
  [[nodiscard]] std::string accepted() const;

 private:
  std::vector<ImplInfo> rows_;
};

}  // namespace dcp
