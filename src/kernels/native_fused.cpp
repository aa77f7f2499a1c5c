#include "kernels/native_fused.hpp"

#include <algorithm>
#include <cassert>

#include <fmt/format.h>

#include "core/error.hpp"
#include "kernels/fused_reduce_layout.hpp"
#include "kernels/impls.hpp"

namespace dcp::kernels {

namespace {

std::string reduce_problem(const Case& c) {
  if (c.op != Op::kReduce) return "native-fused: runs --op reduce only (exchange and merge)";
  if (c.stats_dim != 1) {
    return fmt::format(
        "native-fused: op reduce moves one LSE per row (stats_dim 1), got stats_dim={}",
        c.stats_dim);
  }
  if (!c.lse_base) return "native-fused: op reduce needs an LSE base (accepted: e|2)";
  if (c.head_dim % fused::kMergeVector != 0) {
    return fmt::format("native-fused: head_dim must be a multiple of {}, got {}",
                       fused::kMergeVector, c.head_dim);
  }
  return {};
}

}  // namespace

NativeFused::NativeFused(const World* world, NativeOptions options)
    : exchange_(world, options), options_(options) {}

std::string NativeFused::name() const {
  return std::string(kNativeFusedName);
}

fused::PlanOutcome NativeFused::plan(const Case& c, int local_ranks) const {
  const FusedReduceCapacity cap = fused_reduce_capacity();
  ll128::Geometry g = ll128::default_geometry(c.cp_size);
  if (options_.geometry) {
    g = *options_.geometry;
    g.cp_size = c.cp_size;
  }
  fused::PlanRequest r;
  r.transport = fused::Transport::kLl128;
  r.shape = c.shape();
  r.sm_count = cap.sm_count;
  r.ctas_per_sm = std::max(cap.ctas_per_sm, 0);
  r.local_grids = local_ranks * (c.pdl.value_or(true) ? 2 : 1);
  r.warps_per_cta = kFusedReduceWarps;
  r.stage_rows = true;
  r.smem_limit_bytes = kFusedReduceStageLimit;
  r.max_channels =
      options_.max_channels > 0 ? std::min(options_.max_channels, g.max_channels) : g.max_channels;
  r.fifo_lines = g.depth * g.slot_lines;
  r.target_lines_per_warp = options_.target_lines_per_warp;
  fused::PlanOutcome out = fused::make_fused_plan(r);
  if (out.plan && out.plan->ctas > 0) {
    // The staging plus the merge's scales of the largest CTA must fit the budget.
    const fused::StreamShape longest = fused::ll128_stream(*out.plan, 0);
    const auto bytes = fused::stage_layout(c.cp_size, longest.entries, out.plan->o_row_words).bytes;
    if (bytes > static_cast<std::uint32_t>(kFusedReduceSmemBudget)) {
      out.problem = fmt::format(
          "native-fused: cp={} E={} D={} needs {} bytes of shared memory per CTA, the budget is "
          "{}; use fewer tokens or the direct protocol",
          c.cp_size, c.batch, c.head_dim, bytes, kFusedReduceSmemBudget);
      out.plan.reset();
    }
  }
  return out;
}

std::optional<std::string> NativeFused::unsupported_reason(const Case& c) const {
  if (std::string p = reduce_problem(c); !p.empty()) return p;
  if (auto why = exchange_.unsupported_reason(c)) return why;
  try {
    const bool sim = c.workspace && *c.workspace == WorkspaceKind::kSim;
    const fused::PlanOutcome p = plan(c, sim ? c.cp_size : 1);
    if (!p.plan) return p.problem;
  } catch (const Error&) {
    return std::nullopt;  // no usable device here: setup() reports it
  }
  return std::nullopt;
}

void NativeFused::setup(const ExchangeSetup& s) {
  ready_ = false;
  if (std::string p = reduce_problem(s.c); !p.empty()) throw ConfigError(p);
  const fused::PlanOutcome out = plan(s.c, s.local_ranks);
  if (!out.plan) throw ConfigError(out.problem);
  // The workspace, its checks and the per-rank parameters (never launched). After a timeout
  // this performs the collective reset.
  exchange_.setup(s);
  failed_ = false;
  plan_ = *out.plan;
  const ll128::Geometry g = exchange_.params(0).geometry;
  const auto local = static_cast<std::size_t>(s.local_ranks);
  ring_size_ = s.ring.size();
  call_params_.clear();
  launches_.clear();
  skip_.assign(local, false);
  fresh_calls_ = 0;
  if (plan_.ctas > 0) {
    std::uint32_t fewest = UINT32_MAX;
    for (int c = 0; c < plan_.ctas; ++c) {
      fewest =
          std::min(fewest, fused::stream_slots(fused::ll128_stream(plan_, c).lines, g.slot_lines));
    }
    fresh_calls_ = (2 * static_cast<std::uint64_t>(g.depth) + fewest - 1) / fewest;
    const fused::StreamShape longest = fused::ll128_stream(plan_, 0);
    for (std::size_t i = 0; i < local; ++i) {
      const int rank = s.first_rank + static_cast<int>(i);
      if (s.inject && s.inject->applies_to(rank) && s.inject->kind == FaultKind::kSkipLaunch)
        skip_[i] = true;
      for (const BufferSet& set : s.ring) {
        FusedReduceParams p;
        p.x = exchange_.params(i);
        const RankBuffers& b = set.ranks[i];
        p.x.in_o = b.in_o;
        p.x.in_stats = b.in_stats;
        p.x.out_o = b.out_o;
        p.x.out_stats = b.out_stats;
        p.plan = plan_;
        p.o_div = ll128::FastDivU32::make(plan_.o_row_words);
        p.smem_bytes = fused::stage_layout(s.c.cp_size, longest.entries, plan_.o_row_words).bytes;
        p.base = *s.c.lse_base;
        if (const std::string why = fused_reduce_problem(p); !why.empty())
          throw ConfigError("native-fused: " + why);
        call_params_.push_back(p);
      }
      launches_.emplace_back(call_params_[i * ring_size_], s.streams[i], s.c.pdl.value_or(true));
    }
  }
  ready_ = true;
}

const FusedReduceParams& NativeFused::params(std::size_t i) const {
  return call_params_.at(i * ring_size_);
}

void NativeFused::check() {
  try {
    exchange_.check();
  } catch (const Error&) {
    failed_ = true;
    throw;
  }
}

void NativeFused::run(std::size_t slot) {
  if (!ready_) throw Error("native-fused: run() before setup()");
  if (failed_) {
    throw Error(
        "native-fused: refusing to run after a timeout; the workspace is inconsistent until "
        "setup() resets it collectively");
  }
  assert(slot < ring_size_ || launches_.empty());
  for (std::size_t i = 0; i < launches_.size(); ++i) {
    if (!skip_[i]) launches_[i](call_params_[i * ring_size_ + slot]);
  }
}

void NativeFused::teardown() {
  ready_ = false;
  exchange_.teardown();
  call_params_.clear();
  launches_.clear();
  skip_.clear();
  ring_size_ = 0;
  fresh_calls_ = 0;
}

std::string NativeFused::detail() const {
  if (!ready_) return {};
  if (plan_.ctas == 0) return "empty reduce: no launch";
  const fused::StreamShape longest = fused::ll128_stream(plan_, 0);
  return fmt::format("one launch: ctas={} entries/cta<={} lines/stream<={} smem={} warps={} ws={}",
                     plan_.ctas, longest.entries, longest.lines,
                     fused::stage_layout(plan_.cp_size, longest.entries, plan_.o_row_words).bytes,
                     plan_.warps_per_cta, exchange_.workspace_bytes());
}

}  // namespace dcp::kernels
