#include "kernels/native_direct.hpp"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>

#include <fmt/format.h>

#include "core/cuda_check.hpp"
#include "core/error.hpp"
#include "kernels/direct_hang.hpp"
#include "kernels/direct_protocol.hpp"
#include "kernels/direct_workspace.hpp"
#include "kernels/fused_plan.hpp"
#include "kernels/impls.hpp"
#include "kernels/native_collective.hpp"
#include "kernels/workspace_lifecycle.hpp"

namespace dcp::kernels {

namespace {

bool same_geometry(const direct::Geometry& a, const direct::Geometry& b) {
  return a.cp_size == b.cp_size && a.max_blocks == b.max_blocks && a.region_bytes == b.region_bytes;
}

/// The staged launches in parts() order.
constexpr direct::StagedStep kSteps[direct::kStagedSteps] = {
    direct::StagedStep::kAdvance, direct::StagedStep::kWrite, direct::StagedStep::kSignal,
    direct::StagedStep::kWaitDeliver};

/// What every rank must agree on before the first call of a case (outside sim).
struct DirectPlanWire {
  std::int32_t ok = 0;
  std::int32_t ctas = 0;
  std::int32_t staged_ctas = 0;
  std::int32_t cp_size = 0;
  std::int64_t max_blocks = 0;
  std::int64_t region_bytes = 0;
  std::uint32_t block_entries = 0;
  std::uint32_t blocks = 0;
  friend bool operator==(const DirectPlanWire&, const DirectPlanWire&) = default;
};

/// The kernel plan of one rank for `c` run by `local_ranks` ranks of this process: the layout,
/// and (fused) the CTA plan or (staged) the CTAs of the write and wait launches. Queries the
/// device. `problem` is set when the case cannot run here.
struct KernelPlan {
  direct::Layout layout;
  fused::FusedPlan plan;
  int staged_ctas = 0;
  std::string problem;
};

KernelPlan plan_case(DirectScheme scheme, const ExchangeShape& shape, int local_ranks,
                     int max_ctas) {
  KernelPlan k;
  k.layout = direct::make_layout(shape);
  if (shape.entries == 0) return k;
  int per_sm = 0;
  int sms = 0;
  const int capacity = direct_resident_ctas(scheme == DirectScheme::kStaged, &per_sm, &sms);
  if (scheme == DirectScheme::kFused) {
    fused::PlanRequest req;
    req.transport = fused::Transport::kDirect;
    req.shape = shape;
    req.sm_count = sms;
    req.ctas_per_sm = per_sm;
    req.local_grids = local_ranks;
    req.warps_per_cta = kDirectWarps;
    req.block_entries = k.layout.block_entries;
    if (max_ctas > 0 && static_cast<std::int64_t>(max_ctas) * local_ranks < capacity) {
      req.sm_count = max_ctas * local_ranks;  // budget = sm_count x 1 / local_grids = max_ctas
      req.ctas_per_sm = 1;
    }
    fused::PlanOutcome out = fused::make_fused_plan(req);
    if (!out.plan) {
      k.problem = out.problem;
      return k;
    }
    k.plan = *out.plan;
    return k;
  }
  int budget = capacity / local_ranks;
  if (max_ctas > 0) budget = std::min(budget, max_ctas);
  if (budget < 1) {
    k.problem = fmt::format(
        "direct-staged: {} grids need at least one resident CTA each, the GPU holds {}; lower cp "
        "or use one GPU per rank",
        local_ranks, capacity);
    return k;
  }
  k.staged_ctas = direct::staged_ctas(direct::StagedStep::kWaitDeliver, k.layout, budget);
  return k;
}

}  // namespace

direct::Geometry direct_geometry_for(int cp, const DirectCapacity& capacity) {
  std::vector<ExchangeShape> mine;
  for (const ExchangeShape& s : capacity.cases) {
    if (s.cp_size == cp) mine.push_back(s);
  }
  if (mine.empty()) {
    mine.push_back(ExchangeShape{cp, kDefaultCapacityEntries, kDefaultCapacityHeadDim,
                                 kDefaultCapacityStatsDim, false});
  }
  return direct::geometry_for_sweep(mine);
}

NativeDirect::NativeDirect(const World* world, DirectScheme scheme, DirectOptions options)
    : world_(world), scheme_(scheme), options_(std::move(options)) {}

NativeDirect::~NativeDirect() {
  // Kernels may still be draining after a host-side timeout; they end on their own bounded
  // waits, and the workspace must outlive them.
  if (!cache_.empty()) DCP_CUDA_CHECK_NOEXCEPT(cudaDeviceSynchronize());
}

std::string NativeDirect::name() const {
  return std::string(scheme_ == DirectScheme::kFused ? kNativeDirectName : kDirectStagedName);
}

std::optional<std::string> NativeDirect::unsupported_reason(const Case& c) const {
  const std::string me = name();
  if (!c.workspace) return me + ": the case names no workspace kind (sim, ipc, fabric or auto)";
  const ExchangeShape shape = c.shape();
  if (const char* problem = direct::shape_problem(shape)) return fmt::format("{}: {}", me, problem);
  if (c.op == Op::kReduce && c.stats_dim != 1) {
    return fmt::format("{}: reduce moves one LSE per row (stats_dim 1), got {}", me, c.stats_dim);
  }
  const bool sim = *c.workspace == WorkspaceKind::kSim;
  if (sim && scheme_ == DirectScheme::kStaged && c.cp_size > 2) {
    // Known defect, seen on an H100 (2026-12-05): with three or more simulated ranks the four
    // launches per rank stalled after tens to hundreds of thousands of exact calls (one rank's
    // call never started while its peers waited for its flag; every rank's timeout fired). Not
    // understood yet; refused rather than left to hang the sweep (docs/perf/fused-direct.md).
    return fmt::format(
        "{}: sim mode with cp={} is refused (known stall with 3 or more simulated ranks on one "
        "GPU, under investigation); cp 1-2 in sim, or one GPU per rank",
        me, c.cp_size);
  }
  if (!sim) {
    if (!world_) return me + ": ipc/fabric workspaces need the MPI world";
    if (world_->size() != c.cp_size) {
      return fmt::format(
          "{}: workspace {} runs one process per rank, but cp={} and the job has {} ranks", me,
          to_string(*c.workspace), c.cp_size, world_->size());
    }
  }
  try {
    const direct::Geometry g = direct_geometry_for(c.cp_size, options_.capacity);
    if (auto why = direct::direct_fit_problem(shape, g)) return *why;
    const KernelPlan k = plan_case(scheme_, shape, sim ? c.cp_size : 1, options_.max_ctas);
    if (!k.problem.empty()) return k.problem;
  } catch (const ConfigError& e) {
    return std::string(e.what());
  } catch (const Error&) {
    return std::nullopt;  // no usable device here: setup() reports it
  }
  return std::nullopt;
}

NativeDirect::CachedWorkspace& NativeDirect::workspace_for(WorkspaceKind kind,
                                                           const direct::Geometry& g,
                                                           int local_ranks, double timeout_s) {
  return cached_workspace(cache_, "direct", world_, kind, g, local_ranks, timeout_s, same_geometry);
}

void NativeDirect::agree_plan(const DirectParams& p, bool ok) {
  DirectPlanWire mine;
  mine.ok = ok ? 1 : 0;
  mine.ctas = p.plan.ctas;
  mine.staged_ctas = p.staged_ctas;
  mine.cp_size = p.geometry.cp_size;
  mine.max_blocks = p.geometry.max_blocks;
  mine.region_bytes = p.geometry.region_bytes;
  mine.block_entries = p.layout.block_entries;
  mine.blocks = p.layout.blocks;
  const std::vector<DirectPlanWire> all = world_->allgather(mine, "direct: kernel plan agreement");
  if (!ok) return;  // the caller throws this rank's own message
  for (std::size_t r = 0; r < all.size(); ++r) {
    if (all[r].ok == 0) {
      throw EnvironmentError(
          fmt::format("{}: rank {} cannot run this case (see its message)", name(), r));
    }
    if (!(all[r] == mine)) {
      throw EnvironmentError(fmt::format(
          "{}: the ranks' kernel plans differ: rank {} has ctas={} staged_ctas={} blocks={} "
          "max_blocks={} region_bytes={}, rank {} has ctas={} staged_ctas={} blocks={} "
          "max_blocks={} region_bytes={}; run every rank on the same GPU model",
          name(), world_->rank(), mine.ctas, mine.staged_ctas, mine.blocks, mine.max_blocks,
          mine.region_bytes, r, all[r].ctas, all[r].staged_ctas, all[r].blocks, all[r].max_blocks,
          all[r].region_bytes));
    }
  }
}

void NativeDirect::setup(const ExchangeSetup& s) {
  ready_ = false;
  const std::string me = name();
  const Case& c = s.c;
  if (!c.workspace) throw ConfigError(me + ": the case names no workspace kind");
  const ExchangeShape shape = c.shape();
  if (const char* problem = direct::shape_problem(shape)) {
    throw ConfigError(fmt::format("{}: {}", me, problem));
  }
  const bool reduce = c.op == Op::kReduce;
  if (reduce && c.stats_dim != 1) {
    throw ConfigError(fmt::format("{}: reduce moves one LSE per row (stats_dim 1)", me));
  }
  const bool sim = *c.workspace == WorkspaceKind::kSim;
  if (sim && s.local_ranks != c.cp_size) {
    throw ConfigError(fmt::format("{}: sim runs all {} ranks in one process, got local_ranks={}",
                                  me, c.cp_size, s.local_ranks));
  }
  if (!sim) {
    if (!world_) throw ConfigError(me + ": ipc/fabric workspaces need the MPI world");
    if (s.local_ranks != 1 || world_->size() != c.cp_size) {
      throw ConfigError(fmt::format(
          "{}: workspace {} runs one rank per process with cp = job size; got cp={}, job size "
          "{}, local_ranks={}",
          me, to_string(*c.workspace), c.cp_size, world_->size(), s.local_ranks));
    }
  }
  const auto local = static_cast<std::size_t>(s.local_ranks);
  DCP_CHECK(s.streams.size() == local, "direct: one stream per local rank");
  DCP_CHECK(!s.ring.empty(), "direct: the ring has no buffer set");
  for (const BufferSet& set : s.ring)
    DCP_CHECK(set.ranks.size() == local, "direct: every ring set has one entry per local rank");
  if (!(s.timeout_s > 0)) throw ConfigError(me + ": timeout must be > 0 s");

  const direct::Geometry g = direct_geometry_for(c.cp_size, options_.capacity);
  std::optional<std::string> problem = direct::direct_fit_problem(shape, g);
  KernelPlan k;
  if (!problem) {
    k = plan_case(scheme_, shape, s.local_ranks, options_.max_ctas);
    if (!k.problem.empty()) problem = k.problem;
  }
  DirectParams base;
  base.geometry = g;
  base.layout = k.layout;
  base.plan = k.plan;
  base.staged_ctas = k.staged_ctas;
  base.reduce = reduce ? 1 : 0;
  base.fp16 = shape.fp16 ? 1 : 0;
  base.base = c.lse_base.value_or(LseBase::kE);
  const double ns = std::ceil(s.timeout_s * 1e9);
  base.timeout_ns = ns < 1 ? 1 : static_cast<std::uint64_t>(ns);
  // Every rank must launch the same plan; gathered before a local problem is thrown, so that no
  // rank is left waiting in the allgather.
  if (!sim) agree_plan(base, !problem.has_value());
  if (problem) throw ConfigError(*problem);

  CachedWorkspace& ws = workspace_for(*c.workspace, g, s.local_ranks, s.timeout_s);
  failed_ = false;
  failure_.clear();
  case_ = c;
  shape_ = shape;
  current_ = &ws;
  streams_ = s.streams;

  const std::vector<void*> segments = ws.workspace->segments();
  for (std::size_t r = 0; r < segments.size(); ++r)
    base.segments[r] = segments[r];
  skip_.assign(local, false);
  ring_size_ = s.ring.size();
  call_params_.clear();
  for (std::size_t i = 0; i < local; ++i) {
    const int rank = s.first_rank + static_cast<int>(i);
    if (s.inject && s.inject->applies_to(rank) && s.inject->kind == FaultKind::kSkipLaunch) {
      skip_[i] = true;
    }
    for (const BufferSet& set : s.ring) {
      DirectParams q = base;
      q.rank = rank;
      const RankBuffers& b = set.ranks[i];
      q.in_o = b.in_o;
      q.in_stats = b.in_stats;
      q.out_o = b.out_o;
      q.out_stats = b.out_stats;
      if (shape.entries > 0) {
        const std::string why = direct_params_problem(q, scheme_ == DirectScheme::kStaged);
        if (!why.empty()) throw ConfigError(fmt::format("{}: {}", me, why));
      }
      call_params_.push_back(q);
    }
  }
  ready_ = true;
}

void NativeDirect::launch(std::size_t slot, std::size_t part, bool all_parts) {
  if (!ready_) throw Error(name() + ": run() before setup()");
  if (failed_) {
    throw Error(fmt::format(
        "{}: refusing to run after a timeout ({}); the workspace is inconsistent until setup() "
        "resets it collectively",
        name(), failure_));
  }
  if (shape_.entries == 0) return;  // nothing to move: no kernel, no epoch advanced
  DCP_CHECK(slot < ring_size_, "direct: ring slot out of range");
  for (std::size_t i = 0; i < skip_.size(); ++i) {
    if (skip_[i]) continue;
    const DirectParams& p = call_params_[i * ring_size_ + slot];
    auto* stream = static_cast<cudaStream_t>(streams_[i]);
    if (scheme_ == DirectScheme::kFused) {
      launch_direct_fused(p, stream);
      continue;
    }
    for (std::size_t k = 0; k < direct::kStagedSteps; ++k) {
      if (all_parts || k == part) launch_direct_staged(kSteps[k], p, stream);
    }
  }
}

void NativeDirect::run(std::size_t slot) {
  launch(slot, 0, true);
}

std::vector<std::string> NativeDirect::parts() const {
  if (scheme_ == DirectScheme::kFused) return {};
  return {"advance", "write", "signal", case_.op == Op::kReduce ? "wait-merge" : "wait-copy"};
}

void NativeDirect::run_part(std::size_t slot, std::size_t part) {
  if (scheme_ == DirectScheme::kFused) {
    run(slot);
    return;
  }
  DCP_CHECK(part < direct::kStagedSteps, "direct-staged: part out of range");
  launch(slot, part, false);
}

void NativeDirect::check() {
  if (!current_ || call_params_.empty()) return;
  std::vector<direct::ErrorInfo> errors;
  for (std::size_t i = 0; i < skip_.size(); ++i) {
    const DirectParams& p = call_params_[i * ring_size_];
    std::uint64_t rec[direct::kErrorWords] = {};
    DCP_CUDA_CHECK(cudaMemcpy(rec, p.segments[p.rank], sizeof(rec), cudaMemcpyDeviceToHost));
    const direct::ErrorInfo e = direct::decode_error(rec);
    if (e.valid) errors.push_back(e);
  }
  if (errors.empty()) return;
  std::stable_sort(errors.begin(), errors.end(), [](const auto& a, const auto& b) {
    return (a.role == direct::ErrorRole::kAbort) < (b.role == direct::ErrorRole::kAbort);
  });
  const double timeout_s = static_cast<double>(call_params_.front().timeout_ns) / 1e9;
  std::string msg = name() + ": " + direct::describe_error(errors.front(), timeout_s);
  if (errors.size() > 1)
    msg += fmt::format(" (and {} more ranks reported errors)", errors.size() - 1);
  failed_ = true;
  failure_ = direct::describe_error(errors.front(), timeout_s);
  current_->needs_reset = true;
  HangReport report;
  try {
    report = hang_report(timeout_s);
  } catch (const Error& e) {
    msg += fmt::format("\n(no flag dump: {})", e.what());
    throw TimeoutError(msg);
  }
  msg += "\n" + to_text(report);
  throw HangError(msg, std::move(report));
}

HangReport NativeDirect::hang_report(double timeout_s) const {
  DCP_CHECK(current_ != nullptr && !call_params_.empty(), "direct: no workspace to dump");
  const direct::Geometry& g = current_->geometry;
  std::vector<direct::RankFlagWords> ranks;
  for (std::size_t i = 0; i < skip_.size(); ++i) {
    const DirectParams& p = call_params_[i * ring_size_];
    direct::RankFlagWords w;
    w.rank = p.rank;
    const auto* seg = static_cast<const std::byte*>(p.segments[p.rank]);
    w.header.resize(static_cast<std::size_t>(direct::kHeaderBytes / 8));
    DCP_CUDA_CHECK(cudaMemcpy(w.header.data(), seg, w.header.size() * sizeof(std::uint64_t),
                              cudaMemcpyDeviceToHost));
    w.flags.resize(static_cast<std::size_t>(g.flags_bytes() / direct::kFlagBytes));
    DCP_CUDA_CHECK(cudaMemcpy(w.flags.data(), seg + direct::kHeaderBytes,
                              w.flags.size() * sizeof(std::uint64_t), cudaMemcpyDeviceToHost));
    ranks.push_back(std::move(w));
  }
  const direct::FlagUse use =
      scheme_ == DirectScheme::kFused ? direct::FlagUse::kPerBlock : direct::FlagUse::kPerPair;
  return direct::decode_direct_hang(g, call_params_.front().layout, use, ranks, timeout_s);
}

void NativeDirect::teardown() {
  ready_ = false;
  call_params_.clear();
  skip_.clear();
  streams_.clear();
  ring_size_ = 0;
}

void NativeDirect::abort_inflight() noexcept {
  // Nothing to cancel: every device-side wait ends on its own timeout. The workspace state is
  // unknown, so refuse to run until the collective reset in setup().
  failed_ = true;
  if (failure_.empty()) failure_ = "the host gave up waiting for the exchange";
  if (current_) current_->needs_reset = true;
}

std::uint64_t NativeDirect::min_fresh_calls() const {
  return shape_.entries > 0 && ready_ ? 4 : 0;
}

std::size_t NativeDirect::workspace_bytes() const {
  return current_ ? static_cast<std::size_t>(current_->geometry.segment_bytes()) : 0;
}

const fabric::Workspace* NativeDirect::workspace() const {
  return current_ ? current_->workspace.get() : nullptr;
}

const DirectParams& NativeDirect::params(std::size_t i) const {
  return call_params_.at(i * ring_size_);
}

std::string NativeDirect::detail() const {
  if (!current_) return {};
  if (shape_.entries == 0) return "empty exchange: no launch";
  const DirectParams& p = call_params_.front();
  const direct::Geometry& g = current_->geometry;
  const std::string ctas = scheme_ == DirectScheme::kFused
                               ? fmt::format("ctas/rank={}", p.plan.ctas)
                               : fmt::format("ctas/launch={} launches=4", p.staged_ctas);
  return fmt::format("blocks={} entries/block={} {} ws={} (max E {} blocks, {} B/region)",
                     p.layout.blocks, p.layout.block_entries, ctas, g.segment_bytes(), g.max_blocks,
                     g.region_bytes);
}

}  // namespace dcp::kernels
