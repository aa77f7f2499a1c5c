#pragma once
/// @file
/// NativeDirect: the direct-store strategies behind core::AllToAllImpl (direct_layout.hpp):
///  - `native-direct` (DirectScheme::kFused): one kernel per call and rank writes its rows into
///    the peers' receive regions with plain 16-byte stores, publishes a flag per (source,
///    destination, block) with release semantics, awaits its sources' flags with acquire loads
///    and merges (--op reduce) or copies (--op exchange) each block as soon as it arrived;
///  - `direct-staged` (DirectScheme::kStaged): vLLM's four-launch direct path on the same
///    workspace, as the baseline the fused kernel is measured against; parts() names the launches
///    (advance, write, signal, wait-merge).
///
/// Workspace: one per (kind, geometry), cached across cases and never cleared between calls (the
/// protocol's epochs and parity make that safe); its geometry for cp is the smallest that holds
/// every case of the capacity (DirectCapacity; by default E <= kDefaultCapacityEntries entries of
/// D <= 512, S <= 2). A case that does not fit is refused with a message naming what it needs.
/// After a device-side timeout check() throws HangError (error records and flag summary) and the
/// implementation refuses to run until setup() performed the collective reset
/// (native_collective.hpp).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/hang_report.hpp"
#include "core/impl.hpp"
#include "core/shape.hpp"
#include "core/world.hpp"
#include "fabric/workspace.hpp"
#include "kernels/direct_kernel.hpp"
#include "kernels/direct_layout.hpp"

namespace dcp::kernels {

/// Which of the two direct schemes.
enum class DirectScheme : std::uint8_t { kFused = 0, kStaged = 1 };

/// Largest E the default capacity holds (tokens 256 x 16 heads per rank: DeepSeek-V3's decode
/// shapes up to 256 tokens).
inline constexpr std::int64_t kDefaultCapacityEntries = 4096;
/// Widest rows of the default capacity: D = 512 elements, S = 2 fp32 (1028/1032 bytes per entry).
inline constexpr int kDefaultCapacityHeadDim = 512;
inline constexpr int kDefaultCapacityStatsDim = 2;

/// The cases a direct workspace must hold. Empty: the default capacity. The CLI may set it from
/// the resolved sweep by creating the ImplEnv's shared state under kDirectCapacityKey before the
/// factories run (ImplEnv::shared); every rank must set the same cases.
struct DirectCapacity {
  std::vector<ExchangeShape> cases;  ///< cp, E, D, S of each case (dtype is irrelevant)
};
/// ImplEnv::shared key of the DirectCapacity the direct rows' factories read.
inline constexpr std::string_view kDirectCapacityKey = "kernels/direct-capacity";

/// Knobs for tests and experiments; the defaults are what the benchmark uses. Identical on every
/// rank.
struct DirectOptions {
  DirectCapacity capacity;
  /// Upper bound on CTAs per grid (0: the co-residency budget).
  int max_ctas = 0;
};

/// The workspace geometry for `cp` ranks under `capacity` (the default capacity when it names no
/// case of this cp). Throws ConfigError when a case is not a valid direct shape.
direct::Geometry direct_geometry_for(int cp, const DirectCapacity& capacity);

class NativeDirect final : public AllToAllImpl {
 public:
  /// `world` is needed for ipc/fabric/auto workspaces and may be nullptr for sim.
  NativeDirect(const World* world, DirectScheme scheme, DirectOptions options = {});
  ~NativeDirect() override;

  [[nodiscard]] std::string name() const override;
  [[nodiscard]] std::optional<std::string> unsupported_reason(const Case& c) const override;
  void setup(const ExchangeSetup& s) override;
  void run(std::size_t slot) override;
  /// Staged: {"advance", "write", "signal", "wait-merge"} (wait-copy for exchange); fused: none.
  [[nodiscard]] std::vector<std::string> parts() const override;
  void run_part(std::size_t slot, std::size_t part) override;
  void check() override;
  void teardown() override;
  void abort_inflight() noexcept override;
  /// 4: each parity's regions and flags are rewritten twice with fresh data.
  [[nodiscard]] std::uint64_t min_fresh_calls() const override;
  [[nodiscard]] std::size_t workspace_bytes() const override;
  [[nodiscard]] std::string detail() const override;

  /// The workspace of the current case (nullptr before setup()).
  [[nodiscard]] const fabric::Workspace* workspace() const;
  /// Kernel parameters of local rank slot `i`, ring slot 0 (tests inspect them).
  [[nodiscard]] const DirectParams& params(std::size_t i) const;
  /// Every local rank's error record and flags as found in device memory now (streams idle).
  [[nodiscard]] HangReport hang_report(double timeout_s) const;

 private:
  struct CachedWorkspace {
    WorkspaceKind kind;
    direct::Geometry geometry;
    std::unique_ptr<fabric::Workspace> workspace;
    bool needs_reset = false;
  };
  CachedWorkspace& workspace_for(WorkspaceKind kind, const direct::Geometry& g, int local_ranks,
                                 double timeout_s);
  void agree_plan(const DirectParams& p, bool ok);
  void launch(std::size_t slot, std::size_t part, bool all_parts);

  const World* world_;
  DirectScheme scheme_;
  DirectOptions options_;
  std::vector<std::unique_ptr<CachedWorkspace>> cache_;

  bool ready_ = false;
  bool failed_ = false;
  std::string failure_;
  Case case_;
  ExchangeShape shape_;
  CachedWorkspace* current_ = nullptr;
  std::vector<StreamHandle> streams_;
  std::vector<bool> skip_;  ///< fault injection: local ranks that launch nothing
  std::size_t ring_size_ = 0;
  std::vector<DirectParams> call_params_;  ///< (local rank i, ring slot k) at i * ring_size_ + k
};

}  // namespace dcp::kernels
