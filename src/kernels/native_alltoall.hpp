#pragma once
/// @file
/// NativeAllToAll: the native fused LL128 exchange behind core::AllToAllImpl.
///
/// setup() resolves the case into kernel parameters and takes the workspace from a cache (one per
/// (kind, geometry); the default geometry depends only on cp, so one workspace serves every shape
/// of a cp and its counters persist across cases without re-initialisation); it validates the
/// parameters of every (local rank, ring slot) and configures each rank's launch once. run(slot)
/// enqueues one precomputed kernel launch per local rank and does nothing else. check() reads every
/// local rank's device error record and throws HangError (a TimeoutError) naming rank, peer,
/// channel and the awaited sequence, with a dump of every local FIFO (hang_report()); after that
/// the implementation refuses to run until setup() performed the collective workspace reset
/// (native_collective.hpp). Outside sim, setup() also checks that every rank computed the same
/// kernel plan.

#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/hang_report.hpp"
#include "core/impl.hpp"
#include "core/shape.hpp"
#include "core/world.hpp"
#include "fabric/peer_path.hpp"
#include "fabric/workspace.hpp"
#include "kernels/fused_alltoall.hpp"
#include "kernels/fused_alltoall_params.hpp"
#include "kernels/ll128_layout.hpp"

namespace dcp::kernels {

/// Who moves the stream of a (peer, channel).
enum class WarpMode {
  kAuto,    ///< separate roles for short streams, one warp for long ones (NativeAllToAll::plan)
  kSingle,  ///< one warp sends, then receives, wherever ll128::single_warp_allowed
  kSplit,   ///< always a sender warp and a receiver warp
};

/// Knobs for tests and experiments; the defaults are what the benchmark uses. Every rank of an
/// exchange must use the same options.
struct NativeOptions {
  /// Workspace geometry instead of ll128::default_geometry(cp) (its cp_size is taken from the
  /// case). Tests use tiny FIFOs to force flow control and slot reuse.
  std::optional<ll128::Geometry> geometry;
  /// The channel split aims at this many lines per warp and call.
  int target_lines_per_warp = ll128::kTargetLinesPerWarp;
  /// Upper bound on channels (0 = C_max of the geometry).
  int max_channels = 0;
  /// Who moves a (peer, channel) stream (see WarpMode).
  WarpMode warps = WarpMode::kAuto;
};

/// How a case is split into channels, and whether it fits the GPU.
struct ChannelPlan {
  int channels = 0;           ///< C (0 for E = 0)
  bool capped = false;        ///< C was lowered so that all grids stay co-resident
  bool single_warp = false;   ///< one warp per (peer, channel) does both roles
  int ctas_per_rank = 0;      ///< CTAs of one rank's grid
  int resident_needed = 0;    ///< CTAs that must be resident at once (all local grids, x2 with PDL)
  int resident_capacity = 0;  ///< CTAs the GPU keeps resident
  std::string problem;        ///< non-empty: the case cannot run here (the message says why)
};

/// Calls with fresh inputs after which every slot of every (peer, channel) FIFO of geometry `g`
/// was written at least `passes` times: ceil(passes * depth / s), s the fewest slots a channel's
/// stream takes per call (the last channel's: it has the fewest lines), since consecutive calls
/// take consecutive sequence numbers and a slot is seq mod depth. 0 for E = 0.
std::uint64_t calls_to_reuse_fifos(const ExchangeShape& shape, int channels,
                                   const ll128::Geometry& g, int passes);

/// What setup() reports when a workspace segment's counters are not zero before the first
/// exchange (a rank skipped its initialisation; --inject skip-init provokes it): the segment's
/// rank, the first non-zero counter record (peer, channel) and word, and the rank that saw it.
std::string uninitialised_segment_message(int segment_rank, int peer, int channel,
                                          std::uint64_t word, int seen_by);
/// What setup() reports when row `row` of `rank`'s peer table does not hold rank `row`'s
/// segment (--inject row-order provokes it); `found` says what the row holds.
std::string row_order_message(int rank, std::string_view found, int row);

class NativeAllToAll final : public AllToAllImpl {
 public:
  /// `world` is needed for ipc/fabric/auto workspaces (collective creation and reset) and may be
  /// nullptr for sim.
  explicit NativeAllToAll(const World* world, NativeOptions options = {});
  ~NativeAllToAll() override;

  [[nodiscard]] std::string name() const override;
  [[nodiscard]] std::optional<std::string> unsupported_reason(const Case& c) const override;
  void setup(const ExchangeSetup& s) override;
  void run(std::size_t slot) override;
  void check() override;
  void teardown() override;
  void abort_inflight() noexcept override;
  /// 2 x depth slots through the FIFO of every (peer, channel): ceil(2 * depth / s) calls, s the
  /// fewest slots a channel consumes per call (the last channel's); 0 for E = 0.
  [[nodiscard]] std::uint64_t min_fresh_calls() const override { return fresh_calls_; }
  [[nodiscard]] std::size_t workspace_bytes() const override;
  [[nodiscard]] std::string detail() const override;

  /// The channel plan for `c` run by `local_ranks` ranks of this process (queries the device).
  [[nodiscard]] ChannelPlan plan(const Case& c, int local_ranks) const;
  /// Kernel parameters of local rank slot `i` for the current case (tests inspect them).
  [[nodiscard]] const FusedAllToAllParams& params(std::size_t i) const { return params_.at(i); }
  /// The workspace of the current case (nullptr before setup()).
  [[nodiscard]] const fabric::Workspace* workspace() const;
  /// Hang forensics (issue 17.3): every FIFO of the local ranks as found in device memory now
  /// (error records, counters, what arrived, how far each receiver consumed; peers' credit words
  /// are read through the peer table). Call with the streams idle; check() calls it after a
  /// device-side timeout and throws HangError carrying it. `timeout_s` is for the error text.
  [[nodiscard]] HangReport hang_report(double timeout_s) const;

 private:
  struct CachedWorkspace {
    WorkspaceKind kind;
    ll128::Geometry geometry;
    std::unique_ptr<fabric::Workspace> workspace;
    bool needs_reset = false;  ///< a timeout left its counters inconsistent
    bool checked = false;      ///< initialisation verified (check_initialised)
  };

  [[nodiscard]] ll128::Geometry geometry_for(int cp) const;
  /// Before the first exchange on a fresh workspace: every segment's counters must read zero
  /// (each rank initialised its own). Collective outside sim. Throws EnvironmentError naming the
  /// rank whose segment is not initialised.
  void check_initialised(const CachedWorkspace& ws, int first_rank);
  /// At every setup: each local rank signs its own row through its peer table, and every rank
  /// checks that row r of its table holds rank r's signature. Collective outside sim.
  void check_row_order(int first_rank);
  /// The cached workspace of (kind, g), created on first use; performs the collective reset
  /// (native_collective.hpp) when a timeout left it inconsistent on any rank. `timeout_s`: the
  /// case's device timeout (bounds the drain).
  CachedWorkspace& workspace_for(WorkspaceKind kind, const ll128::Geometry& g, int local_ranks,
                                 double timeout_s);
  /// Collective (outside sim): gathers every rank's plan and throws EnvironmentError naming the
  /// ranks and values when they differ, or when another rank cannot run the case. Returns
  /// without throwing when this rank's own plan is unusable (`p.problem` or !geometry_ok): the
  /// caller throws its own message.
  void agree_plan(const ChannelPlan& p, const ll128::Geometry& g, bool geometry_ok);

  const World* world_;
  NativeOptions options_;
  std::vector<std::unique_ptr<CachedWorkspace>> cache_;
  /// The job's peer-path table (gathered once, at the first ipc/fabric setup): LL128 runs only
  /// over the paths it is validated on (fabric/peer_path.hpp).
  std::optional<fabric::PeerPathTable> paths_;
  /// Cached device query: resident CTAs per instantiation (index = rounds; -1 = not asked yet).
  mutable std::array<int, 9> resident_capacity_{-1, -1, -1, -1, -1, -1, -1, -1, -1};

  // The current case.
  bool ready_ = false;
  bool failed_ = false;
  std::uint64_t setups_ = 0;  ///< identical on every rank (same plan): the signature nonce
  std::string failure_;
  Case case_;
  ExchangeShape shape_;
  ChannelPlan plan_;
  bool pdl_ = true;
  CachedWorkspace* current_ = nullptr;
  std::vector<FusedAllToAllParams> params_;  ///< per local rank, without tensors
  std::vector<bool> skip_;                   ///< fault injection: local ranks that launch nothing
  std::size_t ring_size_ = 0;
  /// Validated kernel parameters per (local rank i, ring slot k), at i * ring_size_ + k.
  std::vector<FusedAllToAllParams> call_params_;
  std::vector<FusedAllToAllLaunch> launches_;  ///< per local rank (empty for E = 0)
  std::uint64_t fresh_calls_ = 0;              ///< min_fresh_calls() of the current case
};

}  // namespace dcp::kernels
