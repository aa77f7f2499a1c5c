#include "core/resolve.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "core/error.hpp"
#include "core/models.hpp"

namespace dcp {

namespace {

/// Tensors of one rank's block: in_o, in_stats, out_o, out_stats.
constexpr std::uint64_t kTensorsPerBlock = 4;
/// Alignment of each tensor inside a block (bench/buffer_ring.hpp lays them out so).
constexpr std::uint64_t kTensorAlign = 256;

/// a * b, or nullopt on overflow.
std::optional<std::uint64_t> mul(std::uint64_t a, std::uint64_t b) {
  std::uint64_t out = 0;
  if (__builtin_mul_overflow(a, b, &out)) return std::nullopt;
  return out;
}

std::optional<std::uint64_t> align_up(std::optional<std::uint64_t> v) {
  if (!v || *v > UINT64_MAX - (kTensorAlign - 1)) return std::nullopt;
  return (*v + kTensorAlign - 1) / kTensorAlign * kTensorAlign;
}

bool all_sim(const SweepAxes& a) {
  return !a.workspace.empty() &&
         std::all_of(a.workspace.begin(), a.workspace.end(),
                     [](WorkspaceKind w) { return w == WorkspaceKind::kSim; });
}

/// An implementation named in the sweep must implement some op of it (in each block it is
/// expanded only for the ops it implements, so one spec can hold an exchange block and a reduce
/// block with one impl list); an unknown name is a ConfigError naming `impl`.
void check_impls(const std::vector<SweepAxes*>& blocks, const ImplCatalog& catalog) {
  std::vector<Op> ops;
  for (const SweepAxes* a : blocks) {
    for (Op op : a->op) {
      if (std::find(ops.begin(), ops.end(), op) == ops.end()) ops.push_back(op);
    }
  }
  auto implements_one = [&](const ImplInfo& r) {
    return std::any_of(ops.begin(), ops.end(), [&](Op op) { return r.ops.contains(op); });
  };
  for (const SweepAxes* a : blocks) {
    for (const auto& name : a->impl) {
      if (implements_one(catalog.at(name))) continue;
      std::string accepted;
      for (const ImplInfo& r : catalog.rows()) {
        if (!implements_one(r)) continue;
        if (!accepted.empty()) accepted += '|';
        accepted += r.name;
      }
      std::string spelled;
      for (Op op : ops) {
        if (!spelled.empty()) spelled += ',';
        spelled += to_string(op);
      }
      throw ConfigError(
          fmt::format("impl: '{}' does not implement --op {}; accepted: {}", name, spelled,
                      accepted.empty() ? std::string("none in this build") : accepted));
    }
  }
}

void check_inject(const MeasureOptions& m, const SweepAxes& a, int world_size) {
  if (!m.inject || !m.inject->rank) return;
  const int rank = *m.inject->rank;
  const bool per_process =
      m.inject->kind == FaultKind::kKill || m.inject->kind == FaultKind::kShapeMismatch;
  if (per_process || !all_sim(a)) {
    if (rank >= world_size) {
      throw ConfigError(
          fmt::format("inject: rank {} is outside this job of {} rank{}; accepted: a rank in 0..{}",
                      rank, world_size, world_size == 1 ? "" : "s", world_size - 1));
    }
    return;
  }
  const int largest_cp = *std::max_element(a.cp_size.begin(), a.cp_size.end());
  if (rank >= largest_cp) {
    throw ConfigError(fmt::format(
        "inject: rank {} is outside every simulated exchange (cp_size up to {}); accepted: a "
        "rank in 0..{}",
        rank, largest_cp, largest_cp - 1));
  }
}

/// Refuses the largest case of a block when its buffers cannot fit one GPU, naming the axis to
/// lower. Bytes grow with every axis, so the largest values of each decide.
void check_buffers(const SweepAxes& a, const MeasureOptions& m) {
  const bool sim = all_sim(a);
  const bool tokens = !a.tokens.empty();
  Case c;
  c.cp_size = *std::max_element(a.cp_size.begin(), a.cp_size.end());
  c.head_dim = *std::max_element(a.head_dim.begin(), a.head_dim.end());
  c.stats_dim = *std::max_element(a.stats_dim.begin(), a.stats_dim.end());
  int heads = 1;
  if (tokens) {
    for (int h : a.heads)
      heads = std::max(heads, h);
    for (const auto& name : a.model) {
      const ModelPreset& p = model_at(name);
      if (a.heads.empty()) heads = std::max(heads, p.heads_per_rank);
      c.head_dim = std::max(c.head_dim, p.head_dim);
    }
    c.batch = *std::max_element(a.tokens.begin(), a.tokens.end()) * heads;  // validated to fit
  } else {
    c.batch = *std::max_element(a.batch.begin(), a.batch.end());
  }
  const int local = sim ? c.cp_size : 1;
  auto fits = [&](const Case& x, int ring) {
    const auto bytes = buffer_bytes_per_gpu(x, ring, local);
    return bytes && *bytes <= kMaxBufferBytesPerGpu;
  };
  if (fits(c, m.ring)) return;
  const auto bytes = buffer_bytes_per_gpu(c, m.ring, local);
  Case one = c;
  one.batch = tokens ? heads : 1;
  std::string field = tokens ? "tokens" : "batch";
  if (fits(c, kMinRingSize)) {
    field = "ring";
  } else if (!fits(one, kMinRingSize)) {
    Case narrow = one;
    narrow.head_dim = 8;
    field = fits(narrow, kMinRingSize) ? "head_dim" : "stats_dim";
  }
  throw ConfigError(fmt::format(
      "{}: the case cp_size={} batch={}{} head_dim={} stats_dim={} needs {} of exchange buffers "
      "per GPU ({} set{} of 4 tensors{}); accepted: at most {} bytes (1 TiB) per GPU",
      field, c.cp_size, c.batch,
      tokens ? fmt::format(" (tokens x {} heads)", heads) : std::string(), c.head_dim, c.stats_dim,
      bytes ? fmt::format("{} bytes", *bytes) : std::string("more than 2^64 bytes"), m.ring,
      m.ring == 1 ? "" : "s",
      sim ? fmt::format(" for each of the {} simulated ranks", local) : std::string(),
      kMaxBufferBytesPerGpu));
}

}  // namespace

std::optional<std::uint64_t> buffer_bytes_per_gpu(const Case& c, int ring, int local_ranks) {
  if (c.batch < 0 || c.cp_size < 1 || c.head_dim < 0 || c.stats_dim < 0 || ring < 0 ||
      local_ranks < 1) {
    return std::nullopt;
  }
  const auto rows = mul(static_cast<std::uint64_t>(c.batch), static_cast<std::uint64_t>(c.cp_size));
  if (!rows) return std::nullopt;
  const auto o = align_up(mul(*rows, c.o_row_bytes()));
  const auto stats = align_up(mul(*rows, c.stats_row_bytes()));
  if (!o || !stats || *o > UINT64_MAX - *stats) return std::nullopt;
  const auto block = mul(*o + *stats, kTensorsPerBlock / 2);
  if (!block) return std::nullopt;
  const auto per_rank = mul(*block, static_cast<std::uint64_t>(ring));
  if (!per_rank) return std::nullopt;
  return mul(*per_rank, static_cast<std::uint64_t>(local_ranks));
}

ResolvedSweep resolve_sweep(SweepSpec spec, const ImplCatalog& catalog, int world_size) {
  ResolvedSweep out;
  const std::vector<SweepAxes*> blocks = expanded_axes(spec);
  bool simulated = false;
  std::string skipped;
  check_impls(blocks, catalog);  // the names given; the default set is filtered by op instead
  for (SweepAxes* block : blocks) {
    SweepAxes& a = *block;
    const bool auto_or_sim = std::all_of(
        a.workspace.begin(), a.workspace.end(),
        [](WorkspaceKind w) { return w == WorkspaceKind::kAuto || w == WorkspaceKind::kSim; });
    if (a.impl.empty()) a.impl = catalog.default_names();
    if (world_size == 1 && a.cp_size.empty() && auto_or_sim) {
      a.cp_size = {2, 4};
      a.workspace = {WorkspaceKind::kSim};
      simulated = true;
      for (const auto& name : a.impl) {
        if (catalog.at(name).needs.one_gpu_per_rank && skipped.find(name) == std::string::npos) {
          if (!skipped.empty()) skipped += ", ";
          skipped += name;
        }
      }
    }
    if (a.cp_size.empty()) a.cp_size = {world_size};
  }
  if (!spec.blocks.empty()) {
    // The top level (the blocks' defaults) is resolved like a block, so that the report's
    // config shows what a block without its own values runs.
    if (spec.axes.impl.empty()) spec.axes.impl = catalog.default_names();
    if (spec.axes.cp_size.empty()) spec.axes.cp_size = blocks.front()->cp_size;
    if (simulated) spec.axes.workspace = {WorkspaceKind::kSim};
  }
  if (simulated) {
    out.notes.push_back(fmt::format(
        "single rank and no --cp-size: simulating cp=2 and cp=4 on this one GPU{}. Run under "
        "mpirun -np N for real GPUs.",
        skipped.empty() ? std::string()
                        : fmt::format(" ({} need one GPU per rank and are skipped)", skipped)));
  }
  validate_for_world(spec, world_size);
  for (const SweepAxes* a : blocks) {
    check_inject(spec.measure, *a, world_size);
    check_buffers(*a, spec.measure);
  }
  out.runs = expand(spec, catalog, world_size);
  // An op none of a block's implementations implements runs nothing: said, or refused when
  // nothing at all is left to run.
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    for (Op op : blocks[i]->op) {
      const bool any =
          std::any_of(blocks[i]->impl.begin(), blocks[i]->impl.end(),
                      [&](const std::string& n) { return catalog.at(n).ops.contains(op); });
      if (any) continue;
      const std::string where =
          blocks.size() > 1 ? fmt::format("block {}: ", i + 1) : std::string();
      if (out.runs.empty()) {
        throw ConfigError(fmt::format(
            "op: {}none of the implementations ({}) implements {}; accepted: --impl naming one "
            "that does (dcpbench list --impls)",
            where, fmt::join(blocks[i]->impl, ","), to_string(op)));
      }
      out.notes.push_back(
          fmt::format("{}op {}: none of the implementations ({}) implements it; its cases are "
                      "not run",
                      where, to_string(op), fmt::join(blocks[i]->impl, ",")));
    }
  }
  out.spec = std::move(spec);
  return out;
}

bool has_auto_workspace(const ResolvedSweep& sweep) {
  return std::any_of(sweep.runs.begin(), sweep.runs.end(),
                     [](const PlannedRun& r) { return r.c.workspace == WorkspaceKind::kAuto; });
}

void resolve_auto_workspace(ResolvedSweep& sweep, WorkspaceKind kind) {
  if (kind == WorkspaceKind::kAuto || !has_auto_workspace(sweep)) return;
  // Only when a list named `kind` next to `auto` can two runs become one.
  bool merged = false;
  auto resolve_list = [&](std::vector<WorkspaceKind>& list, bool counts) {
    std::vector<WorkspaceKind> kinds;
    for (WorkspaceKind w : list) {
      const WorkspaceKind r = w == WorkspaceKind::kAuto ? kind : w;
      if (std::find(kinds.begin(), kinds.end(), r) == kinds.end()) kinds.push_back(r);
    }
    if (counts && kinds.size() < list.size()) merged = true;
    list = std::move(kinds);
  };
  if (!sweep.spec.blocks.empty()) resolve_list(sweep.spec.axes.workspace, false);
  for (SweepAxes* a : expanded_axes(sweep.spec))
    resolve_list(a->workspace, true);
  std::vector<PlannedRun> runs;
  for (PlannedRun& r : sweep.runs) {
    if (r.c.workspace == WorkspaceKind::kAuto) r.c.workspace = kind;
    const bool seen = merged && std::any_of(runs.begin(), runs.end(), [&](const PlannedRun& o) {
                        return o.impl == r.impl && o.c == r.c;
                      });
    if (!seen) runs.push_back(std::move(r));
  }
  sweep.runs = std::move(runs);
  sweep.notes.push_back(
      fmt::format("workspace auto resolved to {}{}", to_string(kind),
                  merged ? std::string(", which the list names already: those cases run once")
                         : std::string()));
}

}  // namespace dcp
