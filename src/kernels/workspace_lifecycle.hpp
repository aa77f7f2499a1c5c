#pragma once
/// @file
/// The workspace steps every native strategy shares (the LL128 exchange, the direct stores):
/// making a workspace of a kind, and resetting it collectively after a timeout. The reset's
/// order and rules are native_collective.hpp's (CPU-tested); this file binds them to the World,
/// the device and the workspace.

#include <cstddef>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "core/types.hpp"
#include "core/world.hpp"
#include "fabric/workspace.hpp"

namespace dcp::kernels {

/// A workspace of `kind` with `segment_bytes` per rank for `cp_size` ranks: sim (every rank in
/// this process; `local_ranks` must equal `cp_size`) or shared across the World's processes.
/// `who` names the strategy in errors. Throws when the workspace is smaller than asked.
std::unique_ptr<fabric::Workspace> make_workspace(std::string_view who, WorkspaceKind kind,
                                                  const World* world, int cp_size, int local_ranks,
                                                  std::size_t segment_bytes);

/// The collective reset after a timeout (native_collective.hpp): the ranks vote (outside sim),
/// and if any needs it every process drains its exchange work (a bounded device
/// synchronisation: kernels of an aborted call may still write into any segment), all pass a
/// barrier, each zeroes its segments, all pass a barrier again. Returns true when it ran.
bool reset_collectively(std::string_view who, const World* world, bool sim, double timeout_s,
                        bool needs_reset, fabric::Workspace& workspace);

/// The cached workspace of (kind, geometry) in `cache`, made on first use (make_workspace); a
/// cached one is reset collectively first when a timeout left it inconsistent (`needs_reset`:
/// outside sim the ranks vote, so a rank that saw no error, e.g. the one that skipped a launch,
/// resets too). `Entry` has members kind, geometry, workspace and needs_reset; `same(a, b)`
/// compares two geometries; a geometry has cp_size and segment_bytes().
template <typename Entry, typename Geometry, typename Same>
Entry& cached_workspace(std::vector<std::unique_ptr<Entry>>& cache, std::string_view who,
                        const World* world, WorkspaceKind kind, const Geometry& g, int local_ranks,
                        double timeout_s, Same same) {
  Entry* found = nullptr;
  for (auto& entry : cache) {
    if (entry->kind == kind && same(entry->geometry, g)) found = entry.get();
  }
  if (found == nullptr) {
    auto entry = std::make_unique<Entry>();
    entry->kind = kind;
    entry->geometry = g;
    entry->workspace = make_workspace(who, kind, world, g.cp_size, local_ranks,
                                      static_cast<std::size_t>(g.segment_bytes()));
    cache.push_back(std::move(entry));
    return *cache.back();
  }
  if (reset_collectively(who, world, kind == WorkspaceKind::kSim, timeout_s, found->needs_reset,
                         *found->workspace)) {
    found->needs_reset = false;
  }
  return *found;
}

}  // namespace dcp::kernels
