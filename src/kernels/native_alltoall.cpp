// Why one file of ~730 lines: the lifecycle of one strategy object (validation, plan agreement,
// path check, workspace, parameters per ring slot, launch, timeout forensics, reset) shares its
// private members; the protocol's pure parts already live apart (ll128_layout, native_collective,
// hang_dump, workspace_lifecycle).
#include "kernels/native_alltoall.hpp"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdint>

#include <fmt/format.h>

#include "core/cuda_check.hpp"
#include "core/device.hpp"
#include "core/error.hpp"
#include "core/hang_report.hpp"
#include "fabric/nvml.hpp"
#include "kernels/fused_alltoall.hpp"
#include "kernels/hang_dump.hpp"
#include "kernels/impls.hpp"
#include "kernels/ll128_reference.hpp"
#include "kernels/native_collective.hpp"
#include "kernels/workspace_lifecycle.hpp"

namespace dcp::kernels {

namespace {

bool same_geometry(const ll128::Geometry& a, const ll128::Geometry& b) {
  return a.cp_size == b.cp_size && a.max_channels == b.max_channels && a.depth == b.depth &&
         a.slot_lines == b.slot_lines;
}

/// Largest channel's stream geometry (channel 0 has ceil(E / C) entries).
ll128::StreamGeometry largest_stream(const ExchangeShape& s, int channels, int slot_lines) {
  return ll128::stream_geometry(s, channels, 0, slot_lines);
}

/// WarpMode::kAuto uses separate roles only up to this many rounds per warp ...
constexpr int kSplitMaxRounds = 2;
/// ... and this many CTAs of separate roles on the GPU (all local ranks).
constexpr int kSplitMaxCtas = 96;

}  // namespace

std::uint64_t calls_to_reuse_fifos(const ExchangeShape& shape, int channels,
                                   const ll128::Geometry& g, int passes) {
  if (shape.entries <= 0 || channels < 1 || passes < 1) return 0;
  std::uint32_t fewest = UINT32_MAX;
  for (int ch = 0; ch < channels; ++ch)
    fewest = std::min(fewest, ll128::stream_geometry(shape, channels, ch, g.slot_lines).slots);
  if (fewest == 0) return 0;  // a channel without lines carries nothing between calls
  const auto needed = static_cast<std::uint64_t>(passes) * static_cast<std::uint64_t>(g.depth);
  return (needed + fewest - 1) / fewest;
}

std::string uninitialised_segment_message(int segment_rank, int peer, int channel,
                                          std::uint64_t word, int seen_by) {
  return fmt::format(
      "native: the workspace segment of rank {} is not initialised: its counter record for "
      "peer {} channel {} reads 0x{:x} instead of 0 (seen by rank {}). Every rank must zero "
      "its own segment, synchronise, and pass a barrier before the first exchange "
      "(dcp-a2a-spec.md §2.5-2.6); a rank that skips it breaks every peer's sequence numbers",
      segment_rank, peer, channel, word, seen_by);
}

std::string row_order_message(int rank, std::string_view found, int row) {
  return fmt::format(
      "native: workspace rows are not in rank order: rank {} finds {} in row {} of its peer "
      "table, expected rank {}'s. Row r must map rank r's segment in every process; a "
      "permuted peer table, or a communicator whose rank order differs from the workspace's "
      "row order (dcp-a2a-spec.md §8.2), sends every line to the wrong peer",
      rank, found, row, row);
}

NativeAllToAll::NativeAllToAll(const World* world, NativeOptions options)
    : world_(world), options_(options) {}

NativeAllToAll::~NativeAllToAll() {
  // Kernels may still be draining after a host-side timeout; they end on their own bounded
  // waits, and the workspace must outlive them.
  if (!cache_.empty()) DCP_CUDA_CHECK_NOEXCEPT(cudaDeviceSynchronize());
}

std::string NativeAllToAll::name() const {
  return std::string(kNativeName);
}

ll128::Geometry NativeAllToAll::geometry_for(int cp) const {
  ll128::Geometry g = ll128::default_geometry(cp);
  if (options_.geometry) {
    g = *options_.geometry;
    g.cp_size = cp;
  }
  return g;
}

ChannelPlan NativeAllToAll::plan(const Case& c, int local_ranks) const {
  ChannelPlan p;
  const ExchangeShape shape = c.shape();
  if (const char* problem = ll128::shape_problem(shape)) {
    p.problem = problem;
    return p;
  }
  if (shape.entries == 0) return p;
  const ll128::Geometry g = geometry_for(c.cp_size);
  int limit = g.max_channels;
  if (options_.max_channels > 0) limit = std::min(limit, options_.max_channels);
  p.channels = ll128::channel_count(shape, limit, options_.target_lines_per_warp);
  if (ll128::pair_stream_words(shape) > ll128::kMaxStreamWords) {
    p.problem = fmt::format(
        "batch {} x (head_dim {} + stats_dim {}) is too large: one pair's stream would exceed "
        "2^31 words of 8 bytes",
        c.batch, c.head_dim, c.stats_dim);
    return p;
  }
  // Every CTA of every local grid may spin on the others, so all must be resident at once. With
  // PDL the next call's CTAs can be resident (waiting in griddepcontrol.wait) too: count twice.
  // The capacity depends on the instantiation (registers), which depends on the channels.
  const int factor = local_ranks * (c.pdl.value_or(true) ? 2 : 1);
  const auto slot_lines = static_cast<std::uint32_t>(g.slot_lines);
  auto rounds_for = [&](int channels) {
    return fused_alltoall_rounds(
        std::min(largest_stream(shape, channels, g.slot_lines).lines, slot_lines));
  };
  auto capacity = [&](int channels) {
    auto& cached = resident_capacity_[static_cast<std::size_t>(rounds_for(channels))];
    if (cached < 0) cached = fused_alltoall_resident_ctas(rounds_for(channels));
    return cached;
  };
  auto needed = [&](int channels, bool single) {
    return factor * fused_alltoall_ctas(c.cp_size, channels, single);
  };
  auto single_allowed = [&](int channels) {
    return options_.warps != WarpMode::kSplit &&
           ll128::single_warp_allowed(largest_stream(shape, channels, g.slot_lines).slots, g.depth);
  };
  // Which warps (measured on an H200, docs/perf/native-speed.md): a sender and a receiver warp
  // per (peer, channel) are faster for small grids of short streams (cp=2, B=1: 1.73 against
  // 1.81 us), one warp doing both is faster once a warp has more lines or the GPU more CTAs
  // (cp=2, B=128, D=512: 2.48 against 2.64 us), and it needs half the CTAs, so it also wins
  // wherever separate roles would have to give up channels to stay co-resident.
  auto single = [&](int channels) {
    if (!single_allowed(channels)) return false;
    if (options_.warps == WarpMode::kSingle) return true;
    const int split_ctas = local_ranks * fused_alltoall_ctas(c.cp_size, channels, false);
    return rounds_for(channels) > kSplitMaxRounds || split_ctas > kSplitMaxCtas ||
           needed(channels, false) > capacity(channels);
  };
  while (p.channels > 1 && needed(p.channels, single(p.channels)) > capacity(p.channels)) {
    --p.channels;
    p.capped = true;
  }
  p.resident_capacity = capacity(p.channels);
  p.single_warp = single(p.channels);
  p.ctas_per_rank = fused_alltoall_ctas(c.cp_size, p.channels, p.single_warp);
  p.resident_needed = needed(p.channels, p.single_warp);
  if (p.resident_needed > p.resident_capacity) {
    const bool sim = c.workspace == WorkspaceKind::kSim;
    p.problem = fmt::format(
        "{}: cp={} at batch {} needs {} resident CTAs{}, the GPU holds {}; lower cp or batch{}",
        sim ? "sim" : "native", c.cp_size, c.batch, p.resident_needed,
        c.pdl.value_or(true) ? " (counted twice with PDL)" : "", p.resident_capacity,
        sim ? ", or use real GPUs" : "");
  }
  return p;
}

std::optional<std::string> NativeAllToAll::unsupported_reason(const Case& c) const {
  if (!c.workspace) return "native: the case names no workspace kind (sim, ipc, fabric or auto)";
  if (const char* problem = ll128::shape_problem(c.shape())) {
    return fmt::format("native: {}", problem);
  }
  const bool sim = *c.workspace == WorkspaceKind::kSim;
  if (!sim) {
    if (!world_) return "native: ipc/fabric workspaces need the MPI world";
    if (world_->size() != c.cp_size) {
      return fmt::format(
          "native: workspace {} runs one process per rank, but cp={} and the job "
          "has {} ranks",
          to_string(*c.workspace), c.cp_size, world_->size());
    }
  }
  try {
    ChannelPlan p = plan(c, sim ? c.cp_size : 1);
    if (!p.problem.empty()) return p.problem;
  } catch (const Error&) {
    return std::nullopt;  // no usable device here: setup() reports it
  }
  return std::nullopt;
}

NativeAllToAll::CachedWorkspace& NativeAllToAll::workspace_for(WorkspaceKind kind,
                                                               const ll128::Geometry& g,
                                                               int local_ranks, double timeout_s) {
  return cached_workspace(cache_, "native", world_, kind, g, local_ranks, timeout_s, same_geometry);
}

void NativeAllToAll::setup(const ExchangeSetup& s) {
  ready_ = false;
  const Case& c = s.c;
  if (!c.workspace) throw ConfigError("native: the case names no workspace kind");
  const ExchangeShape shape = c.shape();
  if (const char* problem = ll128::shape_problem(shape)) {
    throw ConfigError(fmt::format("native: {}", problem));
  }
  const bool sim = *c.workspace == WorkspaceKind::kSim;
  if (sim && s.local_ranks != c.cp_size) {
    throw ConfigError(
        fmt::format("native: sim runs all {} ranks in one process, got local_ranks={}", c.cp_size,
                    s.local_ranks));
  }
  if (!sim) {
    if (!world_) throw ConfigError("native: ipc/fabric workspaces need the MPI world");
    if (s.local_ranks != 1 || world_->size() != c.cp_size) {
      throw ConfigError(fmt::format(
          "native: workspace {} runs one rank per process with cp = job size; got cp={}, job size "
          "{}, local_ranks={}",
          to_string(*c.workspace), c.cp_size, world_->size(), s.local_ranks));
    }
    // LL128 only over validated paths (issue 13.5): every rank gathers the same table once
    // (collective), then refuses the same way, naming the first pair and its path, unless the
    // user overrode it (--allow-unvalidated-path, recorded in the report).
    if (!paths_) {
      int device = 0;
      DCP_CUDA_CHECK(cudaGetDevice(&device));
      const RankInfo me = describe_device(device);
      const fabric::Nvml nvml;
      paths_ = fabric::gather_peer_paths(
          *world_, fabric::make_identity(nvml, world_->host(), me.gpu_uuid, me.pci_bus_id));
    }
    if (auto why = fabric::ll128_path_problem(*paths_, s.allow_unvalidated_path)) {
      throw EnvironmentError("native: " + *why);
    }
  }
  const auto local = static_cast<std::size_t>(s.local_ranks);
  DCP_CHECK(s.streams.size() == local, "native: one stream per local rank");
  DCP_CHECK(!s.ring.empty(), "native: the ring has no buffer set");
  for (const BufferSet& set : s.ring) {
    DCP_CHECK(set.ranks.size() == local, "native: every ring set has one entry per local rank");
  }
  if (!(s.timeout_s > 0)) throw ConfigError("native: timeout must be > 0 s");

  const ChannelPlan p = plan(c, s.local_ranks);
  const ll128::Geometry g = geometry_for(c.cp_size);
  const char* geometry_problem = ll128::geometry_problem(g);
  // Every rank must launch the same plan (native_collective.hpp). Gathered before a local
  // problem is thrown, so that no rank is left waiting in the allgather.
  if (!sim) agree_plan(p, g, geometry_problem == nullptr);
  if (!p.problem.empty()) throw ConfigError(p.problem);
  if (geometry_problem) throw ConfigError(fmt::format("native: geometry: {}", geometry_problem));

  CachedWorkspace& ws = workspace_for(*c.workspace, g, s.local_ranks, s.timeout_s);
  failed_ = false;
  failure_.clear();

  case_ = c;
  shape_ = shape;
  plan_ = p;
  pdl_ = c.pdl.value_or(true);
  current_ = &ws;

  FusedAllToAllParams base;
  base.shape = shape;
  base.geometry = g;
  base.channels = std::max(p.channels, 1);
  base.plan = ll128::make_kernel_plan(shape, base.channels);
  base.single_warp = p.single_warp ? 1 : 0;
  const double ns = std::ceil(s.timeout_s * 1e9);
  base.timeout_ns = ns < 1 ? 1 : static_cast<std::uint64_t>(ns);
  const std::vector<void*> segments = ws.workspace->segments();
  for (std::size_t r = 0; r < segments.size(); ++r)
    base.segments[r] = segments[r];

  params_.assign(local, base);
  skip_.assign(local, false);
  for (std::size_t i = 0; i < local; ++i) {
    const int rank = s.first_rank + static_cast<int>(i);
    params_[i].rank = rank;
    if (s.inject && s.inject->applies_to(rank)) {
      if (s.inject->kind == FaultKind::kSkipLaunch) skip_[i] = true;
      if (s.inject->kind == FaultKind::kCorruptLine)
        params_[i].corrupt_peer = (rank + 1) % c.cp_size;
      if (s.inject->kind == FaultKind::kRowOrder && c.cp_size > 1) {
        // Testing aid: this rank's peer table has its own row and the next one swapped.
        std::swap(params_[i].segments[rank], params_[i].segments[(rank + 1) % c.cp_size]);
      }
      if (s.inject->kind == FaultKind::kSkipInit && !ws.checked) {
        // Testing aid: this rank's segment looks as if it had never been initialised.
        DCP_CUDA_CHECK(cudaMemset(segments[static_cast<std::size_t>(rank)], 0xA5,
                                  static_cast<std::size_t>(g.fifos_offset())));
      }
    }
  }
  fresh_calls_ = calls_to_reuse_fifos(shape, base.channels, g, 2);

  // Every call's parameters are validated here, once: run() only launches.
  ring_size_ = s.ring.size();
  call_params_.clear();
  launches_.clear();
  if (shape.entries > 0) {
    for (std::size_t i = 0; i < local; ++i) {
      for (const BufferSet& set : s.ring) {
        FusedAllToAllParams q = params_[i];
        const RankBuffers& b = set.ranks[i];
        q.in_o = b.in_o;
        q.in_stats = b.in_stats;
        q.out_o = b.out_o;
        q.out_stats = b.out_stats;
        call_params_.push_back(q);
      }
      launches_.emplace_back(call_params_[i * ring_size_], s.streams[i], pdl_);
      for (std::size_t k = 1; k < ring_size_; ++k) {
        const std::string problem = fused_alltoall_problem(call_params_[i * ring_size_ + k]);
        if (!problem.empty()) throw ConfigError("native exchange: " + problem);
      }
    }
  }
  if (!ws.checked) {
    check_initialised(ws, s.first_rank);
    ws.checked = true;
  }
  check_row_order(s.first_rank);
  ready_ = true;
}

void NativeAllToAll::agree_plan(const ChannelPlan& p, const ll128::Geometry& g, bool geometry_ok) {
  PlanWire mine;
  mine.ok = p.problem.empty() && geometry_ok ? 1 : 0;
  mine.channels = p.channels;
  mine.single_warp = p.single_warp ? 1 : 0;
  mine.cp_size = g.cp_size;
  mine.max_channels = g.max_channels;
  mine.depth = g.depth;
  mine.slot_lines = g.slot_lines;
  const std::vector<PlanWire> all = world_->allgather(mine, "native: kernel plan agreement");
  if (mine.ok == 0) return;  // the caller throws this rank's own message
  if (auto why = plan_disagreement(all)) throw EnvironmentError(*why);
}

void NativeAllToAll::check_initialised(const CachedWorkspace& ws, int first_rank) {
  DCP_CUDA_CHECK(cudaDeviceSynchronize());
  const bool sim = ws.kind == WorkspaceKind::kSim;
  if (!sim) world_->barrier("native: workspace initialised");
  const ll128::Geometry& g = ws.geometry;
  const auto bytes = static_cast<std::size_t>(g.fifos_offset() - ll128::kHeaderBytes);
  std::vector<std::uint64_t> words(bytes / sizeof(std::uint64_t));
  std::string problem;
  for (int r = 0; r < g.cp_size && problem.empty(); ++r) {
    const auto* counters =
        static_cast<const std::byte*>(ws.workspace->segment(r)) + ll128::kHeaderBytes;
    DCP_CUDA_CHECK(cudaMemcpy(words.data(), counters, bytes, cudaMemcpyDeviceToHost));
    for (std::size_t k = 0; k < words.size(); ++k) {
      if (words[k] == 0) continue;
      const auto record =
          static_cast<std::int64_t>(k * sizeof(std::uint64_t)) / ll128::kCounterRecordBytes;
      problem = uninitialised_segment_message(r, static_cast<int>(record / g.max_channels),
                                              static_cast<int>(record % g.max_channels), words[k],
                                              first_rank);
      break;
    }
  }
  const bool bad = sim ? !problem.empty() : world_->any(!problem.empty(), "native: init check");
  if (bad) {
    throw EnvironmentError(problem.empty()
                               ? std::string("native: another rank found a workspace segment that "
                                             "was not initialised (see its message)")
                               : problem);
  }
}

void NativeAllToAll::check_row_order(int first_rank) {
  const std::uint64_t nonce = ++setups_;
  const int cp = case_.cp_size;
  // Each local rank signs the row its own table calls its own.
  for (const auto& p : params_) {
    const std::uint64_t sig[2] = {ll128::kSignatureMagic ^ nonce,
                                  static_cast<std::uint64_t>(p.rank)};
    DCP_CUDA_CHECK(cudaMemcpy(static_cast<std::byte*>(p.segments[p.rank]) + ll128::kSignatureOffset,
                              sig, sizeof(sig), cudaMemcpyHostToDevice));
  }
  const bool sim = current_->kind == WorkspaceKind::kSim;
  if (!sim) world_->barrier("native: workspace rows signed");
  std::string problem;
  for (const auto& p : params_) {
    for (int r = 0; r < cp && problem.empty(); ++r) {
      std::uint64_t sig[2] = {0, 0};
      DCP_CUDA_CHECK(
          cudaMemcpy(sig, static_cast<const std::byte*>(p.segments[r]) + ll128::kSignatureOffset,
                     sizeof(sig), cudaMemcpyDeviceToHost));
      if (sig[0] == (ll128::kSignatureMagic ^ nonce) && sig[1] == static_cast<std::uint64_t>(r))
        continue;
      const std::string found = sig[0] == (ll128::kSignatureMagic ^ nonce)
                                    ? fmt::format("rank {}'s signature", sig[1])
                                    : std::string("no current signature");
      problem = row_order_message(p.rank, found, r);
    }
  }
  const bool bad =
      sim ? !problem.empty() : world_->any(!problem.empty(), "native: row-order check");
  (void)first_rank;
  if (bad) {
    throw EnvironmentError(problem.empty() ? std::string("native: another rank found workspace "
                                                         "rows out of rank order (see its message)")
                                           : problem);
  }
}

void NativeAllToAll::run(std::size_t slot) {
  if (!ready_) throw Error("native: run() before setup()");
  if (failed_) {
    throw Error(
        fmt::format("native: refusing to run after a timeout ({}); the workspace is "
                    "inconsistent until setup() resets it collectively",
                    failure_));
  }
  if (shape_.entries == 0) return;  // nothing to move: no kernel, no counters touched
  assert(slot < ring_size_);
  for (std::size_t i = 0; i < launches_.size(); ++i) {
    if (!skip_[i]) launches_[i](call_params_[i * ring_size_ + slot]);
  }
}

void NativeAllToAll::check() {
  if (!current_) return;
  std::vector<ll128::ErrorInfo> errors;
  for (const FusedAllToAllParams& p : params_) {
    std::uint64_t rec[ll128::kErrorWords] = {};
    DCP_CUDA_CHECK(cudaMemcpy(rec, p.segments[p.rank], sizeof(rec), cudaMemcpyDeviceToHost));
    const ll128::ErrorInfo e = ll128::decode_error(rec);
    if (e.valid) errors.push_back(e);
  }
  if (errors.empty()) return;
  // Report a root cause (a wait that expired) before the warps that merely stopped because of it.
  std::stable_sort(errors.begin(), errors.end(), [](const auto& a, const auto& b) {
    return (a.role == ll128::ErrorRole::kAbort) < (b.role == ll128::ErrorRole::kAbort);
  });
  const double timeout_s = static_cast<double>(params_.front().timeout_ns) / 1e9;
  std::string msg = ll128::describe_error(errors.front(), timeout_s);
  if (errors.size() > 1)
    msg += fmt::format(" (and {} more ranks reported errors)", errors.size() - 1);
  failed_ = true;
  failure_ = ll128::describe_error(errors.front(), timeout_s);
  current_->needs_reset = true;
  // Hang forensics: the state of every FIFO of the local ranks, read now that the streams are
  // idle (the caller synchronised them). A failure to read it must not hide the timeout.
  HangReport report;
  try {
    report = hang_report(timeout_s);
  } catch (const Error& e) {
    msg += fmt::format("\n(no FIFO dump: {})", e.what());
    throw TimeoutError(msg);
  }
  msg += "\n" + to_text(report);
  throw HangError(msg, std::move(report));
}

HangReport NativeAllToAll::hang_report(double timeout_s) const {
  DCP_CHECK(current_ != nullptr, "native: no workspace to dump");
  const ll128::Geometry& g = current_->geometry;
  const fabric::Workspace& ws = *current_->workspace;
  std::vector<ll128::RankWords> ranks;
  for (const FusedAllToAllParams& p : params_) {
    ll128::RankWords w;
    w.rank = p.rank;
    const auto* seg = static_cast<const std::byte*>(ws.segment(p.rank));
    w.header.resize(static_cast<std::size_t>(g.fifos_offset() / ll128::kWordBytes));
    DCP_CUDA_CHECK(cudaMemcpy(w.header.data(), seg, w.header.size() * sizeof(std::uint64_t),
                              cudaMemcpyDeviceToHost));
    // The flag word of line 0 of every slot: one strided copy (slots of consecutive FIFOs are
    // adjacent).
    w.slot_flags.resize(static_cast<std::size_t>(ll128::slot_flag_count(g)));
    DCP_CUDA_CHECK(cudaMemcpy2D(w.slot_flags.data(), sizeof(std::uint64_t),
                                seg + ll128::slot_flags_offset(g, kNativeLayout),
                                static_cast<std::size_t>(g.slot_bytes()), sizeof(std::uint64_t),
                                w.slot_flags.size(), cudaMemcpyDeviceToHost));
    // This rank's receiver progress is the credit it published into each peer's segment.
    w.peer_credit.resize(static_cast<std::size_t>(g.cp_size) *
                         static_cast<std::size_t>(g.max_channels));
    for (int peer = 0; peer < g.cp_size; ++peer) {
      const auto* peer_seg = static_cast<const std::byte*>(ws.segment(peer));
      DCP_CUDA_CHECK(
          cudaMemcpy2D(w.peer_credit.data() + static_cast<std::size_t>(peer) *
                                                  static_cast<std::size_t>(g.max_channels),
                       sizeof(std::uint64_t), peer_seg + ll128::peer_credit_offset(g, p.rank),
                       static_cast<std::size_t>(ll128::kCounterRecordBytes), sizeof(std::uint64_t),
                       static_cast<std::size_t>(g.max_channels), cudaMemcpyDeviceToHost));
    }
    ranks.push_back(std::move(w));
  }
  return ll128::decode_hang(g, ranks, timeout_s);
}

void NativeAllToAll::teardown() {
  ready_ = false;
  params_.clear();
  skip_.clear();
  call_params_.clear();
  launches_.clear();
  ring_size_ = 0;
  fresh_calls_ = 0;
}

void NativeAllToAll::abort_inflight() noexcept {
  // Nothing to cancel: every device-side wait ends on its own timeout. The workspace state is
  // unknown, so refuse to run until the collective reset in setup().
  failed_ = true;
  if (failure_.empty()) failure_ = "the host gave up waiting for the exchange";
  if (current_) current_->needs_reset = true;
}

std::size_t NativeAllToAll::workspace_bytes() const {
  return current_ ? static_cast<std::size_t>(current_->geometry.segment_bytes()) : 0;
}

const fabric::Workspace* NativeAllToAll::workspace() const {
  return current_ ? current_->workspace.get() : nullptr;
}

std::string NativeAllToAll::detail() const {
  if (!current_) return {};
  if (shape_.entries == 0) return "empty exchange: no launch";
  const ll128::Geometry& g = current_->geometry;
  const std::int64_t lines = ll128::pair_stream_lines(shape_);
  const auto largest = largest_stream(shape_, plan_.channels, g.slot_lines);
  const std::uint32_t slots = largest.slots;
  const auto slot_lines = static_cast<std::uint32_t>(g.slot_lines);
  return fmt::format(
      "channels={}{} lines/peer={} slots/call={} rounds={} warps={} ctas/rank={} ws={}",
      plan_.channels, plan_.capped ? " (capped for co-residency)" : "", lines, slots,
      fused_alltoall_rounds(std::min(largest.lines, slot_lines)),
      plan_.single_warp ? "single" : "split", plan_.ctas_per_rank, g.segment_bytes());
}

}  // namespace dcp::kernels
